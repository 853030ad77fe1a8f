"""Finding codes: the closed set of things migrate-ws reports, each with a stable code.

In the spirit of ruff's rule codes: a short code (`MW101`) that never changes meaning, a
kebab-case name, a one-line summary and what the person reading it should do. Every
follow-up, warning and error the engine reports carries one of these codes, so output can
be grouped, counted, filtered and suppressed by kind; the message stays a readable sentence
about the site itself.

The codes below are the core's (and those more than one step reports): a code only one step
reports is declared by that step's module (`Step.codes`), so adding a step adds its codes. The
table, `CODES`, is the core's codes and every registered step's; `docs/codes.md` is generated
from it (`python -m migrate_ws.reference_docs codes`). This module imports no step: the
registry (`migrate_ws.steps`, which every step module and the model import) hands in how to
load the built-in steps, and the table loads them the first time it is read.

Numbering: 1xx imports, 2xx aliases, 3xx factory calls, 4xx string references, 5xx the
canonical module, 6xx legacy modules, 7xx verification, 8xx keeping the tree migrated
(pending changes in CI output, suppression comments), 9xx files that were not processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterable, Iterator, Mapping


class Severity(str, Enum):
    ERROR = "error"  # the change would break something: --apply refuses
    WARNING = "warning"  # a site left for a person (a manual follow-up)
    INFO = "info"  # worth knowing; nothing to do for the migration itself


@dataclass(frozen=True)
class Code:
    """A finding kind: a stable code (`MW301`) and name, its severity, what it means, the fix, and why
    a note needs no action."""

    code: str
    name: str
    severity: Severity
    summary: str
    fix: str
    # a note's reason for being one (nobody has to act on it): the code table shows `note: <why>`
    why: str = ""

    @property
    def severity_text(self) -> str:
        return f"note: {self.why}" if self.severity is Severity.INFO and self.why else self.severity.value


_CORE: list[Code] = []


def _code(code: str, name: str, severity: Severity, summary: str, fix: str, why: str = "") -> Code:
    entry = Code(code, name, severity, summary, fix, why)
    _CORE.append(entry)
    return entry


W, I, E = Severity.WARNING, Severity.INFO, Severity.ERROR

# ----- imports --------------------------------------------------------------------------------
NOT_EXPORTED = _code(
    "MW101", "not-exported", W, "the canonical module does not export the name a legacy import stands for",
    "add the name to the canonical module, or import it from where it is defined")
UNMAPPED_NAME = _code(
    "MW102", "unmapped-name", W, "a name imported from a legacy module that the configuration does not map",
    "import it from the module that defines it, or add it to the legacy module's `names`")
MODULE_UNUSED = _code(
    "MW106", "module-imported-for-side-effects", W, "a legacy module is imported but none of its names are used",
    "remove the import if nothing depends on its side effects")

LEGACY_LAYOUT_TEST = _code(
    "MW108", "legacy-layout-test", W, "a test that asserts the legacy layout (expects an import to fail or warn, "
    "asserts on a legacy module's name or on source text naming one)",
    "decide whether the test still makes sense after the migration, and edit or delete it")
# An import the audit's import-path check lists that stays after the migration is reported at its own
# line (the audit names the finding that covers it): MW102 or MW106 when that is the reason, else one of these.
LEGACY_IMPORT_KEPT = _code(
    "MW109", "legacy-import-kept", I, "an import through a legacy path stays because of the follow-ups the "
    "message names (at the lines where the module object is used)",
    "nothing of its own: once those follow-ups are done, rerun and the import moves",
    why="the work is the follow-ups it names at the module object's uses; the note marks the import line the audit lists")
LEGACY_IMPORT_UNEXPLAINED = _code(
    "MW110", "legacy-import-unexplained", W, "an import through a legacy path stays and no step says why",
    "move the import by hand, and report it: every such import should be migrated or have a reason")
# ----- aliases --------------------------------------------------------------------------------
# ----- factory calls -------------------------------------------------------------------------
# ----- string references ---------------------------------------------------------------------
STRING_NOT_LITERAL = _code(
    "MW401", "string-not-plain-literal", W, "a string reference to a legacy path is not a plain literal",
    "change the string by hand to the value given")
# ----- the canonical module ------------------------------------------------------------------
ALIASES_DIFFER = _code(
    "MW504", "aliases-differ", I, "an alias and its canonical name are different objects in the canonical module",
    "set `implementation` so the first step rebinds both to one object",
    why="the canonical step fixes it (when `implementation` is set); listed to explain that step")

# ----- legacy modules -------------------------------------------------------------------------

MODULE_STILL_USED = _code(
    "MW602", "legacy-module-still-used", W, "a legacy module was not deleted because code still refers to it",
    "migrate the remaining references, then rerun with --legacy-modules delete")
# ----- verification ---------------------------------------------------------------------------
IMPORT_WOULD_BREAK = _code(
    "MW701", "import-would-break", E, "an import that resolves today would not resolve after the change",
    "keep the name where it is imported from (configuration), or migrate the import; --apply refuses until then")
IMPORT_ALREADY_BROKEN = _code(
    "MW702", "import-already-broken", I, "an import of a module the change touches did not resolve before it either",
    "not caused by the migration; fix it separately",
    why="not caused by the migration; fix it separately")
REJECTED_IN_REVIEW = _code(
    "MW705", "rejected-in-review", W, "the file's change was rejected in an interactive review (or depends on one "
    "that was) and left out", "migrate it by hand, or run migrate-ws again for it")
REWRITE_REJECTED = _code(
    "MW703", "rewrite-rejected", E, "the engine's own checks rejected a rewrite (internal error); the file is not written",
    "report it with the saved diff; the file is left as it is")
BINDING_LOST = _code(
    "MW704", "binding-lost", E, "the change would leave a name the file uses unbound (pyflakes: undefined, or used "
    "before assignment, where it was not before); the file is not written, the rest is",
    "migrate that name's import by hand (the message names it and its line); `--dry-run` saves the rejected "
    "rewrite's diff for a bug report")
LEFT_OUT_WITH_REJECTED = _code(
    "MW706", "left-out-with-rejected", W, "the file's change relies on the change of a file the binding check "
    "rejected (MW704), so it is left out too", "migrate it together with that file, by hand or once migrate-ws "
    "rewrites that file")

# ----- keeping the tree migrated ---------------------------------------------------------------
# MW800 is the rule of a pending change in CI output (`--output-format github|sarif`); it is
# never a finding of its own: the change is the plan's.
PENDING_CHANGE = _code(
    "MW800", "pending-change", E, "a change the migration makes here has not been made yet (a legacy import or "
    "use came back)", "run migrate-ws --fix (or --apply), or keep the statement with `# migrate-ws: keep`")
UNUSED_SUPPRESSION = _code(
    "MW801", "unused-suppression", W, "a `# migrate-ws: keep` comment (or one of its codes) matches nothing "
    "migrate-ws would change or report", "remove the comment, or the codes it lists that no longer apply")
INVALID_SUPPRESSION = _code(
    "MW802", "invalid-suppression", W, "a `# migrate-ws:` comment migrate-ws cannot read (an unknown directive or "
    "code)", "write `# migrate-ws: keep`, `keep[CODE, ...]`, `keep-file` or `keep-file[CODE, ...]` with codes "
    "of the table")
SUPPRESSION_WIDENED = _code(
    "MW803", "suppression-widened", I, "a statement kept with `# migrate-ws: keep` uses a name the rest of the "
    "change would rename, so the import that binds it is kept as it is too (or, failing that, the whole file)",
    "nothing, if that is what you want; otherwise remove the comment",
    why="it does what the comment asked; listed so the wider keep is not a surprise")

# ----- files not processed -------------------------------------------------------------------
DOES_NOT_PARSE = _code(
    "MW901", "does-not-parse", W, "the file does not parse with the running Python",
    "fix the syntax error, then rerun")
NEWER_SYNTAX = _code(
    "MW902", "newer-python-syntax", W, "the file uses syntax only a newer Python accepts",
    "run migrate-ws with that Python version")
CANNOT_DECODE = _code(
    "MW903", "cannot-decode", W, "the file's bytes cannot be decoded with the encoding Python would use",
    "fix the encoding or the coding cookie")
CANNOT_READ = _code(
    "MW904", "cannot-read", W, "the file cannot be read", "check its permissions")
SYMLINK = _code(
    "MW905", "symlink", I, "a symbolic link: never followed", "migrate the file it points to directly if it is yours",
    why="a link is never followed or changed; the file it points to is migrated where it lives, when it is in the repository")
NOT_TRACKED = _code(
    "MW906", "not-tracked", W, "--apply leaves out a file git does not track", "add it to git or migrate it by hand")
UNWRITABLE = _code(
    "MW907", "unwritable", W, "--apply cannot write the file (read-only, or its directory is not writable); "
    "the rest of the change is applied", "make it writable and run migrate-ws again for it")
TOO_DEEP = _code(
    "MW908", "too-deeply-nested", W, "the file nests expressions or blocks deeper than the running Python's parser "
    "or migrate-ws's analysis can follow (RecursionError, MemoryError)",
    "flatten the deepest expression (a long chain of operators, brackets or calls) or migrate the file by hand; "
    "a generated file can be excluded")
TOO_LARGE = _code(
    "MW909", "too-large", W, "the file is larger than `max-file-size`, so it is not parsed (parsing takes about "
    "130 times its size in memory)", "raise `max-file-size` in the configuration, or exclude the file")

_step_codes: dict[str, tuple[Code, ...]] = {}  # step name -> the codes its module declares
_load_steps: Callable[[], object] | None = None  # loads the built-in steps (handed in by the registry)
_tables: dict[str, dict[str, Code]] = {}


def _all_codes() -> Iterator[Code]:
    yield from _CORE
    for codes in _step_codes.values():
        yield from codes


def _table(key: str) -> dict[str, Code]:
    global _load_steps
    if _load_steps is not None:  # the built-in steps add their codes when first loaded
        load, _load_steps = _load_steps, None
        load()
    table = _tables.get(key)
    if table is None:
        table = _tables[key] = {getattr(entry, key): entry for entry in _all_codes()}
    return table


class _Table(Mapping[str, Code]):
    """`CODES` (by code) and `BY_NAME` (by name): the core's codes and every registered step's."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __getitem__(self, key: str) -> Code:
        return _table(self._key)[key]

    def __contains__(self, key: object) -> bool:
        return key in _table(self._key)

    def __iter__(self) -> Iterator[str]:
        return iter(_table(self._key))

    def __len__(self) -> int:
        return len(_table(self._key))

    def __repr__(self) -> str:
        return f"<finding codes by {self._key}: {', '.join(self)}>"


