"""Leaving a file's change out without breaking the rest: what else must be left out with it.

A file whose change is left out (rejected in an interactive review, or by the binding
check) keeps its original content while the rest of the change is applied. What relied on
its change must then be left out too, each with the reason:

- every file a later step changes, when a step that runs on the canonical module changed
  the file (the other steps rely on the canonical module's change);
- a file whose rewrite follows the left-out file's rewrite (`plan.dependencies`: it imports
  or patches a name that file renames);
- a module whose change would break an import the left-out file still makes
  (`import_check.broken_by_leaving_out`: a shim that drops a name it imports).

Until nothing more is found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from . import steps as step_registry
from .editing import steps_touching
from .import_check import broken_by_leaving_out
from .model import Plan
from .quoting import display_path


def relying_on(plan: Plan, root: Path, paths: list[str], left_out: Mapping[str, str],
               candidates: set[str]) -> dict[str, str]:
    """The files among `candidates` (the changed files that could still be written) that must be
    left out because the files in `left_out` are (path -> why, for each); `paths` are the
    repository's files (for the import check)."""
    results = {r.path: r for r in plan.files if r.path in candidates or r.path in left_out}
    canonical_steps = {step.name for step in step_registry.all_steps() if step.canonical_module}
    order = plan.steps
    # the positions in `order` of the steps that change each file
    positions = {path: [order.index(step) for step in steps_touching(result.edits, order)]
                 for path, result in results.items()}
    rejected = dict(left_out)
    added: dict[str, str] = {}
    while True:
        more: dict[str, str] = {}
        for path in list(rejected):
            if path not in results:
                continue
            relied_on = {order[position] for position in positions[path]} & canonical_steps
            if relied_on:
                first = min(order.index(step) for step in relied_on)
                for other in sorted(candidates):
                    later = any(position > first for position in positions.get(other, ()))
                    if other not in rejected and other not in more and later:
                        more[other] = (f"it relies on the {', '.join(sorted(relied_on))} step's change to "
                                       f"{display_path(path)}, which was rejected")
        for path, needed in plan.dependencies.items():
            if path not in candidates or path in rejected or path in more:
                continue
            gone = sorted(needed & set(rejected))
            if gone:
                more[path] = f"its rewrite follows the rewrite of {display_path(gone[0])}, which was rejected"
        if not more:
            for broken in broken_by_leaving_out(root, paths, plan.files, set(rejected)):
                provider, reference = broken.provider, broken.reference
                if provider is not None and provider not in rejected and provider in candidates:
                    more.setdefault(provider, f"its change would break an import of {reference.name or reference.module} "
                                              f"that a rejected file still makes")
        if not more:
            return added
        rejected.update(more)
        added.update(more)

