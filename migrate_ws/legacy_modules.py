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
from .findings import LEGACY_MODULE_KEPT, NAMES_DROPPED, SHIM_MISSING_NAME, Finding
from .model import FileResult, FileStatus, Plan
from .resolution import module_file
from .retirement import OwnDefinition, Retirement, plan_retirement
from .source import SourceText, UndecodableSource

@dataclass
class LegacyModulesOutcome:
    files: list[FileResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)  # module -> remaining references


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


def retirements(root: Path, config: Config, exports: frozenset[str]) -> dict[str, Retirement]:
    """How each retiring legacy module that exists in the repository would be retired as a shim."""
    found: dict[str, Retirement] = {}
    for module, legacy in sorted(config.legacy_modules.items()):
        if not legacy.retire:
            continue
        path = module_file(root, module)
        if path is None:
            continue
        try:
            text = SourceText.decode(path.read_bytes()).text
        except (OSError, UndecodableSource):
            text = None
        if text is None:
            found[module] = Retirement(module, None, own_definitions=[OwnDefinition(0, "the module cannot be read")])
            continue
        found[module] = plan_retirement(config, module, text, exports)
    return found


def plan_legacy_modules(root: Path, config: Config, policy: str, migrated: Plan, paths: list[str],
                        exports: frozenset[str], planned: dict[str, Retirement] | None = None) -> LegacyModulesOutcome:
    """What the legacy-module step does to each retiring legacy module, given the migrated tree."""
    outcome = LegacyModulesOutcome()
    if policy == "keep":
        return outcome
    if policy == "shim" and planned is None:
        planned = retirements(root, config, exports)
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
        retirement = planned[module]
        if not retirement.shimmed:
            where = "; ".join(f"{d.description} (line {d.line})" for d in retirement.own_definitions[:5])
            more = len(retirement.own_definitions) - 5
            outcome.findings.append(Finding(
                LEGACY_MODULE_KEPT.code, relative, retirement.own_definitions[0].line if retirement.own_definitions else 1,
                f"legacy module {module} stays: it defines {where}" + (f" and {more} more" if more > 0 else "")
                + "; only its imports of legacy paths were migrated"))
            continue
        for name in retirement.missing:
            outcome.findings.append(Finding(SHIM_MISSING_NAME.code, relative, 1, f"the shim for {module} cannot provide "
                                            f"{name}: {config.canonical_module} does not export it"))
        if retirement.dropped:
            outcome.findings.append(Finding(NAMES_DROPPED.code, relative, 1, f"the shim for {module} leaves out "
                                            f"{', '.join(retirement.dropped)} (`drop` in the configuration)"))
        try:
            source = SourceText.decode(original)
            rewritten = source.encode(retirement.shim)
        except (UndecodableSource, UnicodeEncodeError):
            rewritten = retirement.shim.encode("utf-8")
        if rewritten != original:
            outcome.files.append(FileResult(relative, FileStatus.CHANGED, original=original, rewritten=rewritten,
                                            mode=mode, reason=f"replace legacy module {module} with a shim"))
    return outcome
