"""Step `aliases`: collapse configured aliases to their canonical names, scope-aware."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..analysis import Binding, Scope, attribute_node, resolve
from ..findings import Code, Severity
from ..model import AliasSpec
from ..scopes import scope_chain
from ..steps import Option, Step
from . import EXAMPLES
from .base import Command

if TYPE_CHECKING:
    from ..context import FileContext

# The finding codes only this step reports (the table: migrate_ws.findings.CODES).
W = Severity.WARNING
ALIAS_KEPT = Code(
    "MW201", "alias-kept", W, "a legacy alias could not be collapsed to the canonical name safely",
    "rename it by hand once the reason given no longer holds")


class CollapseAliasesCommand(Command):
    DESCRIPTION = (
        "Rename a legacy alias bound from a legacy path or the canonical module to the canonical name, "
        "with its uses (calls, annotations, string annotations, isinstance, bases, Mock(spec=...), __all__); "
        "`X = Alias` assignments that become `X = X` are removed."
    )

    def transform(self, context: FileContext) -> None:
        if not context.targets.collapse_allowed:
            return
        config = context.config
        groups: dict[tuple[int, str], tuple[Scope, str, str]] = {}
        for binding in context.facts.bindings:
            target = context.names.target_of_binding(binding)
            if binding.kind == "import-name" and target is not None:
                self.collapse_imported_name(context, binding, target)
            module_path = context.names.module_object(binding)
            if module_path is not None:
                self.collapse_attributes(context, binding)
            if target is None or binding.name == target or binding.name not in config.aliases:
                continue
            if config.aliases[binding.name] != target:
                continue
            groups.setdefault((id(binding.scope), binding.name), (binding.scope, binding.name, target))
        for scope, local, target in groups.values():
            reason = self.blocker(context, scope, local, target)
            if reason is not None:
                line = scope.bindings[local][0].line
                context.edits.report(ALIAS_KEPT, line, f"{local} kept: {reason}")
                continue
            self.rename(context, scope, local, target)
        self.drop_self_assignments(context)

    def collapse_imported_name(self, context: FileContext, binding: Binding, target: str) -> None:
        """`from m import Alias as Local` imports the canonical name when only the imported name is an alias."""
        spec, module = context.statements.current_spec(binding)
        if spec.name == target or target not in context.targets.canonical_exports:
            return
        if spec.name not in context.config.aliases:
            return
        if binding.name in context.config.aliases and context.config.aliases[binding.name] == target:
            return  # the whole local name collapses; handled with the scope
        asname = spec.asname if spec.asname != target else None
        context.statements.rebind(binding, AliasSpec(target, asname), module, f"{spec.name} -> {target}")

    def collapse_attributes(self, context: FileContext, binding: Binding) -> None:
        """`m.Alias` -> `m.Canonical`, only where `m` is (or now becomes) the canonical module."""
        if context.names.module_object(binding) != context.config.canonical_module:
            change = context.statements.change_of(binding)
            if change is None or change.spec is None:
                return  # the legacy module object stays: its attributes keep their legacy names
        exports = context.targets.canonical_exports
        for use in context.names.uses_of(binding):
            if not use.chain or use.chain[0] not in context.config.aliases:
                continue
            target = context.config.aliases[use.chain[0]]
            if target not in exports:
                continue
            if use.context == "getattr-string":
                if use.string_span is not None:
                    context.edits.replace(*use.string_span, target, f"{use.chain[0]} -> {target}")
                continue
            node = attribute_node(use, 1)
            if node is not None:
                context.edits.replace(*context.attribute_span(node), target, f"{node.attr} -> {target}")

    def blocker(self, context: FileContext, scope: Scope, local: str, target: str) -> str | None:
        facts = context.facts
        if target not in context.targets.canonical_exports:
            return f"{context.config.canonical_module} does not export {target}"
        if scope.kind == "module" and facts.module in context.targets.api_modules:
            return f"{facts.module} keeps {local} as public API"
        if scope.dynamic_namespace:
            return "the scope reads its namespace dynamically (globals()/locals()/vars()/exec/eval)"
        if scope.kind == "class":
            return "bound in a class body (an attribute of the class)"
        for binding in scope.bindings.get(local, []):
            if context.names.target_of_binding(binding) != target:
                return f"{local} is also bound at line {binding.line} to something else"
        for binding in scope.bindings.get(target, []):
            if context.names.target_of_binding(binding) != target:
                return f"{target} is already bound at line {binding.line} to a different object"
        for other in facts.scopes:
            if other is scope or scope not in list(scope_chain(other)):
                continue
            if {local, target} & (other.global_names | other.nonlocal_names):
                return "a nested scope declares it global or nonlocal"
        for use in facts.uses:
            if use.name == target and scope in list(scope_chain(use.scope)):
                bindings = resolve(use.scope, target)
                if not bindings or bindings[0].scope is not scope and context.names.target_of_bindings(bindings) != target:
                    if not bindings or all(b.scope is not scope for b in bindings):
                        return f"{target} is used in this scope for a different object (line {use.node.lineno})"
            if use.name == local and use.context == "annotation-string" and use.string_span is None:
                if any(b.scope is scope for b in resolve(use.scope, local)):
                    return f"string annotation at line {use.node.lineno} is too complex to rewrite"
        return None

    def rename(self, context: FileContext, scope: Scope, local: str, target: str) -> None:
        context.renamed[(id(scope), local)] = target
        if scope.kind == "module":
            context.renamed_exports[local] = target
        description = f"{local} -> {target}"
        for binding in scope.bindings.get(local, []):
            if binding.kind == "import-name":
                spec, module = context.statements.current_spec(binding)
                alias = binding.node
                assert isinstance(alias, ast.alias)
                asname = target if alias.asname is not None and alias.asname == alias.name else None
                context.statements.rebind(binding, AliasSpec(target, asname), module, description)
            elif isinstance(binding.node, ast.Name):
                context.edits.replace(*context.span(binding.node), target, description)
        for use in context.facts.uses:
            if use.name != local or not any(b.scope is scope for b in resolve(use.scope, local)):
                continue
            if use.context == "annotation-string":
                if use.string_span is not None:
                    context.edits.replace(*use.string_span, target, description)
                continue
            start, end = context.span(use.node)
            context.edits.replace(start, start + len(local), target, description)
        if scope.kind == "module":
            for node, value in context.facts.all_entries:
                if value == local:
                    span = _literal_content(context, node)
                    if span is not None:
                        context.edits.replace(*span, target, f"__all__: {description}")

    def drop_self_assignments(self, context: FileContext) -> None:
        """`Canonical = Alias` becomes `Canonical = Canonical` after the rename: remove it."""
        for binding in context.facts.bindings:
            if binding.kind != "assign" or binding.value_name is None or binding.statement is None:
                continue
            statement = binding.statement
            if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
                continue
            new_target = context.renamed.get((id(binding.scope), binding.name), binding.name)
            value_bindings = resolve(binding.scope, binding.value_name.id)
            value_scope = value_bindings[0].scope if value_bindings else None
            new_value = binding.value_name.id
            if value_scope is not None:
                new_value = context.renamed.get((id(value_scope), new_value), new_value)
            if new_target == new_value:
                context.statements.remove_statement(statement, f"remove {new_target} = {new_value}")


def _literal_content(context: FileContext, node: ast.Constant) -> tuple[int, int] | None:
    start, end = context.span(node)
    literal = context.text[start:end]
    if node.lineno == node.end_lineno and literal in (f'"{node.value}"', f"'{node.value}'"):
        return start + 1, end - 1
    return None


STEP = Step(
    name="aliases",
    title="Collapse legacy aliases to their canonical names",
    description=CollapseAliasesCommand.DESCRIPTION,
    command=CollapseAliasesCommand,
    names=lambda config: set(config.aliases) | set(config.aliases.values()),
    applies=lambda config: bool(config.aliases),
    examples=EXAMPLES / "aliases",
    codes=(ALIAS_KEPT,),
    options=(
        Option("aliases", "a table of Alias = \"CanonicalName\": other spellings of a canonical name, collapsed to "
                          "it (this step)"),
    ),
)
