"""Values the engine returns: edits, follow-ups, per-file results and the whole plan.

Everything here is plain data (picklable, JSON-able) so workers can return it and the
CLI can render it; the engine itself never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from .edits import Edit, sites_by_step, steps_touching
from .findings import Finding, Severity

if TYPE_CHECKING:
    from .config import Config


@dataclass(frozen=True)
class AliasSpec:
    """One imported name after the rewrite: `name` (dotted for `import`), optional `asname`
    (what a step asks `context.statements` to write; `import_statements.py` writes it)."""

    name: str
    asname: str | None


class FileStatus(str, Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # could not be read or parsed: reported, never written
    FAILED = "failed"  # the engine's own checks rejected the rewrite: reported, never written


@dataclass(frozen=True)
class Reference:
    """One (module, name) a file needs from another module, before and after the change (import check)."""

    line: int
    module: str  # what the file needs after the change: `name` from `module` ("" = the module itself)
    name: str
    was_module: str  # what it needed before
    was_name: str

    @property
    def rewritten(self) -> bool:
        return (self.module, self.name) != (self.was_module, self.was_name)


@dataclass(frozen=True)
class Suppressed:
    """One site a `# migrate-ws: keep` comment suppressed: a kept change (MW800) or a silenced finding."""

    line: int
    code: str
    message: str

    def describe(self) -> str:
        return f"{self.code} {self.message}"


@dataclass
class FileResult:
    """One file's outcome in the plan: unchanged, changed (with its bytes before and after and the
    edits), skipped or failed (with the reason and the finding code), and its findings."""

    path: str
    status: FileStatus
    original: bytes = b""
    rewritten: bytes = b""
    edits: list[Edit] = field(default_factory=list)  # every step's edits on the original text
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""
    code: str = ""  # the finding code of `reason` for a file that was not processed
    mode: int | None = None
    deleted: bool = False  # a repository-level step removes this file
    line: int = 0  # where a file that was not processed failed, when known
    diff: str = ""  # the display diff, when the workers were asked to render it
    references: list[Reference] = field(default_factory=list)  # what it imports before and after
    suppressed: list[Suppressed] = field(default_factory=list)  # sites `# migrate-ws: keep` kept

    @property
    def changed(self) -> bool:
        return self.status is FileStatus.CHANGED


@dataclass
class FileOutcome:
    """What planning one file found, with what other files need to know of it."""

    result: FileResult
    renamed_exports: dict[str, str] = field(default_factory=dict)  # module-level names the file renames
    depends_on: set[tuple[str, str]] = field(default_factory=set)  # (module, name) its rewrites follow
    references: list[Reference] = field(default_factory=list)  # what it imports, before and after (import check)
    lost_names: set[str] = field(default_factory=set)  # module-level names it no longer binds after the change

    @property
    def says_nothing(self) -> bool:
        result = self.result
        return result.status is FileStatus.UNCHANGED and not result.findings and not self.renamed_exports \
            and not self.depends_on and not self.references and not result.suppressed


@dataclass
class Plan:
    """The whole change: every step's edits of every file, and what could not be done."""

    root: str
    config_source: str
    steps: tuple[str, ...]  # the steps planned, in commit order
    files: list[FileResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # repository-level ones
    legacy_policy: str = "shim"
    heading: str = ""  # what the change does, in one line (the configuration's title, or a generic one)
    titles: dict[str, str] = field(default_factory=dict)  # step -> its title for this configuration
    # the import paths in use: files importing each legacy or canonical module before and after
    # the change, and (from, to) module -> files whose imports moved (the PR's diagram)
    importers_before: dict[str, int] = field(default_factory=dict)
    importers_after: dict[str, int] = field(default_factory=dict)
    import_moves: dict[tuple[str, str], int] = field(default_factory=dict)
    # path -> the changed files whose rewrite its own follows (a renamed name it imports or patches)
    dependencies: dict[str, set[str]] = field(default_factory=dict)
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

    @property
    def suppressed_count(self) -> int:
        """Sites `# migrate-ws: keep` comments suppressed (kept changes and silenced findings)."""
        return sum(len(result.suppressed) for result in self.files)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.all_findings if f.severity is Severity.ERROR]

    @property
    def pending(self) -> bool:
        return bool(self.changed_files)

    def sites_by_step(self) -> dict[str, int]:
        """Sites each step rewrites, counted one way everywhere (see `editing.sites_by_step`)."""
        counts = {step: 0 for step in self.steps}
        for result in self.changed_files:
            for step, count in sites_by_step(result.edits, self.steps).items():
                counts[step] = counts.get(step, 0) + count
        return counts

    def files_by_step(self) -> dict[str, list[str]]:
        """The files each step changes."""
        files: dict[str, list[str]] = {step: [] for step in self.steps}
        for result in sorted(self.changed_files, key=lambda r: r.path):
            for step in steps_touching(result.edits, self.steps):
                files[step].append(result.path)
        return files

    def to_json(self) -> dict:
        return {
            "root": self.root,
            "config": self.config_source,
            "heading": self.heading,
            "steps": [{"name": step, "title": self.titles.get(step, step)} for step in self.steps],
            "legacy_modules": self.legacy_policy,
            "summary": {
                "scanned": self.scanned,
                "parsed": self.parsed,
                "cached": self.cached,
                "changed": len(self.changed_files),
                "skipped": len(self.skipped_files),
                "findings": len(self.all_findings),
                "errors": len(self.errors),
                # the follow-ups a reviewer must clear, and the notes shown apart from them
                "warnings": sum(1 for f in self.all_findings if f.severity is Severity.WARNING),
                "notes": sum(1 for f in self.all_findings if f.severity is Severity.INFO),
                "sites": self.sites_by_step(),
                "suppressed": self.suppressed_count,
            },
            "files": [
                {
                    "path": result.path,
                    "status": result.status.value,
                    "reason": result.reason or None,
                    "deleted": result.deleted,
                    "sites": sites_by_step(result.edits, self.steps) if result.changed else {},
                    "edits": [
                        {"step": e.step, "line": e.line, "description": e.description} for e in result.edits
                    ],
                }
                for result in sorted(self.files, key=lambda r: r.path)
                if result.status is not FileStatus.UNCHANGED or result.findings
            ],
            "findings": [f.to_json() for f in self.all_findings],
            "suppressed": [{"path": result.path, "line": item.line, "code": item.code, "message": item.message}
                           for result in sorted(self.files, key=lambda r: r.path) for item in result.suppressed],
        }


