"""The binding check: no name the code uses may be left unbound by the change.

Every changed file is checked with pyflakes before and after the change. pyflakes is an
independent judge: it does not share the engine's scope analysis (which cannot check
itself, as black's AST check does not use black's formatter), it is small, and it reads
code as Python binds names. The change of a file is rejected when, after it, pyflakes reports

- a name as undefined, as a local used before it is assigned, as an `__all__` entry nothing
  binds, or as a name only a star import could provide, more often than before. Names are
  compared with their counts, not by line, because the change moves lines; a use the change
  renamed (`LegacyClient` -> `Client`) counts under the name the original spelled there, so
  a use that was already unbound is not new because it was renamed;
- a name an import bound before, and that the code still uses, bound by no import after it.
  pyflakes cannot see a binding lost on one path when another path binds the name
  (`import legacy` in a `try` rewritten to `import pkg.legacy`, with `legacy = None` in its
  `except ImportError`); this rule, on the same trees, does.

Only names the change touches can lose a binding: the identifiers in the edited text,
before and after. So only reports about those names count, and a function or class whose
text names none of them is left out of what pyflakes reads (its body cannot use or bind
them), which keeps the check cheap on large files.

The engine rejects such a file (`BINDING_LOST`, MW704): it is left as it is and listed;
what relies on it is left out too (`leaving_out.py`); the rest of the change goes on.
"""

from __future__ import annotations

import ast
import copy
import keyword
import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

from .edits import Edit
from .import_bindings import Bindings, LostBinding, Places, Unbound, fallback_imports, import_bindings_lost

# what each pyflakes message says of its name (the name is message_args[0])
_KINDS = {
    "UndefinedName": "undefined",
    "UndefinedLocal": "used before assignment",
    "UndefinedExport": "listed in __all__ but unbound",
    "ImportStarUsage": "undefined unless a star import provides it",
}
FALLBACK = "bound by no import on another path any more (an except handler or an else branch)"
ON_ANOTHER_PATH = "undefined where an import bound it before (only another path binds it now)"

_IDENTIFIER = re.compile(r"[^\W\d]\w*")


def unbound_names(tree: ast.Module, filename: str, names: frozenset[str] | None = None) -> list[Unbound]:
    """What pyflakes reports as unbound in the module `tree` (of `names` only, when given).
    `filename` is the file's path: pyflakes knows `__path__` only in a package's `__init__.py`."""
    found = []
    flakes = _checker()(tree, filename=filename, withDoctest=False) if names is None \
        else _checker(True)(tree, filename=filename, withDoctest=False, only=names)
    try:
        for message in flakes.messages:
            kind = _KINDS.get(type(message).__name__)
            if kind is not None and message.message_args:
                name = str(message.message_args[0])
                if names is None or name in names:
                    found.append(Unbound(name, message.lineno, getattr(message, "col", 0) or 0, kind))
    finally:
        _release(flakes, tree)
    return found


@lru_cache(maxsize=None)
def _checker(narrowed: bool = False) -> type:
    """pyflakes' Checker; `narrowed`, one that binds only the builtins among the names asked about
    (`only=`). A builtin binding is read only for its own name, never for another's, so pyflakes
    reports the same about those names, without binding some 160 builtins in every run. (pyflakes
    reports a builtin used before a local assignment with the builtin's first letter for its name:
    a builtin whose first letter is among the names is bound too.)"""
    from pyflakes import checker

    if not narrowed:
        return checker.Checker

    class Narrowed(checker.Checker):
        def __init__(self, tree: ast.Module, *, only: frozenset[str], **options) -> None:
            self._only = only
            super().__init__(tree, **options)

        # pyflakes 4 assigns its builtins to the instance; pyflakes 3 keeps them in the class
        @property
        def builtIns(self) -> frozenset[str]:
            names = self.__dict__.get("_builtins")
            if names is None:
                names = self._builtins = self._asked(checker.Checker.builtIns)
            return names

        @builtIns.setter
        def builtIns(self, names) -> None:
            self._builtins = self._asked(names)

        def _asked(self, names) -> frozenset[str]:
            return frozenset(name for name in names if name in self._only or name[:1] in self._only)

    return Narrowed


