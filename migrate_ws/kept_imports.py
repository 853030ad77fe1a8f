"""The audit and the migration agree: an import the audit counts as a legacy import path either
moves with the change or is reported at its own line, saying why it stays.

Runs after the per-file steps, on the file's plan: for every import that brings canonical
names through a legacy path (`LegacyPaths.import_source`, the audit's own rule) and that no
step rewrites, a finding at the import's line, unless a step already reported one there:

- a name the legacy module's configuration does not list (MW102, naming the key that would map it);
- a module object kept because of what its uses need (MW109, a note naming the follow-ups at
  those uses, which are the work to do);
- a module object never used (MW106);
- anything else (MW110: a gap in the steps, never expected).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .findings import (LEGACY_IMPORT_KEPT, LEGACY_IMPORT_UNEXPLAINED, MODULE_UNUSED, UNMAPPED_NAME, Finding,
                       Severity)
from .legacy_paths import LegacyPaths, module_object_uses

if TYPE_CHECKING:
    from .scopes import Binding
    from .context import FileContext, ImportChange

_IMPORT_KINDS = ("import-name", "import-module")


def report(context: "FileContext") -> None:
    config = context.config
    module = context.facts.module
    if module in config.legacy_modules or module == config.canonical_module:
        return  # the audit does not count the imports of the legacy modules and of the canonical module
    paths = LegacyPaths.of(context.targets)
    reported: dict[int, list[Finding]] = {}
    for finding in context.edits.findings:
        reported.setdefault(finding.line, []).append(finding)
    for binding in context.facts.bindings:
        if binding.kind not in _IMPORT_KINDS:
            continue
        source = paths.import_source(binding, context.facts)
        if source is None or source == config.canonical_module:
            continue
        change = context.statements.change_of(binding)
        if change is not None and not _still_legacy(paths, binding, change):
            continue
        if change is None and binding.kind == "import-module" and _package_uses_rewritten(context, paths, binding):
            continue  # it stays for the package's other modules only, which the audit does not count
        if any(f.severity is not Severity.INFO for f in reported.get(binding.line, ())):
            continue  # a step said why already
        _explain(context, paths, binding, source, reported)


def _package_uses_rewritten(context: "FileContext", paths: LegacyPaths, binding: "Binding") -> bool:
    """Whether a legacy package's module object stays only for the package's other modules: each use
    that goes through the package's own names has been rewritten to the canonical module."""
    module = binding.module or ""
    if module not in paths.config.legacy_modules or not paths.is_package(module):
        return False
    starts = {edit.start for edit in context.edits.edits}
    for use, chain in module_object_uses(binding, module, context.facts):
        if paths.package_use(module, chain) and context.span(use.node)[0] not in starts:
            return False
    return True


def _still_legacy(paths: LegacyPaths, binding: "Binding", change: "ImportChange") -> bool:
    """Whether the import, as the change rewrites it, still goes through a legacy path."""
    if change.spec is None:
        return False  # removed: a duplicate of another import after the rewrite
    legacy = paths.config.legacy_modules
    if binding.kind == "import-module":
        return change.module_bound in legacy
    module = change.module or binding.module or ""
    name = change.spec.name
    return (module in legacy and name in paths.manager_names) or f"{module}.{name}" in legacy


def _explain(context: "FileContext", paths: LegacyPaths, binding: "Binding", source: str,
             reported: dict[int, list[Finding]]) -> None:
    config = context.config
    canonical = config.canonical_module
    edits = context.edits
    if binding.kind == "import-name" and source == binding.module and binding.imported is not None:
        name = binding.imported
        if name not in config.legacy_modules[source].names:
            exports = context.targets.canonical_exports
            if name in exports or config.canonical_name_for(name) in exports:
                how = f"add it to `names` of [tool.migrate-ws.legacy-modules.\"{source}\"] to move it to {canonical}"
            else:
                how = f"{canonical} does not export it: import it from the module that defines it"
            edits.report(UNMAPPED_NAME, binding.line, f"{name} is imported from legacy module {source}, whose "
                         f"configured names do not include it; left as is ({how})")
            return
    uses = context.names.uses_of(binding)
    if binding.kind == "import-module" or source != binding.module:  # a module object
        if not uses:
            edits.report(MODULE_UNUSED, binding.line, f"legacy module {source} is imported but none of its names are "
                         "used here (imported for its side effects?); left unchanged")
            return
        lines = sorted({use.node.lineno for use in uses} - {binding.line})
        related = [f for line in lines for f in reported.get(line, ()) if f.code != LEGACY_IMPORT_KEPT.code]
        if related:
            named = ", ".join(f"{f.code} at line {f.line}" for f in related[:4])
            more = f" and {len(related) - 4} more" if len(related) > 4 else ""
            edits.report(LEGACY_IMPORT_KEPT, binding.line, f"the import of legacy module {source} stays until what "
                         f"its uses need is done: {named}{more}")
            return
    edits.report(LEGACY_IMPORT_UNEXPLAINED, binding.line, f"the import through legacy path {source} (line "
                 f"{binding.line}) stays, and no step reported why; left unchanged")
