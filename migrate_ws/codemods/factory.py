"""Step `factory`: replace legacy constructors and singleton access with the configured factory call."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis import Binding, CallSite, Scope, resolve
from ..context import FileContext, scope_chain
from ..import_statements import AliasSpec
from ..findings import (ASYNC_FACTORY_IN_SYNC_CODE, COROUTINE_EXPECTED, FACTORY_NAME_TAKEN, FACTORY_OBJECT, NO_CONTEXT,
                        UNMAPPED_ARGUMENTS, Code)
from ..steps import FIXTURES, Step
from .base import Command


# callables that take a coroutine: a legacy async factory call passed to them cannot become a sync call
COROUTINE_CONSUMERS = frozenset({"run", "run_until_complete", "create_task", "ensure_future", "gather", "wait_for",
                                 "shield", "run_coroutine_threadsafe", "wait"})


@dataclass
class Callee:
    kind: str  # function | class | class-method | factory-method
    legacy_name: str
    binding: Binding  # the import binding the callee's name resolves to
    via_module: bool  # spelled `m.name` through a module object
    node: ast.expr  # the expression naming the callee (Name, or the Attribute through a module object)
    all_bindings: tuple = ()  # every import binding the name can resolve to (try/except alternatives)


class FactoryCallsCommand(Command):
    DESCRIPTION = (
        "Rewrite every legacy way of obtaining an object (zero-argument factory calls, direct instantiation, "
        "Class.get_instance()/create_for_user(ctx), the configured legacy functions, factory objects' methods) "
        "to the configured factory with the context in scope; remove `await` for a sync factory."
    )

    def applies(self, context: FileContext) -> bool:
        return bool(context.config.factory.function)

    def transform(self, context: FileContext) -> None:
        factory = context.config.factory
        rewritten_uses: set[int] = set()
        touched: dict[int, tuple[Binding, Scope]] = {}
        inner_calls: set[int] = set()
        for site in context.facts.calls:
            if isinstance(site.node.func, ast.Attribute) and isinstance(site.node.func.value, ast.Call):
                inner_calls.add(id(site.node.func.value))
        for site in sorted(context.facts.calls, key=lambda s: (s.node.lineno, s.node.col_offset)):
            callee = self.classify(context, site)
            if callee is None:
                continue
            if callee.kind == "factory-object":
                if id(site.node) not in inner_calls:
                    context.edits.report(FACTORY_OBJECT, site.node.lineno, f"{callee.legacy_name}() creates a legacy factory object; "
                                      f"its create_* calls must become {factory.function}({factory.context_parameter}) "
                                      "by hand")
                continue
            outcome = self.rewrite(context, site, callee)
            if outcome:
                rewritten_uses.add(id(callee.node if not callee.via_module else callee.node.value))
                for binding in callee.all_bindings or (callee.binding,):
                    touched[id(binding)] = (binding, site.scope)
        for binding, scope in touched.values():
            self.ensure_factory_import(context, binding, rewritten_uses)

    # ----- which calls -------------------------------------------------------------
    def legacy_import(self, context: FileContext, name: ast.Name, scope: Scope) -> Binding | None:
        bindings = resolve(scope, name.id)
        if not bindings or any(b.kind != "import-name" for b in bindings):
            return None
        if context.names.target_of_bindings(bindings) is None:
            return None
        return bindings[-1]

    def module_object(self, context: FileContext, name: ast.Name, scope: Scope) -> Binding | None:
        bindings = resolve(scope, name.id)
        if len(bindings) == 1 and context.names.module_object(bindings[0]) is not None:
            return bindings[0]
        return None

    def name_kind(self, context: FileContext, legacy_name: str) -> str | None:
        factory = context.config.factory
        if legacy_name in factory.functions:
            return "function"
        if legacy_name in factory.classes:
            return "class"
        if legacy_name in factory.factory_objects:
            return "factory-object"
        return None

    def classify(self, context: FileContext, site: CallSite) -> Callee | None:
        factory = context.config.factory
        func = site.node.func
        if isinstance(func, ast.Name):
            binding = self.legacy_import(context, func, site.scope)
            if binding is None or binding.imported is None:
                return None
            kind = self.name_kind(context, binding.imported)
            alternatives = tuple(resolve(site.scope, func.id))
            return Callee(kind, binding.imported, binding, False, func, alternatives) if kind else None
        if not isinstance(func, ast.Attribute):
            return None
        owner = func.value
        if isinstance(owner, ast.Name):
            module_binding = self.module_object(context, owner, site.scope)
            if module_binding is not None:
                kind = self.name_kind(context, func.attr)
                return Callee(kind, func.attr, module_binding, True, func) if kind else None
            binding = self.legacy_import(context, owner, site.scope)
            if binding is not None and binding.imported in factory.classes and func.attr in factory.class_methods:
                return Callee("class-method", f"{binding.imported}.{func.attr}", binding, False, owner,
                              tuple(resolve(site.scope, owner.id)))
            return None
        if isinstance(owner, ast.Call) and func.attr in factory.factory_methods:
            inner = CallSite(owner, site.scope, None, owner.lineno)
            maker = self.classify(context, inner)
            if maker is not None and maker.kind == "factory-object":
                if owner.args or owner.keywords:
                    context.edits.report(UNMAPPED_ARGUMENTS, site.node.lineno, f"{maker.legacy_name}(...) takes arguments that "
                                      f"{factory.function} has no place for; left as is")
                    return None
                return Callee("factory-method", f"{maker.legacy_name}().{func.attr}", maker.binding, maker.via_module,
                              maker.node, maker.all_bindings)
        return None

    # ----- rewriting ---------------------------------------------------------------
    def context_argument(self, context: FileContext, site: CallSite, callee: Callee) -> tuple[str | None, str | None, Code | None]:
        """The source text of the context to pass; or, when there is none, why (and its finding code)."""
        factory = context.config.factory
        call = site.node
        keyword = next((k for k in call.keywords if k.arg == factory.context_parameter), None)
        others = [k for k in call.keywords if k is not keyword]
        positional_context = callee.kind in ("function", "class-method", "factory-method")
        if others or any(isinstance(a, ast.Starred) for a in call.args) or \
                len(call.args) > (1 if positional_context else 0) or (call.args and keyword is not None):
            return None, "its arguments cannot be mapped onto the factory's", UNMAPPED_ARGUMENTS
        supplied = keyword.value if keyword is not None else (call.args[0] if call.args else None)
        if supplied is not None and not (isinstance(supplied, ast.Constant) and supplied.value is None):
            start, end = context.span(supplied)
            return context.text[start:end], None, None
        for name in factory.context_variables:
            bindings = resolve(site.scope, name)
            if bindings and all(b.scope.kind != "class" for b in bindings):
                return name, None, None
        return None, f"no {' or '.join(factory.context_variables)} in scope", NO_CONTEXT

    def rewrite(self, context: FileContext, site: CallSite, callee: Callee) -> bool:
        factory = context.config.factory
        call = site.node
        if callee.kind == "function" and callee.legacy_name == factory.function:
            supplied = [*call.args[:1], *(k.value for k in call.keywords if k.arg == factory.context_parameter)]
            if supplied and not (isinstance(supplied[0], ast.Constant) and supplied[0].value is None):
                return False  # already the factory with a context
        argument, reason, code = self.context_argument(context, site, callee)
        spelled = f"{callee.legacy_name}(...)" if callee.kind != "class-method" else f"{callee.legacy_name}()"
        if argument is None:
            context.edits.report(code, call.lineno, f"{spelled}: {reason}; kept as is (pass the caller's context to "
                              f"{factory.function} by hand)")
            if context.targets.todo_comments:
                self.todo_comment(context, site, f"{spelled} needs the user's context: use {factory.function}(<user context>)")
            return False
        if not self.factory_name_available(context, site, callee):
            other = next((b for b in resolve(site.scope, factory.function)), None)
            where = f" (bound at line {other.line})" if other is not None else ""
            context.edits.report(FACTORY_NAME_TAKEN, call.lineno, f"{spelled}: {factory.function} is bound to something else here{where}; "
                              "kept as is")
            return False
        outer = context.facts.argument_of.get(id(call), "")
        if site.awaited is None and not factory.is_async and outer.rsplit(".", 1)[-1] in COROUTINE_CONSUMERS \
                and callee.kind == "function":
            context.edits.report(COROUTINE_EXPECTED, call.lineno, f"{spelled}: its coroutine is passed to {outer}(...), but "
                              f"{factory.function} is not async; kept as is")
            return False
        keyword = any(k.arg == factory.context_parameter for k in call.keywords)
        argument_text = f"{factory.context_parameter}={argument}" if keyword else argument
        function = factory.function
        if callee.via_module:
            owner = callee.node.value if isinstance(callee.node, ast.Attribute) else callee.node
            function = f"{owner.id}.{factory.function}"
        replacement = f"{function}({argument_text})"
        target = call
        if site.awaited is not None and not factory.is_async:
            target = site.awaited
        elif factory.is_async and site.awaited is None:
            if not self.in_async_function(site.scope):
                context.edits.report(ASYNC_FACTORY_IN_SYNC_CODE, call.lineno, f"{spelled}: the factory is async but this code is not; kept as is")
                return False
            replacement = f"await {replacement}"
        start, end = context.span(target)
        if context.text[start:end] == replacement:
            return False
        context.edits.replace(start, end, replacement, f"{spelled} -> {factory.function}({argument})")
        return True

    def in_async_function(self, scope: Scope) -> bool:
        for enclosing in scope_chain(scope):
            if enclosing.kind == "function":
                return isinstance(enclosing.node, ast.AsyncFunctionDef)
        return False

    def factory_name_available(self, context: FileContext, site: CallSite, callee: Callee) -> bool:
        if callee.via_module:
            return True
        bindings = resolve(site.scope, context.config.factory.function)
        if not bindings:
            return True
        return all(b.kind == "import-name" and context.names.target_of_binding(b) == context.config.factory.function
                   for b in bindings)

    def ensure_factory_import(self, context: FileContext, binding: Binding, rewritten: set[int]) -> None:
        """Import the factory where the legacy callee was imported; drop the callee if nothing else uses it."""
        config = context.config
        function = config.factory.function
        if context.names.module_object(binding) is not None:
            return
        remaining = [u for u in context.names.uses_of(binding) if id(u.node) not in rewritten]
        already = [b for b in binding.scope.bindings.get(function, []) if b.kind == "import-name"]
        if not remaining:
            if binding.scope.kind == "module" and binding.name != function:
                context.renamed_exports[binding.name] = function
            if already and binding.name != function:
                context.statements.rebind(binding, None, None, f"drop {binding.imported}")
            else:
                context.statements.rebind(binding, AliasSpec(function, None), config.canonical_module,
                                      f"import {function} instead of {binding.imported}")
            return
        if not already and binding.statement is not None:
            context.statements.add_import_near(binding.statement, config.canonical_module, AliasSpec(function, None))

    def todo_comment(self, context: FileContext, site: CallSite, message: str) -> None:
        statement_line = site.statement_line
        index = context.facts.index
        if statement_line > 1 and index.line_text(statement_line - 1).strip().startswith("# TODO(migrate-ws)"):
            return
        line = index.line_text(statement_line)
        indentation = line[: len(line) - len(line.lstrip(" \t"))]
        newline = context.edits.newline_at(statement_line)
        start = index.starts[statement_line - 1]
        context.edits.replace(start, start, f"{indentation}# TODO(migrate-ws): {message}{newline}",
                        "TODO comment for a manual follow-up")


def _factory_words(config) -> set[str]:
    factory = config.factory
    return {*factory.functions, *factory.classes, *factory.factory_objects, *([factory.function] if factory.function else [])}


STEP = Step(
    name="factory",
    title="Replace legacy constructors and singleton access with {factory}({context})",
    description=FactoryCallsCommand.DESCRIPTION,
    command=FactoryCallsCommand,
    names=lambda config: {*_factory_words(config), *config.factory.context_variables},
    prefilter_words=lambda config: _factory_words(config),
    examples=FIXTURES / "factory",
)
