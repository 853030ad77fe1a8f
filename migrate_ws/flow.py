"""Whether a name is certainly bound at a point of a module's code, from its `ast` alone.

A rewrite may only make code use a name where that name is bound on every path to the use:
passing a context variable to a factory call, relying on an import of the factory, keeping a
module's root name bound after its import statement changes. "Certainly" is decided the
conservative way, by the position of the statements alone (no value or condition is ever
evaluated):

- a parameter of the function (or lambda) the point is in;
- a statement that binds the name unconditionally (an assignment, an annotated assignment
  with a value, an import, a `def` or `class`, a `with ... as`) placed before the point in
  the same statement list, or before the compound statement that holds the point in an
  enclosing one; a `try` body counts for its `else` block;
- the header of the compound statement that holds the point: a `for` target for its body,
  a `with ... as` for its body, an `except ... as` for its handler, a `case` capture for its
  block;
- for a name the point's function reads from an enclosing function (or the module), the
  same test for that function's `def` (or `lambda`, or `class`) in the enclosing one: the
  name must be bound before the nested function exists.

Nothing else counts: an assignment in an `if` branch, a loop body seen after the loop, a
`try` body seen from its handler or `finally`, anything after the point, a walrus. A name
deleted anywhere in the function, or declared `global`/`nonlocal` there, is never certain.

`rebound_between` answers the question the other way round, for two statements of one
statement list (an import and a later duplicate of it): whether anything between them may
bind the name again, delete it, or let other code do so.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, Iterator

from .scopes import Scope, bound_name

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass
class Level:
    """One statement list on the way from a function's body down to a point."""

    block: list  # the statement list
    index: int  # the position in it of the statement that holds the point
    part: str  # where in that statement the point is: body, orelse, finalbody, handler, case, or header
    holder: ast.AST | None = None  # the except handler or match case the point is in


def _start(node: ast.AST) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        first = decorators[0]
        return min((first.lineno, first.col_offset), (node.lineno, node.col_offset))
    return node.lineno, node.col_offset


def _holds(node: ast.AST, point: ast.AST) -> bool:
    return _start(node) <= (point.lineno, point.col_offset) \
        and (point.end_lineno, point.end_col_offset) <= (node.end_lineno, node.end_col_offset)


def _holding(block: list, point: ast.AST) -> int | None:
    for index, statement in enumerate(block):
        if _holds(statement, point):
            return index
    return None


