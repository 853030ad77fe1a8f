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
from typing import Iterable, Iterator, Sequence

from . import cache as result_cache
from . import import_check
from . import steps as step_registry
from .config import Config
from .discovery import discover, discover_with_stats
from .findings import BINDING_LOST, LEFT_OUT_WITH_REJECTED, REWRITE_REJECTED, Finding
from .model import FileOutcome, FileResult, FileStatus, Plan, RepositoryOutcome, Suppressed, Targets
from .repository_facts import RepositoryContext, gather as gather_facts, targets_for
from .scopes import module_name_for
from .worker import ProgressCallback, RunOptions, run_files


def build_targets(root: Path, config: Config, steps: Iterable[str], todo_comments: bool = False,
                  legacy_policy: str = "shim", cache_directory: Path | None = None) -> tuple[Targets, list[Finding]]:
    """What every worker needs to know about the repository, and the repository-level findings."""
    steps = frozenset(steps)
    facts = gather_facts(root, config, steps, legacy_policy, cache_directory)
    return targets_for(facts, config, steps, todo_comments), list(facts.notes)


def plan(root: Path, config: Config, *, steps: Iterable[str] | None = None, jobs: int | None = None,
         verify: bool = False, progress: ProgressCallback | None = None, todo_comments: bool = False,
         paths: list[str] | None = None, with_diffs: bool = False, cache_directory: Path | None = None,
         legacy_policy: str = "shim", only: Sequence[str | os.PathLike] | None = None) -> Plan:
    """The whole change of the selected steps (all by default) over the repository; nothing is written.

    `verify` applies the full verification of what `--apply` writes (every step's state
    parses, a second run plans nothing, the safety check). `with_diffs` renders each changed
    file's display diff in the workers. With `cache_directory`, files whose outcome an earlier
    run with the same code, configuration and repository facts remembered are not parsed
    again (see `cache.py`); the plan is the same either way.

    `only` (files and directories, relative to the root or absolute inside it; the command
    line's PATH arguments) limits the change to the files discovery selects under them
    (`discover(..., paths=only)`: `exclude` still applies to a file named explicitly). The
    analysis still reads what it needs elsewhere: the canonical module and the legacy
    modules (as in every run), the modules whose renames the given files' rewrites follow
    (planned, not reported), and every module of the repository for the import check, which
    judges the repository with only the given files changed. The legacy-modules step
    retires a legacy module only when it is among the given files. `DiscoveryError` for a
    path outside the root or one that does not exist.
    """
    root = root.resolve()
    wanted = None if steps is None else set(steps)
    selected = tuple(name for name in step_registry.order()
                     if (step_registry.get(name).applies(config) if wanted is None else name in wanted))
    # what the repository says is read once, here: the steps read it and never ask each other
    facts = gather_facts(root, config, frozenset(selected), legacy_policy, cache_directory)
    targets, notes = targets_for(facts, config, frozenset(selected), todo_comments), list(facts.notes)
    stats: dict[str, result_cache.FileStat] = {}
    discovered = paths
    everything: EveryFile | None = None  # every file a full run selects (path mode: for the cross-file facts)
    if only is not None:
        found = discover(root, config, paths=only, stats=cache_directory is not None)
        discovered, stats = found.files, found.stats
        selected_set = set(discovered)
        notes = [n for n in notes if n.path in selected_set] + found.notes
        everything = EveryFile(root, config)
    elif discovered is None:
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
    outcomes = run.outcomes
    if everything is not None:
        # the modules whose renames the given files follow are planned too (not reported)
        context_outcomes = _plan_dependencies(str(root), outcomes, everything, targets, options, cache)
        outcomes = _follow_reexports(str(root), {**context_outcomes, **outcomes}, targets, options)
        outcomes = {path: outcome for path, outcome in outcomes.items() if path in selected_set}
    if cache is not None:
        if everything is None:
            cache.keep_only(set(discovered))
        cache.save()
    result.parsed, result.cached = run.parsed, run.cached
    if everything is None:
        outcomes = _follow_reexports(str(root), outcomes, targets, options)
    for outcome in outcomes.values():
        outcome.result.references = outcome.references
    result.files = sorted((outcome.result for outcome in outcomes.values()), key=lambda r: r.path)
    written_by_repository_steps: set[str] = set()
    repository_files: Sequence[str] = discovered if everything is None else everything
    for step in step_registry.all_steps():
        if step.per_file or step.name not in selected:
            continue
        context = RepositoryContext(root, config, targets, result, repository_files, facts, legacy_policy)
        outcome = step.repository(context)
        if outcome.files:  # `# migrate-ws: keep-file`
            from .suppressions import keep_repository_files

            _keep_files(result, keep_repository_files(outcome))
        if everything is not None:  # path mode: only the given files change, and only their findings count
            outcome.files = [f for f in outcome.files if f.path in selected_set]
            outcome.findings = [f for f in outcome.findings if f.path in selected_set]
        _add_repository_changes(result, step.name, outcome)
        written_by_repository_steps.update(f.path for f in outcome.files)
    # the binding check: the workers checked the files they changed; these are the repository steps' files
    _check_bindings(result, written_by_repository_steps)
    result.dependencies = _dependencies(outcomes)
    _leave_out_what_relies_on_rejected(result, outcomes, root, repository_files)
    watched = set(config.legacy_modules) | {config.canonical_module}
    result.findings.extend(import_check.check(root, repository_files, result.files, outcomes, watched,
                                              step_registry.interesting_names(config), jobs, cache_directory,
                                              config.max_file_size))
    _count_import_paths(result, outcomes, watched)
    return result


