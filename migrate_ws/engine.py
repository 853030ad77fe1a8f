"""The engine: one planning pass over the repository that returns the whole change as a `Plan`.

config -> discover -> prefilter -> analyse -> plan every step (per-file steps in worker
processes, then the repository-level steps) -> verify -> `Plan`. `--dry-run`, `--check`,
`--json`, `--diff-output` and `--apply` all render this one plan. The engine works on
strings and paths only; it never prints and never touches git.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from . import cache as result_cache
from . import import_check
from . import steps as step_registry
from .analysis import module_name_for
from .config import Config
from .discovery import discover_with_stats
from .findings import ALIASES_DIFFER, REWRITE_REJECTED, Finding
from .model import FileOutcome, FileResult, FileStatus, Plan, RepositoryContext, Targets
from .resolution import ModuleReader, callable_signatures, canonical_facts, check_context_fallbacks, module_file
from .worker import ProgressCallback, RunOptions, run_files


def build_targets(root: Path, config: Config, steps: Iterable[str], todo_comments: bool = False,
                  legacy_policy: str = "shim") -> tuple[Targets, list[Finding]]:
    """What every worker needs to know about the repository, and the repository-level findings."""
    steps = frozenset(steps)
    rebinding = config.implementation is not None and "canonical" in steps
    reader = ModuleReader(root)  # the few modules read here are parsed once
    facts = canonical_facts(root, config, rebinding, reader)
    retiring = {m for m, legacy in config.legacy_modules.items() if legacy.retire}
    # a retiring module that defines code of its own stays (no shim): it is migrated like any
    # other module, and its module-level names are public API
    kept: set[str] = set()
    if legacy_policy == "shim":
        from .codemods.legacy_modules import retirements

        kept = {module for module, retirement in retirements(root, config, facts.exports).items()
                if not retirement.shimmed}
    definition = {config.canonical_module} | (retiring - kept)
    if config.implementation_module:
        definition.add(config.implementation_module)
    api = {m for m, legacy in config.legacy_modules.items() if not legacy.retire} | kept
    factory_signature, signatures = callable_signatures(root, config, reader) if "factory" in steps else (None, ())
    check_context_fallbacks(root, config, reader)
    targets = Targets(
        config=config, steps=steps, canonical_exports=facts.exports, collapse_allowed=facts.collapse_allowed,
        definition_modules=frozenset(definition), api_modules=frozenset(api), todo_comments=todo_comments,
        factory_signature=factory_signature, signatures=signatures,
    )
    canonical_file = module_file(root, config.canonical_module)
    where = canonical_file.relative_to(root).as_posix() if canonical_file is not None else config.canonical_module
    return targets, [Finding(ALIASES_DIFFER.code, where, 1, message) for message in facts.warnings]


def plan(root: Path, config: Config, *, steps: Iterable[str] | None = None, jobs: int | None = None,
         verify: bool = False, progress: ProgressCallback | None = None, todo_comments: bool = False,
         paths: list[str] | None = None, with_diffs: bool = False, cache_directory: Path | None = None,
         legacy_policy: str = "shim") -> Plan:
    """The whole change of the selected steps (all by default) over the repository; nothing is written.

    `verify` applies the full verification of what `--apply` writes (every step's state
    parses, a second run plans nothing, the safety check). `with_diffs` renders each changed
    file's display diff in the workers. With `cache_directory`, files whose outcome an earlier
    run with the same code, configuration and repository facts remembered are not parsed
    again (see `cache.py`); the plan is the same either way.
    """
    root = root.resolve()
    wanted = None if steps is None else set(steps)
    selected = tuple(name for name in step_registry.order() if wanted is None or name in wanted)
    targets, notes = build_targets(root, config, selected, todo_comments, legacy_policy)
    stats: dict[str, result_cache.FileStat] = {}
    discovered = paths
    if discovered is None:
        discovered, symlinks, stats = discover_with_stats(root, config, stats=cache_directory is not None)
        notes = notes + symlinks
    result = Plan(root=str(root), config_source=config.source, steps=selected, findings=list(notes),
                  legacy_policy=legacy_policy, heading=config.heading,
                  titles={name: step_registry.title(step_registry.get(name), config) for name in selected})
    result.scanned = len(discovered)
    jobs = max(1, jobs or os.cpu_count() or 1)
    options = RunOptions(verify, with_diffs)
    cache = result_cache.ResultCache.load(cache_directory, str(root), targets) if cache_directory is not None else None
    run = run_files(str(root), discovered, targets, jobs, options, progress, cache, stats)
    if cache is not None:
        cache.keep_only(set(discovered))
        cache.save()
    result.parsed, result.cached = run.parsed, run.cached
    outcomes = _follow_reexports(str(root), run.outcomes, targets, options)
    result.files = sorted((outcome.result for outcome in outcomes.values()), key=lambda r: r.path)
    for step in step_registry.all_steps():
        if step.per_file or step.name not in selected:
            continue
        context = RepositoryContext(root, config, targets, result, discovered, legacy_policy)
        _add_repository_changes(result, step.name, step.repository(context))
    watched = set(config.legacy_modules) | {config.canonical_module}
    result.findings.extend(import_check.check(root, discovered, result.files, outcomes, watched,
                                              step_registry.interesting_names(config), jobs))
    return result


def _add_repository_changes(result: Plan, step: str, outcome) -> None:
    """A repository-level step's files join the plan; a file another step already changes is refused."""
    by_path = {r.path: position for position, r in enumerate(result.files)}
    for change in outcome.files:
        position = by_path.get(change.path)
        if position is not None and result.files[position].status is not FileStatus.UNCHANGED:
            result.files[position] = FileResult(change.path, FileStatus.FAILED, original=change.original,
                                                code=REWRITE_REJECTED.code, findings=result.files[position].findings,
                                                reason=f"internal error: the {step} step and another step both change "
                                                "this file; not written")
            continue
        if position is not None:
            change.findings = result.files[position].findings + change.findings
            result.files[position] = change
        else:
            result.files.append(change)
    result.files.sort(key=lambda r: r.path)
    result.findings.extend(outcome.findings)


def _follow_reexports(root: str, outcomes: dict[str, FileOutcome], targets: Targets,
                      options: RunOptions) -> dict[str, FileOutcome]:
    """A module whose module-level name changed no longer binds the old name: its importers and
    patch targets follow it (re-exports resolved across modules, a few rounds deep)."""
    derived: dict[tuple[str, str], str] = {}
    for _ in range(5):
        new = {}
        for path, outcome in outcomes.items():
            module, _ = module_name_for(path)
            for local, target in outcome.renamed_exports.items():
                if (module, local) not in derived:
                    new[(module, local)] = target
        if not new:
            break
        derived.update(new)
        targets = replace(targets, derived=tuple((m, n, c) for (m, n), c in sorted(derived.items())))
        again = [path for path, outcome in outcomes.items() if outcome.depends_on & set(new)]
        if not again:
            break
        rerun = run_files(root, again, targets, 1, options, None)
        for path in again:
            if path in rerun.outcomes:
                outcomes[path] = rerun.outcomes[path]
            else:
                outcomes.pop(path, None)
    return outcomes