def _release(flakes, tree: ast.Module) -> None:
    """Break the reference cycles pyflakes leaves (its scopes, and before pyflakes 4 a parent
    link on every node): the workers run with the cyclic garbage collector off."""
    for scope in getattr(flakes, "deadScopes", ()):
        scope.clear()
    for scope in getattr(flakes, "scopeStack", ()):
        scope.clear()
    flakes.__dict__.clear()
    body = tree.body
    if body and hasattr(body[0], "_pyflakes_parent"):
        for node in ast.walk(tree):
            node.__dict__.pop("_pyflakes_parent", None)
            node.__dict__.pop("_pyflakes_depth", None)


def touched_names(text: str, edits: Sequence[Edit]) -> frozenset[str]:
    """The identifiers in the edited text, before and after: the only names an edit can unbind."""
    words: set[str] = set()
    for edit in edits:
        words.update(_IDENTIFIER.findall(text, edit.start, edit.end))
        words.update(_IDENTIFIER.findall(edit.text))
    return frozenset(word for word in words if not keyword.iskeyword(word))


def lost_bindings(before_text: str, before: ast.Module, after_text: str, filename: str, edits: Sequence[Edit],
                  after: ast.Module | None = None, index=None) -> list[LostBinding]:
    """The uses of names that are unbound after the change and were not before (and the imports
    nothing uses after it that are more than before): `before` is the tree of `before_text` (the
    original), `after_text` the original with the final `edits` applied (`after` its tree, when
    already parsed; `index` the original's LineIndex, when at hand). Raises SyntaxError when
    `after_text` does not parse.

    pyflakes runs on the original only when the rewrite has unbound names at all: most files
    have none, and then nothing can have been lost."""
    from .source import LineIndex

    names = touched_names(before_text, edits)
    if not names:
        return []
    index = index or LineIndex(before_text)
    # where the names appear, once per text: every reduction of either tree below reads it
    before_mentions = _mentioned_lines(before_text, index, names)
    if after is None:
        after = _parse_what_names(before_text, before, index, before_mentions, after_text, filename, edits)
    rewrite_index = LineIndex(after_text)
    after_mentions = _mentioned_lines(after_text, rewrite_index, names)
    after = _only_what_names(after, after_mentions)
    before = _only_what_names(before, before_mentions)
    places = Places(edits, index, rewrite_index)
    lost = []
    now = unbound_names(after, filename, names)
    if now:
        lost = _more_unbound(now, unbound_names(before, filename, names), places)
    if lost:
        return sorted(lost, key=lambda item: (item.line, item.name))
    was = Bindings.of(before, names)
    will = Bindings.of(after, names, lambda line: places.original(Unbound("", line, 0, ""))[0])
    # a name an import bound before, that a plain assignment binds after (`X = None` in an
    # `except ImportError:`), or that a function declares `global`: pyflakes takes that for the
    # binding of every use. Without such assignments and declarations, before and after, it
    # tells whether the imports still bind the uses.
    alternatives = frozenset(set().union(*was.imported.values()) & (will.assigned | will.declared_global))
    if alternatives:
        imports_only = _only_what_names(after, after_mentions, alternatives)
        now = unbound_names(imports_only, filename, alternatives)
        if now:
            before_imports_only = _only_what_names(before, before_mentions, alternatives)
            lost = [replace(item, kind=ON_ANOTHER_PATH) for item in
                    _more_unbound(now, unbound_names(before_imports_only, filename, alternatives), places)]
    reported = {item.name for item in lost}
    # an import on another path (an `except` handler, an `else` branch) that no longer binds the
    # name, while an import on the first path still does: dead on this Python, perhaps not on another
    fallback_before = fallback_imports(before, names)
    fallback_after = fallback_imports(after, names) if fallback_before else {}
    for name, lines in sorted(fallback_before.items()):
        used = any(name in scope.loads for scope in will.scopes.values())
        if name not in reported and used and len(fallback_after.get(name, ())) < len(lines):
            lost.append(LostBinding(name, lines[0], 0, FALLBACK))
            reported.add(name)
    lost.extend(import_bindings_lost(was, will, {item.name for item in lost}, places))
    return sorted(lost, key=lambda item: (item.line, item.name))