CODES: Mapping[str, Code] = _Table("code")
BY_NAME: Mapping[str, Code] = _Table("name")
assert len({entry.code for entry in _CORE}) == len({entry.name for entry in _CORE}) == len(_CORE), \
    "finding codes and names must be unique"


def loads_steps_with(load: Callable[[], object]) -> None:
    """The registry hands in how to load the built-in steps, whose codes complete the table on first use."""
    global _load_steps
    _load_steps = load


def add_step_codes(step: str, codes: Iterable[Code]) -> None:
    """A registered step's codes join the table; codes and names stay unique (a clash is a ValueError)."""
    codes = tuple(codes)
    others = [entry for entry in _all_codes() if entry not in _step_codes.get(step, ())]
    taken = {entry.code for entry in others} | {entry.name for entry in others}
    seen: set[str] = set()
    for entry in codes:
        for key in (entry.code, entry.name):
            if key in taken or key in seen:
                raise ValueError(f"step {step}: finding code {entry.code} / {entry.name} is already registered")
            seen.add(key)
    _step_codes[step] = codes
    _tables.clear()


def remove_step_codes(step: str) -> None:
    if _step_codes.pop(step, None) is not None:
        _tables.clear()


@dataclass(frozen=True)
class Finding:
    """One reported site: what kind (`code`), where, and a readable sentence about it."""

    code: str
    path: str
    line: int
    message: str
    column: int | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")

    @property
    def kind(self) -> Code:
        return CODES[self.code]

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    def render(self) -> str:
        from .quoting import display_path  # a name with a newline or a tab must not break the line

        return f"{display_path(self.path)}:{self.line}: {self.code} {self.message}"

    def to_json(self) -> dict:
        return {"code": self.code, "name": self.kind.name, "severity": self.severity.value, "path": self.path,
                "line": self.line, "column": self.column, "message": self.message}

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.code, self.message)
