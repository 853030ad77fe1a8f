"""`# migrate-ws: keep` comments: legacy code that is meant to stay (in the spirit of ruff's `noqa`).

- `# migrate-ws: keep` at the end of a statement's first or last line (for a `def`, `class`,
  `with`, ... its header; for a decorator, the decorator's line) keeps that statement as it
  is and reports nothing about it. On an import statement it keeps the names it binds:
  their uses in the file keep their meaning and are not rewritten either.
- `# migrate-ws: keep[MW101, MW108]` only silences those findings on the statement; its
  edits are made (edits have steps, not codes).
- `# migrate-ws: keep-file`, on a line of its own anywhere in the file, keeps the whole file
  as it is and reports nothing about it (a compatibility module, a test of the legacy
  layout); `# migrate-ws: keep-file[MW108]` silences those findings in the whole file.

A kept statement must not break the rest of the change: when it uses a name the change
renames (an alias collapsed, an import moved under another name), the import binding that
name is kept too, and if that is not enough (an assignment renamed) the whole file is left
as it is; either way an MW803 note says so. The file's result is computed again with those
imports kept, so every other output (diff, references for the import check, renamed
exports) agrees.

A comment that matches nothing the run would change or report is MW801 (like ruff's
RUF100); one that cannot be read (an unknown directive or code) is MW802. Suppressed sites
are not findings: the plan counts them (`FileResult.suppressed`), `--show-suppressed` lists
them. A file's comments are part of its bytes, so the result cache stays right: a cached
outcome is keyed by the digest of those bytes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from . import findings as _registry  # the table of codes
from .findings import (INVALID_SUPPRESSION, LEGACY_LAYOUT_TEST, PENDING_CHANGE, SUPPRESSION_WIDENED,
                       UNUSED_SUPPRESSION, Finding)
from .model import RepositoryOutcome, Suppressed

if TYPE_CHECKING:  # pragma: no cover
    from .scopes import Binding
    from .context import FileContext

MARKER = "migrate-ws:"
GUARD = "migrate-ws: keep"  # the reason a kept import's bindings carry (`Binding.guard`)
_DIRECTIVE = re.compile(r"#\s*migrate-ws:\s*(?P<kind>[\w-]*)(?P<codes>\[[^\]]*\]?)?")
_IMPORT_KINDS = ("import-name", "import-module", "star")
MAX_ROUNDS = 5


@dataclass
class Directive:
    """One `# migrate-ws: keep` comment: where it is, what it covers (its line or the whole file), the
    codes it names, whether it suppressed anything."""

    line: int
    file_level: bool
    codes: frozenset[str] | None  # None: keep (no codes)
    trailing: bool  # after code on its line
    text: str
    unknown: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # codes that matched ("" for a keep without codes)


@dataclass
class Unit:
    """A statement (or a compound statement's header, or a decorator) a directive keeps."""

    node: ast.AST
    first: int
    last: int
    start: int  # text offsets: the whole lines first..last
    end: int
    directives: list[Directive]

    @property
    def is_import(self) -> bool:
        return isinstance(self.node, (ast.Import, ast.ImportFrom))

    def keeps(self) -> bool:
        return any(d.codes is None for d in self.directives)

    def silences(self, code: str) -> Directive | None:
        for directive in self.directives:
            if directive.codes is None or code in directive.codes:
                return directive
        return None


def has_directives(text: str) -> bool:
    return MARKER in text


def read_directives(text: str) -> list[Directive]:
    """The `# migrate-ws:` comments of a module (comments only: strings never count)."""
    if MARKER not in text:
        return []
    import io
    import tokenize  # builds its expressions on import: only for a file with a comment

    found: list[Directive] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):  # pragma: no cover - the file parsed
        return []
    for token in tokens:
        if token.type != tokenize.COMMENT or MARKER not in token.string:
            continue
        line, column = token.start
        trailing = token.line[:column].strip() != ""
        for match in _DIRECTIVE.finditer(token.string):
            kind, codes_text = match["kind"], match["codes"]
            codes = None
            unknown: list[str] = []
            if codes_text is not None:
                names = [c.strip() for c in codes_text.strip("[]").split(",") if c.strip()]
                unknown = [c for c in names if c not in _registry.CODES]
                codes = frozenset(c for c in names if c in _registry.CODES)
                if not codes_text.endswith("]"):
                    unknown.append(codes_text)
            if kind not in ("keep", "keep-file"):
                unknown.insert(0, f"directive {kind!r}" if kind else "a directive")
            found.append(Directive(line, kind == "keep-file", codes, trailing, match.group(0), unknown))
    return found


