"""Step `canonical`: bind the canonical name and its aliases, in the canonical module, to the one implementation."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..resolution import module_level_bindings
from ..findings import Code, Severity
from ..steps import Option, Step
from . import EXAMPLES
from .base import Command

if TYPE_CHECKING:
    from ..context import FileContext

# The finding codes only this step reports (the table: migrate_ws.findings.CODES).
W, I = Severity.WARNING, Severity.INFO
IMPLEMENTATION_NOT_BOUND = Code(
    "MW501", "implementation-not-bound", W, "the canonical module does not bind the configured implementation",
    "import the implementation into the canonical module, or fix `implementation` in the configuration")
CONDITIONAL_BINDING = Code(
    "MW502", "conditional-binding", W, "a canonical name is bound inside a conditional block and cannot be rebound",
    "rebind it to the implementation by hand")
SHADOWED_DEFINITION = Code(
    "MW503", "shadowed-definition", I, "a definition in the canonical module is now shadowed by the implementation",
    "remove it once nothing refers to it",
    why="the change is made; the leftover definition is harmless dead code")


def bound_to(statement: ast.stmt, name: str) -> str | None:
    """What a top-level statement binds `name` to: another local name, or None for a definition."""
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and isinstance(statement.value, ast.Name):
        return statement.value.id
    if isinstance(statement, ast.ImportFrom):
        for alias in statement.names:
            if (alias.asname or alias.name) == name:
                return f"{statement.module}:{alias.name}"
    return None


class RebindCanonicalCommand(Command):
    DESCRIPTION = (
        "In the canonical module, bind the canonical name and every alias to the configured implementation, "
        "right after each name's last top-level binding, so that collapsing aliases keeps behaviour."
    )

    def applies(self, context: FileContext) -> bool:
        config = context.config
        return config.implementation is not None and context.facts.module == config.canonical_module

    def transform(self, context: FileContext) -> None:
        config = context.config
        implementation = config.implementation_name
        assert implementation is not None
        tree = context.facts.tree
        bindings = module_level_bindings(tree)
        local_implementation = self.local_name_of_implementation(context, bindings)
        if local_implementation is None:
            context.edits.report(IMPLEMENTATION_NOT_BOUND, 1, f"{config.canonical_module} does not bind "
                                 f"{config.implementation}; cannot rebind the canonical name to it")
            return
        # canonical names first: an alias assigned from a canonical name after its rebinding follows it
        names = sorted(set(config.aliases.values())) + sorted(set(config.aliases) - set(config.aliases.values()))
        rebound: dict[str, int] = {}
        for name in names:
            statements = bindings.get(name)
            if not statements or name == local_implementation:
                continue
            if self.resolves_to(bindings, name, local_implementation, set(), rebound):
                continue
            last = max(statements, key=lambda s: (s.end_lineno, s.end_col_offset))
            rebound[name] = last.end_lineno
            if last not in tree.body:
                context.edits.report(CONDITIONAL_BINDING, last.lineno, f"{name} is bound inside a conditional block; "
                                     f"rebind it to {local_implementation} by hand")
                continue
            index = context.facts.index
            line_end = index.starts[last.end_lineno - 1] + len(index.line_text(last.end_lineno))
            newline = context.edits.newline_at(last.end_lineno)
            text = context.text[:line_end]
            prefix = "" if text.endswith(("\n", "\r")) else newline
            # PEP 8: two blank lines after a top-level class or function
            separator = newline * 2 if isinstance(last, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) else ""
            context.edits.replace(line_end, line_end, f"{prefix}{separator}{name} = {local_implementation}{newline}",
                                  f"bind {name} to {config.implementation}")
            if isinstance(last, ast.ClassDef):
                context.edits.report(SHADOWED_DEFINITION, last.lineno, f"class {name} is now shadowed by "
                                     f"{local_implementation}; remove it once nothing refers to it")

    def local_name_of_implementation(self, context: FileContext, bindings: dict[str, list[ast.stmt]]) -> str | None:
        config = context.config
        module, name = config.implementation_module, config.implementation_name
        if module == config.canonical_module and name in bindings:
            return name
        for local, statements in bindings.items():
            for statement in statements:
                if isinstance(statement, ast.ImportFrom):
                    from ..analysis import resolve_relative

                    source = resolve_relative(context.facts.module, context.facts.is_package, statement.level, statement.module)
                    for alias in statement.names:
                        if source == module and alias.name == name and (alias.asname or alias.name) == local:
                            return local
        return None

    def resolves_to(self, bindings: dict[str, list[ast.stmt]], name: str, implementation: str, seen: set[str],
                    rebound: dict[str, int], before_line: int | None = None) -> bool:
        if name == implementation:
            return True
        if name in rebound and (before_line is None or rebound[name] < before_line):
            return True
        if name in seen or name not in bindings:
            return False
        seen.add(name)
        last = max(bindings[name], key=lambda s: (s.end_lineno, s.end_col_offset))
        value = bound_to(last, name)
        return value is not None and ":" not in value and \
            self.resolves_to(bindings, value, implementation, seen, rebound, last.lineno)


STEP = Step(
    name="canonical",
    title="Bind the canonical names and their aliases to {implementation}",
    description=RebindCanonicalCommand.DESCRIPTION,
    command=RebindCanonicalCommand,
    names=lambda config: set(config.aliases) | set(config.aliases.values()),
    examples=EXAMPLES / "canonical",
    canonical_module=True,
    foundation=True,
    applies=lambda config: config.implementation is not None,  # nothing to bind to without one
    codes=(IMPLEMENTATION_NOT_BOUND, CONDITIONAL_BINDING, SHADOWED_DEFINITION),
    options=(
        Option("implementation", "module.Name: rebind the canonical names and their aliases to it first (this step)"),
    ),
)
