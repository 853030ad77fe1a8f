"""The engine: find candidate files, transform them in parallel, verify, return a `Plan`.

It works on strings and paths only; it never prints and never touches git.
"""

from __future__ import annotations

import ast
import gc
import os
import re
import stat
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from . import cache as result_cache
from .analysis import analyze, module_name_for
from .config import Config
from .discovery import FileStat, discover_with_stats
from .model import STEPS, Edit, FileResult, FileStatus, FollowUp, Plan, Targets
from .resolution import canonical_facts
from .source import SourceText, UndecodableSource
from .report import unified_diff
from .prefilter import Prefilter, interesting_names, manager_names, string_markers  # noqa: F401 (re-exported)
from .textsearch import WordFinder

ProgressCallback = Callable[[int, int], None]


# ----- transforming one file --------------------------------------------------------------

@dataclass
class SourceOutcome:
    text: str
    edits: list[Edit]
    followups: list[FollowUp]
    renamed_exports: dict[str, str] = field(default_factory=dict)
    depends_on: set[tuple[str, str]] = field(default_factory=set)
    error: str | None = None
    index: object = None  # the original text's LineIndex, reused by the verification


class _Cache:
    """Per-process compiled patterns, built once per configuration."""

    config: Config | None = None
    names: set[str] = set()
    finder: WordFinder | None = None
    prefilter: Prefilter | None = None
    markers: tuple[str, ...] = ()

    @classmethod
    def get(cls, config: Config) -> type["_Cache"]:
        if cls.config is not config:
            cls.config = config
            cls.names = interesting_names(config)
            cls.finder = WordFinder(cls.names, as_bytes=False)
            cls.prefilter = Prefilter(config)
            cls.markers = string_markers(config)
        return cls


def parse(text: str, path: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=path)


def file_role(module: str, targets: Targets) -> str:
    config = targets.config
    if module == config.canonical_module:
        return "canonical"
    if module == config.implementation_module:
        return "definition"
    legacy = config.legacy_modules.get(module)
    if legacy is not None and legacy.retire:
        return "definition"
    return "consumer"


def transform_source(text: str, path: str, targets: Targets, tree: ast.Module | None = None) -> SourceOutcome:
    """Plan and render every edit for one module's source. Raises SyntaxError if it does not parse."""
    cache = _Cache.get(targets.config)
    module, is_package = module_name_for(path)
    role = file_role(module, targets)
    if role == "definition":
        return SourceOutcome(text, [], [])
    if tree is None:
        tree = parse(text, path)
    facts = analyze(text, tree, module, is_package, cache.names, cache.finder, cache.markers)
    # the codemods are loaded on first use: a run whose every result is cached never needs them
    from .codemods import COMMANDS
    from .context import FileContext

    context = FileContext(path=path, text=text, facts=facts, targets=targets)
    for command_class in COMMANDS:
        command = command_class()
        if role == "canonical" and command.STEP != "canonical":
            continue
        if command.applies(context):
            command.transform(context)
    if context.import_changes:
        context.render_imports()
    new_text, error = apply_edits(text, context.edits)
    facts.release()
    return SourceOutcome(new_text, sorted(context.edits, key=lambda e: e.start), context.followups,
                         context.renamed_exports, context.depends_on, error, facts.index)


def apply_edits(text: str, edits: list[Edit]) -> tuple[str, str | None]:
    """Splice non-overlapping edits; an edit inside a larger one (a removed statement) is dropped."""
    ordered = sorted(edits, key=lambda e: (e.start, -(e.end - e.start)))
    kept: list[Edit] = []
    for edit in ordered:
        if kept and edit.start < kept[-1].end:
            outer = kept[-1]
            if outer.start <= edit.start and edit.end <= outer.end and outer.end > outer.start:
                continue
            if edit.start == edit.end == outer.end:
                pass
            else:
                return text, f"internal error: overlapping edits at line {edit.line} ({outer.description} / {edit.description})"
        kept.append(edit)
    pieces: list[str] = []
    position = 0
    for edit in kept:
        pieces.append(text[position:edit.start])
        pieces.append(edit.text)
        position = edit.end
    pieces.append(text[position:])
    edits[:] = kept
    return "".join(pieces), None


