"""Values the engine returns: edits, follow-ups, per-file results and the whole plan.

Everything here is plain data (picklable, JSON-able) so workers can return it and the
CLI can render it; the engine itself never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from .findings import Finding

if TYPE_CHECKING:
    from .config import Config

# The migration's steps, in the order `--apply` commits them.
STEPS = ("canonical", "imports", "aliases", "factory", "strings", "legacy-modules")

STEP_TITLES = {
    "canonical": "Rebind the canonical name and its aliases to the one implementation",
    "imports": "Move imports of legacy manager paths to the canonical module",
    "aliases": "Collapse legacy aliases to the canonical name",
    "factory": "Replace singleton access with the user-scoped factory call",
    "strings": "Move string references (patch targets, import strings) to the canonical path",
    "legacy-modules": "Retire the legacy modules",
}


class FileStatus(str, Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # could not be read or parsed: reported, never written
    FAILED = "failed"  # the engine's own checks rejected the rewrite: reported, never written


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with `text`; `kind` is the step the edit belongs to."""

    start: int
    end: int
    text: str
    kind: str
    line: int
    description: str


@dataclass
class FileResult:
    path: str
    status: FileStatus
    original: bytes = b""
    rewritten: bytes = b""
    edits: list[Edit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""
    code: str = ""  # the finding code of `reason` for a file that was not processed
    mode: int | None = None
    deleted: bool = False  # the legacy-module step removes this file
    line: int = 0  # where a file that was not processed failed, when known
    diff: str = ""  # the display diff, when the workers were asked to render it

    @property
    def changed(self) -> bool:
        return self.status is FileStatus.CHANGED

    def edits_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for edit in self.edits:
            counts[edit.kind] = counts.get(edit.kind, 0) + 1
        return counts


@dataclass
class Plan:
    root: str
    config_source: str
    steps: tuple[str, ...]
    files: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # repository-level ones
    scanned: int = 0
    parsed: int = 0
    cached: int = 0  # files whose outcome came from the result cache (neither read nor parsed again)

    @property
    def changed_files(self) -> list[FileResult]:
        return [f for f in self.files if f.status is FileStatus.CHANGED]

    @property
    def skipped_files(self) -> list[FileResult]:
        return [f for f in self.files if f.status in (FileStatus.SKIPPED, FileStatus.FAILED)]

    @property
    def all_findings(self) -> list[Finding]:
        items = list(self.findings)
        for result in self.files:
            items.extend(result.findings)
        return sorted(items, key=Finding.sort_key)

    def edits_by_kind(self) -> dict[str, int]:
        counts = {step: 0 for step in self.steps}
        for result in self.changed_files:
            for kind, count in result.edits_by_kind().items():
                counts[kind] = counts.get(kind, 0) + count
        return counts

    @property
    def pending(self) -> bool:
        return bool(self.changed_files)

    def to_json(self) -> dict:
        return {
            "root": self.root,
            "config": self.config_source,
            "steps": list(self.steps),
            "summary": {
                "scanned": self.scanned,
                "parsed": self.parsed,
                "cached": self.cached,
                "changed": len(self.changed_files),
                "skipped": len(self.skipped_files),
                "findings": len(self.all_findings),
                "edits": self.edits_by_kind(),
            },
            "warnings": list(self.warnings),
            "files": [
                {
                    "path": result.path,
                    "status": result.status.value,
                    "reason": result.reason or None,
                    "edits": [
                        {"kind": e.kind, "line": e.line, "description": e.description} for e in result.edits
                    ],
                }
                for result in sorted(self.files, key=lambda r: r.path)
                if result.status is not FileStatus.UNCHANGED or result.findings
            ],
            "findings": [f.to_json() for f in self.all_findings],
        }


@dataclass(frozen=True)
class Targets:
    """What every worker needs to know about the whole repository (picklable)."""

    config: Config
    steps: frozenset[str]
    canonical_exports: frozenset[str]
    collapse_allowed: bool
    # (module, name) pairs bound in consumer modules from legacy paths, whose name the
    # migration changes; importers of these follow to the canonical name.
    derived: tuple[tuple[str, str, str], ...] = ()
    # files that are part of the legacy layout itself and are not rewritten here
    definition_modules: frozenset[str] = frozenset()
    # legacy modules kept after the migration: their module-level names are public API
    api_modules: frozenset[str] = frozenset()
    todo_comments: bool = False

    def derived_map(self) -> dict[tuple[str, str], str]:
        return {(m, n): c for m, n, c in self.derived}
