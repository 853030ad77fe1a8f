"""The whole migration as ordered steps, each the cumulative state of every changed file.

`--apply` commits one step at a time; because each state is computed from the original
tree with the steps so far, the final state is exactly what `--dry-run` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .discovery import discover
from .engine import ProgressCallback, build_targets, plan_stages
from .legacy_modules import LegacyModulesOutcome, plan_legacy_modules
from .model import STEP_TITLES, STEPS, FileResult, FollowUp, Plan


@dataclass
class Step:
    name: str
    title: str
    files: list[FileResult]  # files whose content changes in this step, with their content after it
    sites: int  # edits (or retired modules) this step adds


@dataclass
class Migration:
    plan: Plan  # the final state of every code step (what --dry-run shows)
    steps: list[Step]
    legacy: LegacyModulesOutcome
    followups: list[FollowUp] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(step.files for step in self.steps)


def stage(root: Path, config: Config, legacy_policy: str = "shim", jobs: int | None = None,
          todo_comments: bool = False, progress: ProgressCallback | None = None) -> Migration:
    root = root.resolve()
    code_steps = [s for s in STEPS if s != "legacy-modules"]
    paths = discover(root, config).files
    stages = [code_steps[: index + 1] for index in range(len(code_steps))]
    states = plan_stages(root, config, stages, jobs=jobs, check_idempotence=True, todo_comments=todo_comments,
                         progress=progress, paths=paths)
    previous: dict[str, bytes] = {}
    steps: list[Step] = []
    for name, state in zip(code_steps, states):
        files = []
        sites = 0
        for result in state.changed_files:
            if previous.get(result.path) != result.rewritten:
                files.append(result)
            sites += result.edits_by_kind().get(name, 0)
        for result in state.changed_files:
            previous[result.path] = result.rewritten
        steps.append(Step(name, STEP_TITLES[name], files, sites))
    final = states[-1]
    targets, _ = build_targets(root, config, code_steps)
    legacy = plan_legacy_modules(root, config, legacy_policy, final, paths, targets.canonical_exports)
    steps.append(Step("legacy-modules", STEP_TITLES["legacy-modules"], legacy.files, len(legacy.files)))
    followups = list(legacy.followups)
    for module, references in legacy.refused.items():
        for reference in references:
            where, _, text = reference.partition(": ")
            path, _, line = where.rpartition(":")
            followups.append(FollowUp(path, int(line or 0), f"still refers to legacy module {module}, so it was not "
                                      f"deleted: {text}", "legacy-module"))
    return Migration(plan=final, steps=steps, legacy=legacy, followups=followups)
