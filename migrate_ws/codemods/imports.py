"""Step `imports`: move every import of a configured legacy path to the canonical module."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..analysis import Binding, Use, attribute_node, resolve
from ..findings import (LEGACY_LAYOUT_TEST, MODULE_UNUSED, NOT_EXPORTED, STRING_NOT_LITERAL, UNMAPPED_NAME, Code,
                       Severity)
from ..legacy_paths import LegacyPaths
from ..model import AliasSpec
from ..steps import Step
from . import EXAMPLES
from .base import Command

if TYPE_CHECKING:
    from ..context import FileContext

# The finding codes only this step reports (the table: migrate_ws.findings.CODES).
W = Severity.WARNING
STAR_IMPORT = Code(
    "MW103", "star-import", W, "a star import from a legacy module: what it binds cannot be known statically",
    "replace it with explicit imports from the canonical module")
MODULE_AS_VALUE = Code(
    "MW104", "module-object-as-value", W, "a legacy module object is used as a value, not only through attributes",
    "import the names it needs from the canonical module instead of passing the module around")
MODULE_ATTRIBUTE_UNMAPPED = Code(
    "MW105", "module-attribute-unmapped", W, "an attribute of a legacy module object that has no canonical counterpart",
    "use the attribute from the module that defines it; the module import is left unchanged until then")
UNBOUND_NAME = Code(
    "MW107", "unbound-name", W, "a legacy name is used but never imported or defined in the file",
    "import it from the canonical module (it may be injected at run time)")
CANONICAL_ROOT_TAKEN = Code(
    "MW111", "canonical-root-taken", W, "`import a.legacy` would become `import <canonical>`, whose first name the "
    "file binds to something else (or the function reads before the import)",
    "rename the other binding of that name, or import the canonical module by hand")


def exported_name(context: FileContext, legacy_name: str, via_legacy_module: bool) -> str | None:
    """The name to import from the canonical module for a legacy name, or None when it has none."""
    exports = context.targets.canonical_exports
    if via_legacy_module and legacy_name in exports:
        return legacy_name
    target = context.config.canonical_name_for(legacy_name)
    if target in exports:
        return target
    return None


class MoveImportsCommand(Command):
    DESCRIPTION = (
        "Rewrite `from <legacy> import Name`, module-object imports and their `m.Name` uses to the "
        "canonical module; split statements that mix legacy and unrelated names."
    )

    def transform(self, context: FileContext) -> None:
        from ..flow import BindingFlow  # loaded with the first file to analyse, not with the registry

        config = context.config
        self.flow = BindingFlow()
        self._root_bindings: dict[str, int | None] = {}
        for binding in context.facts.bindings:
            if binding.guard and self.names_legacy_path(context, binding):
                context.edits.report(LEGACY_LAYOUT_TEST, binding.line,
                                     f"test asserts the legacy layout ({binding.guard}); not edited")
                continue
            if binding.kind == "star":
                if binding.module in config.legacy_modules:
                    context.edits.report(STAR_IMPORT, binding.line, f"star import from legacy module {binding.module}: "
                                         "the names it provides cannot be resolved statically; import them from "
                                         f"{config.canonical_module}")
                continue
            if binding.kind not in ("import-name", "import-module"):
                continue
            module_path = context.names.module_object(binding)
            if module_path is not None:
                if module_path != config.canonical_module:
                    self.module_object(context, binding, module_path)
                continue
            if binding.kind == "import-module" and binding.bound_path is not None:
                self.dotted_module(context, binding)
                continue
            if binding.kind != "import-name":
                continue
            self.from_import(context, binding)
        self.unbound_names(context)

    def unbound_names(self, context: FileContext) -> None:
        """A legacy name used without any binding in the file (injected at run time, or a bug)."""
        import builtins

        names = context.config.legacy_names | set(context.config.aliases.values())
        reported: set[str] = set()
        for use in context.facts.uses:
            if use.name in reported or use.name not in names or hasattr(builtins, use.name):
                continue
            if use.context != "load" or resolve(use.scope, use.name):
                continue
            reported.add(use.name)
            context.edits.report(UNBOUND_NAME, use.node.lineno, f"{use.name} is used but never imported or defined "
                                 "in this file (bound at run time?); not rewritten")

    def names_legacy_path(self, context: FileContext, binding: Binding) -> bool:
        config = context.config
        module = binding.module or ""
        if binding.imported and f"{module}.{binding.imported}" in config.legacy_modules:
            return True
        # `from pkg import handlers` names another module below a legacy package, not the package
        return module in config.legacy_modules and (
            not binding.imported or LegacyPaths.of(context.targets).carries(module, binding.imported))

    def from_import(self, context: FileContext, binding: Binding) -> None:
        config = context.config
        target = context.names.legacy_target(binding)
        legacy = config.legacy_modules.get(binding.module or "")
        if target is None:
            if legacy is not None and legacy.retire and binding.imported not in legacy.names:
                context.edits.report(UNMAPPED_NAME, binding.line, f"{binding.imported} is imported from legacy module "
                                     f"{binding.module}, which the configuration does not map to the canonical module; "
                                     "left as is", binding)
            elif legacy is None and binding.module != config.canonical_module and binding.imported in config.legacy_names:
                context.depends_on.add((binding.module or "", binding.imported or ""))
            return
        if not context.names.is_legacy_path(binding):
            return
        assert binding.imported is not None
        name = exported_name(context, binding.imported, legacy is not None)
        if name is None:
            context.edits.report(NOT_EXPORTED, binding.line, f"{config.canonical_module} does not export {target} "
                                 f"(imported as {binding.imported} from {binding.module}); import left unchanged", binding)
            return
        alias = binding.node
        assert isinstance(alias, ast.alias)
        keeps_as = alias.asname is not None and (alias.asname == alias.name or alias.asname != name)
        spec = AliasSpec(name, binding.name if keeps_as else None)
        if spec.asname is None and binding.name != name:
            spec = AliasSpec(name, binding.name)
        context.statements.rebind(binding, spec, config.canonical_module,
                                  f"import {binding.imported} from {config.canonical_module} instead of {binding.module}")

    def module_object(self, context: FileContext, binding: Binding, module_path: str) -> None:
        config = context.config
        legacy = config.legacy_modules[module_path]
        renames: list[tuple[Use, str]] = []
        uses = context.names.uses_of(binding)
        paths = LegacyPaths.of(context.targets)
        if uses and paths.is_package(module_path) and not any(
                paths.package_use(module_path, None if use.escapes else use.chain) for use in uses):
            return  # only other modules below the legacy package are used through it
        if not uses:
            if legacy.retire:
                context.edits.report(MODULE_UNUSED, binding.line, f"legacy module {module_path} is imported but none "
                                     "of its names are used here (imported for its side effects?); left unchanged")
            return
        for use in uses:
            if use.escapes or not use.chain:
                context.edits.report(MODULE_AS_VALUE, use.node.lineno, f"module object {binding.name} ({module_path}) "
                                     "is used as a value; its import was left unchanged")
                return
            attribute = use.chain[0]
            if attribute not in legacy.names:
                context.edits.report(MODULE_ATTRIBUTE_UNMAPPED, use.node.lineno, f"{binding.name}.{attribute}: "
                                     f"{module_path} carries {attribute}, which the configuration does not map; "
                                     "module import left unchanged")
                return
            name = exported_name(context, attribute, True)
            if name is None:
                context.edits.report(NOT_EXPORTED, use.node.lineno, f"{config.canonical_module} does not export "
                                     f"{config.canonical_name_for(attribute)}; module import left unchanged")
                return
            renames.append((use, name))
        statement = binding.statement
        parent, _, tail = config.canonical_module.rpartition(".")
        if isinstance(statement, ast.Import) and "." not in module_path:
            # `import m` / `import m as n` of a top-level module binds that one name: the canonical module is
            # bound to the same name, at the same place (pyupgrade's `import mock` -> `from unittest import mock`)
            alias = binding.node
            assert isinstance(alias, ast.alias)
            # `import m as m` is a re-export: `from p import m as m` keeps saying so
            explicit = bool(parent) and alias.asname is not None and alias.asname == alias.name
            spec = AliasSpec(tail, binding.name if binding.name != tail or explicit else None)
            context.statements.rebind(binding, spec, parent or None, f"import {config.canonical_module} as "
                                      f"{binding.name} instead of {module_path}")
        elif isinstance(statement, ast.Import):
            spec = AliasSpec(config.canonical_module, binding.name)
            context.statements.rebind(binding, spec, None, f"import {config.canonical_module} instead of {module_path}")
        else:
            spec = AliasSpec(tail, binding.name if binding.name != tail else None)
            context.statements.rebind(binding, spec, parent, f"import {config.canonical_module} instead of {module_path}")
        for use, name in renames:
            self.rename_attribute(context, use, 1, name)

    def rename_attribute(self, context: FileContext, use: Use, depth: int, name: str) -> None:
        if use.context == "getattr-string":
            if use.string_span is None:
                context.edits.report(STRING_NOT_LITERAL, use.node.lineno,
                                     f"getattr string for {use.chain[0]} could not be rewritten")
                return
            context.edits.replace(*use.string_span, name, f"{use.chain[0]} -> {name}")
            return
        node = attribute_node(use, depth)
        if node is None or node.attr == name:
            return
        start, end = context.attribute_span(node)
        context.edits.replace(start, end, name, f"{node.attr} -> {name}")

    def dotted_module(self, context: FileContext, binding: Binding) -> None:
        """`import a.b.legacy` binds `a`; its uses spell the whole path `a.b.legacy.Name`."""
        config = context.config
        path = binding.module or ""
        legacy = config.legacy_modules.get(path)
        if legacy is None:
            return
        depth = len(path.split(".")) - 1
        sites: list[tuple[Use, str]] = []
        paths = LegacyPaths.of(context.targets)
        other_modules = False  # uses of other modules below a legacy package
        others: list[Use] = []  # uses of the root name that do not go through the legacy module
        for use in context.names.uses_of(binding):
            if [binding.name, *use.chain[:depth]] != path.split("."):
                others.append(use)
                continue
            if len(use.chain) > depth and not paths.carries(path, use.chain[depth]):
                other_modules = True
                continue
            if len(use.chain) <= depth:
                context.edits.report(MODULE_AS_VALUE, use.node.lineno,
                                     f"legacy module {path} is used as a value; import left unchanged")
                return
            attribute = use.chain[depth]
            name = exported_name(context, attribute, True) if attribute in legacy.names else None
            if name is None:
                context.edits.report(MODULE_ATTRIBUTE_UNMAPPED, use.node.lineno, f"{path}.{attribute} has no "
                                     f"counterpart in {config.canonical_module}; import left unchanged")
                return
            sites.append((use, name))
        if not sites and other_modules:
            return
        if not sites:
            context.edits.report(MODULE_UNUSED, binding.line, f"import of legacy module {path} without any use of "
                                 "its names (imported for its side effects?); left unchanged")
            return
        root = config.canonical_module.split(".")[0]
        if root != binding.name:
            # the imports of the same module that bind the same name share its uses: all of them move, or none
            siblings = [b for b in binding.scope.bindings.get(binding.name, [])
                        if b.kind == "import-module" and b.module == path]
            for sibling in sorted(siblings, key=lambda b: b is not binding):
                taken = self.root_taken(context, sibling, root)
                if taken is None:
                    continue
                if sibling is binding:
                    context.edits.report(CANONICAL_ROOT_TAKEN, binding.line, f"import {config.canonical_module} "
                                         f"instead of {path} would bind {root}, which {taken}; import left unchanged")
                else:
                    context.edits.report(CANONICAL_ROOT_TAKEN, binding.line, f"the import of {path} at line "
                                         f"{sibling.line} shares this one's uses and cannot move ({root} {taken}); "
                                         "import left unchanged")
                return
        if other_modules:
            # uses of the legacy package's other modules need `import a.b.legacy` itself: it stays
            assert binding.statement is not None
            context.statements.add_import_near(binding.statement, None, AliasSpec(config.canonical_module, None))
        elif root != binding.name and (binding.scope.kind == "class" or
                                       not all(self.root_bound_otherwise(context, binding, use) for use in others)):
            # `import a.b` binds `a` for every other use of it here too: that binding stays
            context.statements.rebind(binding, AliasSpec(binding.name, None), None,
                                      f"import {binding.name} (used here for more than {path}) and "
                                      f"{config.canonical_module} instead of {path}")
            assert binding.statement is not None
            context.statements.add_import_near(binding.statement, None, AliasSpec(config.canonical_module, None))
        else:
            context.statements.rebind(binding, AliasSpec(config.canonical_module, None), None,
                                      f"import {config.canonical_module} instead of {path}")
        for use, name in sites:
            node = attribute_node(use, depth)
            if node is None:
                continue
            start, _ = context.span(node)
            _, end = context.attribute_span(node)
            context.edits.replace(start, end, config.canonical_module, f"{path} -> {config.canonical_module}")
            attribute = attribute_node(use, depth + 1)
            if attribute is not None and attribute.attr != name:
                context.edits.replace(*context.attribute_span(attribute), name, f"{attribute.attr} -> {name}")

    def root_bound_otherwise(self, context: FileContext, binding: Binding, use: Use) -> bool:
        """Whether another import binds the root name for this use, certainly (not a legacy module's import,
        which the step changes too)."""
        config = context.config
        legacy = [b.statement for b in context.facts.bindings if b.kind == "import-module" and b.name == binding.name
                  and b.bound_path is not None and b.module in config.legacy_modules and b.statement is not None]
        bindings = resolve(use.scope, binding.name)
        if not bindings or all(any(b.statement is s for s in legacy) for b in bindings):
            return False
        return self.flow.bound_at(use.scope, use.node, binding.name, bindings[0].scope, ignore=legacy)

    def root_taken(self, context: FileContext, binding: Binding, root: str) -> str | None:
        """Why `import <canonical>` cannot bind the canonical module's root name where `binding` is (None: it
        can): the file binds that name to something else, or reads it in the same function before the import."""
        import builtins

        if hasattr(builtins, root):
            return "is a builtin name"
        declared = context.names.declared_elsewhere(binding)
        if declared is not None:
            return (f"would be bound in the importing function only, while `{binding.name}` is declared global or "
                    f"nonlocal there (line {declared})")
        if root not in self._root_bindings:
            self._root_bindings[root] = _other_binding(context.facts.tree, root)
        line = self._root_bindings[root]
        if line is not None:
            return f"this file binds to something else (line {line})"
        frame = binding.scope
        while frame.kind == "comprehension" and frame.parent is not None:
            frame = frame.parent
        if frame.kind not in ("function", "lambda") or binding.statement is None:
            return None
        for node in _frame_names(frame.node, root):
            if not self.flow.bound_in_frame(frame.node, node, root, also=[binding.statement]):
                return f"this function reads before the import (line {node.lineno})"
        return None


def _other_binding(tree: ast.Module, name: str) -> int | None:
    """The line of the first binding of `name` that is not `import name` or `import name.sub`, if any."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.asname == name for alias in node.names):
                return node.lineno
        elif isinstance(node, ast.ImportFrom):
            if any((alias.asname or alias.name) == name for alias in node.names):
                return node.lineno
        elif isinstance(node, ast.Name):
            if node.id == name and not isinstance(node.ctx, ast.Load):
                return node.lineno
        elif isinstance(node, ast.arg):
            if node.arg == name:
                return node.lineno
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return node.lineno
        elif isinstance(node, ast.ExceptHandler):
            if node.name == name:
                return node.lineno
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            if name in node.names:
                return node.lineno
        elif type(node).__name__.startswith("Match"):
            if name in (getattr(node, "name", None), getattr(node, "rest", None)):
                return node.lineno
    return None


def _frame_names(function: ast.AST, name: str) -> list[ast.Name]:
    """Reads of `name` in a function's own code (not in the functions and classes nested in it)."""
    found: list[ast.Name] = []
    body = function.body if isinstance(function.body, list) else [function.body]  # type: ignore[attr-defined]
    pending: list[ast.AST] = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Name) and node.id == name:
            found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # decorators and defaults run here; the body runs in a frame of its own
            pending.extend(getattr(node, "decorator_list", []))
            pending.extend([*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)])
            continue
        if isinstance(node, ast.ClassDef):
            pending.extend([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)])
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


STEP = Step(
    name="imports",
    title="Move imports of legacy paths to {canonical}",
    description=MoveImportsCommand.DESCRIPTION,
    command=MoveImportsCommand,
    names=lambda config: set(config.legacy_names) | set(config.aliases.values()),
    examples=EXAMPLES / "imports",
    codes=(STAR_IMPORT, MODULE_AS_VALUE, MODULE_ATTRIBUTE_UNMAPPED, UNBOUND_NAME, CANONICAL_ROOT_TAKEN),
)