def _more_unbound(now: list[Unbound], before: list[Unbound], places: Places) -> list[LostBinding]:
    """The unbound uses of names that are unbound more often than before (counted under the name
    the original spelled at each place)."""
    found = [(use, *places.original(use)) for use in now]
    was = Counter(use.name for use in before)
    grown = {name for name, count in Counter(spelled for _, _, spelled in found).items() if count > was[name]}
    lost = []
    for name in sorted(grown):
        uses = [(use, line) for use, line, spelled in found if spelled == name]
        # the uses on a line that had none before are the new ones (as far as lines tell: a use may move)
        earlier = Counter(use.line for use in before if use.name == name)
        new = []
        for use, line in uses:
            if earlier[line]:
                earlier[line] -= 1
            else:
                new.append(LostBinding(use.name, line, use.line, use.kind))
        use, line = uses[0]
        lost.extend(new or [LostBinding(use.name, line, use.line, use.kind)])
    return lost


def _only_what_names(tree: ast.Module, mentioned: list[int], unassigned: frozenset[str] = frozenset()) -> ast.Module:
    """The module with the body of every function and class whose lines mention none of the names
    (`mentioned`: the lines that do, `_mentioned_lines`) replaced by `pass` (a copy: the tree given
    is not changed). Such a body can neither use nor bind those names, so pyflakes reports the same
    about them, reading far less of a large file. A plain assignment to names of `unassigned` only
    (`X = None`) becomes its value alone, and `global` declarations leave those names out."""

    def mentions(node: ast.stmt) -> bool:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        position = bisect_left(mentioned, first)
        return position < len(mentioned) and mentioned[position] <= (node.end_lineno or node.lineno)

    def statements(body: list) -> list:
        kept, changed = [], False
        for statement in body:
            new = one(statement)
            changed = changed or new is not statement
            kept.append(new)
        return kept if changed else body

    def one(statement):
        if unassigned and isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None \
                and all(isinstance(target, ast.Name) and target.id in unassigned
                        for target in getattr(statement, "targets", [getattr(statement, "target", None)])):
            return ast.Expr(value=statement.value, lineno=statement.lineno, col_offset=statement.col_offset,
                            end_lineno=statement.end_lineno, end_col_offset=statement.end_col_offset)
        if unassigned and isinstance(statement, ast.Global) and set(statement.names) & unassigned:
            kept_names = [name for name in statement.names if name not in unassigned]
            position = dict(lineno=statement.lineno, col_offset=statement.col_offset, end_lineno=statement.end_lineno,
                            end_col_offset=statement.end_col_offset)
            return ast.Global(names=kept_names, **position) if kept_names else ast.Pass(**position)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not mentions(statement):
            empty = copy.copy(statement)
            empty.body = [ast.Pass(lineno=statement.lineno, col_offset=statement.col_offset,
                                   end_lineno=statement.lineno, end_col_offset=statement.col_offset)]
            return empty
        replaced = None
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(statement, field, None)
            if not isinstance(children, list) or not children:
                continue
            if field in ("handlers", "cases"):
                new_children = [_with_body(child, statements(child.body)) for child in children]
                new_children = children if all(a is b for a, b in zip(new_children, children)) else new_children
            else:
                new_children = statements(children)
            if new_children is not children:
                replaced = replaced or copy.copy(statement)
                setattr(replaced, field, new_children)
        return replaced or statement

    body = statements(tree.body)
    if body is tree.body:
        return tree
    module = copy.copy(tree)
    module.body = body
    return module


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_NOT_LINE_END = re.compile(r"[^\r\n]+")


