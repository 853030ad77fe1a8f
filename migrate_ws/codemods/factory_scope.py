"""What the factory step can know for certain about a call's surroundings, from the file's own AST.

- the context in scope when no configured context variable is: a parameter annotated with a
  configured context type, or, in a method, `self.<attr>` when the class assigns that
  attribute exactly once, in `__init__`, from such a parameter;
- factory objects used only within the function that creates them (`factory = Factory()`,
  then only `factory.<factory method>(...)`), which can be replaced call by call;
- the context fallback configured for the file's path.

Everything here is conservative: a name bound again anywhere it could matter, an attribute
assigned twice, an object used any other way, means "not certain", and the site stays a
follow-up.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..analysis import DYNAMIC_NAMESPACE_CALLS, Scope
from ..config import Config, ContextFallback
from ..scopes import bound_name, scope_chain

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


# ----- names bound again -------------------------------------------------------------------------

def _binds(node: ast.AST, name: str) -> bool:
    """Whether `node` itself (not its children) binds `name`, or declares it global or nonlocal."""
    if isinstance(node, ast.Name):
        return node.id == name and not isinstance(node.ctx, ast.Load)
    if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
        return node.name == name
    if isinstance(node, ast.arg):
        return node.arg == name
    if isinstance(node, ast.alias):
        return bound_name(node) == name
    if isinstance(node, ast.ExceptHandler):
        return node.name == name
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return name in node.names
    for attribute in ("name", "rest"):  # match patterns: MatchAs, MatchStar, MatchMapping
        if type(node).__name__.startswith("Match") and getattr(node, attribute, None) == name:
            return True
    return False


def _dynamic(node: ast.AST) -> bool:
    """A call that can read or change a namespace by name (`locals()`, `exec(...)`, ...)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DYNAMIC_NAMESPACE_CALLS