def _parts(statement: ast.stmt) -> Iterator[tuple[str, list, ast.AST | None]]:
    """The statement lists of a compound statement (not of a nested function or class)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    for name in ("body", "orelse", "finalbody"):
        inner = getattr(statement, name, None)
        if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
            yield name, inner, None
    for handler in getattr(statement, "handlers", None) or ():
        yield "handler", handler.body, handler
    for case in getattr(statement, "cases", None) or ():
        yield "case", case.body, case


def path_to(body: list, point: ast.AST) -> list[Level]:
    """The statement lists from `body` down to the innermost statement that holds `point` (not entering
    nested functions or classes: their code runs in a frame of its own)."""
    levels: list[Level] = []
    block = body
    while True:
        index = _holding(block, point)
        if index is None:
            return levels
        statement = block[index]
        for part, inner, holder in _parts(statement):
            if inner and _start(inner[0]) <= (point.lineno, point.col_offset) \
                    and (point.end_lineno, point.end_col_offset) <= (inner[-1].end_lineno, inner[-1].end_col_offset):
                levels.append(Level(block, index, part, holder))
                block = inner
                break
        else:
            levels.append(Level(block, index, "header"))
            return levels


def _target_binds(target: ast.AST, name: str) -> bool:
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_target_binds(element, name) for element in target.elts)
    if isinstance(target, ast.Starred):
        return _target_binds(target.value, name)
    return False


def binds_unconditionally(statement: ast.stmt, name: str) -> bool:
    """Whether executing `statement` to its end always leaves `name` bound."""
    if isinstance(statement, ast.Assign):
        return any(_target_binds(target, name) for target in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return statement.value is not None and _target_binds(statement.target, name)
    if isinstance(statement, ast.AugAssign):
        return _target_binds(statement.target, name)
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return any(alias.name != "*" and bound_name(alias) == name
                   for alias in statement.names)
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return statement.name == name
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return any(item.optional_vars is not None and _target_binds(item.optional_vars, name)
                   for item in statement.items)
    return False


def _header_binds(statement: ast.stmt, level: Level, name: str) -> bool:
    """Whether the compound statement binds `name` before running the part that holds the point."""
    if level.part == "body" and isinstance(statement, (ast.For, ast.AsyncFor)):
        return _target_binds(statement.target, name)
    if level.part == "body" and isinstance(statement, (ast.With, ast.AsyncWith)):
        return binds_unconditionally(statement, name)
    if level.part == "handler" and isinstance(level.holder, ast.ExceptHandler):
        return level.holder.name == name
    if level.part == "case" and level.holder is not None:
        return any(getattr(node, attribute, None) == name for node in ast.walk(level.holder.pattern)
                   for attribute in ("name", "rest") if type(node).__name__.startswith("Match"))
    return False


def _parameters(function: ast.AST) -> set[str]:
    args = function.args  # type: ignore[attr-defined]
    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a is not None}


class BindingFlow:
    """Answers "is this name certainly bound here?" for one module, caching what it walks."""

    def __init__(self) -> None:
        self._unsettled: dict[tuple[int, str], bool] = {}
        self._declared: dict[tuple[int, str], bool] = {}  # declared global or nonlocal somewhere in the frame

    def unsettled(self, frame: ast.AST, name: str) -> bool:
        """The name is deleted somewhere in the frame (nested code included), or declared global or nonlocal
        there: a binding before the point may not hold at it."""
        key = (id(frame), name)
        if key not in self._unsettled:
            found = False
            for node in ast.walk(frame):
                if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Del) \
                        or isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
                    found = True
                    break
            self._unsettled[key] = found
        return self._unsettled[key]

    def bound_in_frame(self, frame: ast.AST, point: ast.AST, name: str, also: Iterable[ast.stmt] = (),
                       ignore: Iterable[ast.stmt] = ()) -> bool:
        """Whether `name` is certainly bound at `point`, by `frame`'s own code (a function, lambda, class
        or module). `also`: statements to count as binding the name (ones a rewrite makes bind it);
        `ignore`: statements not to count (ones a rewrite makes stop binding it)."""
        if self.unsettled(frame, name):
            return False
        if isinstance(frame, _FUNCTIONS) and name in _parameters(frame):
            return True
        if isinstance(frame, ast.Lambda):
            return False
        extra = {id(statement) for statement in also}
        skipped = {id(statement) for statement in ignore}
        for level in path_to(frame.body, point):  # type: ignore[attr-defined]
            statement = level.block[level.index]
            before = list(level.block[:level.index])
            if level.part == "orelse" and isinstance(statement, ast.Try):
                before += statement.body  # `else` runs only when the whole `try` body did
            if any(id(s) in extra or id(s) not in skipped and binds_unconditionally(s, name) for s in before):
                return True
            if _header_binds(statement, level, name):
                return True
        return False

    def rebound_between(self, frame: ast.AST, name: str, earlier: ast.stmt, later: ast.stmt,
                        ignore: Iterable[ast.stmt] = ()) -> bool:
        """Whether `name` may be bound to something else, or unbound, when `later` runs than what `earlier`
        bound it to: both statements of one statement list of `frame` (a module, function or class), `earlier`
        first. Only what runs between them can change it: the code written between them (any binding of the
        name there, another import of it included), or a function that declares the name `global` or
        `nonlocal` (it may be called in between). Decided from the positions alone, the conservative way.
        `ignore`: statements between them not to count (imports that bind the name to the same object)."""
        key = (id(frame), name)
        if key not in self._declared:
            self._declared[key] = any(isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names
                                      for node in ast.walk(frame))
        if self._declared[key]:
            return True
        start, end = _start(earlier), _start(later)
        skipped = {id(statement) for statement in ignore}
        pending: list[ast.AST] = list(frame.body)  # type: ignore[attr-defined]
        while pending:
            node = pending.pop()
            if node is earlier or id(node) in skipped:
                continue
            if getattr(node, "lineno", None) is not None:
                if (node.end_lineno, node.end_col_offset) <= start or _start(node) >= end:  # type: ignore[attr-defined]
                    continue  # runs before `earlier` or after `later`
                if _start(node) >= start and _binds_here(node, name):
                    return True  # (a compound statement that holds both binds in its header before either runs)
            if isinstance(node, _NESTED):
                # its body runs in a frame of its own; here run its decorators, defaults, annotations and bases
                for field_name, value in ast.iter_fields(node):
                    if field_name != "body":
                        pending.extend(item for item in (value if isinstance(value, list) else [value])
                                       if isinstance(item, ast.AST))
                continue
            pending.extend(ast.iter_child_nodes(node))
        return False

    def bound_at(self, scope: Scope, point: ast.AST, name: str, binding_scope: Scope,
                 also: Iterable[ast.stmt] = (), ignore: Iterable[ast.stmt] = ()) -> bool:
        """Whether `name`, which `binding_scope` binds (the scope a read of it at `point`, in `scope`,
        resolves to), is certainly bound when `point` runs."""
        if binding_scope.kind == "comprehension":
            return True  # a comprehension's own target, bound before its element is computed
        frame = _frame(scope)
        while frame is not binding_scope:
            if frame.parent is None:
                return False
            point = frame.node  # the enclosing frame must bind it before this function exists
            frame = _frame(frame.parent)
        return self.bound_in_frame(frame.node, point, name, also, ignore)


def _frame(scope: Scope) -> Scope:
    """The scope whose code runs a point of `scope`: comprehensions run inline in their enclosing one."""
    while scope.kind == "comprehension" and scope.parent is not None:
        scope = scope.parent
    return scope


def _binds_here(node: ast.AST, name: str) -> bool:
    """Whether `node` itself (not its children) binds, rebinds or deletes `name`, or may (a star import),
    or lets other code do so (a `global`/`nonlocal` declaration)."""
    if isinstance(node, ast.Name):
        return node.id == name and not isinstance(node.ctx, ast.Load)
    if isinstance(node, ast.Import):
        return any(bound_name(alias) == name for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return any(alias.name == "*" or (alias.asname or alias.name) == name for alias in node.names)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)):
        return node.name == name
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return name in node.names
    if type(node).__name__.startswith("Match"):
        return name in (getattr(node, "name", None), getattr(node, "rest", None))
    return False
