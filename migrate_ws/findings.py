"""Finding codes: the closed set of things migrate-ws reports, each with a stable code.

In the spirit of ruff's rule codes: a short code (`MW101`) that never changes meaning, a
kebab-case name, a one-line summary and what the person reading it should do. Every
follow-up, warning and error the engine reports carries one of these codes, so output can
be grouped, counted, filtered and suppressed by kind; the message stays a readable sentence
about the site itself.

Numbering: 1xx imports, 2xx aliases, 3xx factory calls, 4xx string references, 5xx the
canonical module, 6xx legacy modules, 7xx verification, 8xx keeping the tree migrated
(pending changes in CI output, suppression comments), 9xx files that were not processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"  # the change would break something: --apply refuses
    WARNING = "warning"  # a site left for a person (a manual follow-up)
    INFO = "info"  # worth knowing; nothing to do for the migration itself


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str
    fix: str


_ALL: list[Code] = []


def _code(code: str, name: str, severity: Severity, summary: str, fix: str) -> Code:
    entry = Code(code, name, severity, summary, fix)
    _ALL.append(entry)
    return entry


W, I, E = Severity.WARNING, Severity.INFO, Severity.ERROR

# ----- imports --------------------------------------------------------------------------------
NOT_EXPORTED = _code(
    "MW101", "not-exported", W, "the canonical module does not export the name a legacy import stands for",
    "add the name to the canonical module, or import it from where it is defined")
UNMAPPED_NAME = _code(
    "MW102", "unmapped-name", W, "a name imported from a legacy module that the configuration does not map",
    "import it from the module that defines it, or add it to the legacy module's `names`")
STAR_IMPORT = _code(
    "MW103", "star-import", W, "a star import from a legacy module: what it binds cannot be known statically",
    "replace it with explicit imports from the canonical module")
MODULE_AS_VALUE = _code(
    "MW104", "module-object-as-value", W, "a legacy module object is used as a value, not only through attributes",
    "import the names it needs from the canonical module instead of passing the module around")
MODULE_ATTRIBUTE_UNMAPPED = _code(
    "MW105", "module-attribute-unmapped", W, "an attribute of a legacy module object that has no canonical counterpart",
    "use the attribute from the module that defines it; the module import is left unchanged until then")
MODULE_UNUSED = _code(
    "MW106", "module-imported-for-side-effects", W, "a legacy module is imported but none of its names are used",
    "remove the import if nothing depends on its side effects")
UNBOUND_NAME = _code(
    "MW107", "unbound-name", W, "a legacy name is used but never imported or defined in the file",
    "import it from the canonical module (it may be injected at run time)")
LEGACY_LAYOUT_TEST = _code(
    "MW108", "legacy-layout-test", W, "a test that asserts the legacy layout (expects an import to fail or warn, "
    "asserts on a legacy module's name or on source text naming one)",
    "decide whether the test still makes sense after the migration, and edit or delete it")
# An import the audit's import-path check lists that stays after the migration is reported at its own
# line (the audit names the finding that covers it): MW102 or MW106 when that is the reason, else one of these.
LEGACY_IMPORT_KEPT = _code(
    "MW109", "legacy-import-kept", I, "an import through a legacy path stays because of the follow-ups the "
    "message names (at the lines where the module object is used)",
    "nothing of its own: once those follow-ups are done, rerun and the import moves")
LEGACY_IMPORT_UNEXPLAINED = _code(
    "MW110", "legacy-import-unexplained", W, "an import through a legacy path stays and no step says why",
    "move the import by hand, and report it: every such import should be migrated or have a reason")
CANONICAL_ROOT_TAKEN = _code(
    "MW111", "canonical-root-taken", W, "`import a.legacy` would become `import <canonical>`, whose first name the "
    "file binds to something else (or the function reads before the import)",
    "rename the other binding of that name, or import the canonical module by hand")

# ----- aliases --------------------------------------------------------------------------------
ALIAS_KEPT = _code(
    "MW201", "alias-kept", W, "a legacy alias could not be collapsed to the canonical name safely",
    "rename it by hand once the reason given no longer holds")

# ----- factory calls -------------------------------------------------------------------------
NO_CONTEXT = _code(
    "MW301", "no-context-in-scope", W, "a singleton access with no context in scope to pass to the factory",
    "pass the caller's context to the factory by hand, or configure a context fallback")
UNMAPPED_ARGUMENTS = _code(
    "MW302", "arguments-not-mapped", W, "a legacy call's arguments cannot be mapped onto the factory's parameters",
    "rewrite the call by hand; the message names the argument")
FACTORY_OBJECT = _code(
    "MW303", "factory-object", W, "a legacy factory object is created; its methods must become factory calls",
    "call the factory with the context directly instead of creating the factory object")
FACTORY_NAME_TAKEN = _code(
    "MW304", "factory-name-taken", W, "the factory's name is bound to something else where the call is",
    "rename the local binding, then rerun")
COROUTINE_EXPECTED = _code(
    "MW305", "coroutine-expected", W, "a legacy async call's coroutine is passed on, but the factory is not async",
    "rewrite the call site by hand (the factory returns the object directly)")
ASYNC_FACTORY_IN_SYNC_CODE = _code(
    "MW306", "async-factory-in-sync-code", W, "the factory is async but the calling code is not",
    "make the caller async or obtain the object elsewhere")
CONTEXT_FALLBACK = _code(
    "MW307", "context-fallback", I, "a singleton access with no context in scope now passes the context fallback "
    "configured for its path", "check that the fallback's context is what this code should run with")
FACTORY_NOT_VISIBLE = _code(
    "MW308", "factory-not-visible", W, "the factory's import would not be visible at the call: the calling function "
    "imports the factory itself only after the call or on another path, or the legacy name is imported under a "
    "`global`/`nonlocal` declaration", "import the factory where the call sees it (before the call, at the top of "
    "the function or the module), then rerun")

# ----- string references ---------------------------------------------------------------------
STRING_NOT_LITERAL = _code(
    "MW401", "string-not-plain-literal", W, "a string reference to a legacy path is not a plain literal",
    "change the string by hand to the value given")
STRING_OUTSIDE_PATCH = _code(
    "MW402", "string-outside-patch-call", W, "a string names a legacy path outside a patch or import call",
    "check what the string is for and change it by hand if it names the object")
STRING_UNMAPPED_NAME = _code(
    "MW403", "string-unmapped-name", W, "a string target names a legacy path the configuration does not map",
    "point the string at the module that defines the object")
MODULE_PATH_STRING = _code(
    "MW404", "legacy-module-path-string", W, "a string used as a module path names a legacy module (sys.modules, "
    "importlib, exec, a list of modules to import) and is not rewritten",
    "point it at the canonical module, or delete it if it only exercised the legacy layout")
LEGACY_PATH_IN_TEXT = _code(
    "MW405", "legacy-path-in-text", I, "free text (a message, a docstring-like string, an example import line) "
    "mentions a legacy path; text is never edited",
    "nothing for the migration; reword the text when convenient")

# ----- the canonical module ------------------------------------------------------------------
IMPLEMENTATION_NOT_BOUND = _code(
    "MW501", "implementation-not-bound", W, "the canonical module does not bind the configured implementation",
    "import the implementation into the canonical module, or fix `implementation` in the configuration")
CONDITIONAL_BINDING = _code(
    "MW502", "conditional-binding", W, "a canonical name is bound inside a conditional block and cannot be rebound",
    "rebind it to the implementation by hand")
SHADOWED_DEFINITION = _code(
    "MW503", "shadowed-definition", I, "a definition in the canonical module is now shadowed by the implementation",
    "remove it once nothing refers to it")
ALIASES_DIFFER = _code(
    "MW504", "aliases-differ", I, "an alias and its canonical name are different objects in the canonical module",
    "set `implementation` so the first step rebinds both to one object")

# ----- legacy modules -------------------------------------------------------------------------
SHIM_MISSING_NAME = _code(
    "MW601", "shim-missing-name", W, "a retired module's shim cannot provide a configured name",
    "add the name to the canonical module, or remove it from the legacy module's `names`")
MODULE_STILL_USED = _code(
    "MW602", "legacy-module-still-used", W, "a legacy module was not deleted because code still refers to it",
    "migrate the remaining references, then rerun with --legacy-modules delete")
LEGACY_MODULE_KEPT = _code(
    "MW603", "legacy-module-kept", I, "a legacy module defines code of its own, so it stays and only its imports "
    "were migrated", "move its own definitions elsewhere, or list them under the module's `drop`, to retire it")
NAMES_DROPPED = _code(
    "MW604", "names-dropped", I, "a retired module's shim leaves out names the configuration drops",
    "nothing in the repository uses them (checked); code outside it that does will break")

# ----- verification ---------------------------------------------------------------------------
IMPORT_WOULD_BREAK = _code(
    "MW701", "import-would-break", E, "an import that resolves today would not resolve after the change",
    "keep the name where it is imported from (configuration), or migrate the import; --apply refuses until then")
IMPORT_ALREADY_BROKEN = _code(
    "MW702", "import-already-broken", I, "an import of a module the change touches did not resolve before it either",
    "not caused by the migration; fix it separately")
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
    "nothing, if that is what you want; otherwise remove the comment")

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
    "MW905", "symlink", I, "a symbolic link: never followed", "migrate the file it points to directly if it is yours")
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

CODES: dict[str, Code] = {entry.code: entry for entry in _ALL}
BY_NAME: dict[str, Code] = {entry.name: entry for entry in _ALL}
assert len(CODES) == len(_ALL) and len(BY_NAME) == len(_ALL), "finding codes and names must be unique"


def register(code: str, name: str, severity: Severity, summary: str, fix: str) -> Code:
    """Add a code (for a step registered from outside the package); codes and names stay unique."""
    if code in CODES or name in BY_NAME:
        existing = CODES.get(code) or BY_NAME[name]
        if existing == Code(code, name, severity, summary, fix):
            return existing
        raise ValueError(f"finding code {code} / {name} is already registered")
    entry = _code(code, name, severity, summary, fix)
    CODES[code] = BY_NAME[name] = entry
    return entry


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
