"""Step `factory`: replace legacy constructors and singleton access with the configured factory call."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..analysis import Binding, CallSite, Scope, resolve
from ..config import ContextFallback, FactoryConfig
from ..findings import Code, Severity
from ..model import AliasSpec, Signature
from ..scopes import scope_chain
from ..steps import Option, Step
from . import EXAMPLES
from .base import Command

if TYPE_CHECKING:
    from ..context import FileContext
    from .factory_scope import TrackedObject

# The finding codes only this step reports (the table: migrate_ws.findings.CODES).
W, I = Severity.WARNING, Severity.INFO
NO_CONTEXT = Code(
    "MW301", "no-context-in-scope", W, "a singleton access with no context in scope to pass to the factory",
    "pass the caller's context to the factory by hand, or configure a context fallback")
UNMAPPED_ARGUMENTS = Code(
    "MW302", "arguments-not-mapped", W, "a legacy call's arguments cannot be mapped onto the factory's parameters",
    "rewrite the call by hand; the message names the argument")
FACTORY_OBJECT = Code(
    "MW303", "factory-object", W, "a legacy factory object is created; its methods must become factory calls",
    "call the factory with the context directly instead of creating the factory object")
FACTORY_NAME_TAKEN = Code(
    "MW304", "factory-name-taken", W, "the factory's name is bound to something else where the call is",
    "rename the local binding, then rerun")
COROUTINE_EXPECTED = Code(
    "MW305", "coroutine-expected", W, "a legacy async call's coroutine is passed on, but the factory is not async",
    "rewrite the call site by hand (the factory returns the object directly)")
ASYNC_FACTORY_IN_SYNC_CODE = Code(
    "MW306", "async-factory-in-sync-code", W, "the factory is async but the calling code is not",
    "make the caller async or obtain the object elsewhere")
CONTEXT_FALLBACK = Code(
    "MW307", "context-fallback", I, "a singleton access with no context in scope now passes the context fallback "
    "configured for its path", "check that the fallback's context is what this code should run with",
    why="the site was rewritten as configured; listed so a reviewer can check the fallback fits")
FACTORY_NOT_VISIBLE = Code(
    "MW308", "factory-not-visible", W, "the factory's import would not be visible at the call: the calling function "
    "imports the factory itself only after the call or on another path, or the legacy name is imported under a "
    "`global`/`nonlocal` declaration", "import the factory where the call sees it (before the call, at the top of "
    "the function or the module), then rerun")


# callables that take a coroutine: a legacy async factory call passed to them cannot become a sync call
COROUTINE_CONSUMERS = frozenset({"run", "run_until_complete", "create_task", "ensure_future", "gather", "wait_for",
                                 "shield", "run_coroutine_threadsafe", "wait"})


@dataclass
class Callee:
    """What a call's callee stands for (a legacy function, class, class method or factory method)."""

    kind: str  # function | class | class-method | factory-method
    legacy_name: str
    binding: Binding  # the import binding the callee's name resolves to
    via_module: bool  # spelled `m.name` through a module object
    node: ast.expr  # the expression naming the callee (Name, or the Attribute through a module object)
    all_bindings: tuple = ()  # every import binding the name can resolve to (try/except alternatives)
    signature_key: str = ""  # how `Targets.signatures` names it: "f", "Class.__init__", "Name.method"
    spelled: str = ""  # how messages name the call
    tracked: TrackedObject | None = None  # a method call of a factory object kept in a local name


@dataclass
class Arguments:
    """A legacy call's arguments mapped onto the factory's parameters."""

    context: ast.expr | None  # the context the call passes (None: none, or a literal None)
    context_by_keyword: bool
    # the context's place among the arguments the factory takes as they are (`passed`, in the call's order)
    context_position: int
    passed: list[tuple[str, ast.expr]]