def file_keep(data_text: str) -> bool:
    """Whether the text carries a `# migrate-ws: keep-file` without codes."""
    return any(d.file_level and d.codes is None and not d.unknown for d in read_directives(data_text))


# ----- statements ------------------------------------------------------------------------------

def _header_last(node: ast.stmt, lines: list[str]) -> int:
    body = getattr(node, "body", None)
    if not body or not isinstance(body, list) or not isinstance(body[0], ast.AST):
        return node.end_lineno or node.lineno
    first_body = body[0].lineno
    if first_body <= node.lineno:
        return node.lineno
    last = first_body - 1
    while last > node.lineno and (not lines[last - 1].strip() or lines[last - 1].lstrip().startswith("#")):
        last -= 1  # blank and comment-only lines between the header and the body
    return last


def units_for(tree: ast.Module, text: str, index, directives: list[Directive]) -> list[Unit]:
    """The statements each trailing `keep` comment applies to (its line is their first or last)."""
    by_line: dict[int, list[Directive]] = {}
    for directive in directives:
        if not directive.file_level and directive.trailing and not directive.unknown:
            by_line.setdefault(directive.line, []).append(directive)
    if not by_line:
        return []
    lines = index.lines
    units: list[Unit] = []

    def add(node: ast.AST, first: int, last: int) -> None:
        matched = by_line.get(first, []) + (by_line.get(last, []) if last != first else [])
        if not matched:
            return
        start = index.starts[first - 1]
        end = index.starts[last - 1] + len(lines[last - 1].rstrip("\r\n"))
        units.append(Unit(node, first, last, start, end, matched))

    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        for decorator in getattr(node, "decorator_list", ()):
            add(decorator, decorator.lineno, decorator.end_lineno or decorator.lineno)
        if isinstance(getattr(node, "body", None), list):
            add(node, node.lineno, _header_last(node, lines))
        else:
            add(node, node.lineno, node.end_lineno or node.lineno)
    return units


# ----- applying them to one file's plan ---------------------------------------------------------

Run = Callable[[frozenset], "FileContext"]


def _key(binding: "Binding") -> tuple[int, int, str]:
    statement = binding.statement
    return (getattr(statement, "lineno", binding.line), getattr(statement, "col_offset", 0), binding.name)


def mark_kept(context: "FileContext", kept: frozenset) -> None:
    """Before the steps run: the bindings of kept imports are left alone, like a guarded import."""
    if not kept:
        return
    for binding in context.facts.bindings:
        if binding.kind in _IMPORT_KINDS and _key(binding) in kept:
            binding.guard = GUARD


def _overlaps(edit, unit: Unit) -> bool:
    if edit.start == edit.end:
        return unit.start <= edit.start < unit.end
    return edit.start < unit.end and edit.end > unit.start


def _contained(edit, unit: Unit) -> bool:
    return unit.start <= edit.start and edit.end <= unit.end


class _Problem(Exception):
    """A kept statement the rest of the change cannot do without: the whole file is kept."""


def _needed_imports(context: "FileContext", unit: Unit) -> dict[tuple, str]:
    """Import bindings a kept (non-import) statement needs as they are: key -> the name it uses."""
    from .scopes import resolve

    needed: dict[tuple, str] = {}
    exports = context.targets.canonical_exports
    for use in context.facts.uses:
        line = getattr(use.node, "lineno", 0)
        if not unit.first <= line <= unit.last:
            continue
        for binding in resolve(use.scope, use.name):
            renamed = (id(binding.scope), binding.name) in context.renamed
            if binding.kind not in _IMPORT_KINDS:
                if renamed:
                    raise _Problem(f"{binding.name} (line {binding.line}) is renamed by the change")
                continue
            change = context.statements.change_of(binding)
            if change is None and not renamed:
                continue
            if renamed or change.spec is None:
                needed[_key(binding)] = binding.name
                continue
            module_object = context.names.module_object(binding) is not None or binding.kind == "import-module"
            if module_object:
                if binding.bound_path is not None or not use.chain or use.chain[0] not in exports:
                    needed[_key(binding)] = binding.name
            elif (change.spec.asname or change.spec.name) != binding.name:
                needed[_key(binding)] = binding.name
    for binding in context.facts.bindings:  # names the kept statement binds must keep their names too
        if unit.first <= binding.line <= unit.last and (id(binding.scope), binding.name) in context.renamed:
            raise _Problem(f"it binds {binding.name}, which the change renames")
    for edit in context.edits.edits:
        if _overlaps(edit, unit) and not _contained(edit, unit):
            raise _Problem("an edit of the change spans it")
    return needed