@dataclass(frozen=True)
class Signature:
    """The parameters of a function as its source declares them (`self`/`cls` of a method left out)."""

    positional: tuple[str, ...]  # parameters a positional argument can fill, in order
    keywords: tuple[str, ...]  # parameters a keyword argument can fill (positional-or-keyword, keyword-only)
    varargs: bool = False  # `*args`
    varkw: bool = False  # `**kwargs`


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
    # the configured factory function's parameters, read from the canonical module (None: not readable)
    factory_signature: Signature | None = None
    # (module, callable, signature) of the legacy callables as the repository defines them: "name" for a
    # function, "Class.__init__" for a constructor, "Name.method" for a class method or a factory object's
    # method; signature None: the module is in the repository but the definition cannot be read exactly
    signatures: tuple[tuple[str, str, Signature | None], ...] = ()
    # legacy modules that are packages: a path below one names another module unless it names one of the
    # package's configured names (legacy_paths.py)
    legacy_packages: frozenset[str] = frozenset()

    def derived_map(self) -> dict[tuple[str, str], str]:
        return {(m, n): c for m, n, c in self.derived}

    def signature_map(self) -> dict[tuple[str, str], Signature | None]:
        return {(m, n): s for m, n, s in self.signatures}


@dataclass
class RepositoryOutcome:
    """What a repository-level step plans: the files it writes (or deletes) and its findings."""

    files: list[FileResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
