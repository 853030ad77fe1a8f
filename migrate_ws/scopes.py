"""What the analysis of one module records: scopes, the bindings and uses of the interesting
names, string references and calls (`analysis.py` walks a module to find them), and the
rules that read them (`resolve`: which bindings a use sees; module names of files).

Plain data and pure functions over `ast`: the steps, the import check and the resolution of
the canonical module read these without walking anything.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator

from .source import LineIndex

DYNAMIC_NAMESPACE_CALLS = frozenset({"globals", "locals", "vars", "exec", "eval", "__import__"})
ATTRIBUTE_STRING_CALLS = frozenset({"getattr", "hasattr", "setattr", "delattr"})


@dataclass(eq=False)
class Scope:
    """A module, function, class, lambda or comprehension scope, with the bindings of the interesting
    names made in it."""

    kind: str  # module | function | class | lambda | comprehension
    node: ast.AST
    parent: "Scope | None"
    bindings: dict[str, list["Binding"]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    dynamic_namespace: bool = False

    def add(self, binding: "Binding") -> None:
        self.bindings.setdefault(binding.name, []).append(binding)


def bound_name(alias: ast.alias) -> str:
    """The name an import's alias binds: its `as` name, else the root of `import a.b` (`a`), else
    the name of `from m import n` (which has no dot)."""
    return alias.asname or alias.name.split(".")[0]


def scope_chain(scope: Scope | None) -> Iterator[Scope]:
    """`scope` and the scopes enclosing it, innermost first."""
    while scope is not None:
        yield scope
        scope = scope.parent


@dataclass(eq=False)
class Binding:
    """Where a scope binds a name: an import, an assignment, a definition, a parameter, ...; for an
    import, what it imports."""

    name: str
    kind: str  # import-name | import-module | assign | def | class | param | other | star
    scope: Scope
    line: int
    node: ast.AST  # the alias node for imports, the target otherwise
    statement: ast.AST | None = None
    block: list | None = None  # the statement list holding `statement`
    # imports
    module: str | None = None  # absolute source module of `from m import n`, or the module bound by `import`
    imported: str | None = None  # the imported name (`from m import n`), None for `import m`
    bound_path: str | None = None  # for `import a.b.c` without `as`: "a" is bound, chains start at "a"
    # simple `name = other_name` assignments
    value_name: ast.Name | None = None
    guard: str | None = None  # set when a test asserts on this import (expects it to fail or to warn)


@dataclass(eq=False)
class Use:
    """A use of an interesting name: the scope it is read in, and the attribute chain it heads
    (`name.attr.attr`)."""

    name: str
    node: ast.Name
    scope: Scope
    chain: list[str]  # attribute names following the name: `m.a.b` -> ["a", "b"]
    chain_node: ast.AST | None  # the outermost Attribute node of the chain
    context: str = "load"  # load | annotation-string | getattr-string | all-entry
    string_span: tuple[int, int] | None = None  # text offsets of the name inside a string
    escapes: bool = False  # a module object used as a value, not only through attributes


@dataclass
class StringRef:
    """A string literal that looks like a dotted path (patch targets, import strings)."""

    value: str
    node: ast.Constant
    line: int
    call: str  # the callee's dotted spelling, e.g. "patch", "mock.patch.object", "importlib.import_module"
    argument: int
    span: tuple[int, int] | None  # text offsets of the literal's content when it is a plain literal
    in_assert: bool = False  # asserted on by an `assert` statement (not an argument of a call inside one)


@dataclass
class CallSite:
    """A call whose callee names an interesting name (what the factory step rewrites)."""

    node: ast.Call
    scope: Scope
    awaited: ast.Await | None
    statement_line: int


@dataclass
class FileFacts:
    """What the analysis records of one module: its scopes, the bindings and uses of the interesting
    names, string references and calls."""

    module: str
    is_package: bool
    tree: ast.Module
    index: LineIndex
    module_scope: Scope
    scopes: list[Scope]
    bindings: list[Binding]
    uses: list[Use]
    strings: list[StringRef]
    calls: list[CallSite]
    argument_of: dict[int, str]  # id(call) -> spelling of the call it is passed to
    all_entries: list[tuple[ast.Constant, str]]
    star_imports: list[Binding]

    def release(self) -> None:
        """Break the scope <-> binding cycles so the whole analysis is freed by reference counting."""
        for scope in self.scopes:
            scope.bindings.clear()


def module_name_for(relative_path: str) -> tuple[str, bool]:
    """`a/b/c.py` -> ("a.b.c", False); `a/b/__init__.py` -> ("a.b", True)."""
    parts = relative_path[:-3].split("/") if relative_path.endswith(".py") else relative_path.split("/")
    if parts and parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    if level == 0:
        return target
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    if target:
        base = base + target.split(".")
    return ".".join(base) if base else None


_EXPECTED_IMPORT_FAILURES = ("ImportError", "ModuleNotFoundError")


def assertion_guard(expression: ast.AST) -> str | None:
    """Describe a `with` context that makes a test assert on the imports inside it (`Binding.guard`)."""
    if not isinstance(expression, ast.Call):
        return None
    callee = dotted_name(expression.func) or ""
    tail = callee.rsplit(".", 1)[-1]
    arguments = [dotted_name(a) or "" for a in expression.args]
    if tail in ("raises", "assertRaises") and any(a.rsplit(".", 1)[-1] in _EXPECTED_IMPORT_FAILURES for a in arguments):
        return f"inside `with {callee}(...)`: the test expects the import to fail"
    if tail in ("warns", "assertWarns", "deprecated_call") and (tail == "deprecated_call" or any("Deprecation" in a for a in arguments)):
        return f"inside `with {callee}(...)`: the test expects the legacy import to warn"
    if tail == "catch_warnings" and any(k.arg == "record" for k in expression.keywords):
        return f"inside `with {callee}(record=True)`: the test records the legacy import's warnings"
    return None


def dotted_name(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def resolve(use_scope: Scope, name: str) -> list[Binding]:
    """The bindings a load of `name` in `use_scope` can see, by Python's scoping rules."""
    scope = use_scope
    if name in scope.global_names:
        while scope.parent is not None:
            scope = scope.parent
        return scope.bindings.get(name, [])
    first = True
    while scope is not None:
        if scope.kind == "class" and not first:
            scope = scope.parent
            continue
        if name in scope.bindings:
            return scope.bindings[name]
        if scope.kind == "module" and "*" in scope.bindings:
            return scope.bindings["*"]
        first = False
        scope = scope.parent
    return []


def module_level_statements(tree: ast.Module, type_checking: bool = True) -> Iterator[ast.stmt]:
    """Statements that run when the module is imported: the top level, and the bodies of
    top-level `if` and `try` blocks (`if TYPE_CHECKING:` bodies only with `type_checking`)."""

    def visit(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
        for statement in statements:
            if isinstance(statement, ast.If):
                if type_checking or "TYPE_CHECKING" not in ast.unparse(statement.test):
                    yield from visit(statement.body)
                yield from visit(statement.orelse)
            elif isinstance(statement, ast.Try) or type(statement).__name__ == "TryStar":
                yield from visit(statement.body)
                for handler in statement.handlers:
                    yield from visit(handler.body)
                yield from visit(statement.orelse)
                yield from visit(statement.finalbody)
            else:
                yield statement

    return visit(tree.body)


def attribute_node(use: Use, depth: int) -> ast.Attribute | None:
    """The Attribute node for `name.chain[0]...chain[depth-1]` within a use's chain."""
    node = use.chain_node
    for _ in range(len(use.chain) - depth):
        if not isinstance(node, ast.Attribute):
            return None
        node = node.value
    return node if isinstance(node, ast.Attribute) else None
