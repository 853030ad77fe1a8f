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

from .model import Edit

# what each pyflakes message says of its name (the name is message_args[0])
_KINDS = {
    "UndefinedName": "undefined",
    "UndefinedLocal": "used before assignment",
    "UndefinedExport": "listed in __all__ but unbound",
    "ImportStarUsage": "undefined unless a star import provides it",
}
NO_IMPORT = "bound by no import of its module or class any more, though still used (an import bound it before)"
CLASS_ATTRIBUTE = "no longer a class attribute (an import in the class body bound it before)"
LATER = "bound by an import only later than before, though read in between"
DUPLICATE = "bound by another import where a removed import bound it (it was not a duplicate)"
FALLBACK = "bound by no import on another path any more (an except handler or an else branch)"
ON_ANOTHER_PATH = "undefined where an import bound it before (only another path binds it now)"

_IDENTIFIER = re.compile(r"[^\W\d]\w*")


@dataclass(frozen=True)
class Unbound:
    """A name pyflakes reports as not bound where it is used."""

    name: str
    line: int
    column: int  # as ast gives it: UTF-8 bytes from the start of the line
    kind: str


@dataclass(frozen=True)
class LostBinding:
    """A use of a name that the change would leave unbound."""

    name: str
    line: int  # in the original file (where the file, left unchanged, has it)
    rewritten_line: int  # in the rewrite that was rejected
    kind: str


def unbound_names(tree: ast.Module, filename: str, names: frozenset[str] | None = None) -> list[Unbound]:
    """What pyflakes reports as unbound in the module `tree` (of `names` only, when given).
    `filename` is the file's path: pyflakes knows `__path__` only in a package's `__init__.py`."""
    from pyflakes import checker

    found = []
    flakes = checker.Checker(tree, filename=filename, withDoctest=False)
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
    from .source import LineIndex, parse_source

    names = touched_names(before_text, edits)
    if not names:
        return []
    index = index or LineIndex(before_text)
    if after is None:
        after = _parse_what_names(before_text, before, index, after_text, filename, edits, names)
    rewrite_index = LineIndex(after_text)
    after = _only_what_names(after, after_text, rewrite_index, names)
    before = _only_what_names(before, before_text, index, names)
    places = _Places(edits, index, rewrite_index)
    lost = []
    now = unbound_names(after, filename, names)
    if now:
        lost = _more_unbound(now, unbound_names(before, filename, names), places)
    if lost:
        return sorted(lost, key=lambda item: (item.line, item.name))
    was = _Bindings.of(before, names)
    will = _Bindings.of(after, names, lambda line: places.original(Unbound("", line, 0, ""))[0])
    # a name an import bound before, that a plain assignment binds after (`X = None` in an
    # `except ImportError:`), or that a function declares `global`: pyflakes takes that for the
    # binding of every use. Without such assignments and declarations, before and after, it
    # tells whether the imports still bind the uses.
    alternatives = frozenset(set().union(*was.imported.values()) & (will.assigned | will.declared_global))
    if alternatives:
        imports_only = _only_what_names(after, after_text, rewrite_index, names, alternatives)
        now = unbound_names(imports_only, filename, alternatives)
        if now:
            before_imports_only = _only_what_names(before, before_text, index, names, alternatives)
            lost = [replace(item, kind=ON_ANOTHER_PATH) for item in
                    _more_unbound(now, unbound_names(before_imports_only, filename, alternatives), places)]
    reported = {item.name for item in lost}
    # an import on another path (an `except` handler, an `else` branch) that no longer binds the
    # name, while an import on the first path still does: dead on this Python, perhaps not on another
    fallback_before, fallback_after = _fallback_imports(before, names), _fallback_imports(after, names)
    for name, lines in sorted(fallback_before.items()):
        used = any(name in scope.loads for scope in will.scopes.values())
        if name not in reported and used and len(fallback_after.get(name, ())) < len(lines):
            lost.append(LostBinding(name, lines[0], 0, FALLBACK))
            reported.add(name)
    lost.extend(_import_bindings_lost(was, will, {item.name for item in lost}, places))
    return sorted(lost, key=lambda item: (item.line, item.name))


