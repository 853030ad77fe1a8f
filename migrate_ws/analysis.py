"""Scope-aware analysis of one module, restricted to the names a migration cares about.

The analysis runs on Python's own `ast` (the running interpreter's grammar). It only
descends into nodes whose source lines contain one of the interesting identifiers: a
binding or use of a name needs the name's text inside the node, so everything else can
be skipped without losing a binding. That keeps the walk a small fraction of the parse.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass, field
from typing import Iterator

from .source import LineIndex
from .textsearch import WordFinder

DYNAMIC_NAMESPACE_CALLS = frozenset({"globals", "locals", "vars", "exec", "eval", "__import__"})
ATTRIBUTE_STRING_CALLS = frozenset({"getattr", "hasattr", "setattr", "delattr"})


@dataclass(eq=False)
class Scope:
    kind: str  # module | function | class | lambda | comprehension
    node: ast.AST
    parent: "Scope | None"
    bindings: dict[str, list["Binding"]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    dynamic_namespace: bool = False

    def add(self, binding: "Binding") -> None:
        self.bindings.setdefault(binding.name, []).append(binding)


@dataclass(eq=False)
class Binding:
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
    is_fallback: bool = False  # bound inside an `except` handler
    guard: str | None = None  # set when a test asserts on this import (expects it to fail or to warn)


@dataclass(eq=False)
class Use:
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
    node: ast.Call
    scope: Scope
    awaited: ast.Await | None
    statement_line: int


@dataclass
class FileFacts:
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


_DECORATED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


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


def _assertion_guard(expression: ast.AST) -> str | None:
    """Describe a `with` context that makes a test assert on the imports inside it."""
    if not isinstance(expression, ast.Call):
        return None
    callee = _dotted(expression.func) or ""
    tail = callee.rsplit(".", 1)[-1]
    arguments = [_dotted(a) or "" for a in expression.args]
    if tail in ("raises", "assertRaises") and any(a.rsplit(".", 1)[-1] in _EXPECTED_IMPORT_FAILURES for a in arguments):
        return f"inside `with {callee}(...)`: the test expects the import to fail"
    if tail in ("warns", "assertWarns", "deprecated_call") and (tail == "deprecated_call" or any("Deprecation" in a for a in arguments)):
        return f"inside `with {callee}(...)`: the test expects the legacy import to warn"
    if tail == "catch_warnings" and any(k.arg == "record" for k in expression.keywords):
        return f"inside `with {callee}(record=True)`: the test records the legacy import's warnings"
    return None


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Walker:
    _handlers: dict[type, object] = {}  # statement type -> the method that walks it

    def __init__(self, facts_module: str, is_package: bool, text: str, index: LineIndex, lines: list[int],
                 names: set[str], string_markers: tuple[str, ...]):
        self.module = facts_module
        self.text = text
        self.is_package = is_package
        self.index = index
        self.lines = lines
        self.names = names
        self.string_markers = string_markers
        self.scopes: list[Scope] = []
        self.bindings: list[Binding] = []
        self.uses: list[Use] = []
        self.strings: list[StringRef] = []
        self.calls: list[CallSite] = []
        self.all_entries: list[tuple[ast.Constant, str]] = []
        self.star_imports: list[Binding] = []
        self.guard: str | None = None
        self.asserting = False  # walking an `assert` statement
        self.current_line = 1
        self.argument_of: dict[int, str] = {}

    # pruning ---------------------------------------------------------------
    def relevant(self, node: ast.AST) -> bool:
        try:
            start = node.lineno  # type: ignore[attr-defined]
        except AttributeError:
            return True
        end = node.end_lineno or start  # type: ignore[attr-defined]
        if type(node) in _DECORATED and node.decorator_list:  # type: ignore[attr-defined]
            start = min(start, node.decorator_list[0].lineno)  # type: ignore[attr-defined]
        i = bisect.bisect_left(self.lines, start)
        return i < len(self.lines) and self.lines[i] <= end

    # scopes ------------------------------------------------------------------
    def new_scope(self, kind: str, node: ast.AST, parent: Scope | None) -> Scope:
        scope = Scope(kind, node, parent)
        self.scopes.append(scope)
        return scope

    def bind(self, scope: Scope, name: str, kind: str, node: ast.AST, **extra) -> Binding:
        target = scope
        if name in scope.global_names:
            while target.parent is not None:
                target = target.parent
        elif name in scope.nonlocal_names:
            enclosing = scope.parent
            while enclosing is not None and enclosing.kind not in ("function", "lambda"):
                enclosing = enclosing.parent
            target = enclosing or scope
        binding = Binding(name=name, kind=kind, scope=target, line=getattr(node, "lineno", 0), node=node,
                          guard=self.guard if kind in ("import-name", "import-module", "star") else None, **extra)
        target.add(binding)
        self.bindings.append(binding)
        return binding

    # statements ------------------------------------------------------------
    def block(self, statements: list[ast.stmt], scope: Scope, in_handler: bool = False) -> None:
        for statement in statements:
            if self.relevant(statement):
                self.statement(statement, scope, statements, in_handler)

    def statement(self, node: ast.stmt, scope: Scope, block: list, in_handler: bool) -> None:
        """Dispatch on the statement's type (one method per kind; `_other` for the rest)."""
        self.current_line = node.lineno
        handler = self._handlers.get(type(node))
        if handler is None:
            handler = getattr(type(self), f"_{type(node).__name__}", type(self)._other)
            self._handlers[type(node)] = handler
        handler(self, node, scope, block, in_handler)

    def _FunctionDef(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        self.arguments_outer(node.args, scope)
        if node.returns is not None:
            self.annotation(node.returns, scope)
        self.bind(scope, node.name, "def", node, statement=node, block=block, is_fallback=in_handler)
        inner = self.new_scope("function", node, scope)
        self.declare(node.body, inner)
        self.arguments_inner(node.args, inner)
        self.block(node.body, inner)

    _AsyncFunctionDef = _FunctionDef

    def _ClassDef(self, node: ast.ClassDef, scope: Scope, block: list, in_handler: bool) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        for base in node.bases:
            self.expr(base, scope)
        for keyword in node.keywords:
            self.expr(keyword.value, scope)
        self.bind(scope, node.name, "class", node, statement=node, block=block, is_fallback=in_handler)
        inner = self.new_scope("class", node, scope)
        self.declare(node.body, inner)
        self.block(node.body, inner)

    def _Import(self, node: ast.Import, scope: Scope, block: list, in_handler: bool) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(scope, alias.asname, "import-module", alias, statement=node, block=block,
                          module=alias.name, is_fallback=in_handler)
            else:
                head = alias.name.split(".")[0]
                self.bind(scope, head, "import-module", alias, statement=node, block=block,
                          module=alias.name, bound_path=head, is_fallback=in_handler)

    def _ImportFrom(self, node: ast.ImportFrom, scope: Scope, block: list, in_handler: bool) -> None:
        source = resolve_relative(self.module, self.is_package, node.level, node.module)
        for alias in node.names:
            if alias.name == "*":
                binding = self.bind(scope, "*", "star", alias, statement=node, block=block, module=source)
                self.star_imports.append(binding)
                continue
            self.bind(scope, alias.asname or alias.name, "import-name", alias, statement=node, block=block,
                      module=source, imported=alias.name, is_fallback=in_handler)

    def _Assign(self, node: ast.Assign, scope: Scope, block: list, in_handler: bool) -> None:
        self.expr(node.value, scope)
        value_name = node.value if isinstance(node.value, ast.Name) else None
        for target in node.targets:
            self.target(target, scope, node, block, in_handler, value_name if len(node.targets) == 1 else None)
        self.all_assignment(node.targets, node.value, scope)

    def _AnnAssign(self, node: ast.AnnAssign, scope: Scope, block: list, in_handler: bool) -> None:
        self.annotation(node.annotation, scope)
        if node.value is not None:
            self.expr(node.value, scope)
        self.target(node.target, scope, node, block, in_handler,
                    node.value if isinstance(node.value, ast.Name) else None)
        if node.value is not None:
            self.all_assignment([node.target], node.value, scope)

    def _AugAssign(self, node: ast.AugAssign, scope: Scope, block: list, in_handler: bool) -> None:
        self.expr(node.value, scope)
        if isinstance(node.target, ast.Name):
            self.use(node.target, scope)
        self.target(node.target, scope, node, block, in_handler, None)
        self.all_assignment([node.target], node.value, scope)

    def _Global(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        pass  # handled by `declare` before the scope's body is walked

    _Nonlocal = _Global

    def _Delete(self, node: ast.Delete, scope: Scope, block: list, in_handler: bool) -> None:
        for target in node.targets:
            self.target(target, scope, node, block, in_handler, None)

    def _For(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        self.expr(node.iter, scope)
        self.target(node.target, scope, node, block, in_handler, None)
        self.block(node.body, scope)
        self.block(node.orelse, scope)

    _AsyncFor = _For

    def _With(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        for item in node.items:
            self.expr(item.context_expr, scope)
            if item.optional_vars is not None:
                self.target(item.optional_vars, scope, node, block, in_handler, None)
        guard = next((g for g in map(_assertion_guard, (i.context_expr for i in node.items)) if g), None)
        previous = self.guard
        self.guard = guard or previous
        try:
            self.block(node.body, scope, in_handler)
        finally:
            self.guard = previous

    _AsyncWith = _With

    def _Try(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        self.block(node.body, scope, in_handler)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, scope)
            if handler.name and handler.name in self.names:
                self.bind(scope, handler.name, "other", handler, statement=handler, block=block)
            self.block(handler.body, scope, True)
        self.block(node.orelse, scope, in_handler)
        self.block(node.finalbody, scope, in_handler)

    _TryStar = _Try

    def _If(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        self.expr(node.test, scope)
        self.block(node.body, scope, in_handler)
        self.block(node.orelse, scope, in_handler)

    _While = _If

    def _Match(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        self.expr(node.subject, scope)
        for case in node.cases:
            self.pattern(case.pattern, scope, node, block)
            if case.guard is not None:
                self.expr(case.guard, scope)
            self.block(case.body, scope, in_handler)

    def _Expr(self, node: ast.Expr, scope: Scope, block: list, in_handler: bool) -> None:
        if isinstance(node.value, ast.Constant):
            return  # a docstring or bare string is text (it may quote import lines); never a reference
        self._other(node, scope, block, in_handler)

    def _Assert(self, node: ast.Assert, scope: Scope, block: list, in_handler: bool) -> None:
        self.asserting = True
        try:
            self._other(node, scope, block, in_handler)
        finally:
            self.asserting = False

    def _TypeAlias(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        self.target(node.name, scope, node, block, in_handler, None)
        self.expr(node.value, scope)

    def _other(self, node, scope: Scope, block: list, in_handler: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, scope)

    def declare(self, body: list[ast.stmt], scope: Scope) -> None:
        """Record `global`/`nonlocal` names of a scope before its bindings are walked."""
        stack: list[ast.AST] = [statement for statement in body if self.relevant(statement)]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Global):
                scope.global_names.update(node.names)
            elif isinstance(node, ast.Nonlocal):
                scope.nonlocal_names.update(node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue  # their declarations belong to their own scope
            else:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt) or isinstance(child, ast.excepthandler) \
                            or type(child).__name__ == "match_case":
                        if self.relevant(child):
                            stack.append(child)

    def arguments_outer(self, args: ast.arguments, scope: Scope) -> None:
        for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
            self.expr(default, scope)
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]:
            if arg.annotation is not None:
                self.annotation(arg.annotation, scope)

    def arguments_inner(self, args: ast.arguments, scope: Scope) -> None:
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]:
            if arg.arg in self.names:
                self.bind(scope, arg.arg, "param", arg)

    def target(self, node: ast.AST, scope: Scope, statement: ast.AST, block: list, in_handler: bool, value_name: ast.Name | None) -> None:
        if isinstance(node, ast.Name):
            if node.id in self.names:
                self.bind(scope, node.id, "assign" if isinstance(statement, (ast.Assign, ast.AnnAssign)) else "other",
                          node, statement=statement, block=block, value_name=value_name, is_fallback=in_handler)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.target(element, scope, statement, block, in_handler, None)
        elif isinstance(node, ast.Starred):
            self.target(node.value, scope, statement, block, in_handler, None)
        else:
            self.expr(node, scope)

    def pattern(self, node: ast.AST, scope: Scope, statement: ast.AST, block: list) -> None:
        """`match` patterns bind capture names and read value patterns (`case Class(...)`, `case m.X`)."""
        for child in ast.walk(node):
            for attribute in ("name", "rest"):
                name = getattr(child, attribute, None)
                if isinstance(name, str) and name in self.names:
                    self.bind(scope, name, "other", child, statement=statement, block=block)
            kind = type(child).__name__
            if kind == "MatchValue":
                self.expr(child.value, scope)
            elif kind == "MatchClass":
                self.expr(child.cls, scope)
            elif kind == "MatchMapping":
                for key in child.keys:
                    self.expr(key, scope)

    def all_assignment(self, targets: list[ast.AST], value: ast.AST, scope: Scope) -> None:
        if scope.kind != "module":
            return
        if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return
        if isinstance(value, (ast.List, ast.Tuple)):
            for element in value.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    self.all_entries.append((element, element.value))

    # expressions ------------------------------------------------------------
    def annotation(self, node: ast.expr, scope: Scope) -> None:
        self.expr(node, scope, in_annotation=True)

    def use(self, node: ast.Name, scope: Scope, chain: list[str] | None = None, chain_node: ast.AST | None = None, escapes: bool = False) -> None:
        if node.id in self.names:
            self.uses.append(Use(node.id, node, scope, chain or [], chain_node, escapes=escapes))

    def expr(self, node: ast.AST, scope: Scope, in_annotation: bool = False, awaited: ast.Await | None = None) -> None:
        if node is None or not self.relevant(node):
            return
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                self.use(node, scope, escapes=True)
            elif isinstance(node.ctx, ast.Store) and node.id in self.names:
                self.bind(scope, node.id, "other", node)  # walrus and other expression-level stores
            return
        if isinstance(node, ast.Attribute):
            chain: list[str] = []
            head: ast.AST = node
            while isinstance(head, ast.Attribute):
                chain.append(head.attr)
                head = head.value
            if isinstance(head, ast.Name) and isinstance(head.ctx, ast.Load):
                chain.reverse()
                self.use(head, scope, chain, node)
                return
            self.expr(head, scope, in_annotation)
            return
        if isinstance(node, ast.Await):
            self.expr(node.value, scope, in_annotation, awaited=node)
            return
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                if in_annotation:
                    self.string_annotation(node, scope)
                elif self.looks_like_path(node.value):
                    self.strings.append(StringRef(node.value, node, node.lineno, None, -1, self.literal_span(node),
                                                  self.asserting))
            return
        if isinstance(node, ast.Subscript) and not in_annotation and _dotted(node.value) == "sys.modules" \
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            self.expr(node.value, scope)
            self.strings.append(StringRef(node.slice.value, node.slice, node.slice.lineno, "sys.modules", 0,
                                          self.literal_span(node.slice), self.asserting))
            return
        if isinstance(node, ast.Call):
            self.call(node, scope, awaited)
            return
        if isinstance(node, ast.Lambda):
            self.arguments_outer(node.args, scope)
            inner = self.new_scope("lambda", node, scope)
            self.arguments_inner(node.args, inner)
            self.expr(node.body, inner)
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            generators = node.generators
            self.expr(generators[0].iter, scope)
            inner = self.new_scope("comprehension", node, scope)
            for index, generator in enumerate(generators):
                if index:
                    self.expr(generator.iter, inner)
                self.comprehension_target(generator.target, inner)
                for condition in generator.ifs:
                    self.expr(condition, inner)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, inner)
                self.expr(node.value, inner)
            else:
                self.expr(node.elt, inner)
            return
        if isinstance(node, ast.NamedExpr):
            self.expr(node.value, scope)
            target_scope = scope
            while target_scope.kind == "comprehension" and target_scope.parent is not None:
                target_scope = target_scope.parent
            if node.target.id in self.names:
                self.bind(target_scope, node.target.id, "other", node.target)
            return
        if isinstance(node, ast.Subscript) and in_annotation:
            self.expr(node.value, scope, True)
            self.expr(node.slice, scope, True)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, scope, in_annotation)
            elif isinstance(child, ast.keyword):
                self.expr(child.value, scope, in_annotation)
            elif isinstance(child, ast.comprehension):  # pragma: no cover - handled above
                self.expr(child.iter, scope)

    def comprehension_target(self, node: ast.AST, scope: Scope) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and child.id in self.names:
                self.bind(scope, child.id, "other", child)

    def call(self, node: ast.Call, scope: Scope, awaited: ast.Await | None) -> None:
        self.expr(node.func, scope)
        # what a call is given is the call's input, not what an enclosing `assert` asserts
        asserting, self.asserting = self.asserting, False
        try:
            self.call_arguments(node, scope, awaited)
        finally:
            self.asserting = asserting

    def call_arguments(self, node: ast.Call, scope: Scope, awaited: ast.Await | None) -> None:
        callee = _dotted(node.func)
        attribute_call = callee is not None and (
            callee in ATTRIBUTE_STRING_CALLS or callee.endswith("patch.object")) and len(node.args) >= 2 \
            and isinstance(node.args[0], ast.Name) and isinstance(node.args[1], ast.Constant) \
            and isinstance(node.args[1].value, str)
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(argument, ast.Call) and callee:
                self.argument_of[id(argument)] = callee
        for position, argument in enumerate(node.args):
            if attribute_call and position == 0:
                continue  # recorded below as an attribute use of the module object
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                continue  # recorded below with the callee
            self.expr(argument, scope)
        for keyword in node.keywords:
            if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                continue
            self.expr(keyword.value, scope)
        self.calls.append(CallSite(node, scope, awaited, getattr(self, "current_line", node.lineno)))
        tail = (callee or "").rsplit(".", 1)[-1]
        if callee and tail in DYNAMIC_NAMESPACE_CALLS and callee == tail:
            owner = scope
            while owner.kind in ("comprehension", "lambda") and owner.parent is not None:
                owner = owner.parent
            owner.dynamic_namespace = True
        # getattr(m, "Name") and patch.object(m, "Name") are attribute uses of `m`
        if attribute_call:
            if node.args[0].id in self.names:
                self.uses.append(Use(node.args[0].id, node.args[0], scope, [node.args[1].value], None,
                                     context="getattr-string", string_span=self.literal_span(node.args[1])))
        for position, argument in enumerate(node.args):
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and self.looks_like_path(argument.value) \
                    and not (attribute_call and position == 1):
                self.strings.append(StringRef(argument.value, argument, argument.lineno, callee, position,
                                              self.literal_span(argument), self.asserting))
        for keyword in node.keywords:
            value = keyword.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and self.looks_like_path(value.value):
                self.strings.append(StringRef(value.value, value, value.lineno, callee, -1, self.literal_span(value),
                                              self.asserting))

    def looks_like_path(self, value: str) -> bool:
        return "." in value and any(marker in value for marker in self.string_markers)

    def literal_span(self, node: ast.Constant) -> tuple[int, int] | None:
        """Offsets of a plain single-line literal's content, or None for anything fancier."""
        if node.lineno != node.end_lineno:
            return None
        start = self.index.offset(node.lineno, node.col_offset)
        end = self.index.offset(node.end_lineno, node.end_col_offset)
        literal = self.text[start:end]
        for quote in ('"', "'"):
            if literal == quote + node.value + quote and "\\" not in node.value:
                return start + 1, end - 1
        return None

    def string_annotation(self, node: ast.Constant, scope: Scope) -> None:
        span = self.literal_span(node)
        try:
            inner = ast.parse(node.value.strip(), mode="eval")
        except SyntaxError:
            return
        leading = len(node.value) - len(node.value.lstrip())
        for child in ast.walk(inner):
            if isinstance(child, ast.Name) and child.id in self.names:
                chain: list[str] = []
                position = None
                if span is not None and child.lineno == 1 and node.value.isascii():
                    position = (span[0] + leading + child.col_offset, span[0] + leading + child.end_col_offset)
                self.uses.append(Use(child.id, child, scope, chain, None, context="annotation-string", string_span=position))


def analyze(text: str, tree: ast.Module, module: str, is_package: bool, names: set[str],
            finder: WordFinder, string_markers: tuple[str, ...], index: LineIndex | None = None) -> FileFacts:
    index = index or LineIndex(text)
    lines = sorted({index.line_of(offset) for offset in finder.starts(text)})
    # Local names bound by `as` and the heads of `import a.b.c` lead to uses we must also see.
    walker = _Walker(module, is_package, text, index, lines, set(names), string_markers)
    extra: set[str] = set()
    for node in _import_nodes(tree, walker):
        for alias in node.names:
            if alias.asname:
                extra.add(alias.asname)
            elif isinstance(node, ast.Import):
                extra.add(alias.name.split(".")[0])
    extra -= walker.names
    if extra:
        walker.names |= extra
        more = WordFinder(extra)
        walker.lines = sorted(set(lines) | {index.line_of(offset) for offset in more.starts(text)})
    module_scope = walker.new_scope("module", tree, None)
    walker.declare(tree.body, module_scope)
    walker.block(tree.body, module_scope)
    return FileFacts(
        module=module, is_package=is_package, tree=tree, index=index, module_scope=module_scope,
        scopes=walker.scopes, bindings=walker.bindings, uses=walker.uses, strings=walker.strings,
        calls=walker.calls, argument_of=walker.argument_of, all_entries=walker.all_entries, star_imports=walker.star_imports,
    )


def _import_nodes(tree: ast.Module, walker: _Walker):
    stack: list[ast.AST] = [n for n in tree.body if walker.relevant(n)]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.stmt):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.stmt, ast.excepthandler)) or type(child).__name__ == "match_case":
                    if walker.relevant(child):
                        stack.append(child)
        elif isinstance(node, ast.excepthandler) or type(node).__name__ == "match_case":
            stack.extend(c for c in node.body if walker.relevant(c))


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