NEWER_SYNTAX_LIMIT = 256 * 1024


def parse_failure_reason(text: str, error: SyntaxError) -> str:
    """One line: why the file does not parse, and whether a newer Python would accept it."""
    import sys

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    where = f"line {error.lineno}" if error.lineno else "unknown line"
    newer = False
    if len(text) <= NEWER_SYNTAX_LIMIT:
        try:
            import libcst

            libcst.parse_module(text)  # LibCST's grammar follows newer Python releases
            newer = True
        except Exception:
            newer = False
    elif (error.msg or "").startswith("f-string"):
        newer = True  # PEP 701 lifted most f-string restrictions in Python 3.12
    if newer:
        return f"does not parse on Python {version}: {error.msg} ({where}); valid only on a newer Python"
    return f"does not parse: {error.msg} ({where})"


_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _innermost_statement(tree: ast.Module, index, start: int, end: int) -> ast.stmt | None:
    """The innermost statement whose lines contain [start, end), following only the path to it."""
    found = None
    statements: list = list(tree.body)
    while statements:
        inner: list = []
        for node in statements:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            node_start = index.offset(first, 0)
            node_end = index.offset(node.end_lineno, node.end_col_offset)
            if node_start <= start and end <= node_end:
                if isinstance(node, ast.stmt):
                    found = node
                for field in _BODY_FIELDS:
                    for child in getattr(node, field, None) or []:
                        inner.extend(child.body if isinstance(child, ast.excepthandler) or type(child).__name__ == "match_case"
                                     else [child])
                break
        statements = inner
    return found


def changed_regions_parse(text: str, tree: ast.Module, edits: list[Edit], new_text: str, index=None) -> str | None:
    """Check that the statements the edits touched still parse; None when they do.

    Each touched statement's lines (innermost statement, in its own block) are parsed on
    their own after removing the block's indentation, and must keep that indentation.
    Text outside them is byte-identical to a file that parsed, and each region closes its
    own brackets and strings, so this proves the whole file parses without a second full
    parse. Anything it cannot localise is checked by parsing the whole file.
    """
    import textwrap

    from .source import LineIndex

    index = index or LineIndex(text)
    regions: list[list[int]] = []
    for edit in sorted(edits, key=lambda e: e.start):
        if _TOKEN.fullmatch(edit.text) and _TOKEN.fullmatch(text[edit.start:edit.end]):
            continue  # a name or dotted path replacing a name or dotted path: cannot break the syntax
        statement = _innermost_statement(tree, index, edit.start, edit.end)
        if statement is None:
            start, end = edit.start, edit.end
        else:
            first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
            start = index.starts[first - 1]
            end = index.offset(statement.end_lineno, statement.end_col_offset)
        line_start = index.starts[index.line_of(min(start, edit.start)) - 1]
        last_line = index.line_of(max(end, edit.end) - 1 if max(end, edit.end) > 0 else 0)
        line_end = index.starts[last_line - 1] + len(index.line_text(last_line))
        if regions and line_start < regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], line_end)
        else:
            regions.append([line_start, line_end])
    ordered = sorted(edits, key=lambda e: e.start)
    for start, end in regions:
        delta_before = sum(len(e.text) - (e.end - e.start) for e in ordered if e.end <= start and e.start < start)
        delta_inside = sum(len(e.text) - (e.end - e.start) for e in ordered if start <= e.start and e.end <= end)
        region = new_text[start + delta_before:end + delta_before + delta_inside]
        first_line = text[start:index.starts[index.line_of(start) - 1] + len(index.line_text(index.line_of(start)))]
        indentation = first_line[: len(first_line) - len(first_line.lstrip(" \t"))]
        dedented = textwrap.dedent(region)
        kept_margin = region.lstrip("\r\n")[: len(region.lstrip("\r\n")) - len(dedented.lstrip("\r\n"))] if dedented.strip() else indentation
        if not region.strip():
            continue
        if kept_margin != indentation or "\f" in region or "\t" in indentation:
            return _whole_file_problem(new_text)
        try:
            parse(dedented, "<region>")
        except SyntaxError:
            return _whole_file_problem(new_text)
    return None