def _fallback_imports(tree: ast.Module, names: frozenset[str]) -> dict[str, list[int]]:
    """The lines of the import statements in `except` handlers and `else` branches of `if`
    statements that bind each of `names`."""
    found: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            blocks = [node.orelse]
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            blocks = [handler.body for handler in node.handlers]
        else:
            continue
        for block in blocks:
            for statement in block:
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    for alias in statement.names:
                        bound = alias.asname or (alias.name.split(".")[0] if isinstance(statement, ast.Import)
                                                 else alias.name)
                        if bound in names:
                            found.setdefault(bound, []).append(statement.lineno)
    return found


def _import_bindings_lost(was: "_Bindings", will: "_Bindings", reported: set[str], places: "_Places") -> list[LostBinding]:
    """An import binding gone from the module's own statements, a class body (a class attribute)
    or a function, or first made later than before, while the code there still reads the name.
    pyflakes reads a function's body as if it ran last, so a later binding anywhere hides these."""
    lost = []
    for scope, binding in sorted(was.scopes.items(), key=lambda item: len(item[0])):
        # a removed import statement of a name must have been a duplicate of the earlier one that
        # binds it now
        now = will.scopes.get(scope)
        if now is None or (scope and scope[-1][0] == "class"):
            continue
        for (name, line), source in sorted(binding.sources.items(), key=lambda item: item[0][1]):
            if name in reported or (name, line) in now.sources:
                continue
            earlier = [other for (other_name, other) in binding.sources if other_name == name and other < line
                       and (name, other) in now.sources]
            kept = max(earlier) if earlier else None
            # a duplicate: the kept import imports the same name, from the same module or from
            # another one (two legacy paths of one name, merged); not another object bound under
            # that name (`from pkg import module as Name` between two imports of `Name`)
            if kept is not None and source[-1] != binding.sources[(name, kept)][-1] \
                    and source[-1] != now.sources[(name, kept)][-1] and will.first_use(scope, name) is not None:
                lost.append(LostBinding(name, line, 0, DUPLICATE))
                reported.add(name)
    for scope, imported in was.imported.items():
        kind = scope[-1][0] if scope else "module"
        now = will.imported.get(scope, {})
        for name in sorted(set(imported) - reported):
            use = will.first_use(scope, name)
            if name in now:
                if now[name] > imported[name] and use is not None and places.original(use)[0] < now[name]:
                    # first bound later than before, and read in between
                    lost.append(LostBinding(name, imported[name], 0, LATER))
                    reported.add(name)
                continue
            if use is None and kind == "class":
                lost.append(LostBinding(name, scope[-1][2], 0, CLASS_ATTRIBUTE))  # the class statement's line
                reported.add(name)
                continue
            if use is None or (kind == "def" and will.bound_before(scope, name)):
                continue  # unused there, or an enclosing scope's import binds it before the function is defined
            if will.star is not None and kind != "class" and \
                    will.star < (scope[-1][2] if kind == "def" else places.original(use)[0]):
                continue  # a star import before it may bind the name for this code (never as a class attribute)
            lost.append(LostBinding(name, places.original(use)[0], use.line, NO_IMPORT))
            reported.add(name)
    return lost


class _Scope:
    """What one scope binds and reads of the touched names (lines are the original's)."""

    __slots__ = ("imports", "stores", "loads", "functions", "declared_global", "sources")

    def __init__(self) -> None:
        self.imports: dict[str, int] = {}  # name -> the first line an import statement of this scope binds it
        self.stores: set[str] = set()  # parameters, assignments, deletions
        self.loads: dict[str, Unbound] = {}  # name -> its first read here
        self.functions: list[tuple] = []  # the keys of the functions defined directly here
        self.declared_global: set[str] = set()
        self.sources: dict[tuple[str, int], tuple] = {}  # (name, line) -> what that import statement binds it to