def _clear(context: "FileContext") -> None:
    context.edits.edits.clear()
    context.statements.changes.clear()
    context.statements.extra.clear()
    context.statements.removed.clear()
    context.renamed.clear()
    context.renamed_exports.clear()


def apply(text: str, tree: ast.Module, run: Run) -> tuple["FileContext", list[Suppressed], list]:
    """Plan the file with its `# migrate-ws: keep` comments honoured.

    `run(kept)` plans the file from scratch with the import bindings in `kept` left alone
    and returns its context (steps run and statements rendered). Returns the context to
    finish, the suppressed sites, and the contexts no longer needed (to release)."""
    directives = read_directives(text)
    baseline = run(frozenset())
    if not directives:
        return baseline, [], []
    before_edits, before_findings = list(baseline.edits.edits), list(baseline.edits.findings)
    path = baseline.path
    index = baseline.facts.index
    units = units_for(tree, text, index, directives)
    discarded = []
    _note_use(baseline, directives, units)

    notes: list[Finding] = []
    file_keep_directive = next((d for d in directives if d.file_level and d.codes is None and not d.unknown), None)
    context = baseline
    whole_file = file_keep_directive is not None
    if not whole_file and any(unit.keeps() for unit in units):
        kept = frozenset(_key(b) for unit in units if unit.keeps() and unit.is_import
                         for b in baseline.facts.bindings if b.kind in _IMPORT_KINDS and b.statement is unit.node)
        widened: dict[tuple, tuple[int, str]] = {}
        for _ in range(MAX_ROUNDS):
            if kept:
                if context is not baseline:
                    discarded.append(context)
                context = run(kept)  # the same tree: the units' nodes are this run's too
            try:
                needed = {}
                for unit in units:
                    if unit.keeps() and not unit.is_import:
                        for key, name in _needed_imports(context, unit).items():
                            needed.setdefault(key, (unit.first, name))
            except _Problem as problem:
                line = next(u.first for u in units if u.keeps() and not u.is_import)
                notes.append(Finding(SUPPRESSION_WIDENED.code, path, line, f"kept (`# migrate-ws: keep`), but "
                                     f"the rest of the change depends on it ({problem}): the whole file is left as it is"))
                whole_file = True
                break
            new = {key: value for key, value in needed.items() if key not in kept}
            if not new:
                break
            widened.update(new)
            kept = kept | frozenset(new)
        else:
            whole_file = True
            notes.append(Finding(SUPPRESSION_WIDENED.code, path, units[0].first if units else 1,
                                 "kept (`# migrate-ws: keep`), but keeping what it needs did not settle: "
                                 "the whole file is left as it is"))
        if not whole_file:
            for (line, _, name), (unit_line, _) in sorted(widened.items()):
                notes.append(Finding(SUPPRESSION_WIDENED.code, path, line, f"the import of {name} is kept as it is: "
                                     f"line {unit_line} is kept (`# migrate-ws: keep`) and uses {name}, which the "
                                     "change would otherwise rename"))

    if context is not baseline:
        discarded.append(baseline)
    if whole_file:
        _clear(context)
    else:
        keep_units = [u for u in units if u.keeps()]
        dropped = [e for e in context.edits.edits if any(_overlaps(e, u) for u in keep_units)]
        if dropped:
            for unit in keep_units:
                context.statements.removed.pop(id(unit.node), None)
            context.edits.edits[:] = [e for e in context.edits.edits if not any(e is d for d in dropped)]

    # findings: the guard's own report about a kept import is not one; then the silenced ones
    remaining: list[Finding] = []
    file_codes = [d for d in directives if d.file_level and d.codes is not None and not d.unknown]
    for finding in context.edits.findings:
        if finding.code == LEGACY_LAYOUT_TEST.code and f"({GUARD})" in finding.message:
            continue
        if file_keep_directive is not None:
            continue
        unit = next((u for u in units if u.first <= finding.line <= u.last and u.silences(finding.code)), None)
        if unit is not None or any(finding.code in d.codes for d in file_codes):
            continue
        remaining.append(finding)
    # what the comments suppressed: whatever the run without them would change or report and this one does not
    suppressed = _kept_changes(before_edits, context.edits.edits)
    reported = {(f.code, f.line, f.message) for f in remaining}
    suppressed += [Suppressed(f.line, f.code, f.message) for f in before_findings
                   if (f.code, f.line, f.message) not in reported]
    remaining += notes
    remaining += _unused(path, directives)
    context.edits.findings[:] = remaining
    return context, sorted(set(suppressed), key=lambda s: (s.line, s.code, s.message)), discarded