def _whole_file_problem(new_text: str) -> str | None:
    try:
        parse(new_text, "<rewrite>")
    except SyntaxError as exc:
        return f"{exc.msg}, line {exc.lineno}"
    return None


def process_file(root: str, path: str, stages: list[Targets], check_idempotence: bool,
                 known: tuple[str, list | None] | None = None) -> tuple[list, bool, str | None]:
    """Read, prefilter, parse once, then transform and verify one file for each stage.

    Returns one `(FileResult, SourceOutcome | None)` per stage, or an empty list when the
    prefilter rules the file out; whether the file was parsed; and the digest of its bytes
    when it was decoded (what the result cache keys on). With `known`, the digest and the
    cached outcome of an earlier run, a file whose bytes have that digest is not parsed:
    its stages come back as cached `(FileResult, (renamed, depends))` pairs instead.
    Never raises for a bad file. Only the last stage is checked for idempotence and by the
    safety check.
    """
    cache = _Cache.get(stages[0].config)
    full = os.path.join(root, path)
    try:
        info = os.lstat(full)
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        skipped = FileResult(path, FileStatus.SKIPPED, reason=f"cannot read: {exc.strerror}")
        return [(skipped, None)] * len(stages), False, None
    if not cache.prefilter(data, path):
        return [], False, None
    file_digest = None
    if known is not None:
        file_digest = result_cache.digest(data)
        if file_digest == known[0]:
            return CachedOutcome(result_cache.decode_outcome(path, known[1]) if known[1] else []), False, file_digest
    try:
        source = SourceText.decode(data)
    except UndecodableSource as exc:
        skipped = FileResult(path, FileStatus.SKIPPED, reason=f"cannot decode: {exc}")
        return [(skipped, None)] * len(stages), False, None
    file_digest = file_digest or result_cache.digest(data)
    try:
        tree = parse(source.text, path)
    except (SyntaxError, ValueError) as exc:
        reason = parse_failure_reason(source.text, exc) if isinstance(exc, SyntaxError) else f"does not parse: {exc}"
        line = (exc.lineno or 0) if isinstance(exc, SyntaxError) else 0
        skipped = FileResult(path, FileStatus.SKIPPED, original=data, reason=reason, line=line)
        return [(skipped, None)] * len(stages), True, file_digest
    mode = stat.S_IMODE(info.st_mode)
    results = []
    for position, targets in enumerate(stages):
        last = position == len(stages) - 1
        try:
            outcome = transform_source(source.text, path, targets, tree)
        except Exception as exc:  # an engine defect must not stop the run; the file is reported and left alone
            failed = FileResult(path, FileStatus.FAILED, original=data, reason=f"internal error: {type(exc).__name__}: {exc}")
            results.append((failed, None))
            continue
        result = finish(path, data, source, outcome, targets, check_idempotence and last, tree)
        result.mode = mode
        results.append((result, outcome))
    return results, True, file_digest


class CachedOutcome(list):
    """Per-stage items taken from the result cache: already in the form `_run_chunk` returns."""


