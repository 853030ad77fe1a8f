"""Files through the per-file steps, in worker processes, with the result cache answering what it can.

`run_files` asks the result cache first; the files it does not answer go, in chunks, to
worker processes (or stay in this one for a small run), each through `file_pipeline.process_file`.
A worker never raises for a bad file: what cannot be read, parsed or rewritten comes back as a
`FileResult` that says so.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from . import cache as result_cache
from .diffs import unified_diff
from .findings import REWRITE_REJECTED
from .model import FileOutcome, FileResult, FileStatus, Targets
from .parent_watch import end_with_parent

if TYPE_CHECKING:
    from .file_pipeline import ProcessedFile

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RunOptions:
    """How the workers treat each file."""

    verify: bool = False  # the full verification of what --apply writes
    with_diffs: bool = False  # render each changed file's display diff in the worker


@dataclass
class ChunkResult:
    """What one chunk of files came back with, and how many were parsed or answered by the cache."""

    files: dict[str, ProcessedFile] = field(default_factory=dict)
    parsed: int = 0
    cached: int = 0
    count: int = 0


# ----- many files, in worker processes ----------------------------------------------------------

_WORKER_TARGETS: Targets | None = None


def _init_worker(targets: Targets, main_pid: int) -> None:
    global _WORKER_TARGETS
    end_with_parent(main_pid)  # a killed main process must not leave its workers waiting forever
    _WORKER_TARGETS = targets
    # Automatic collection would walk every freshly built syntax tree again and again, and
    # there is nothing for it to find: the analysis breaks its own reference cycles
    # (FileFacts.release), so reference counting frees each file's trees.
    gc.disable()


def run_chunk(root: str, paths: list[str], options: RunOptions, targets: Targets | None = None,
              known: dict[str, tuple[str, list | None]] | None = None) -> ChunkResult:
    """Every file of the chunk that has something to say, or whose outcome may be cached."""
    targets = targets or _WORKER_TARGETS
    assert targets is not None
    known = known or {}
    chunk = ChunkResult(count=len(paths))
    if not paths:
        return chunk
    # the analysis, the steps' commands and the checks: loaded only when a file needs them
    from .file_pipeline import ProcessedFile, process_file

    collecting = gc.isenabled()
    gc.disable()  # as in _init_worker, also when the run stays in this process (-j 1, small runs)
    try:
        for path in paths:
            try:
                processed = process_file(root, path, targets, options.verify, known.get(path), options.with_diffs)
            except Exception as exc:  # a defect must not stop the other files (process_file reports bad input)
                processed = ProcessedFile(FileOutcome(FileResult(
                    path, FileStatus.FAILED, code=REWRITE_REJECTED.code,
                    reason=f"internal error: {type(exc).__name__}: {exc}")), True)
            chunk.parsed += processed.parsed
            chunk.cached += processed.from_cache
            outcome = processed.outcome
            if outcome is not None and options.with_diffs and outcome.result.status is FileStatus.CHANGED \
                    and not outcome.result.diff:  # one the result cache gave back, or one display_diff left
                outcome.result.diff = unified_diff(outcome.result, for_patch=False)
            if outcome is not None and outcome.says_nothing:
                processed.outcome = None
            if processed.outcome is not None or processed.digest is not None:
                chunk.files[path] = processed
        return chunk
    finally:
        if collecting:
            gc.enable()


def _classify_parse_failures(chunk: ChunkResult) -> None:
    """Whether a newer Python parses the chunk's files that do not parse: asked in the process
    that collects the results (see `file_pipeline.classify_parse_failures`), which loads the
    pipeline only when there is such a file."""
    if any(processed.parse_failure is not None for processed in chunk.files.values()):
        from .file_pipeline import classify_parse_failures

        classify_parse_failures(chunk.files.values())


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


@dataclass
class RunResult:
    """The outcome of every file with something to say, and how many were parsed or answered by the
    cache."""

    outcomes: dict[str, FileOutcome]  # files with something to say
    parsed: int
    cached: int


def run_files(root: str, paths: list[str], targets: Targets, jobs: int, options: RunOptions,
              progress: ProgressCallback | None, cache: result_cache.ResultCache | None = None,
              stats: dict[str, result_cache.FileStat] | None = None) -> RunResult:
    """Every file through the per-file steps (in `jobs` processes); the result cache answers what it can."""
    outcomes: dict[str, FileOutcome] = {}
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
                outcomes[path] = result_cache.decode_outcome(path, encoded)
    chunks: list[ChunkResult] = []
    if jobs == 1 or len(pending) < 64:
        chunks.append(run_chunk(root, pending, options, targets, known))
        _classify_parse_failures(chunks[-1])
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
        # loaded here: a run the result cache answers starts no process (multiprocessing costs ~8 ms to import)
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                 initargs=(targets, os.getpid())) as pool:
            futures = [pool.submit(run_chunk, root, chunk, options, None, {p: known[p] for p in chunk if p in known})
                       for chunk in _chunks(pending, sizes, jobs)]
            for future in futures:
                chunk_result = future.result()
                _classify_parse_failures(chunk_result)  # while the workers go on
                chunks.append(chunk_result)
                done += chunk_result.count
                if progress is not None:
                    progress(done, len(paths))
    parsed = 0
    digests: dict[str, str | None] = {}
    for chunk_result in chunks:
        parsed += chunk_result.parsed
        remembered += chunk_result.cached
        for path, processed in chunk_result.files.items():
            digests[path] = processed.digest
            if processed.outcome is not None:
                outcomes[path] = processed.outcome
    if cache is not None:
        for path in pending:
            if path not in digests:
                cache.remember(path, stats.get(path), None, None)  # ruled out by the prefilter
                continue
            outcome = outcomes.get(path)
            encoded = result_cache.encode_outcome(outcome) if outcome is not None else []
            if digests[path] is None or encoded is None:
                cache.forget(path)
            else:
                cache.remember(path, stats.get(path), digests[path], encoded)
    return RunResult(outcomes, parsed, remembered)