def _kept_changes(before: list, after: list) -> list[Suppressed]:
    """One suppressed site per line whose change the comments kept from happening."""
    made = {(e.line, e.step, e.description) for e in after}
    by_line: dict[int, list[str]] = {}
    for edit in before:
        if (edit.line, edit.step, edit.description) in made:
            continue
        entries = by_line.setdefault(edit.line, [])
        text = f"{edit.step}: {edit.description}"
        if text not in entries:
            entries.append(text)
    return [Suppressed(at, PENDING_CHANGE.code, "kept as is: " + "; ".join(texts)) for at, texts in by_line.items()]


def _note_use(baseline: "FileContext", directives: list[Directive], units: list[Unit]) -> None:
    """Which directives match something the run would change or report without them."""
    edits = baseline.edits.edits
    found = baseline.edits.findings
    for unit in units:
        for directive in unit.directives:
            if directive.codes is None:
                if any(_overlaps(e, unit) for e in edits) or any(unit.first <= f.line <= unit.last for f in found):
                    directive.used.add("")
            else:
                directive.used |= {f.code for f in found if unit.first <= f.line <= unit.last} & directive.codes
    for directive in directives:
        if not directive.file_level:
            continue
        if directive.codes is None:
            if edits or found:
                directive.used.add("")
        else:
            directive.used |= {f.code for f in found} & directive.codes


def _unused(path: str, directives: list[Directive]) -> list[Finding]:
    out: list[Finding] = []
    for directive in directives:
        if directive.unknown:
            out.append(Finding(INVALID_SUPPRESSION.code, path, directive.line,
                               f"`{directive.text}`: cannot read {', '.join(directive.unknown)} (expected "
                               "`# migrate-ws: keep`, `keep[CODE, ...]`, `keep-file` or `keep-file[CODE, ...]`)"))
            continue
        if not directive.file_level and not directive.trailing:
            out.append(Finding(UNUSED_SUPPRESSION.code, path, directive.line,
                               f"`{directive.text}` on a line of its own keeps nothing: put it at the end of the "
                               "statement's first or last line, or use `# migrate-ws: keep-file`"))
            continue
        if directive.codes is None:
            if "" not in directive.used:
                out.append(Finding(UNUSED_SUPPRESSION.code, path, directive.line,
                                   f"`{directive.text}` matches nothing migrate-ws would change or report here"))
            continue
        unused = sorted(directive.codes - directive.used)
        if unused:
            out.append(Finding(UNUSED_SUPPRESSION.code, path, directive.line,
                               f"`{directive.text}`: nothing reported here for {', '.join(unused)}"))
    return out


# ----- the repository-level steps ---------------------------------------------------------------

def keep_repository_files(outcome: RepositoryOutcome) -> dict[str, list[Suppressed]]:
    """A file a repository-level step would change (a legacy module's shim) that carries
    `# migrate-ws: keep-file` stays as it is, and that step reports nothing about it.
    Returns the suppressed sites by path; `outcome` loses those files."""
    from .source import SourceText, UndecodableSource

    kept: dict[str, list[Suppressed]] = {}
    for result in list(outcome.files):
        if MARKER.encode() not in result.original:
            continue
        try:
            text = SourceText.decode(result.original).text
        except UndecodableSource:
            continue
        if not file_keep(text):
            continue
        outcome.files.remove(result)
        sites = [Suppressed(1, PENDING_CHANGE.code, "kept as is: " + "; ".join(
            f"{e.step}: {e.description}" for e in result.edits))]
        kept[result.path] = sites
    if kept:
        silenced = [f for f in outcome.findings if f.path in kept]
        outcome.findings = [f for f in outcome.findings if f.path not in kept]
        for finding in silenced:
            kept[finding.path].append(Suppressed(finding.line, finding.code, finding.message))
    return kept