def _parse_what_names(before_text: str, before: ast.Module, index, mentioned: list[int], after_text: str,
                      filename: str, edits: Sequence[Edit]) -> ast.Module:
    """The rewrite's tree, parsed with the body of every function and class that mentions none of
    the names (`mentioned`: the original's lines that do) and that no edit touches left out (a
    `pass` on its first line, its other lines empty, so every line keeps its number): what
    pyflakes needs of it, for a fraction of a full parse."""
    from .source import parse_source

    spans = sorted((edit.start, edit.end) for edit in edits)
    starts = [start for start, _ in spans]
    regions: list[tuple[int, int, str]] = []  # original offsets of a body's lines, and its indentation

    def untouched(start: int, end: int) -> bool:
        # the edits do not overlap one another: of those starting before `end`, the last ends last
        position = bisect_left(starts, end)
        return position == 0 or spans[position - 1][1] <= start

    def visit(statements: list) -> None:
        for statement in statements:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([statement.lineno] + [d.lineno for d in statement.decorator_list])
                last = statement.end_lineno or statement.lineno
                position = bisect_left(mentioned, first)
                body = statement.body[0]
                line = index.line_text(body.lineno)
                start, end = index.starts[body.lineno - 1], index.starts[last - 1] + len(index.line_text(last))
                # the body begins a line of its own (not `def f(): return 1`)
                own_line = not before_text[start:index.offset(body.lineno, body.col_offset)].strip(" \t")
                if own_line and not (position < len(mentioned) and mentioned[position] <= last) \
                        and untouched(index.starts[first - 1], end):
                    regions.append((start, end, line[:len(line) - len(line.lstrip())]))
                    continue
            for field in ("body", "orelse", "finalbody"):
                children = getattr(statement, field, None)
                if isinstance(children, list):
                    visit(children)
            for handler in getattr(statement, "handlers", None) or []:
                visit(handler.body)

    visit(before.body)
    regions.sort()  # in the text's order (a `try`'s handlers come before its `else`)
    ordered = sorted(edits, key=lambda e: e.start)
    shifts = [0]  # shifts[n]: the rewrite's offsets minus the original's after the first n edits
    for edit in ordered:
        shifts.append(shifts[-1] + len(edit.text) - (edit.end - edit.start))

    def text_of(start: int, end: int | None) -> str:
        """The rewrite of the original's `start:end` (to the end: None), each region emptied (a
        `pass` on its first line and its other lines empty). No edit overlaps a region or
        straddles `start` or `end`."""
        pieces, position = [], start + shifts[bisect_left(edit_starts, start)]
        for first_offset, last_offset, indentation in regions[bisect_left(regions, (start,)):]:
            if end is not None and first_offset >= end:
                break
            shift = shifts[bisect_left(edit_starts, first_offset)]
            first = _LINE.match(before_text, first_offset, last_offset).group()
            pieces.append(after_text[position:first_offset + shift])
            # every line but its ending dropped: a line ends only at CR, LF or CRLF, so what is left
            # of the other lines is exactly their endings
            rest = _NOT_LINE_END.sub("", before_text[first_offset + len(first):last_offset])
            pieces.append(indentation + "pass" + _ending(first) + rest)
            position = last_offset + shift
        pieces.append(after_text[position:] if end is None else
                      after_text[position:end + shifts[bisect_left(edit_starts, end)]])
        return "".join(pieces)

    edit_starts = [edit.start for edit in ordered]
    spliced = _spliced(before, index, before_text, after_text, filename, ordered, text_of)
    if spliced is not None:
        return spliced
    if not regions:
        return parse_source(after_text, filename)
    try:
        return parse_source(text_of(0, None), filename)
    except SyntaxError:
        return parse_source(after_text, filename)  # the shortcut cannot vouch for it: the whole rewrite