def bound_again(body: Iterable[ast.AST], name: str) -> bool:
    """Whether anything in `body` (nested scopes included, to be safe) binds `name` or could."""
    for statement in body:
        for node in ast.walk(statement):
            if _binds(node, name) or _dynamic(node):
                return True
    return False


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    args = function.args
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def _annotation_names(annotation: ast.expr | None) -> str | None:
    """The type an annotation names: `T`, `module.T`, or the same as a simple string."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value.strip(), mode="eval").body
        except SyntaxError:
            return None
    if isinstance(annotation, ast.Name):
        return annotation.id
    if isinstance(annotation, ast.Attribute):
        node: ast.expr = annotation
        while isinstance(node, ast.Attribute):
            node = node.value
        return annotation.attr if isinstance(node, ast.Name) else None
    return None


def context_parameters(function: ast.FunctionDef | ast.AsyncFunctionDef, config: Config) -> list[str]:
    """Parameters of `function` that are a context: annotated with a configured context type."""
    types = set(config.factory.context_types)
    return [p.arg for p in _parameters(function) if types and _annotation_names(p.annotation) in types]


# ----- the context in scope --------------------------------------------------------------------

@dataclass
class FoundContext:
    expression: str | None  # the source text to pass, or None
    how: str  # how it was found, or why there is none (a readable phrase)


class ContextFinder:
    """Contexts in scope beyond the configured context variables (which the step resolves itself)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._rebound: dict[tuple[int, str], bool] = {}
        self._attributes: dict[int, tuple[str | None, str]] = {}

    def rebound(self, function: ast.AST, name: str) -> bool:
        key = (id(function), name)
        if key not in self._rebound:
            self._rebound[key] = bound_again(function.body if isinstance(function.body, list) else [function.body],
                                             name)
        return self._rebound[key]

    def find(self, scope: Scope) -> FoundContext:
        annotated = self.annotated_parameter(scope)
        if annotated.expression is not None or annotated.how:
            return annotated
        return self.self_attribute(scope)

    def annotated_parameter(self, scope: Scope) -> FoundContext:
        """The one parameter annotated with a context type, of the nearest function that has any."""
        if not self.config.factory.context_types:
            return FoundContext(None, "")
        for enclosing in scope_chain(scope):
            function = enclosing.node
            if enclosing.kind != "function" or not isinstance(function, _FUNCTIONS):
                continue
            names = context_parameters(function, self.config)
            if not names:
                continue
            if len(names) > 1:
                return FoundContext(None, f"{len(names)} parameters annotated as a context ({', '.join(names)})")
            if self.rebound(function, names[0]):
                return FoundContext(None, f"parameter {names[0]} is or may be bound again in {function.name}")
            if enclosing is not scope and any(self._shadows(inner, names[0]) for inner in _between(scope, enclosing)):
                return FoundContext(None, f"parameter {names[0]} is shadowed where the call is")
            return FoundContext(names[0], f"parameter {names[0]}")
        return FoundContext(None, "")

    @staticmethod
    def _shadows(scope: Scope, name: str) -> bool:
        node = scope.node
        if isinstance(node, (*_FUNCTIONS, ast.Lambda)):
            args = node.args
            if any(a.arg == name for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
                   if a is not None):
                return True
        return False

    def self_attribute(self, scope: Scope) -> FoundContext:
        """`self.<attr>` in a method of a class whose `__init__` assigns it once from a context parameter."""
        method_scope = None
        for enclosing in scope_chain(scope):
            if enclosing.kind == "function" and enclosing.parent is not None and enclosing.parent.kind == "class":
                method_scope = enclosing
                break
        if method_scope is None:
            return FoundContext(None, "")
        method = method_scope.node
        if not isinstance(method, _FUNCTIONS) or method.name == "__init__":
            return FoundContext(None, "")
        decorators = {d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else None
                      for d in method.decorator_list}
        positional = [*method.args.posonlyargs, *method.args.args]
        if decorators & {"staticmethod", "classmethod", None} or not positional:
            return FoundContext(None, "")
        owner = positional[0].arg
        cls = method_scope.parent.node
        assert isinstance(cls, ast.ClassDef)
        if id(cls) not in self._attributes:
            self._attributes[id(cls)] = self._context_attribute(cls)
        attribute, why = self._attributes[id(cls)]
        if attribute is None:
            return FoundContext(None, why)
        if self.rebound(method, owner) or any(self._shadows(inner, owner) for inner in _between(scope, method_scope)):
            return FoundContext(None, "")
        return FoundContext(f"{owner}.{attribute}", f"{owner}.{attribute}, set once in __init__")

    def _context_attribute(self, cls: ast.ClassDef) -> tuple[str | None, str]:
        inits = [s for s in cls.body if _binds(s, "__init__") or
                 isinstance(s, (ast.Assign, ast.AnnAssign)) and any(_binds(t, "__init__") for t in _targets(s))]
        if len(inits) != 1 or not isinstance(inits[0], _FUNCTIONS):
            return None, ""
        init = inits[0]
        positional = [*init.args.posonlyargs, *init.args.args]
        if not positional or init.decorator_list:
            return None, ""
        owner = positional[0].arg
        if self.rebound(init, owner):
            return None, ""
        variables = set(self.config.factory.context_variables)
        contexts = {p for p in context_parameters(init, self.config)} | {p.arg for p in _parameters(init)[1:]
                                                                           if p.arg in variables}
        candidates: list[str] = []
        escapes: dict[str, int] = {}
        for position, statement in enumerate(init.body):  # the top level of __init__ only: always executed
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value = statement.targets[0], statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                target, value = statement.target, statement.value
            else:
                continue
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == owner \
                    and isinstance(value, ast.Name) and value.id in contexts and not self.rebound(init, value.id):
                candidates.append(target.attr)
                line = _escape_before(init.body[:position], owner, bool(cls.bases or cls.keywords))
                if line is not None:
                    escapes[target.attr] = line
        certain = [a for a in dict.fromkeys(candidates) if _assignments(cls, a) == 1 and not _class_binds(cls, a)]
        if len(certain) == 1:
            if certain[0] in escapes:
                # a method that runs before the assignment (called from __init__, or from a base class's
                # __init__ through super()) would find the attribute unset
                return None, (f"self.{certain[0]} is set in __init__ only after line {escapes[certain[0]]} may "
                              "already call a method")
            return certain[0], ""
        if len(certain) > 1:
            return None, f"the class keeps {len(certain)} contexts ({', '.join('self.' + a for a in certain)})"
        return None, ""


def _escape_before(statements: list[ast.stmt], owner: str, has_bases: bool) -> int | None:
    """The line of the first statement that may run a method of the object under construction: one that reads
    `owner` other than to store a plain attribute on it, or calls `super()` in a class with bases."""
    for statement in statements:
        stores = isinstance(statement, (ast.Assign, ast.AnnAssign)) and all(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == owner
            for t in _targets(statement))
        checked = [statement.value] if stores and statement.value is not None else [statement]
        for part in checked:
            for node in ast.walk(part):
                if isinstance(node, ast.Name) and node.id == owner \
                        or has_bases and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id == "super":
                    return statement.lineno
    return None


def _targets(statement: ast.stmt) -> list[ast.expr]:
    if isinstance(statement, ast.Assign):
        return list(statement.targets)
    return [statement.target]  # type: ignore[attr-defined]


def _between(inner: Scope, outer: Scope) -> Iterator[Scope]:
    """The scopes from `inner` up to (not including) `outer`."""
    for scope in scope_chain(inner):
        if scope is outer:
            return
        yield scope


def _assignments(cls: ast.ClassDef, attribute: str) -> int:
    """How often anything in the class stores or deletes `<x>.attribute` (any `setattr` counts as many)."""
    count = 0
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and node.attr == attribute and not isinstance(node.ctx, ast.Load):
            count += 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            count += 2
        elif _dynamic(node):
            count += 2
    return count


def _class_binds(cls: ast.ClassDef, name: str) -> bool:
    """The class body itself binds the name (a class attribute or a property of that name)."""
    return any(_binds(s, name) or isinstance(s, (ast.Assign, ast.AnnAssign)) and any(
        isinstance(t, ast.Name) and t.id == name for t in _targets(s)) for s in cls.body)


