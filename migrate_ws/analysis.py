"""Scope-aware analysis of one module, restricted to the names a migration cares about.

The analysis runs on Python's own `ast` (the running interpreter's grammar). It only
descends into nodes whose source lines contain one of the interesting identifiers: a
binding or use of a name needs the name's text inside the node, so everything else can
be skipped without losing a binding. That keeps the walk a small fraction of the parse.

The walk dispatches on the node's type through two tables (statements, expressions),
filled by `@_walks(...)` on the method that handles each type, as pyupgrade registers its
fixes; a type with no entry gets the generic walk of its children. What it records is
`scopes.py`'s.
"""

from __future__ import annotations

import ast
import bisect
from typing import Callable

from .scopes import (ATTRIBUTE_STRING_CALLS, DYNAMIC_NAMESPACE_CALLS, Binding, CallSite, FileFacts, Scope, StringRef,
                     Use, assertion_guard, attribute_node, dotted_name, module_level_statements, module_name_for,
                     resolve, resolve_relative)
from .source import LineIndex
from .textsearch import WordFinder

# names the rest of the package reads from here as well as from `scopes.py`
__all__ = ["ATTRIBUTE_STRING_CALLS", "DYNAMIC_NAMESPACE_CALLS", "Binding", "CallSite", "FileFacts", "Scope",
           "StringRef", "Use", "analyze", "attribute_node", "module_level_statements", "module_name_for", "resolve",
           "resolve_relative"]

_DECORATED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

# node type -> the `_Walker` method that walks it
_STATEMENTS: dict[type, Callable[..., None]] = {}
_EXPRESSIONS: dict[type, Callable[..., None]] = {}


def _walks(table: dict[type, Callable[..., None]], *names: str):
    """Register the decorated method for the named node types (those this Python's `ast` has)."""

    def register(method):
        for name in names:
            node_type = getattr(ast, name, None)
            if node_type is not None:
                table[node_type] = method
        return method

    return register