def finish(path: str, data: bytes, source: SourceText, outcome: SourceOutcome, targets: Targets,
           check_idempotence: bool, tree: ast.Module | None = None) -> FileResult:
    if outcome.error:
        return FileResult(path, FileStatus.FAILED, original=data, followups=outcome.followups, reason=outcome.error)
    if not outcome.edits:
        return FileResult(path, FileStatus.UNCHANGED, followups=outcome.followups)
    if check_idempotence or tree is None:
        try:
            parse(outcome.text, path)
            problem = None
        except SyntaxError as exc:
            problem = f"{exc.msg}, line {exc.lineno}"
    else:
        problem = changed_regions_parse(source.text, tree, outcome.edits, outcome.text, outcome.index)
    if problem is not None:
        return FileResult(path, FileStatus.FAILED, original=data, rewritten=source.encode(outcome.text),
                          followups=outcome.followups,
                          reason=f"internal error: the rewrite does not parse ({problem}); not written")
    if check_idempotence:
        again = transform_source(outcome.text, path, targets)
        if again.edits:
            return FileResult(path, FileStatus.FAILED, original=data, rewritten=source.encode(outcome.text),
                              followups=outcome.followups,
                              reason=f"internal error: a second run would change line {again.edits[0].line} again; not written")
        from . import safety

        try:
            safety.check(source.text, outcome.text, outcome.edits, tree)
        except (safety.UnsafeRewrite, SyntaxError) as exc:
            return FileResult(path, FileStatus.FAILED, original=data, rewritten=source.encode(outcome.text),
                              followups=outcome.followups, reason=f"internal error: safety check failed: {exc}; not written")
    try:
        rewritten = source.encode(outcome.text)
    except UnicodeEncodeError as exc:
        return FileResult(path, FileStatus.FAILED, original=data, reason=f"cannot encode the rewrite as {source.encoding}: {exc}")
    return FileResult(path, FileStatus.CHANGED, original=data, rewritten=rewritten, edits=outcome.edits,
                      followups=outcome.followups)


# ----- the whole repository ------------------------------------------------------------------

_WORKER_STAGES: list[Targets] | None = None


@dataclass(frozen=True)
class RunOptions:
    check_idempotence: bool = False  # full verification of the last stage (what gets written)
    with_diffs: bool = False  # render each changed file's display diff in the worker


def _init_worker(stages: list[Targets]) -> None:
    global _WORKER_STAGES
    _WORKER_STAGES = stages
    # Automatic collection would walk every freshly built syntax tree again and again, and
    # there is nothing for it to find: the analysis breaks its own reference cycles
    # (FileFacts.release), so reference counting frees each file's trees.
    gc.disable()


def _run_chunk(root: str, paths: list[str], options: RunOptions, stages: list[Targets] | None = None,
               known: dict[str, tuple[str, list | None]] | None = None):
    """Per path, the stage results worth returning, and the file's digest when its outcome may
    be cached; a file with nothing to say and no digest (ruled out unread) is dropped."""
    stages = stages or _WORKER_STAGES
    assert stages is not None
    known = known or {}
    collecting = gc.isenabled()
    gc.disable()  # as in _init_worker, also when the run stays in this process (-j 1, small runs)
    try:
        results: list[tuple[str, list, str | None]] = []
        parsed = cached = 0
        for path in paths:
            per_stage, was_parsed, file_digest = process_file(root, path, stages, options.check_idempotence,
                                                              known.get(path))
            parsed += was_parsed
            if isinstance(per_stage, CachedOutcome):
                cached += 1
                results.append((path, list(per_stage) or [None] * len(stages), file_digest))
                continue
            kept = []
            previous: bytes | None = None
            for result, outcome in per_stage:
                extra = (outcome.renamed_exports, outcome.depends_on) if outcome is not None else ({}, set())
                if result.status is FileStatus.UNCHANGED and not result.followups and not extra[0] and not extra[1]:
                    kept.append(None)
                    continue
                if result.rewritten and result.rewritten == previous:
                    result.rewritten = previous  # one object for identical stage contents: pickled once
                previous = result.rewritten or previous
                if options.with_diffs and result.status is FileStatus.CHANGED:
                    result.diff = unified_diff(result, for_patch=False)
                kept.append((result, extra))
            if any(item is not None for item in kept) or file_digest is not None:
                results.append((path, kept or [None] * len(stages), file_digest))
        return results, parsed, cached, len(paths)
    finally:
        if collecting:
            gc.enable()