def _spliced(before: ast.Module, index, before_text: str, after_text: str, filename: str, ordered: list[Edit],
             text_of) -> ast.Module | None:
    """The rewrite's tree made of the original's own module-level statements where no edit touches
    their lines, and of the touched ones parsed again (`text_of` gives their rewrite): when every
    edit keeps the number of lines, every line keeps its number and every untouched statement
    reads the same, at the same place. None when that cannot be vouched for: an edit changes the
    number of lines or reaches lines outside the module's statements (a comment, a blank line),
    a carriage return is about (the lines would have to be counted as the tokenizer does), or a
    touched statement's rewrite does not parse alone (it would have to be read with what follows).
    A statement's rewrite that parses alone, at the start of a line of its own, ends where the
    tokenizer ends a statement, so the whole rewrite reads it the same way."""
    from .source import parse_source

    if not before.body or not ordered or "\r" in before_text or "\r" in after_text or any(
            before_text.count("\n", edit.start, edit.end) != edit.text.count("\n") for edit in ordered):
        return None
    # the module's statements in runs of whole lines: statements that share a line are one run
    runs: list[list[int]] = []  # first line, last line, index of the first statement, of the last
    for position, statement in enumerate(before.body):
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])
        if runs and first <= runs[-1][1]:
            runs[-1][1], runs[-1][3] = max(runs[-1][1], statement.end_lineno or statement.lineno), position
        else:
            runs.append([first, statement.end_lineno or statement.lineno, position, position])
    firsts = [run[0] for run in runs]
    touched: set[int] = set()
    for edit in ordered:
        first, last = index.line_of(edit.start), index.line_of(max(edit.end - 1, edit.start))
        position = bisect_left(firsts, first + 1) - 1
        if position < 0 or runs[position][1] < last:
            return None
        touched.add(position)
    body: list = []
    for position, (first, last, first_statement, last_statement) in enumerate(runs):
        if position not in touched:
            body.extend(before.body[first_statement:last_statement + 1])
            continue
        end = index.starts[last] if last < len(index.starts) else None
        try:
            # the lines before it left empty: every line keeps its number
            parsed = parse_source("\n" * (first - 1) + text_of(index.starts[first - 1], end), filename)
        except (SyntaxError, ValueError):
            return None
        body.extend(parsed.body)
    return ast.Module(body=body, type_ignores=[])


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _mentioned_lines(text: str, index, names: frozenset[str]) -> list[int]:
    """The lines (sorted) where one of `names` stands as a whole word (not within a longer word):
    a function or class whose lines are none of them can neither use nor bind those names."""
    lines = set()
    find, length = text.find, len(text)
    for name in names:
        size = len(name)
        position = find(name)
        while position != -1:
            end = position + size
            # a name is word characters only: an occurrence that is part of a longer word hides
            # no whole-word one before its end
            if (position == 0 or not _is_word(text[position - 1])) and (end == length or not _is_word(text[end])):
                lines.add(index.line_of(position))
            position = find(name, end)
    return sorted(lines)


def _is_word(character: str) -> bool:
    """What a regular expression's `\\w` matches (Unicode letters and digits, and `_`)."""
    return character.isalnum() or character == "_"


def _with_body(node, body: list):
    if body is node.body:
        return node
    replaced = copy.copy(node)
    replaced.body = body
    return replaced


@dataclass(frozen=True)
class Rejection:
    """Why a file's change is rejected (MW704): the reason names each name and line."""

    reason: str
    line: int
    lost: tuple[LostBinding, ...] = ()


def check(before_text: str, before: ast.Module, after_text: str, filename: str, edits: Sequence[Edit],
          after: ast.Module | None = None, index=None) -> Rejection | None:
    """`lost_bindings`, as the rejection of the file's change (None: nothing is lost). A check that
    cannot run (pyflakes fails on the file) rejects the change too: what is not checked is not written."""
    try:
        lost = lost_bindings(before_text, before, after_text, filename, edits, after, index)
    except RecursionError:
        return Rejection("the binding check could not run (the code nests too deeply for pyflakes); left unchanged", 1)
    except SyntaxError as exc:
        return Rejection(f"the binding check could not parse the rewrite ({exc.msg}, line {exc.lineno}); "
                         "left unchanged", 1)
    except Exception as exc:  # pyflakes failing on a file must not stop the run
        return Rejection(f"the binding check could not run (pyflakes: {type(exc).__name__}: {exc}); left unchanged", 1)
    if not lost:
        return None
    return Rejection(describe(lost), lost[0].line, tuple(lost))


def rejection(filename: str, original: bytes, rewritten: bytes, edits: Sequence[Edit]) -> Rejection | None:
    """`check` of a file's change given as bytes (a repository-level step's file). An original that
    does not parse counts as having no unbound names."""
    from .source import SourceText, UndecodableSource, parse_source

    try:
        before_text = SourceText.decode(original).text
        after_text = SourceText.decode(rewritten).text
    except UndecodableSource as exc:
        return Rejection(f"the binding check could not decode the file ({exc}); left unchanged", 1)
    try:
        before = parse_source(before_text, filename)
    except (SyntaxError, ValueError):
        before = ast.Module(body=[], type_ignores=[])
    return check(before_text, before, after_text, filename, edits)


def describe(lost: Sequence[LostBinding]) -> str:
    """One line naming every name the change would leave unbound, and where."""
    lines_of: dict[tuple[str, str], list[int]] = {}
    for item in lost:
        lines_of.setdefault((item.name, item.kind), []).append(item.line)
    parts = []
    for (name, kind), lines in lines_of.items():
        lines = sorted(set(lines))
        where = f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines))
        parts.append(f"`{name}` would be {kind} at {where}")
    return "the change would leave a name unbound: " + "; ".join(parts) + "; left unchanged"