class _Walker:
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
    def block(self, statements: list[ast.stmt], scope: Scope) -> None:
        for statement in statements:
            if self.relevant(statement):
                self.statement(statement, scope, statements)

    def statement(self, node: ast.stmt, scope: Scope, block: list) -> None:
        self.current_line = node.lineno
        _STATEMENTS.get(type(node), _Walker._other)(self, node, scope, block)

    @_walks(_STATEMENTS, "FunctionDef", "AsyncFunctionDef")
    def _function(self, node, scope: Scope, block: list) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        self.arguments_outer(node.args, scope)
        if node.returns is not None:
            self.annotation(node.returns, scope)
        self.bind(scope, node.name, "def", node, statement=node, block=block)
        inner = self.new_scope("function", node, scope)
        self.declare(node.body, inner)
        self.arguments_inner(node.args, inner)
        self.block(node.body, inner)

    @_walks(_STATEMENTS, "ClassDef")
    def _class(self, node: ast.ClassDef, scope: Scope, block: list) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, scope)
        for base in node.bases:
            self.expr(base, scope)
        for keyword in node.keywords:
            self.expr(keyword.value, scope)
        self.bind(scope, node.name, "class", node, statement=node, block=block)
        inner = self.new_scope("class", node, scope)
        self.declare(node.body, inner)
        self.block(node.body, inner)

    @_walks(_STATEMENTS, "Import")
    def _import(self, node: ast.Import, scope: Scope, block: list) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(scope, alias.asname, "import-module", alias, statement=node, block=block, module=alias.name)
            else:
                head = alias.name.split(".")[0]
                self.bind(scope, head, "import-module", alias, statement=node, block=block,
                          module=alias.name, bound_path=head)

    @_walks(_STATEMENTS, "ImportFrom")
    def _import_from(self, node: ast.ImportFrom, scope: Scope, block: list) -> None:
        source = resolve_relative(self.module, self.is_package, node.level, node.module)
        for alias in node.names:
            if alias.name == "*":
                binding = self.bind(scope, "*", "star", alias, statement=node, block=block, module=source)
                self.star_imports.append(binding)
                continue
            self.bind(scope, alias.asname or alias.name, "import-name", alias, statement=node, block=block,
                      module=source, imported=alias.name)

    @_walks(_STATEMENTS, "Assign")
    def _assign(self, node: ast.Assign, scope: Scope, block: list) -> None:
        self.expr(node.value, scope)
        value_name = node.value if isinstance(node.value, ast.Name) else None
        for target in node.targets:
            self.target(target, scope, node, block, value_name if len(node.targets) == 1 else None)
        self.all_assignment(node.targets, node.value, scope)

    @_walks(_STATEMENTS, "AnnAssign")
    def _ann_assign(self, node: ast.AnnAssign, scope: Scope, block: list) -> None:
        self.annotation(node.annotation, scope)
        if node.value is not None:
            self.expr(node.value, scope)
        self.target(node.target, scope, node, block, node.value if isinstance(node.value, ast.Name) else None)
        if node.value is not None:
            self.all_assignment([node.target], node.value, scope)

    @_walks(_STATEMENTS, "AugAssign")
    def _aug_assign(self, node: ast.AugAssign, scope: Scope, block: list) -> None:
        self.expr(node.value, scope)
        if isinstance(node.target, ast.Name):
            self.use(node.target, scope)
        self.target(node.target, scope, node, block, None)
        self.all_assignment([node.target], node.value, scope)

    @_walks(_STATEMENTS, "Global", "Nonlocal")
    def _declaration(self, node, scope: Scope, block: list) -> None:
        pass  # handled by `declare` before the scope's body is walked

    @_walks(_STATEMENTS, "Delete")
    def _delete(self, node: ast.Delete, scope: Scope, block: list) -> None:
        for target in node.targets:
            self.target(target, scope, node, block, None)

    @_walks(_STATEMENTS, "For", "AsyncFor")
    def _for(self, node, scope: Scope, block: list) -> None:
        self.expr(node.iter, scope)
        self.target(node.target, scope, node, block, None)
        self.block(node.body, scope)
        self.block(node.orelse, scope)

    @_walks(_STATEMENTS, "With", "AsyncWith")
    def _with(self, node, scope: Scope, block: list) -> None:
        for item in node.items:
            self.expr(item.context_expr, scope)
            if item.optional_vars is not None:
                self.target(item.optional_vars, scope, node, block, None)
        guard = next((g for g in map(assertion_guard, (i.context_expr for i in node.items)) if g), None)
        previous = self.guard
        self.guard = guard or previous
        try:
            self.block(node.body, scope)
        finally:
            self.guard = previous

    @_walks(_STATEMENTS, "Try", "TryStar")
    def _try(self, node, scope: Scope, block: list) -> None:
        self.block(node.body, scope)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, scope)
            if handler.name and handler.name in self.names:
                self.bind(scope, handler.name, "other", handler, statement=handler, block=block)
            self.block(handler.body, scope)
        self.block(node.orelse, scope)
        self.block(node.finalbody, scope)

    @_walks(_STATEMENTS, "If", "While")
    def _if(self, node, scope: Scope, block: list) -> None:
        self.expr(node.test, scope)
        self.block(node.body, scope)
        self.block(node.orelse, scope)

    @_walks(_STATEMENTS, "Match")
    def _match(self, node, scope: Scope, block: list) -> None:
        self.expr(node.subject, scope)
        for case in node.cases:
            self.pattern(case.pattern, scope, node, block)
            if case.guard is not None:
                self.expr(case.guard, scope)
            self.block(case.body, scope)

    @_walks(_STATEMENTS, "Expr")
    def _expression_statement(self, node: ast.Expr, scope: Scope, block: list) -> None:
        if isinstance(node.value, ast.Constant):
            return  # a docstring or bare string is text (it may quote import lines); never a reference
        self._other(node, scope, block)

    @_walks(_STATEMENTS, "Assert")
    def _assert(self, node: ast.Assert, scope: Scope, block: list) -> None:
        self.asserting = True
        try:
            self._other(node, scope, block)
        finally:
            self.asserting = False

    @_walks(_STATEMENTS, "TypeAlias")
    def _type_alias(self, node, scope: Scope, block: list) -> None:
        self.target(node.name, scope, node, block, None)
        self.expr(node.value, scope)

    def _other(self, node, scope: Scope, block: list) -> None:
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

    def target(self, node: ast.AST, scope: Scope, statement: ast.AST, block: list, value_name: ast.Name | None) -> None:
        if isinstance(node, ast.Name):
            if node.id in self.names:
                self.bind(scope, node.id, "assign" if isinstance(statement, (ast.Assign, ast.AnnAssign)) else "other",
                          node, statement=statement, block=block, value_name=value_name)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.target(element, scope, statement, block, None)
        elif isinstance(node, ast.Starred):
            self.target(node.value, scope, statement, block, None)
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
        _EXPRESSIONS.get(type(node), _Walker._children)(self, node, scope, in_annotation, awaited)

    def _children(self, node: ast.AST, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, scope, in_annotation)
            elif isinstance(child, ast.keyword):
                self.expr(child.value, scope, in_annotation)
            elif isinstance(child, ast.comprehension):  # pragma: no cover - handled by `_comprehension`
                self.expr(child.iter, scope)

    @_walks(_EXPRESSIONS, "Name")
    def _name(self, node: ast.Name, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
        if isinstance(node.ctx, ast.Load):
            self.use(node, scope, escapes=True)
        elif isinstance(node.ctx, ast.Store) and node.id in self.names:
            self.bind(scope, node.id, "other", node)  # walrus and other expression-level stores

    @_walks(_EXPRESSIONS, "Attribute")
    def _attribute(self, node: ast.Attribute, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
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

    @_walks(_EXPRESSIONS, "Await")
    def _await(self, node: ast.Await, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
        self.expr(node.value, scope, in_annotation, awaited=node)

    @_walks(_EXPRESSIONS, "Constant")
    def _constant(self, node: ast.Constant, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
        if isinstance(node.value, str):
            if in_annotation:
                self.string_annotation(node, scope)
            elif self.looks_like_path(node.value):
                self.strings.append(StringRef(node.value, node, node.lineno, None, -1, self.literal_span(node),
                                              self.asserting))

    @_walks(_EXPRESSIONS, "Subscript")
    def _subscript(self, node: ast.Subscript, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
        if in_annotation:
            self.expr(node.value, scope, True)
            self.expr(node.slice, scope, True)
        elif dotted_name(node.value) == "sys.modules" and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str):
            self.expr(node.value, scope)
            self.strings.append(StringRef(node.slice.value, node.slice, node.slice.lineno, "sys.modules", 0,
                                          self.literal_span(node.slice), self.asserting))
        else:
            self._children(node, scope, in_annotation, awaited)

    @_walks(_EXPRESSIONS, "Call")
    def _call(self, node: ast.Call, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
        self.call(node, scope, awaited)

    @_walks(_EXPRESSIONS, "Lambda")
    def _lambda(self, node: ast.Lambda, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
        self.arguments_outer(node.args, scope)
        inner = self.new_scope("lambda", node, scope)
        self.arguments_inner(node.args, inner)
        self.expr(node.body, inner)

    @_walks(_EXPRESSIONS, "ListComp", "SetComp", "GeneratorExp", "DictComp")
    def _comprehension(self, node, scope: Scope, in_annotation: bool, awaited: ast.Await | None) -> None:
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

    @_walks(_EXPRESSIONS, "NamedExpr")
    def _named_expression(self, node: ast.NamedExpr, scope: Scope, in_annotation: bool,
                          awaited: ast.Await | None) -> None:
        self.expr(node.value, scope)
        target_scope = scope
        while target_scope.kind == "comprehension" and target_scope.parent is not None:
            target_scope = target_scope.parent
        if node.target.id in self.names:
            self.bind(target_scope, node.target.id, "other", node.target)

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
        callee = dotted_name(node.func)
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
