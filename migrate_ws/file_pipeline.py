"""One file through the per-file steps: read, prefilter, parse, transform, verify.

Each file is read once and parsed once. Nothing here raises for a bad file: a file that
cannot be read, decoded or parsed, is too large or too deeply nested to analyse, or whose
rewrite fails the checks, comes back as a `FileResult` that says so. The workers
(`worker.py`) load this module only when a file is not answered by the result cache, so
that a run the cache answers does not load the analysis, the steps' commands or the checks.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Iterable

from . import binding_check
from . import cache as result_cache
from . import steps as step_registry
from .diffs import display_diff
from .editing import effective
from .findings import (BINDING_LOST, CANNOT_DECODE, CANNOT_READ, DOES_NOT_PARSE, NEWER_SYNTAX, REWRITE_REJECTED,
                       TOO_DEEP, TOO_LARGE)
from .model import FileOutcome, FileResult, FileStatus, Targets
from .references import unchanged_references
from .source import (ANALYSIS, NESTING_ERRORS, PARSER, SourceText, UndecodableSource, parse_source, too_deep_reason,
                     too_large_reason)
from .transform import Patterns, transform_source
from .verification import ParseFailure, SecondRun, newer_python_reason, verify_rewrite


@dataclass
class ProcessedFile:
    outcome: FileOutcome | None  # None: ruled out by the prefilter
    parsed: bool = False
    digest: str | None = None  # of the file's bytes, when it was decoded (what the result cache keys on)
    from_cache: bool = False
    parse_failure: ParseFailure | None = None  # not yet asked whether a newer Python parses the file


def _skipped(path: str, reason: str, code: str, data: bytes = b"", line: int = 0) -> FileOutcome:
    return FileOutcome(FileResult(path, FileStatus.SKIPPED, original=data, reason=reason, code=code, line=line))


def process_file(root: str, path: str, targets: Targets, verify: bool,
                 known: tuple[str, list | None] | None = None, with_diffs: bool = False) -> ProcessedFile:
    """Read, prefilter, parse once, transform and verify one file (and with `with_diffs`, render
    the display diff of a changed file from the texts at hand).

    With `known` (the digest and cached outcome of an earlier run), a file whose bytes still
    have that digest is not parsed: its cached outcome comes back instead.
    """
    patterns = Patterns.get(targets.config)
    full = f"{root}/{path}"
    try:
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return ProcessedFile(_skipped(path, f"cannot read: {exc.strerror}", CANNOT_READ.code))
    except MemoryError:
        return ProcessedFile(_skipped(path, "too large to read into memory", TOO_LARGE.code))
    if not patterns.prefilter(data, path) and b"migrate-ws:" not in data:  # unused keep comments
        return ProcessedFile(None)
    try:
        info = os.lstat(full)  # for the file's mode, wanted only of the few files read further
    except OSError as exc:
        return ProcessedFile(_skipped(path, f"cannot read: {exc.strerror}", CANNOT_READ.code))
    if len(data) > targets.config.max_file_size:
        return ProcessedFile(_skipped(path, too_large_reason(len(data), targets.config.max_file_size), TOO_LARGE.code))
    file_digest = None
    if known is not None:
        file_digest = result_cache.digest(data)
        if file_digest == known[0]:
            outcome = result_cache.decode_outcome(path, known[1]) if known[1] else None
            return ProcessedFile(outcome, False, file_digest, from_cache=True)
    try:
        source = SourceText.decode(data)
    except UndecodableSource as exc:
        return ProcessedFile(_skipped(path, f"cannot decode: {exc}", CANNOT_DECODE.code))
    file_digest = file_digest or result_cache.digest(data)
    try:
        tree = parse_source(source.text, path)
    except SyntaxError as exc:
        # whether a newer Python parses it is asked by whoever collects the results (classify_parse_failures)
        failure = ParseFailure.of(exc)
        return ProcessedFile(_skipped(path, failure.reason, DOES_NOT_PARSE.code, data, failure.line), True,
                             file_digest, parse_failure=failure)
    except ValueError as exc:
        return ProcessedFile(_skipped(path, f"does not parse: {exc}", DOES_NOT_PARSE.code, data), True, file_digest)
    except NESTING_ERRORS as exc:
        return ProcessedFile(_skipped(path, too_deep_reason(exc, PARSER), TOO_DEEP.code, data), True, file_digest)
    try:
        outcome = transform_source(source.text, path, targets, tree)
        result = finish(path, data, source, outcome, targets, verify, tree)
        if with_diffs and result.status is FileStatus.CHANGED:
            result.diff = display_diff(path, source.text, outcome.text, outcome.edits, index=outcome.index) or ""
    except NESTING_ERRORS as exc:
        # a tree the parser built can still be deeper than a recursive walk of the analysis or
        # of the checks (the safety check's comparison, the second run) may follow
        return ProcessedFile(_skipped(path, too_deep_reason(exc, ANALYSIS), TOO_DEEP.code, data), True, file_digest)
    except Exception as exc:  # an engine defect must not stop the run; the file is reported and left alone
        failed = FileResult(path, FileStatus.FAILED, original=data, code=REWRITE_REJECTED.code,
                            reason=f"internal error: {type(exc).__name__}: {exc}")
        return ProcessedFile(FileOutcome(failed), True, file_digest)
    result.mode = stat.S_IMODE(info.st_mode)
    result.suppressed = outcome.suppressed  # sites `# migrate-ws: keep` comments suppressed
    if result.code == BINDING_LOST.code:
        # the file stays as it is: it renames nothing, loses nothing, and imports what it imports today
        return ProcessedFile(FileOutcome(result, {}, outcome.depends_on, unchanged_references(outcome.references)),
                             True, file_digest)
    return ProcessedFile(FileOutcome(result, outcome.renamed_exports, outcome.depends_on, outcome.references,
                                     outcome.lost_names), True, file_digest)


def finish(path: str, data: bytes, source: SourceText, outcome, targets: Targets, verify: bool, tree=None) -> FileResult:
    """The file's result: unchanged, changed (checked), or rejected by the checks (never written)."""
    if outcome.error:
        return FileResult(path, FileStatus.FAILED, original=data, findings=outcome.findings, reason=outcome.error,
                          code=REWRITE_REJECTED.code)
    if not outcome.edits:
        return FileResult(path, FileStatus.UNCHANGED, findings=outcome.findings)
    order = step_registry.order()
    rewritten_trees: list = []  # the second run's parse of the rewrite, for the binding check

    def second_run(text: str) -> SecondRun:
        # the prefilter never rules out a file with work to do (a tested invariant): a rewrite
        # it rules out plans nothing on a second run, without being parsed and analysed again
        if not Patterns.get(targets.config).prefilter(source.encode(text), path):
            return SecondRun([], parsed=False)
        rewritten_tree = parse_source(text, path)  # raises SyntaxError for a rewrite that does not parse
        rewritten_trees.append(rewritten_tree)
        return SecondRun(transform_source(text, path, targets, rewritten_tree).edits, parsed=True)

    if tree is None:
        tree = parse_source(source.text, path)
    problem = verify_rewrite(source.text, tree, outcome.edits, outcome.text, order, verify, outcome.index,
                             second_run if verify else None)
    if problem is not None:
        rewritten = source.encode(outcome.text) if _encodable(source, outcome.text) else b""
        return FileResult(path, FileStatus.FAILED, original=data, rewritten=rewritten, findings=outcome.findings,
                          reason=f"internal error: {problem}; not written", code=REWRITE_REJECTED.code)
    try:
        rewritten = source.encode(outcome.text)
    except UnicodeEncodeError as exc:
        return FileResult(path, FileStatus.FAILED, original=data, code=REWRITE_REJECTED.code,
                          reason=f"cannot encode the rewrite as {source.encoding}: {exc}")
    # the binding check (pyflakes, before and after): part of every plan, so the dry-run stays what is written
    rejection = binding_check.check(source.text, tree, outcome.text, path, effective(outcome.edits, order),
                                    rewritten_trees[0] if rewritten_trees else None, outcome.index)
    if rejection is not None:
        return FileResult(path, FileStatus.FAILED, original=data, rewritten=rewritten, edits=outcome.edits,
                          findings=outcome.findings, reason=rejection.reason, code=BINDING_LOST.code,
                          line=rejection.line)
    return FileResult(path, FileStatus.CHANGED, original=data, rewritten=rewritten, edits=outcome.edits,
                      findings=outcome.findings)


def _encodable(source: SourceText, text: str) -> bool:
    try:
        source.encode(text)
        return True
    except UnicodeEncodeError:
        return False


def classify_parse_failures(files: Iterable[ProcessedFile]) -> None:
    """The files that do not parse: those only a newer Python parses say so (MW902).

    Asked by the process that collects the results (`worker.run_files`), not in the workers: the
    check loads LibCST, which each worker would otherwise load for itself."""
    for processed in files:
        failure = processed.parse_failure
        if failure is None or processed.outcome is None:
            continue
        processed.parse_failure = None
        result = processed.outcome.result
        try:
            text = SourceText.decode(result.original).text
        except UndecodableSource:
            continue
        try:
            newer = newer_python_reason(text, failure)
        except Exception:  # RecursionError, MemoryError, ...: the file stays "does not parse"
            newer = None
        if newer is not None:
            result.reason, result.code = newer, NEWER_SYNTAX.code