class FactoryCallsCommand(Command):
    DESCRIPTION = (
        "Rewrite every legacy way of obtaining an object (zero-argument factory calls, direct instantiation, "
        "Class.get_instance()/create_for_user(ctx), the configured legacy functions, factory objects' methods, "
        "factory objects kept in a local name) to the configured factory: arguments mapped by name onto the "
        "factory's parameters, the context passed or found in scope (a context variable, a parameter annotated "
        "with a context type, `self.<attr>` set once in `__init__`), else the context fallback configured for the "
        "file's path; remove `await` for a sync factory."
    )

    def applies(self, context: FileContext) -> bool:
        return bool(context.config.factory.function)

    def transform(self, context: FileContext) -> None:
        from ..flow import BindingFlow  # with the first file to analyse, not with the registry
        from .factory_scope import ContextFinder, track

        self._known_signatures: dict[tuple[str, str], Signature | None] | None = None  # read once per file
        factory = context.config.factory
        rewritten_uses: set[int] = set()
        touched: dict[int, tuple[Binding, list[CallSite]]] = {}  # the callee's import -> the calls rewritten
        inner_calls: set[int] = set()
        for site in context.facts.calls:
            if isinstance(site.node.func, ast.Attribute) and isinstance(site.node.func.value, ast.Call):
                inner_calls.add(id(site.node.func.value))
        self.finder = ContextFinder(context.config)
        self.flow = BindingFlow()
        calls = sorted(context.facts.calls, key=lambda s: (s.node.lineno, s.node.col_offset))
        # factory objects kept in a local name and used only through factory-method calls: call by call
        objects: dict[int, tuple[TrackedObject, Callee]] = {}
        escapes: dict[int, str] = {}
        methods = frozenset(factory.factory_methods)
        classified: dict[int, Callee | None] = {}  # each call is classified once
        for site in calls:
            if id(site.node) in inner_calls:
                continue
            maker = classified[id(site.node)] = self.classify(context, site)
            if maker is None or maker.kind != "factory-object":
                continue
            tracked, escapes[id(site.node)] = track(site.node, site.scope, methods)
            if tracked is not None:
                objects[id(site.node)] = (tracked, maker)
        method_calls = {id(call): (tracked, maker) for tracked, maker in objects.values() for call in tracked.calls}
        for site in calls:
            if id(site.node) in method_calls:
                tracked, maker = method_calls[id(site.node)]
                tracked.seen.add(id(site.node))
                method = site.node.func.attr
                callee = Callee("factory-method", f"{maker.legacy_name}().{method}", maker.binding, maker.via_module,
                                maker.node, maker.all_bindings, f"{maker.legacy_name}.{method}",
                                f"{tracked.name}.{method}(...)", tracked)
                if self.rewrite(context, site, callee):
                    tracked.rewritten.add(id(site.node))
                    for binding in callee.all_bindings or (callee.binding,):
                        touched.setdefault(id(binding), (binding, []))[1].append(site)
                continue
            callee = classified[id(site.node)] if id(site.node) in classified else self.classify(context, site)
            if callee is None:
                continue
            if callee.kind == "factory-object":
                if id(site.node) not in inner_calls and id(site.node) not in objects:
                    context.edits.report(FACTORY_OBJECT, site.node.lineno, f"{callee.legacy_name}() creates a legacy "
                                         f"factory object{escapes.get(id(site.node), '')}; its create_* calls must "
                                         f"become {factory.function}({factory.context_parameter}) by hand")
                continue
            outcome = self.rewrite(context, site, callee)
            if outcome:
                rewritten_uses.add(id(callee.node if not callee.via_module else callee.node.value))
                for binding in callee.all_bindings or (callee.binding,):
                    touched.setdefault(id(binding), (binding, []))[1].append(site)
        for creation, (tracked, maker) in objects.items():
            if len(tracked.seen) < len(tracked.calls):  # a call the analysis did not reach: the object stays
                context.edits.report(FACTORY_OBJECT, tracked.statement.lineno, f"{maker.legacy_name}() creates a "
                                     f"legacy factory object kept in `{tracked.name}`, used where migrate-ws does not "
                                     f"follow it; its create_* calls must become {factory.function}"
                                     f"({factory.context_parameter}) by hand")
            elif len(tracked.rewritten) == len(tracked.calls):
                context.statements.remove_statement(tracked.statement, f"remove the factory object `{tracked.name}` "
                                                    "(every use became a factory call)", tracked.block)
                rewritten_uses.add(id(maker.node if not maker.via_module else maker.node.value))
                for binding in maker.all_bindings or (maker.binding,):
                    touched.setdefault(id(binding), (binding, []))
        for binding, sites in touched.values():
            self.ensure_factory_import(context, binding, rewritten_uses, sites)

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
            return Callee(kind, binding.imported, binding, False, func, alternatives,
                          self.key_of(kind, binding.imported)) if kind else None
        if not isinstance(func, ast.Attribute):
            return None
        owner = func.value
        if isinstance(owner, ast.Name):
            module_binding = self.module_object(context, owner, site.scope)
            if module_binding is not None:
                kind = self.name_kind(context, func.attr)
                return Callee(kind, func.attr, module_binding, True, func, (), self.key_of(kind, func.attr)) \
                    if kind else None
            binding = self.legacy_import(context, owner, site.scope)
            if binding is not None and binding.imported in factory.classes and func.attr in factory.class_methods:
                return Callee("class-method", f"{binding.imported}.{func.attr}", binding, False, owner,
                              tuple(resolve(site.scope, owner.id)), f"{binding.imported}.{func.attr}",
                              f"{binding.imported}.{func.attr}()")
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
                              maker.node, maker.all_bindings, f"{maker.legacy_name}.{func.attr}")
        return None

    @staticmethod
    def key_of(kind: str | None, name: str) -> str:
        return f"{name}.__init__" if kind == "class" else name

    # ----- arguments ---------------------------------------------------------------
    def legacy_signature(self, context: FileContext, callee: Callee) -> Signature | None:
        """The legacy callable's parameters as the repository defines it: where the call's name comes from;
        for a module that is not in the repository (a deleted legacy module), the canonical module's definition
        of the same name, else of its canonical name. None when not known exactly."""
        targets = context.targets
        if not targets.signatures or not callee.signature_key:
            return None
        known = self._known_signatures
        if known is None:
            known = self._known_signatures = targets.signature_map()
        module = context.names.module_object(callee.binding) if callee.via_module else callee.binding.module
        if (module, callee.signature_key) in known:
            return known[(module, callee.signature_key)]
        canonical = context.config.canonical_module
        if (canonical, callee.signature_key) in known:
            return known[(canonical, callee.signature_key)]
        head, dot, rest = callee.signature_key.partition(".")
        return known.get((canonical, context.config.canonical_name_for(head) + dot + rest))

    def accepted(self, context: FileContext) -> tuple[str, ...]:
        """The keyword arguments the factory takes: configured, else read from the canonical module."""
        factory = context.config.factory
        if factory.parameters is not None:
            return factory.parameters
        if context.targets.factory_signature is not None:
            return context.targets.factory_signature.keywords
        return (factory.context_parameter,)

    def map_arguments(self, context: FileContext, call: ast.Call, callee: Callee) -> tuple[Arguments | None, str]:
        """The call's arguments by the legacy callable's parameter names, onto the factory's; or why not."""
        factory = context.config.factory
        signature = self.legacy_signature(context, callee)
        named: list[tuple[str, ast.expr, bool]] = []
        for position, argument in enumerate(call.args):
            if isinstance(argument, ast.Starred):
                return None, f"its `*{ast.unparse(argument.value)}` argument cannot be matched to parameters"
            if signature is not None and position < len(signature.positional):
                named.append((signature.positional[position], argument, False))
            elif signature is None and position == 0 and callee.kind != "class":
                named.append((factory.context_parameter, argument, False))
            else:
                return None, f"its positional argument {position + 1} ({_short(argument)}) has no parameter name"
        for keyword in call.keywords:
            if keyword.arg is None:
                return None, f"its `**{ast.unparse(keyword.value)}` argument cannot be matched to parameters"
            named.append((keyword.arg, keyword.value, True))
        accepted = self.accepted(context)
        arguments = Arguments(None, False, 0, [])
        seen: set[str] = set()
        for name, value, by_keyword in named:
            if name in seen:
                return None, f"it passes `{name}` twice"
            seen.add(name)
            if name == factory.context_parameter:
                arguments.context, arguments.context_by_keyword = value, by_keyword
                arguments.context_position = len(arguments.passed)
            elif name in accepted:
                arguments.passed.append((name, value))
            else:
                return None, f"its argument `{name}` has no place in {factory.function}({', '.join(accepted)})"
        return arguments, ""

    # ----- the context -------------------------------------------------------------
    def context_in_scope(self, context: FileContext, site: CallSite) -> tuple[str | None, str]:
        """The context to pass when the call passes none: a context variable, a parameter annotated with a
        context type, `self.<attr>` set once from one; or None and why not."""
        factory = context.config.factory
        unbound = ""
        for name in factory.context_variables:
            bindings = resolve(site.scope, name)
            if bindings and all(b.scope.kind != "class" for b in bindings):
                # a context assigned further down, or only on some paths, is not bound at this call yet
                if self.flow.bound_at(site.scope, site.node, name, bindings[0].scope):
                    return name, ""
                lines = ", ".join(str(line) for line in sorted({b.line for b in bindings if b.line})[:3])
                unbound = unbound or (f"{name} is not bound on every path to this call (bound at line {lines}: "
                                      "after it, or only on some paths)")
        found = self.finder.find(site.scope)
        if found.expression is not None:
            return found.expression, ""
        reason = unbound or f"no {' or '.join(factory.context_variables)} in scope"
        return None, f"{reason} ({found.how})" if found.how else reason

    def fallback(self, context: FileContext, site: CallSite,
                 callee: Callee) -> tuple[ContextFallback | None, bool, str]:
        """The context fallback configured for this file, whether its import must be added, or why it cannot
        be used here."""
        from .factory_scope import Fallbacks

        fallback = Fallbacks.for_path(context.config, context.path)
        if fallback is None:
            return None, False, ""
        bindings = resolve(site.scope, fallback.name)
        if not bindings:
            return fallback, True, ""
        if all(b.kind == "import-name" and b.module == fallback.module and b.imported == fallback.name
               for b in bindings):
            if self.flow.bound_at(site.scope, site.node, fallback.name, bindings[0].scope):
                return fallback, False, ""
            later = self.bound_later(site, callee, fallback.name)
            if later is None:
                return fallback, True, ""  # imported again next to the callee's import, which the call sees
            return None, False, (f"the context fallback for \"{fallback.pattern}\" needs {fallback.name}, which the "
                                 f"calling function imports only at line {later}")
        where = f" (line {bindings[0].line})" if bindings[0].line else ""
        return None, False, (f"the context fallback for \"{fallback.pattern}\" needs {fallback.name}, which is "
                             f"bound to something else here{where}")

    # ----- rewriting ---------------------------------------------------------------
    def rewrite(self, context: FileContext, site: CallSite, callee: Callee) -> bool:
        factory = context.config.factory
        call = site.node
        spelled = callee.spelled or f"{callee.legacy_name}(...)"
        if callee.kind == "function" and callee.legacy_name == factory.function:
            given = [*call.args[:1], *(k.value for k in call.keywords if k.arg == factory.context_parameter)]
            if given and not (isinstance(given[0], ast.Constant) and given[0].value is None):
                return False  # already the factory with a context
        arguments, problem = self.map_arguments(context, call, callee)
        if arguments is None:
            object_note = f"; the factory object `{callee.tracked.name}` stays for it" if callee.tracked else ""
            context.edits.report(UNMAPPED_ARGUMENTS, call.lineno, f"{spelled}: {problem}; kept as is (rewrite it "
                                 f"as a {factory.function} call by hand){object_note}")
            return False
        supplied = arguments.context
        if supplied is not None and isinstance(supplied, ast.Constant) and supplied.value is None:
            supplied = None
        fallback: ContextFallback | None = None
        needs_import = False
        reason = ""
        if supplied is not None:
            start, end = context.span(supplied)
            argument = context.text[start:end]
        else:
            argument, reason = self.context_in_scope(context, site)
            if argument is None:
                fallback, needs_import, unusable = self.fallback(context, site, callee)
                if fallback is not None:
                    argument = fallback.expression
                elif unusable:
                    reason = f"{reason}; {unusable}"
            if argument is None:
                context.edits.report(NO_CONTEXT, call.lineno, f"{spelled}: {reason}; kept as is (pass the caller's "
                                     f"context to {factory.function} by hand)")
                if context.targets.todo_comments:
                    self.todo_comment(context, site, f"{spelled} needs the user's context: use "
                                      f"{factory.function}(<user context>)")
                return False
        if not self.factory_name_available(context, site, callee):
            other = next((b for b in resolve(site.scope, factory.function)), None)
            where = f" (bound at line {other.line})" if other is not None else ""
            context.edits.report(FACTORY_NAME_TAKEN, call.lineno, f"{spelled}: {factory.function} is bound to something "
                                 f"else here{where}; kept as is")
            return False
        later = None if callee.via_module else self.bound_later(site, callee, factory.function)
        if later is not None:
            context.edits.report(FACTORY_NOT_VISIBLE, call.lineno, f"{spelled}: {factory.function} is imported in the "
                                 f"calling function only at line {later} (after this call, or on another path), so "
                                 "the rewritten call would not see it; kept as is")
            return False
        declarations = [] if callee.via_module else [context.names.declared_elsewhere(b)
                                                     for b in callee.all_bindings or (callee.binding,)]
        declared = next((line for line in declarations if line is not None), None)
        if declared is not None:
            context.edits.report(FACTORY_NOT_VISIBLE, call.lineno, f"{spelled}: {callee.binding.name} is imported "
                                 f"under the `global`/`nonlocal` declaration at line {declared}; the factory's import "
                                 "there would bind it in that function only; kept as is")
            return False
        outer = context.facts.argument_of.get(id(call), "")
        if site.awaited is None and not factory.is_async and outer.rsplit(".", 1)[-1] in COROUTINE_CONSUMERS:
            context.edits.report(COROUTINE_EXPECTED, call.lineno, f"{spelled}: its coroutine is passed to {outer}(...), "
                                 f"but {factory.function} is not async; kept as is")
            return False
        replacement = f"{self.function_text(context, callee)}({self.arguments_text(context, arguments, argument)})"
        target = call
        if site.awaited is not None and not factory.is_async:
            target = site.awaited
        elif factory.is_async and site.awaited is None:
            if not self.in_async_function(site.scope):
                context.edits.report(ASYNC_FACTORY_IN_SYNC_CODE, call.lineno, f"{spelled}: the factory is async but "
                                     "this code is not; kept as is")
                return False
            replacement = f"await {replacement}"
        start, end = context.span(target)
        if context.text[start:end] == replacement:
            return False
        context.edits.replace(start, end, replacement, f"{spelled} -> {factory.function}({argument})")
        if fallback is not None:
            context.edits.report(CONTEXT_FALLBACK, call.lineno, f"{spelled}: {reason}; passes {fallback.expression}, "
                                 f"the context fallback for \"{fallback.pattern}\"")
            if needs_import:
                self.import_fallback(context, callee, fallback)
        return True

    def function_text(self, context: FileContext, callee: Callee) -> str:
        function = context.config.factory.function
        if callee.via_module:
            owner = callee.node.value if isinstance(callee.node, ast.Attribute) else callee.node
            return f"{owner.id}.{function}"
        return function

    def arguments_text(self, context: FileContext, arguments: Arguments, argument: str) -> str:
        """The arguments in the call's order (evaluated in the same order), the ones passed through by their
        names; the context by position where it comes first and the factory takes it first, else by the
        factory's name for it."""
        factory = context.config.factory
        signature = context.targets.factory_signature
        # by position unless the factory's source shows the context is not its first parameter
        first = signature is None or factory.context_parameter not in signature.keywords \
            or signature.positional[:1] == (factory.context_parameter,)
        parts = []
        for name, value in arguments.passed:
            start, end = context.span(value)
            parts.append(f"{name}={context.text[start:end]}")
        position = arguments.context_position if arguments.context is not None else 0
        by_keyword = arguments.context_by_keyword or not first or position > 0
        parts.insert(position, f"{factory.context_parameter}={argument}" if by_keyword else argument)
        return ", ".join(parts)

    def import_fallback(self, context: FileContext, callee: Callee, fallback: ContextFallback) -> None:
        """Import the fallback's name next to where the callee was imported (merged into that statement when it
        imports from the same module after the rewrite)."""
        for binding in callee.all_bindings or (callee.binding,):
            if binding.statement is not None and binding.kind in ("import-name", "import-module"):
                context.statements.add_import_near(binding.statement, fallback.module, AliasSpec(fallback.name, None))

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

    def bound_later(self, site: CallSite, callee: Callee, name: str) -> int | None:
        """The line of a binding of `name` (the factory, or a fallback's name) when the call's own function binds
        it, so the call would read that binding and not an import put next to the callee's, but not before the
        call on every path; None when an import next to the callee's import is one the call would see."""
        bindings = resolve(site.scope, name)
        if not bindings:
            return None
        where = bindings[0].scope
        callee_scopes = {id(b.scope) for b in callee.all_bindings or (callee.binding,)}
        for scope in scope_chain(site.scope):
            if id(scope) in callee_scopes:
                return None  # the factory's import goes next to the callee's, in this scope or a nearer one
            if scope is where:
                break
        if self.flow.bound_at(site.scope, site.node, name, where):
            return None
        return min(b.line for b in bindings)

    def factory_in_place(self, context: FileContext, binding: Binding, sites: list[CallSite]) -> bool:
        """Whether an import of the factory in the callee's scope is already there and certainly in place at every
        rewritten call (so the callee's import can go instead of becoming the factory's)."""
        function = context.config.factory.function
        for site in sites:
            bindings = resolve(site.scope, function)
            if not bindings or bindings[0].scope is not binding.scope \
                    or not self.flow.bound_at(site.scope, site.node, function, bindings[0].scope):
                return False
        return bool(sites)

    def ensure_factory_import(self, context: FileContext, binding: Binding, rewritten: set[int],
                              sites: list[CallSite]) -> None:
        """Import the factory where the legacy callee was imported; drop the callee if nothing else uses it
        (nor the module's `__all__`) and another import of the factory is certainly in place at every call."""
        config = context.config
        function = config.factory.function
        if context.names.module_object(binding) is not None:
            return
        remaining = [u for u in context.names.uses_of(binding) if id(u.node) not in rewritten]
        exported = binding.scope.kind == "module" and any(value == binding.name
                                                          for _, value in context.facts.all_entries)
        if binding.name == function:
            if not remaining:
                context.statements.rebind(binding, AliasSpec(function, None), config.canonical_module,
                                          f"import {function} instead of {binding.imported}")
            return
        in_place = self.factory_in_place(context, binding, sites)
        if not remaining and not exported:
            if binding.scope.kind == "module":
                context.renamed_exports[binding.name] = function
            if in_place:
                context.statements.rebind(binding, None, None, f"drop {binding.imported}")
            else:
                context.statements.rebind(binding, AliasSpec(function, None), config.canonical_module,
                                          f"import {function} instead of {binding.imported}")
            return
        if not in_place and binding.statement is not None:
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