class _Bindings:
    """Of the touched names, scope by scope (the module `()`, each class and function, keyed by
    kind, name and original line): the imports, other bindings and reads; the names a plain
    assignment binds or a function declares `global`; whether a star import is there."""

    def __init__(self) -> None:
        self.scopes: dict[tuple, _Scope] = {(): _Scope()}
        self.assigned: set[str] = set()
        self.declared_global: set[str] = set()
        self.star: int | None = None  # the first line of a star import, if there is one

    @property
    def imported(self) -> dict[tuple, dict[str, int]]:
        return {key: scope.imports for key, scope in self.scopes.items() if scope.imports}

    def first_use(self, key: tuple, name: str) -> "Unbound | None":
        """The first read of `name` that the scope's binding serves: its own, and (not for a class
        body) those of the functions inside it that do not bind the name themselves."""
        scope = self.scopes.get(key)
        if scope is None:
            return None
        found = [scope.loads[name]] if name in scope.loads else []
        if not key or key[-1][0] == "def":
            pending = list(scope.functions)
            while pending:
                inner = self.scopes[pending.pop()]
                if name in inner.stores or name in inner.imports:
                    continue
                if name in inner.loads:
                    found.append(inner.loads[name])
                pending.extend(inner.functions)
        return min(found, key=lambda use: (use.line, use.column)) if found else None

    def bound_before(self, key: tuple, name: str) -> bool:
        """Whether a scope enclosing the function `key` import-binds `name` before the function's line."""
        line = key[-1][2]
        for depth in range(len(key) - 1, -1, -1):
            enclosing = key[:depth]
            if enclosing and enclosing[-1][0] == "class":
                continue  # a class body's names are not seen from its methods
            first = self.scopes[enclosing].imports.get(name) if enclosing in self.scopes else None
            if first is not None and first < line:
                return True
        return False

    @classmethod
    def of(cls, tree: ast.Module, names: frozenset[str], line_of=lambda line: line) -> "_Bindings":
        found = cls()
        pending: list = [(statement, ()) for statement in tree.body]
        while pending:
            node, key = pending.pop()
            kind = type(node)
            if kind is ast.Name:
                if node.id in names:
                    if isinstance(node.ctx, ast.Load):
                        loads = found.scopes[key].loads
                        known = loads.get(node.id)
                        if known is None or (node.lineno, node.col_offset) < (known.line, known.column):
                            loads[node.id] = Unbound(node.id, node.lineno, node.col_offset, NO_IMPORT)
                    else:
                        found.scopes[key].stores.add(node.id)
                        if isinstance(node.ctx, ast.Store):
                            found.assigned.add(node.id)
                continue
            if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef):
                inner_key = (*key, ("class" if kind is ast.ClassDef else "def", getattr(node, "name", "<lambda>"),
                                    line_of(node.lineno)))
                inner = found.scopes.setdefault(inner_key, _Scope())
                if kind is not ast.ClassDef:
                    found.scopes[key].functions.append(inner_key)
                    arguments = node.args
                    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                     arguments.vararg, arguments.kwarg):
                        if argument is not None and argument.arg in names:
                            inner.stores.add(argument.arg)
                        if argument is not None and argument.annotation is not None:
                            pending.append((argument.annotation, key))
                    pending.extend((default, key) for default in (*arguments.defaults, *arguments.kw_defaults)
                                   if default is not None)
                    body = node.body if isinstance(node.body, list) else [node.body]
                    if getattr(node, "returns", None) is not None:
                        pending.append((node.returns, key))
                else:
                    pending.extend((base, key) for base in (*node.bases, *node.keywords))
                    body = node.body
                pending.extend((decorator, key) for decorator in getattr(node, "decorator_list", ()))
                pending.extend((statement, inner_key) for statement in body)
                continue
            if kind is ast.Import or kind is ast.ImportFrom:
                for alias in node.names:
                    if alias.name == "*":
                        line = line_of(node.lineno)
                        found.star = line if found.star is None else min(found.star, line)
                        continue
                    bound = alias.asname or (alias.name.split(".")[0] if kind is ast.Import else alias.name)
                    if bound in names:
                        imports = found.scopes[key].imports
                        line = line_of(node.lineno)
                        imports[bound] = min(imports.get(bound, line), line)
                        found.scopes[key].sources[(bound, line)] = \
                            (node.level, node.module, alias.name) if kind is ast.ImportFrom else (alias.name,)
                continue
            if kind is ast.Global:
                declared = {name for name in node.names if name in names}
                found.declared_global.update(declared)
                found.scopes[key].declared_global.update(declared)
                continue
            pending.extend((child, key) for child in ast.iter_child_nodes(node))
        # a function's import of a name it declares global binds the module's name
        module = found.scopes[()]
        for key, scope in found.scopes.items():
            for name in scope.declared_global & set(scope.imports):
                module.imports[name] = min(module.imports.get(name, scope.imports[name]), scope.imports.pop(name))
        return found


