"""Step `legacy-modules`: retire the legacy modules as shims (default), delete them, or keep them.

A repository-level step: it plans from the per-file steps' result. A shim provides every
name the module provided (see `retirement.py`) and warns with a DeprecationWarning, so code
outside the repository keeps working; a module that defines code of its own stays.
Deleting is allowed only when nothing in the repository refers to the module once the
other steps are applied.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..findings import CANNOT_READ, MODULE_STILL_USED, Code, Finding, Severity
from ..model import Edit, FileResult, FileStatus, Plan, RepositoryOutcome
from ..repository_facts import RepositoryContext
from ..source import SourceText, UndecodableSource
from ..steps import Step

# The finding codes only this step reports (the table: migrate_ws.findings.CODES).
W, I = Severity.WARNING, Severity.INFO
SHIM_MISSING_NAME = Code(
    "MW601", "shim-missing-name", W, "a retired module's shim cannot provide a configured name",
    "add the name to the canonical module, or remove it from the legacy module's `names`")
LEGACY_MODULE_KEPT = Code(
    "MW603", "legacy-module-kept", I, "a legacy module defines code of its own, so it stays and only its imports "
    "were migrated", "move its own definitions elsewhere, or list them under the module's `drop`, to retire it",
    why="the module's imports are migrated and nothing breaks; retiring it is a separate decision")
NAMES_DROPPED = Code(
    "MW604", "names-dropped", I, "a retired module's shim leaves out names the configuration drops",
    "nothing in the repository uses them (checked); code outside it that does will break",
    why="the configuration chose this, and the import check proves nothing in the repository uses them")

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


def remaining_references(root: Path, own: Path | None, module: str, migrated: Plan, paths: list[str]) -> list[Finding]:
    """Every line that still names `module` (whose file is `own`) once the other steps are applied."""
    own_relative = own.relative_to(root).as_posix() if own is not None else None
    parent, _, tail = module.rpartition(".")
    dotted = re.compile(r"(?<![\w.])" + re.escape(module) + r"(?![\w])")
    relative_forms = re.compile(r"from\s+\.+\s*" + re.escape(tail) + r"\b|from\s+\.+\s+import\s+[^#\n]*\b" + re.escape(tail) + r"\b")
    changed = {r.path: r for r in migrated.changed_files}
    hits: list[Finding] = []
    for relative in paths:
        if relative == own_relative:
            continue
        text = _final_text(root, relative, changed)
        if text is None or (tail not in text):
            continue
        in_package = relative.replace("/", ".").startswith(parent + ".") if parent else True
        for number, line in enumerate(text.splitlines(), 1):
            if dotted.search(line) or (in_package and relative_forms.search(line)):
                hits.append(Finding(MODULE_STILL_USED.code, relative, number,
                                    f"still refers to legacy module {module}, so it was not deleted: {line.strip()}"))
    return hits


def plan_legacy_step(context: RepositoryContext) -> RepositoryOutcome:
    """What the step does to each retiring legacy module, given the other steps' result."""
    root, config, policy, facts = context.root, context.config, context.legacy_policy, context.facts
    outcome = RepositoryOutcome()
    if policy == "keep":
        return outcome
    for module, path in facts.retiring_files(config):
        relative = path.relative_to(root).as_posix()
        try:
            original = path.read_bytes()
            mode = os.stat(path).st_mode & 0o7777
        except OSError as exc:  # gone or unreadable since the run began: it is left as it is
            outcome.findings.append(Finding(CANNOT_READ.code, relative, 0, f"not processed: cannot read: "
                                            f"{exc.strerror or exc}"))
            continue
        try:
            source = SourceText.decode(original)
        except UndecodableSource:
            source = SourceText(original.decode("latin-1"), "latin-1", False, "\n")
        if policy == "delete":
            references = remaining_references(root, path, module, context.plan, context.paths)
            if references:
                outcome.findings.extend(references)
                continue
            outcome.files.append(FileResult(
                relative, FileStatus.CHANGED, original=original, rewritten=b"", mode=mode, deleted=True,
                edits=[Edit(0, len(source.text), "", STEP.name, 1, f"delete legacy module {module}")]))
            continue
        retirement = facts.retirements[module]
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
            rewritten = source.encode(retirement.shim)
            shim = retirement.shim
        except UnicodeEncodeError:
            rewritten, shim = retirement.shim.encode("utf-8"), retirement.shim
        if rewritten != original:
            outcome.files.append(FileResult(
                relative, FileStatus.CHANGED, original=original, rewritten=rewritten, mode=mode,
                edits=[Edit(0, len(source.text), shim, STEP.name, 1, f"replace legacy module {module} with a shim")]))
    return outcome


STEP = Step(
    name="legacy-modules",
    title="Retire the legacy modules",
    description="Replace each retiring legacy module with a shim that keeps every name it provided (or delete it "
                "when nothing refers to it any more); a module that defines code of its own stays.",
    repository=plan_legacy_step,
    foundation=True,
    applies=lambda config: any(legacy.retire for legacy in config.legacy_modules.values()),
    codes=(SHIM_MISSING_NAME, LEGACY_MODULE_KEPT, NAMES_DROPPED),
)