def _chunks(paths: list[str], sizes: dict[str, int], jobs: int) -> list[list[str]]:
    """Chunks of about equal bytes, largest files first, many more chunks than workers."""
    total = sum(sizes.get(p, 0) for p in paths) or 1
    budget = max(total // (jobs * 32), 1)
    chunks: list[list[str]] = []
    current: list[str] = []
    filled = 0
    for path in sorted(paths, key=lambda p: -sizes.get(p, 0)):
        current.append(path)
        filled += sizes.get(path, 0)
        if filled >= budget or len(current) >= 256:
            chunks.append(current)
            current, filled = [], 0
    if current:
        chunks.append(current)
    return chunks


def build_targets(root: Path, config: Config, steps: Iterable[str], todo_comments: bool = False) -> tuple[Targets, list[str]]:
    steps = frozenset(steps)
    rebinding = config.implementation is not None and "canonical" in steps
    facts = canonical_facts(root, config, rebinding)
    definition = {config.canonical_module} | {m for m, l in config.legacy_modules.items() if l.retire}
    if config.implementation_module:
        definition.add(config.implementation_module)
    api = {m for m, l in config.legacy_modules.items() if not l.retire}
    targets = Targets(
        config=config, steps=steps, canonical_exports=facts.exports, collapse_allowed=facts.collapse_allowed,
        definition_modules=frozenset(definition), api_modules=frozenset(api), todo_comments=todo_comments,
    )
    return targets, facts.warnings


def plan(root: Path, config: Config, steps: Iterable[str] = STEPS, jobs: int | None = None,
         check_idempotence: bool = False, progress: ProgressCallback | None = None,
         todo_comments: bool = False, paths: list[str] | None = None, with_diffs: bool = False,
         cache_directory: Path | None = None) -> Plan:
    """Plan the migration's `steps` over the repository (files are read, never written)."""
    return plan_stages(root, config, [steps], jobs, check_idempotence, progress, todo_comments, paths, with_diffs,
                       cache_directory)[0]


def plan_stages(root: Path, config: Config, stages: list[Iterable[str]], jobs: int | None = None,
                check_idempotence: bool = False, progress: ProgressCallback | None = None,
                todo_comments: bool = False, paths: list[str] | None = None, with_diffs: bool = False,
                cache_directory: Path | None = None) -> list[Plan]:
    """One plan per stage (each a set of steps), from a single pass that parses every file once.

    `check_idempotence` applies the full verification (second run, safety check) to the
    last stage, which is the one that gets written. `with_diffs` renders each changed file's
    display diff in the workers. With `cache_directory`, files whose outcome an earlier run
    with the same code, configuration and repository facts remembered are not parsed again
    (see `cache.py`); the plan is the same either way.
    """
    root = root.resolve()
    ordered_stages = [tuple(s for s in STEPS if s in set(steps)) for steps in stages]
    built = [build_targets(root, config, steps, todo_comments) for steps in ordered_stages]
    stage_targets = [targets for targets, _ in built]
    notes: list[FollowUp] = []
    stats: dict[str, FileStat] = {}
    if paths is None:
        paths, notes, stats = discover_with_stats(root, config, stats=cache_directory is not None)
    plans = [Plan(root=str(root), config_source=config.source, steps=steps, warnings=list(messages),
                  followups=list(notes)) for steps, (_, messages) in zip(ordered_stages, built)]
    jobs = max(1, jobs or os.cpu_count() or 1)
    options = RunOptions(check_idempotence, with_diffs)
    cache = None
    if cache_directory is not None:
        cache = result_cache.ResultCache.load(cache_directory, str(root), stage_targets)
    collected, counts = _run(str(root), paths, stage_targets, jobs, options, progress, cache, stats)
    if cache is not None:
        cache.keep_only(set(paths))
        cache.save()
    last_options = options
    for position, (targets, result) in enumerate(zip(stage_targets, plans)):
        result.scanned = len(paths)
        result.parsed, result.cached = counts
        stage = {path: items[position] for path, items in collected.items() if items[position] is not None}
        verify = replace(last_options, check_idempotence=check_idempotence and position == len(plans) - 1)
        stage = _follow_reexports(str(root), stage, targets, verify)
        result.files = sorted((file_result for file_result, _ in stage.values()), key=lambda r: r.path)
    return plans


def _follow_reexports(root: str, stage: dict[str, tuple], targets: Targets, options: RunOptions) -> dict[str, tuple]:
    """A consumer module whose module-level name changed no longer binds the old name: its
    importers and patch targets follow it (re-exports resolved across modules)."""
    derived: dict[tuple[str, str], str] = {}
    for _ in range(5):
        new = {}
        for path, (file_result, (renamed, _)) in stage.items():
            module, _ = module_name_for(path)
            for local, target in renamed.items():
                if (module, local) not in derived:
                    new[(module, local)] = target
        if not new:
            break
        derived.update(new)
        targets = replace(targets, derived=tuple((m, n, c) for (m, n), c in sorted(derived.items())))
        again = [p for p, (_, (_, deps)) in stage.items() if deps & set(new)]
        if not again:
            break
        rerun, _ = _run(root, again, [targets], 1, options, None)
        for path, items in rerun.items():
            if items[0] is not None:
                stage[path] = items[0]
    return stage


def _run(root: str, paths: list[str], stages: list[Targets], jobs: int, options: RunOptions,
         progress: ProgressCallback | None, cache: result_cache.ResultCache | None = None,
         stats: dict[str, FileStat] | None = None) -> tuple[dict[str, list], tuple[int, int]]:
    """Per path with something to say, its per-stage items; and (files parsed, outcomes from the cache)."""
    collected: dict[str, list] = {}
    stats = stats or {}
    remembered = 0
    pending = paths
    known: dict[str, tuple[str, list | None]] = {}
    if cache is not None:
        pending = []
        for path in paths:
            hit, encoded = cache.by_stat(path, stats.get(path))
            if not hit:
                pending.append(path)
                entry = cache.known_digest(path)
                if entry is not None:
                    known[path] = entry
                continue
            remembered += 1
            if encoded:
                collected[path] = result_cache.decode_outcome(path, encoded)
    parsed_total = 0
    if jobs == 1 or len(pending) < 64:
        outputs = [_run_chunk(root, pending, options, stages, known)]
        if progress is not None:
            progress(len(paths), len(paths))
    else:
        sizes = {}
        for path in pending:
            try:
                sizes[path] = os.path.getsize(os.path.join(root, path))
            except OSError:
                sizes[path] = 0
        done = len(paths) - len(pending)
        outputs = []
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(stages,)) as pool:
            futures = []
            for chunk in _chunks(pending, sizes, jobs):
                chunk_known = {p: known[p] for p in chunk if p in known}
                futures.append(pool.submit(_run_chunk, root, chunk, options, None, chunk_known))
            for future in futures:
                output = future.result()
                outputs.append(output)
                done += output[3]
                if progress is not None:
                    progress(done, len(paths))
    digests: dict[str, str | None] = {}
    for items, parsed, cached, _ in outputs:
        parsed_total += parsed
        remembered += cached
        for path, per_stage, file_digest in items:
            digests[path] = file_digest
            if any(item is not None for item in per_stage):
                collected[path] = per_stage
    if cache is not None:
        for path in pending:
            if path not in digests:
                cache.remember(path, stats.get(path), None, None)  # ruled out by the prefilter
                continue
            items = collected.get(path)
            encoded = result_cache.encode_outcome(items) if items is not None else []
            if digests[path] is None or encoded is None:
                cache.forget(path)
            else:
                cache.remember(path, stats.get(path), digests[path], encoded)
    return collected, (parsed_total, remembered)