def _more_unbound(now: list[Unbound], before: list[Unbound], places: "_Places") -> list[LostBinding]:
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


def _only_what_names(tree: ast.Module, text: str, index, names: frozenset[str],
                     unassigned: frozenset[str] = frozenset()) -> ast.Module:
    """The module with the body of every function and class whose lines mention none of `names`
    replaced by `pass` (a copy: the tree given is not changed). Such a body can neither use nor
    bind those names, so pyflakes reports the same about them, reading far less of a large file.
    A plain assignment to names of `unassigned` only (`X = None`) becomes its value alone, and
    `global` declarations leave those names out."""
    pattern = _words_pattern(names)
    mentioned = sorted({index.line_of(match.start()) for match in pattern.finditer(text)})

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


def _parse_what_names(before_text: str, before: ast.Module, index, after_text: str, filename: str,
                      edits: Sequence[Edit], names: frozenset[str]) -> ast.Module:
    """The rewrite's tree, parsed with the body of every function and class that mentions none of
    `names` and that no edit touches left out (a `pass` on its first line, its other lines empty,
    so every line keeps its number): what pyflakes needs of it, for a fraction of a full parse."""
    from .source import parse_source

    mentioned = sorted({index.line_of(match.start()) for match in _words_pattern(names).finditer(before_text)})
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
    if not regions:
        return parse_source(after_text, filename)
    pieces, position, shift, edit = [], 0, 0, 0
    ordered = sorted(edits, key=lambda e: e.start)
    for start, end, indentation in regions:
        while edit < len(ordered) and ordered[edit].end <= start:
            shift += len(ordered[edit].text) - (ordered[edit].end - ordered[edit].start)
            edit += 1
        lines = _LINE.findall(before_text, start, end)
        emptied = [indentation + "pass" + _ending(lines[0])] + [_ending(line) for line in lines[1:]]
        pieces.append(after_text[position:start + shift])
        pieces.append("".join(emptied))
        position = end + shift
    pieces.append(after_text[position:])
    try:
        return parse_source("".join(pieces), filename)
    except SyntaxError:
        return parse_source(after_text, filename)  # the shortcut cannot vouch for it: the whole rewrite


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


@lru_cache(maxsize=256)
def _words_pattern(names: frozenset[str]) -> re.Pattern:
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?!\w)")


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


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")


class _Places:
    """Positions in the rewrite back to the original, through the edits: text outside every
    replacement is where it was; text inside one maps into the text it replaced (to the line
    that reads the same, as in a whole-file rewrite), and a name there was spelled as the
    replaced text's first name (a renamed name, a rewritten dotted path)."""

    def __init__(self, edits: Sequence[Edit], original, rewrite) -> None:
        self.edits = sorted(edits, key=lambda e: e.start)
        self.original_index, self.rewrite_index = original, rewrite
        self.original_text = "".join(original.lines)

    def original(self, use: Unbound) -> tuple[int, str]:
        """The original's line for `use`, and the name the original spelled there."""
        offset = self.rewrite_index.offset(use.line, use.column) if self.rewrite_index.lines else 0
        shift = 0  # the rewrite's offsets minus the original's, before the next edit
        for edit in self.edits:
            new_start = edit.start + shift
            if offset < new_start:
                break
            if offset < new_start + len(edit.text):
                replaced = self.original_text[edit.start:edit.end].strip()
                spelled = replaced.split(".")[0].strip() if _DOTTED_NAME.fullmatch(replaced) else use.name
                return self._line_within(edit, use.line, offset - new_start), spelled
            shift += len(edit.text) - (edit.end - edit.start)
        return self.original_index.line_of(offset - shift), use.name

    def _line_within(self, edit: Edit, rewrite_line: int, into: int) -> int:
        """The original's line for a line of an edit's replacement: the replaced text's line that
        reads the same (the nearest one), else as many lines into the replaced text, at most its last."""
        first = self.original_index.line_of(edit.start)
        last = self.original_index.line_of(max(edit.end - 1, edit.start))
        counted = min(first + edit.text.count("\n", 0, into), last)
        wanted = self.rewrite_index.line_text(rewrite_line).strip()
        same = [line for line in range(first, last + 1) if self.original_index.line_text(line).strip() == wanted]
        return min(same, key=lambda line: abs(line - counted)) if wanted and same else counted