def _check_bindings(result: Plan, paths: set[str]) -> None:
    """The binding check of files a repository-level step writes (a shim): a change that would leave
    a name unbound is rejected (MW704) and the file left as it is."""
    if not paths:
        return
    from . import binding_check  # pyflakes: loaded only when there is a file to check

    for position, file in enumerate(result.files):
        if file.path not in paths or not file.changed or file.deleted:
            continue
        rejection = binding_check.rejection(file.path, file.original, file.rewritten, file.edits)
        if rejection is not None:
            result.files[position] = replace(file, status=FileStatus.FAILED, code=BINDING_LOST.code,
                                             reason=rejection.reason, line=rejection.line)


def _leave_out_what_relies_on_rejected(result: Plan, outcomes: dict[str, FileOutcome], root: Path,
                                       paths: list[str]) -> None:
    """A file the binding check rejected stays as it is: what relied on its change is left out too
    (MW706), so that nothing written depends on a change that is not (see `leaving_out.py`)."""
    rejected = {r.path: r.reason for r in result.files if r.status is FileStatus.FAILED and r.code == BINDING_LOST.code}
    if not rejected:
        return
    from .leaving_out import relying_on
    from .references import unchanged_references

    candidates = {r.path for r in result.changed_files}
    relying = relying_on(result, root, paths, rejected, candidates)
    for position, file in enumerate(result.files):
        why = relying.get(file.path)
        if why is None:
            continue
        result.files[position] = replace(file, status=FileStatus.FAILED, code=LEFT_OUT_WITH_REJECTED.code,
                                         reason=f"left unchanged: {why}", rewritten=b"")
        outcome = outcomes.get(file.path)
        if outcome is not None:  # what the import check and the import counts see: the file as it is
            outcome.result = result.files[position]
            outcome.references = result.files[position].references = unchanged_references(outcome.references)
            outcome.lost_names = set()


def _dependencies(outcomes: dict[str, FileOutcome]) -> dict[str, set[str]]:
    """Which files' rewrites each file's rewrite follows: it imports or patches a name they rename."""
    renamers: dict[tuple[str, str], str] = {}
    for path, outcome in outcomes.items():
        module = module_name_for(path)[0]
        for name in outcome.renamed_exports:
            renamers[(module, name)] = path
    found: dict[str, set[str]] = {}
    for path, outcome in outcomes.items():
        needed = {renamers[pair] for pair in outcome.depends_on if pair in renamers} - {path}
        if needed:
            found[path] = needed
    return found


def _count_import_paths(result: Plan, outcomes: dict[str, FileOutcome], watched: set[str]) -> None:
    """Which of the watched modules each file imports before and after the change, and what moved."""
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    moves: dict[tuple[str, str], int] = {}
    for outcome in outcomes.values():
        old = {r.was_module for r in outcome.references if r.was_module in watched}
        new = {r.module for r in outcome.references if r.module in watched}
        moved = {(r.was_module, r.module) for r in outcome.references
                 if r.was_module in watched and r.module in watched and r.was_module != r.module}
        for module in old:
            before[module] = before.get(module, 0) + 1
        for module in new:
            after[module] = after.get(module, 0) + 1
        for pair in moved:
            moves[pair] = moves.get(pair, 0) + 1
    result.importers_before, result.importers_after, result.import_moves = before, after, moves


def _keep_files(result: Plan, kept: dict[str, list[Suppressed]]) -> None:
    """Files a repository-level step leaves as they are because of `# migrate-ws: keep-file`."""
    by_path = {r.path: r for r in result.files}
    for path, sites in kept.items():
        if path in by_path:
            by_path[path].suppressed.extend(sites)
        else:
            result.files.append(FileResult(path, FileStatus.UNCHANGED, suppressed=list(sites)))
    result.files.sort(key=lambda r: r.path)


def _plan_dependencies(root: str, outcomes: dict[str, FileOutcome], everything: Sequence[str], targets: Targets,
                       options: RunOptions, cache: "result_cache.ResultCache | None") -> dict[str, FileOutcome]:
    """Path mode: the outcomes of the modules the given files' rewrites follow (their renamed
    exports), and of the modules those follow in turn, as a full run would have them."""
    planned = set(outcomes)
    found: dict[str, FileOutcome] = {}
    frontier = [outcomes]
    by_module: dict[str, str] | None = None
    for _ in range(5):
        followed = {module for batch in frontier for outcome in batch.values() for module, _ in outcome.depends_on}
        if not followed:
            break
        if by_module is None:
            by_module = {module_name_for(path)[0]: path for path in everything}
        wanted = sorted({by_module[module] for module in followed if module in by_module} - planned)
        if not wanted:
            break
        planned.update(wanted)
        stats = {}
        if cache is not None:
            stats = discover(root, targets.config, paths=wanted, stats=True).stats
        run = run_files(root, wanted, targets, 1, options, None, cache, stats)
        found.update(run.outcomes)
        frontier = [run.outcomes]
    return found


class EveryFile(Sequence[str]):
    """Path mode: every file a full run selects, discovered on first use. A hook's run on files
    that import nothing watched and depend on no other module's change never needs the list, and
    is spared the walk of the repository (and the gitignore patterns it compiles)."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root, self.config = root, config
        self._files: list[str] | None = None

    @property
    def files(self) -> list[str]:
        if self._files is None:
            self._files = discover(self.root, self.config).files
        return self._files

    def __getitem__(self, index):  # type: ignore[override]
        return self.files[index]

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __contains__(self, path: object) -> bool:
        return path in self.files


def _add_repository_changes(result: Plan, step: str, outcome: RepositoryOutcome) -> None:
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
