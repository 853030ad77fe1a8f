"""What one file imports from other modules, before and after the change (for the import check).

Collected in the worker from the analysis and the queued changes, so the import check
never parses a file twice: each `from M import N`, each `import M`, and each `m.N` or
`getattr(m, "N")` of a module object, as the (module, name) it needs before the change and
the one it needs after. Only references the change can affect are kept: those to a
configured legacy module or the canonical module, those of a configured legacy name
(re-exported names follow other modules' rewrites), and every reference a step rewrote.
"""

from __future__ import annotations

from .scopes import Binding, attribute_node
from .context import FileContext
from .model import Edit, Reference


def unchanged_references(references: list[Reference]) -> list[Reference]:
    """What a file left as it is imports: each reference as it was before the change."""
    return [Reference(r.line, r.was_module, r.was_name, r.was_module, r.was_name) for r in references]


def collect(context: FileContext, final_edits: list[Edit]) -> list[Reference]:
    config = context.config
    watched = set(config.legacy_modules) | {config.canonical_module}
    legacy_names = config.legacy_names
    replaced = {(edit.start, edit.end): edit.text for edit in final_edits}
    found: list[Reference] = []
    for binding in context.facts.bindings:
        if binding.kind == "import-name" and binding.module and binding.imported:
            after = _import_after(context, binding)
            if after is None:
                continue
            before = (binding.module, binding.imported)
            if before != after or binding.module in watched or after[0] in watched \
                    or binding.imported in legacy_names:
                found.append(Reference(binding.line, after[0], after[1], *before))
        elif binding.kind == "import-module" and binding.module:
            change = context.statements.change_of(binding)
            if change is not None and change.spec is None:
                continue
            module = change.module_bound if change is not None and change.spec is not None else binding.module
            if binding.module in watched or module in watched or module != binding.module:
                found.append(Reference(binding.line, module, "", binding.module, ""))
        module_path = context.names.module_object(binding)
        if module_path is not None:
            found.extend(_attribute_references(context, binding, module_path, replaced))
    return found


def _import_after(context: FileContext, binding: Binding) -> tuple[str, str] | None:
    change = context.statements.change_of(binding)
    if change is None:
        return binding.module, binding.imported
    if change.spec is None:
        return None  # the alias goes (a duplicate of another import after the rewrite)
    return change.module or binding.module, change.spec.name


def _attribute_references(context: FileContext, binding: Binding, module_path: str,
                          replaced: dict[tuple[int, int], str]) -> list[Reference]:
    """`m.N` and `getattr(m, "N")` uses of a module object, with what each needs after the change."""
    change = context.statements.change_of(binding)
    after_module = module_path
    if change is not None and change.spec is not None:
        if binding.kind == "import-module":
            after_module = change.module_bound
        else:
            after_module = f"{change.module or binding.module}.{change.spec.name}"
    found: list[Reference] = []
    for use in context.names.uses_of(binding):
        if not use.chain:
            continue
        name = use.chain[0]
        new_name = name
        if use.context == "getattr-string":
            if use.string_span is not None:
                new_name = replaced.get(use.string_span, name)
        else:
            node = attribute_node(use, 1)
            if node is not None:
                new_name = replaced.get(context.attribute_span(node), name)
        found.append(Reference(use.node.lineno, after_module, new_name, module_path, name))
    return found


def lost_module_names(context: FileContext, removed: set[int]) -> set[str]:
    """Names the module binds at module level before the change and no longer binds after it."""
    scope = context.facts.module_scope
    before = set(scope.bindings) - {"*"}
    after: set[str] = set()
    for name, bindings in scope.bindings.items():
        for binding in bindings:
            local = _local_after(context, binding, removed)
            if local is not None:
                after.add(local)
    return before - after


def _local_after(context: FileContext, binding: Binding, removed: set[int]) -> str | None:
    if binding.kind in ("import-name", "import-module"):
        change = context.statements.change_of(binding)
        if change is None:
            return binding.name
        if change.spec is None:
            return None
        if change.spec.asname:
            return change.spec.asname
        return change.spec.name.split(".")[0]
    if binding.statement is not None and id(binding.statement) in removed:
        return None
    return context.renamed.get((id(binding.scope), binding.name), binding.name)