# ----- factory objects used within one function ------------------------------------------------

@dataclass
class TrackedObject:
    """`name = <factory object>` in a function whose every other use of `name` is a factory-method call."""

    name: str
    statement: ast.stmt
    block: list
    calls: list[ast.Call] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)  # method calls the step met
    rewritten: set[int] = field(default_factory=set)


def _statement_lists(node: ast.AST) -> Iterator[list]:
    """Every statement list inside a function body, not entering nested functions or classes."""
    stack: list[list] = [node.body]
    while stack:
        block = stack.pop()
        yield block
        for statement in block:
            if isinstance(statement, (*_FUNCTIONS, ast.ClassDef)):
                continue
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(statement, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    stack.append(inner)
            for handler in getattr(statement, "handlers", []) or []:
                stack.append(handler.body)
            for case in getattr(statement, "cases", []) or []:
                stack.append(case.body)


def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


def track(creation: ast.Call, scope: Scope, methods: frozenset[str]) -> tuple[TrackedObject | None, str]:
    """The factory object `creation` makes, when it is assigned to a local name and only that name's
    factory-method calls use it; otherwise None and how it escapes (for the follow-up's message)."""
    function = scope.node
    if scope.kind != "function" or not isinstance(function, _FUNCTIONS):
        return None, ""
    found: tuple[ast.stmt, list, str] | None = None
    for block in _statement_lists(function):
        for statement in block:
            value = getattr(statement, "value", None)
            if value is not creation:
                continue
            targets = _targets(statement) if isinstance(statement, (ast.Assign, ast.AnnAssign)) else []
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                found = (statement, block, targets[0].id)
            elif isinstance(statement, ast.Return):
                return None, " that is returned"
            elif len(targets) == 1 and isinstance(targets[0], ast.Attribute):
                return None, f" that is stored on {ast.unparse(targets[0])}"
            break
    if found is None:
        return None, " that is passed on" if _is_argument(function, creation) else ""
    statement, block, name = found
    tracked = TrackedObject(name, statement, block)
    parents: dict[int, ast.AST] = {}
    for parent in ast.walk(function):
        for child in ast.iter_child_nodes(parent):
            parents[id(child)] = parent
    end = (statement.end_lineno, statement.end_col_offset)
    for node in ast.walk(function):
        if node is function:
            continue
        if _dynamic(node):
            return None, f" and the function reads its namespace ({node.func.id}())"
        if isinstance(node, ast.Name) and node.id == name:
            if node in _targets(statement):
                continue
            if not isinstance(node.ctx, ast.Load):
                return None, f" and `{name}` is assigned again at line {node.lineno}"
            attribute = parents.get(id(node))
            call = parents.get(id(attribute))
            if isinstance(attribute, ast.Attribute) and attribute.attr in methods and isinstance(call, ast.Call) \
                    and call.func is attribute and _position(node) >= end:
                tracked.calls.append(call)
                continue
            return None, f" and `{name}` {_use(attribute, call)} at line {node.lineno}"
        if _binds(node, name):
            return None, f" and `{name}` is bound again at line {getattr(node, 'lineno', statement.lineno)}"
    if not tracked.calls:
        return None, f" and `{name}` is never used"
    return tracked, ""


def _is_argument(function: ast.AST, creation: ast.Call) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and (any(a is creation for a in node.args)
                                           or any(k.value is creation for k in node.keywords)):
            return True
    return False


def _use(parent: ast.AST | None, grandparent: ast.AST | None) -> str:
    """How a name holding a factory object is used, by the nodes around it."""
    if isinstance(parent, ast.Return):
        return "is returned"
    if isinstance(parent, ast.Call):
        return "is passed on"
    if isinstance(parent, ast.keyword):
        return "is passed on"
    if isinstance(parent, ast.Attribute):
        if isinstance(grandparent, ast.Call) and grandparent.func is parent:
            return f"is used through .{parent.attr}()"
        return f"is used through .{parent.attr}"
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        return "is assigned to something else"
    return "is used as a value"


# ----- context fallbacks --------------------------------------------------------------------------

class Fallbacks:
    """The configured context fallbacks, their patterns compiled once per configuration (a process plans
    with one configuration at a time: only the latest is kept)."""

    _compiled: tuple[Config, list] | None = None

    @classmethod
    def for_path(cls, config: Config, path: str) -> ContextFallback | None:
        """The first fallback whose pattern matches the file or a directory above it."""
        fallbacks = config.factory.context_fallbacks
        if not fallbacks:
            return None
        entry = cls._compiled
        if entry is None or entry[0] is not config:
            from ..patterns import Patterns

            entry = cls._compiled = (config, [(fallback, Patterns([fallback.pattern])) for fallback in fallbacks])
        parts = path.split("/")
        for fallback, patterns in entry[1]:
            if patterns.file(path, parts[-1]):
                return fallback
            for depth in range(1, len(parts)):
                if patterns.directory("/".join(parts[:depth]) + "/", parts[depth - 1] + "/"):
                    return fallback
        return None
