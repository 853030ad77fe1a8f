"""The binding check's own rule for imports, and where a rewrite's names were in the original.

pyflakes reads a function's body as if it ran last and takes any binding of a name for the
binding of every use; these rules read the trees before and after the change scope by scope
(`Bindings`): an import binding gone while the code there still reads the name, bound only
later than before, a removed import that was not a duplicate, an import on another path
(`fallback_imports`). `Places` maps a position in the rewrite back to the original through
the edits, so every report names the original's line. `binding_check.py` runs pyflakes and
these rules together.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from dataclasses import dataclass
from typing import Sequence

from .edits import Edit

NO_IMPORT = "bound by no import of its module or class any more, though still used (an import bound it before)"
CLASS_ATTRIBUTE = "no longer a class attribute (an import in the class body bound it before)"
LATER = "bound by an import only later than before, though read in between"
DUPLICATE = "bound by another import where a removed import bound it (it was not a duplicate)"


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


def fallback_imports(tree: ast.Module, names: frozenset[str]) -> dict[str, list[int]]:
    """The lines of the import statements in `except` handlers and `else` branches of `if`
    statements that bind each of `names` (in the order of `ast.walk`)."""
    found: dict[str, list[int]] = {}
    # statements only hold statements (an expression never does): going breadth first through
    # the statements alone meets them in the order of `ast.walk`, without its expressions
    pending = deque([tree])
    while pending:
        node = pending.popleft()
        kind = type(node)
        fields = _BLOCKS.get(kind)
        if fields is None:
            fields = _BLOCKS[kind] = tuple(field for field in kind._fields if field in _BLOCK_FIELDS)
        for field in fields:
            pending.extend(getattr(node, field, ()))
        if kind is ast.If:
            blocks = [node.orelse]
        elif kind is ast.Try or kind.__name__ == "TryStar":
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


# the fields of a statement (or an `except` handler, a `case`) that hold statements, handlers or cases
_BLOCK_FIELDS = frozenset({"body", "handlers", "orelse", "finalbody", "cases"})
_BLOCKS: dict[type, tuple[str, ...]] = {}


def import_bindings_lost(was: Bindings, will: Bindings, reported: set[str], places: Places) -> list[LostBinding]:
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


class Bindings:
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
    def of(cls, tree: ast.Module, names: frozenset[str], line_of=lambda line: line) -> Bindings:
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
            # `ast.iter_child_nodes`, in its order, less the nodes that are nothing to this walk
            # (an expression's context, a constant)
            for field in node._fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    pending.extend((child, key) for child in value
                                   if isinstance(child, ast.AST) and type(child) not in _LEAVES)
                elif isinstance(value, ast.AST) and type(value) not in _LEAVES:
                    pending.append((value, key))
        # a function's import of a name it declares global binds the module's name
        module = found.scopes[()]
        for key, scope in found.scopes.items():
            for name in scope.declared_global & set(scope.imports):
                module.imports[name] = min(module.imports.get(name, scope.imports[name]), scope.imports.pop(name))
        return found


# nodes with no child that matters to `Bindings.of`, nor a binding or a use of their own
_LEAVES = frozenset({ast.Load, ast.Store, ast.Del, ast.Constant})

_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")


class Places:
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
