"""The last step: retire legacy modules as shims (default), delete them, or keep them.

A shim re-exports the canonical names under the legacy spellings and warns with a
DeprecationWarning, so code outside the repository keeps working. Deleting is allowed
only when nothing in the repository refers to the module after the migration.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .findings import SHIM_MISSING_NAME, Finding
from .model import FileResult, FileStatus, Plan
from .resolution import module_file
from .source import SourceText, UndecodableSource

POLICIES = ("shim", "delete", "keep")


@dataclass
class LegacyModulesOutcome:
    files: list[FileResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)  # module -> remaining references


def shim_source(config: Config, module: str, exports: frozenset[str], newline: str = "\n") -> tuple[str, list[str]]:
    """The shim for one legacy module, and the legacy names it cannot provide."""
    legacy = config.legacy_modules[module]
    lines: list[str] = []
    missing: list[str] = []
    for name in legacy.names:
        target = name if name in exports else config.canonical_name_for(name)
        if target not in exports:
            missing.append(name)
            continue
        lines.append(name if target == name else f"{target} as {name}")
    canonical = config.canonical_module
    body = [
        f'"""Deprecated: import from {canonical} instead.',
        "",
        "This module only re-exports the canonical names under their legacy spellings",
        "(kept by migrate-ws so that code outside the repository keeps working).",
        '"""',
        "",
        "import warnings",
        "",
    ]
    if lines:
        body.append(f"from {canonical} import (")
        body.extend(f"    {line}," for line in lines)
        body.append(")")
        body.append("")
    body.extend([
        "warnings.warn(",
        f'    "{module} is deprecated; import from {canonical}",',
        "    DeprecationWarning,",
        "    stacklevel=2,",
        ")",
        "",
        "__all__ = [" + ", ".join(f'"{name}"' for name in legacy.names if name not in missing) + "]",
        "",
    ])
    return newline.join(body), missing


def _final_text(root: Path, relative: str, changed: dict[str, FileResult]) -> str | None:
    result = changed.get(relative)
    data = result.rewritten if result is not None else None
    if data is None:
        try:
            data = (root / relative).read_bytes()
        except OSError:
            return None
    try:
        return SourceText.decode(data).text
    except UndecodableSource:
        return data.decode("latin-1")


def remaining_references(root: Path, config: Config, module: str, migrated: Plan, paths: list[str]) -> list[str]:
    """`path:line: text` for every place that still names `module` once the migration is applied."""
    own = module_file(root, module)
    own_relative = own.relative_to(root).as_posix() if own is not None else None
    parent, _, tail = module.rpartition(".")
    dotted = re.compile(r"(?<![\w.])" + re.escape(module) + r"(?![\w])")
    relative_forms = re.compile(r"from\s+\.+\s*" + re.escape(tail) + r"\b|from\s+\.+\s+import\s+[^#\n]*\b" + re.escape(tail) + r"\b")
    changed = {r.path: r for r in migrated.changed_files}
    hits: list[str] = []
    for relative in paths:
        if relative == own_relative:
            continue
        text = _final_text(root, relative, changed)
        if text is None or (tail not in text):
            continue
        in_package = relative.replace("/", ".").startswith(parent + ".") if parent else True
        for number, line in enumerate(text.splitlines(), 1):
            if dotted.search(line) or (in_package and relative_forms.search(line)):
                hits.append(f"{relative}:{number}: {line.strip()}")
    return hits


def plan_legacy_modules(root: Path, config: Config, policy: str, migrated: Plan, paths: list[str],
                        exports: frozenset[str]) -> LegacyModulesOutcome:
    """What the legacy-module step does to each retiring legacy module, given the migrated tree."""
    outcome = LegacyModulesOutcome()
    if policy == "keep":
        return outcome
    for module, legacy in sorted(config.legacy_modules.items()):
        if not legacy.retire:
            continue
        path = module_file(root, module)
        if path is None:
            continue
        relative = path.relative_to(root).as_posix()
        original = path.read_bytes()
        mode = os.stat(path).st_mode & 0o7777
        if policy == "delete":
            references = remaining_references(root, config, module, migrated, paths)
            if references:
                outcome.refused[module] = references
                continue
            outcome.files.append(FileResult(relative, FileStatus.CHANGED, original=original, rewritten=b"",
                                            mode=mode, deleted=True, reason=f"delete legacy module {module}"))
            continue
        try:
            source = SourceText.decode(original)
        except UndecodableSource:
            source = SourceText("", "utf-8", False, "\n")
        text, missing = shim_source(config, module, exports, source.newline)
        for name in missing:
            outcome.findings.append(Finding(SHIM_MISSING_NAME.code, relative, 1, f"the shim for {module} cannot provide "
                                            f"{name}: {config.canonical_module} does not export it"))
        rewritten = source.encode(text) if source.text else text.encode("utf-8")
        if rewritten != original:
            outcome.files.append(FileResult(relative, FileStatus.CHANGED, original=original, rewritten=rewritten,
                                            mode=mode, reason=f"replace legacy module {module} with a shim"))
    return outcome