def _names(config) -> set[str]:
    """What the analysis follows for this step: the callables, the context variables, the factory methods (so
    a factory object's method calls are seen), and the names the context fallbacks import."""
    factory = config.factory
    return {*_factory_words(config), *factory.context_variables, *factory.factory_methods,
            *(fallback.name for fallback in factory.context_fallbacks)}


def _short(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


STEP = Step(
    name="factory",
    title="Replace legacy constructors and singleton access with {factory}({context})",
    description=FactoryCallsCommand.DESCRIPTION,
    command=FactoryCallsCommand,
    names=_names,
    prefilter_words=lambda config: _factory_words(config),
    applies=lambda config: config.factory != FactoryConfig(),  # a [factory] table, whatever it holds
    examples=EXAMPLES / "factory",
    codes=(NO_CONTEXT, UNMAPPED_ARGUMENTS, FACTORY_OBJECT, FACTORY_NAME_TAKEN, COROUTINE_EXPECTED,
           ASYNC_FACTORY_IN_SYNC_CODE, CONTEXT_FALLBACK, FACTORY_NOT_VISIBLE),
    options=(
        Option("factory", "a table: singleton access and legacy constructors become factory(context) (this step)"),
        Option("factory.function", "the factory's name"),
        Option("factory.context-parameter", "required with `function`: the factory's context argument"),
        Option("factory.context-variables", "names of a context in scope (default: `context-parameter`)"),
        Option("factory.async", "the factory is async (default: false)"),
        Option("factory.functions", "legacy callables (by legacy name) whose call returns the object: the call becomes a "
                                    "factory call"),
        Option("factory.classes", "classes whose direct instantiation, or call of one of `class-methods`, is a singleton "
                                  "access"),
        Option("factory.class-methods", "class methods of `classes` (`get_instance`) whose call is a singleton access"),
        Option("factory.factory-objects", "legacy factory classes or functions returning one: an object of theirs followed "
                                          "by one of `factory-methods` becomes a factory call"),
        Option("factory.factory-methods", "the methods of `factory-objects` that return the object"),
        Option("factory.context-types", "type names: a parameter annotated with one of these is a context (and `self.<attr>` "
                                        "assigned once from one in `__init__`)"),
        Option("factory.parameters", "the factory's keyword parameters (default: read from its source)"),
        Option("factory.context-fallbacks", "an ordered table of gitignore-style pattern = { expression, import }: "
                                            "what to pass where no context is in scope"),
        Option("factory.context-fallbacks.<pattern>.expression",
               "a name or dotted name, or a call of one whose arguments are literals"),
        Option("factory.context-fallbacks.<pattern>.import", "the module the expression's one name is imported from"),
    ),
)
