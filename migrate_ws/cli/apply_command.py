"""`migrate-ws --apply`: write the migration to a new git branch, one commit per step.

What it does, in order:

1. Checks, before writing anything (exit 1 when one fails): the directory is in a git
   working tree (or `--no-git` was given), git can be run and can make commits, no merge
   or rebase is in progress, the working tree is clean (unless `--allow-dirty`; even then
   a file the migration rewrites must not have uncommitted changes), and the branch name
   is free. A malformed `--branch`, or `--branch`/`--open-pr` with `--no-git`, is a usage
   error (exit 2).
2. Plans the whole migration (the one plan `--dry-run` shows) and verifies it: every file's
   content after every step must parse, a second run over the final content plans nothing,
   and the safety check holds. Files the engine's own checks rejected (status FAILED: the
   binding check's MW704 among them) and files it could not parse are reported and never
   written; so are files git does not track.
   An import the change would break (MW701) refuses the apply.
3. Creates the branch at the current commit (a branch or a detached HEAD), points HEAD at
   it without touching the index or other files, and commits each step that changes
   something, in the registry's order (`migrate_ws/steps.py`). Each commit
   contains exactly the step's files; other uncommitted changes (with `--allow-dirty`)
   stay uncommitted.
4. Runs `--test-cmd` (a shell command, in the top of the working tree) and records the
   result; writes the PR description (`--pr-body`, by default inside the git directory so
   the working tree stays clean); with `--open-pr`, runs `gh pr create` when gh exists.

Any failure, Ctrl-C (SIGINT) or SIGTERM during step 3 or 4 puts everything back: the
original branch (or detached HEAD) checked out, the index and every file byte for byte as
before, the new branch gone, no temporary files. With `--no-git` the files are written in
place, and the same journal restores them on failure. Two things are never undone, because
they are not the run's: a branch of that name created by someone else while the run
planned (the branch is created only if none exists, and deleted only while it points at a
commit the run expects), and a file another program changed after the run wrote it (each
write first compares the file with what the run last wrote there; such a file stops the
run and keeps that program's bytes).

In a git repository the run also holds the repository's `<common git dir>/migrate-ws/apply.lock`
from before step 1 to its end (`apply_lock.py`), and records what it does in a journal in the git directory,
so that `migrate-ws --abort` can undo it after a SIGKILL or a power cut (`recovery.py`).
Files it cannot write (read-only, or in a directory that is not writable) are found in
step 2 and left out like untracked files (`unwritable.py`).

Exit codes are those of `exit_codes.py`: 0 applied (or nothing to apply), 1 refused before
writing anything (another --apply running, an interrupted --apply not yet aborted, ...),
2 usage error, 3 applied but some files were left unchanged (listed: they could not be
written, or the binding check rejected their change), 4 failed and
restored (or --test-cmd failed without --rollback-on-fail: the branch is kept and the
failure recorded), 123 internal error or a failed restore (what could not be restored is
listed), 130 interrupted and restored.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from .terminal import say

from ..config import Config, project_folders
from ..editing import sites_by_step, step_contents
from ..engine import plan as build_plan
from ..findings import BINDING_LOST, LEFT_OUT_WITH_REJECTED, NOT_TRACKED, Code, Finding, Severity
from ..model import Plan
from .. import review
from ..pr import OUTPUT_TAIL_LINES, CommitRecord, TestRun, followup_lines, render, title
from ..quoting import display_path
from ..report import plural
from ..writer import Journal, ReadOnlyFile, read_or_none
from .exit_codes import ExitCode, Failed, Refused, UsageError
from .git import (BranchExists, FileState, GitError, GitUnavailable, HeadState, NotARepository, ObjectStore,
                  Repository, stop_process)
from . import interactive, test_pause, unwritable
from .recovery import NO_RECOVERY, ApplyRecovery, InPlaceRecovery, Refusal, is_step_commit

PR_BODY_NAME = "migrate-ws/PR_DESCRIPTION.md"
FOLLOW_UPS_MD = "FOLLOW_UPS.md"
FOLLOW_UPS_JSON = "follow-ups.json"


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


@dataclass
class Options:
    jobs: Optional[int] = None
    branch: Optional[str] = None
    pr_body: Optional[Path] = None
    allow_dirty: bool = False
    no_git: bool = False
    legacy_policy: str = "shim"
    test_cmd: Optional[str] = None
    rollback_on_fail: bool = False
    open_pr: bool = False
    todo_comments: bool = False
    as_json: bool = False
    follow_ups: str = "summary"  # summary: grouped by code; all: every line
    split_by: Optional[str] = None  # owners | directory[:DEPTH]
    max_files: Optional[int] = None
    interactive: bool = False
    only: Optional[list[str]] = None  # PATH arguments: the change is limited to them (engine.plan's `only`)


@dataclass
class FileChange:
    path: str  # relative to --root (as the engine reports it)
    repo_path: str  # relative to the top of the working tree (as git wants it)
    full: Path
    data: bytes
    deleted: bool
    planned_from: bytes | None = None  # the file's bytes when the migration was planned


@dataclass
class PlannedStep:
    name: str
    title: str
    sites: int
    changes: list[FileChange]


@dataclass
class Outcome:
    status: str  # applied, tests-failed, nothing-to-apply, rolled-back, failed, interrupted
    code: int
    commits: list[CommitRecord] = field(default_factory=list)
    test_run: TestRun | None = None
    pr_body: Path | None = None
    error: str | None = None
    restored: bool | None = None  # None: nothing was written; False: putting it back failed


# ----- signals ---------------------------------------------------------------------------

def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While applying, SIGTERM interrupts like Ctrl-C, so the repository is restored."""
    if not _in_main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """SIGINT and SIGTERM are noted, not raised, while the repository is being restored."""
    received: list[int] = []
    if not _in_main_thread():
        yield received
        return

    def note(signum, frame):
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def ignore_further_signals() -> None:
    if _in_main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def uninterruptible(action: Callable[[], list[str]]) -> list[str]:
    """Run `action` (idempotent) to completion even when signals arrive; retry if one got through."""
    while True:
        try:
            with signals_deferred():
                return action()
        except KeyboardInterrupt:
            continue


# ----- output ----------------------------------------------------------------------------

class UI:
    def __init__(self, out: Any, err: Any, as_json: bool) -> None:
        self.out = out
        self.err = err
        self.as_json = as_json

    def line(self, text: str = "") -> None:
        """A line of the human-readable report (stderr when printing JSON)."""
        say(self.err if self.as_json else self.out, text)

    def note(self, text: str) -> None:
        say(self.err, f"migrate-ws: {text}")

    def error(self, text: str) -> None:
        say(self.err, f"migrate-ws: error: {text}")

    def json(self, document: dict) -> None:
        self.out.file.write(json.dumps(document, indent=2) + "\n")

    @contextmanager
    def working(self, message: str) -> Iterator[None]:
        if self.err.is_terminal and not self.as_json:
            with self.err.status(message):
                yield
        else:
            yield


# ----- planning and verifying --------------------------------------------------------------

def default_branch(config: Config, today: date | None = None) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", config.name).strip("-.") or "migration"
    return f"migrate-ws/{name}-{(today or date.today()):%Y%m%d}"


def plan_migration(ui: UI, root: Path, config: Config, options: Options) -> Plan:
    """The one plan `--dry-run` shows, with the full verification of what gets written."""
    with ui.working("migrate-ws: planning the migration"):
        return build_plan(root, config, jobs=options.jobs, verify=True, todo_comments=options.todo_comments,
                          legacy_policy=options.legacy_policy, only=options.only,
                          progress=lambda done, total: test_pause.reached("planning:files"))


def planned_steps(plan: Plan, root: Path, prefix: str, excluded: set[str]) -> list[PlannedStep]:
    """The plan as the file changes each step makes, without the excluded files."""
    order = plan.steps
    by_step: dict[str, list[FileChange]] = {step: [] for step in order}
    sites: dict[str, int] = {step: 0 for step in order}
    for result in plan.changed_files:
        if result.path in excluded:
            continue
        for step, count in sites_by_step(result.edits, order).items():
            sites[step] += count
        for step, data in step_contents(result, order):
            by_step[step].append(FileChange(result.path, prefix + result.path, root / result.path,
                                            data if data is not None else b"", data is None, result.original))
    return [PlannedStep(step, plan.titles.get(step, step), sites[step], by_step[step]) for step in order]


def applied_exit_code(plan: Plan, excluded: list[Finding]) -> int:
    """0 when everything was applied; 3 when files were left unchanged because they cannot be
    written, or because the binding check rejected their change (MW704, and MW706 for what
    relied on it)."""
    code = unwritable.exit_code(excluded, ExitCode.CLEAN)
    if code == ExitCode.CLEAN and any(r.code in (BINDING_LOST.code, LEFT_OUT_WITH_REJECTED.code)
                                      for r in plan.skipped_files):
        return ExitCode.UNPROCESSED
    return code


def not_processed(plan: Plan) -> set[str]:
    """Files the plan could not process or rejected: no step may write them."""
    return {result.path for result in plan.skipped_files}


def verify(steps: list[PlannedStep], plan: Plan, excluded: set[str] = frozenset()) -> list[str]:
    """The steps must end exactly on the plan (what --dry-run shows), and the plan must break no
    import; return the problems. (Each file's state after each step was checked when it was planned.)"""
    problems: list[str] = []
    final = {r.path: (None if r.deleted else r.rewritten) for r in plan.changed_files if r.path not in excluded}
    last: dict[str, bytes | None] = {}
    for step in steps:
        last.update((change.path, None if change.deleted else change.data) for change in step.changes)
    for path in sorted(set(final) | set(last)):
        if final.get(path, b"") != last.get(path, b""):
            problems.append(f"{display_path(path)}: internal error: the steps do not end on the planned content; "
                            "not written")
    problems.extend(f.render() for f in plan.all_findings if f.severity is Severity.ERROR)
    return problems


def check_command(config: Config, root: Path, top: Path, legacy_policy: str = "shim") -> str:
    """The command that checks, from the top of the repository, that nothing is left to migrate."""
    parts = ["migrate-ws", "--check"]
    if root != top:
        parts += ["-C", root.relative_to(top).as_posix()]
    source = config.source
    found_by_search = {(folder / "pyproject.toml").resolve() for folder in project_folders(root)}
    if source.startswith("preset "):
        parts += ["--preset", source[len("preset "):]]
    elif source not in ("<built-in>", "") and Path(source).resolve() not in found_by_search:
        parts += ["--config", source]
    if legacy_policy != "shim":
        parts += ["--legacy-modules", legacy_policy]
    return " ".join(shlex.quote(part) for part in parts)


# ----- the user's tests ------------------------------------------------------------------

# The shell waits for one line before it runs the command (with /dev/null as its input, as
# before): the line comes once the journal holds the process group, and a migrate-ws killed
# before that closes the pipe, so the command never starts unrecorded.
TEST_GATE = 'IFS= read -r _ || exit 125; exec </dev/null; exec /bin/sh -c "$1"'


def run_tests(ui: UI, command: str, cwd: Path, started_as: Callable[[int], None] = lambda pid: None) -> TestRun:
    """Run `command` through the shell in `cwd`, in a process group of its own that `started_as`
    is told before the command starts; keep the end of its output."""
    tee = ui.err.is_terminal and not ui.as_json
    ui.note(f"running the tests: {command}")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", TEST_GATE, "migrate-ws-test-cmd", command], cwd=cwd,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as exc:
        return TestRun(command, None, time.monotonic() - started, error=f"cannot start: {exc.strerror}")
    tail: deque[str] = deque(maxlen=OUTPUT_TAIL_LINES)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        started_as(proc.pid)
        try:
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        except OSError:
            pass  # it ended already; its exit code says why
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            if tee:
                say(ui.err, line)
        proc.wait()
    except BaseException:
        stop_process(proc)
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    code = proc.returncode
    return TestRun(command, code, time.monotonic() - started, list(tail),
                   error=None if code is None or code >= 0 else f"killed by signal {-code}")


def describe_test_run(ui: UI, run: TestRun) -> None:
    if run.passed:
        ui.line(f"Tests passed: {run.command} (exit 0, {run.seconds:.1f} s)")
        return
    ui.line(f"Tests FAILED: {run.command} ({run.error or f'exit code {run.exit_code}'}, {run.seconds:.1f} s)")
    if run.output_tail:
        ui.line(f"  last {len(run.output_tail)} lines of output:")
        for line in run.output_tail:
            ui.line(f"  | {line}")


# ----- reporting -------------------------------------------------------------------------

def json_document(outcome: Outcome, *, mode: str, plan: Plan | None, steps: list[PlannedStep],
                  excluded: list[Finding], branch: str | None, base: HeadState | None,
                  legacy_policy: str) -> dict:
    committed = {c.step: c for c in outcome.commits}
    kept = outcome.status in ("applied", "tests-failed")
    return {
        "status": outcome.status,
        "exit_code": int(outcome.code),
        "mode": mode,
        "branch": branch if mode == "git" and kept else None,
        "base": {"ref": base.ref, "sha": base.sha} if base is not None else None,
        "commits": [
            {"sha": c.sha, "step": c.step, "subject": c.message()[0], "sites": c.sites, "files": c.files}
            for c in outcome.commits
        ] if mode == "git" and kept else [],
        "steps": [
            {"name": s.name, "title": s.title, "sites": s.sites, "files": [c.path for c in s.changes],
             "applied": kept and s.name in committed, "sha": committed[s.name].sha if kept and s.name in committed else None}
            for s in steps
        ],
        "findings": [f.to_json() for f in plan.all_findings] if plan is not None else [],
        "not_processed": ([{"path": r.path, "code": r.code, "reason": r.reason} for r in plan.skipped_files]
                          + [{"path": f.path, "code": f.code, "reason": f.message.removeprefix(NOT_PROCESSED)}
                             for f in excluded]) if plan is not None else [],
        "legacy_modules": legacy_policy,
        "pr_body": str(outcome.pr_body) if outcome.pr_body is not None else None,
        "test": outcome.test_run.to_json() if outcome.test_run is not None else None,
        "error": outcome.error,
    }


NOT_PROCESSED = "not processed: "


def left_out(path: str, reason: str, code: Code) -> Finding:
    """A file `--apply` leaves out (not tracked, not writable), as the finding that reports it."""
    return Finding(code.code, path, 0, f"{NOT_PROCESSED}{reason}")


def left_out_paths(excluded: list[Finding]) -> set[str]:
    return {finding.path for finding in excluded}


def print_findings(ui: UI, plan: Plan, excluded: list[Finding], follow_ups: str = "summary") -> None:
    if follow_ups == "summary":
        for line in review.summary_lines(review.reported(plan, excluded)):
            ui.line(line)
        return
    lines = followup_lines(plan, excluded)
    if lines:
        ui.line(f"Manual follow-ups ({len(lines)}):")
        for line in lines:
            ui.line(f"  {line}")


# ----- applying ----------------------------------------------------------------------------

def branch_taken(exc: BranchExists) -> str:
    """The refusal when the branch (or one whose name clashes) appeared while the run planned."""
    at = f" (it points at {exc.tip[:10]})" if exc.tip else ""
    what = f"branch {exc.name}" if exc.existing == exc.name else \
        f"branch {exc.existing}, whose name clashes with {exc.name},"
    return (f"{what} was created while migrate-ws was planning{at}; it was not touched and nothing was changed; "
            "choose another name with --branch")


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return str(exc)


class Applier:
    """Plan, verify, write step by step, test, describe; undo everything on failure."""

    mode = "no-git"

    def __init__(self, ui: UI, root: Path, config: Config, options: Options) -> None:
        self.ui = ui
        self.root = root
        self.top = root
        self.config = config
        self.options = options
        self.journal = Journal()
        self.plan: Plan | None = None
        self.steps: list[PlannedStep] = []
        self.excluded: list[Finding] = []  # files this apply leaves out, as findings
        self.last_step: dict[str, str] = {}  # path -> the last step that writes it
        self.base: HeadState | None = None
        self.branch: str | None = None
        self.writing = False  # the transaction has started
        self.recovery = NO_RECOVERY  # recovery: the lock and on-disk journal (git mode), see recovery.py

    # hooks for the git and in-place variants
    def prepare(self) -> None:
        raise NotImplementedError

    def select(self, plan: Plan) -> None:
        """Decide which changed files this apply leaves out (into self.excluded)."""
        raise NotImplementedError

    def arrange(self, plan: Plan) -> None:
        """The steps to write, without the files left out."""
        self.steps = planned_steps(plan, self.root, self.prefix, left_out_paths(self.excluded) | not_processed(plan))
        self.last_step = {change.path: step.name for step in self.steps for change in step.changes}

    @property
    def prefix(self) -> str:
        return "" if self.root == self.top else self.root.relative_to(self.top).as_posix() + "/"

    def review(self, plan: Plan) -> None:
        """--interactive: the user accepts or rejects each file; rejected ones are left out (MW705)."""
        skip = left_out_paths(self.excluded) | not_processed(plan)
        changed = {result.path for result in plan.changed_files if result.path not in skip}
        if not changed:
            return
        self.excluded += interactive.review_interactively(
            plan, self.root, [result.path for result in plan.files], changed, self.ui.out, sys.stdin)

    def begin(self) -> None:
        pass

    @staticmethod
    def file_state(change: FileChange) -> FileState:
        """The file as the step's commit records it (the writer keeps a file's mode)."""
        try:
            executable = bool(os.stat(change.full).st_mode & 0o111)
        except OSError:
            executable = False
        return FileState(change.repo_path, None if change.deleted else change.data, executable)

    def finish_step(self, record: CommitRecord) -> None:
        pass

    def undo(self) -> list[str]:
        return self.journal.restore()

    def pr_body_path(self) -> Path | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    # the run
    def run(self) -> int:
        try:
            self.prepare()
            try:
                self.plan = plan_migration(self.ui, self.root, self.config, self.options)
            except KeyboardInterrupt:
                self.ui.note("interrupted; nothing was changed")
                return ExitCode.INTERRUPTED
            self.select(self.plan)
            if self.options.interactive:
                try:
                    self.review(self.plan)
                except KeyboardInterrupt:
                    self.ui.note("interrupted; nothing was changed")
                    return ExitCode.INTERRUPTED
            self.arrange(self.plan)
            if not any(step.changes for step in self.steps):
                return self.nothing_to_apply()
            if self.writes_working_tree:
                self.remove_leftover_temps()
            problems = verify(self.steps, self.plan, left_out_paths(self.excluded))
            if problems:
                for problem in problems:
                    self.ui.line(f"  {problem}")
                count = plural(len(problems), "problem")
                return self.finish(Outcome("failed", ExitCode.FAILED,
                                           error=f"verification failed ({count}); nothing was written"))
            return self.finish(self.transaction())
        finally:
            self.close()

    writes_working_tree = True

    def remove_leftover_temps(self) -> None:
        """The temporary files a killed migrate-ws left next to the files this run writes (a kill
        between writing one and renaming it over its target: so the target still needs the change).
        Only this tool's temporary names, and only those of processes that are gone: under the lock
        no other migrate-ws writes here, and one that runs without it (outside a repository) is alive."""
        from ..writer import temp_file_pid
        from .apply_lock import process_alive

        folders = sorted({change.full.parent for step in self.steps for change in step.changes})
        removed: list[str] = []
        for folder in folders:
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in sorted(names):
                pid = temp_file_pid(name)
                if pid is None or pid == os.getpid():
                    continue
                if process_alive(pid):
                    self.ui.note(f"left {self.shown(str(folder / name))}: a migrate-ws temporary file of process "
                                 f"{pid}, which is still running")
                    continue
                try:
                    os.unlink(folder / name)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    self.ui.note(f"cannot remove {self.shown(str(folder / name))}, a temporary file a killed "
                                 f"migrate-ws left: {exc.strerror or exc}")
                    continue
                removed.append(self.shown(str(folder / name)))
        if removed:
            self.ui.note(f"removed {plural(len(removed), 'temporary file')} a killed migrate-ws run left: "
                         + ", ".join(removed))

    def write_step(self, step: PlannedStep) -> list[FileChange]:
        """Write the step's files; return those whose content actually changed."""
        written = []
        self.recovery.writing(step.name, [change.full for change in step.changes])  # recovery
        for change in step.changes:
            # every write: the file must still be what this run last wrote there (or, the first
            # time, what the migration was planned from); what someone else saved is never overwritten
            known, last = self.journal.last_written(change.full)
            current = read_or_none(change.full)
            if known:
                if current != last:
                    self.recovery.left_as_changed(change.full)  # recovery
                    raise Failed(f"{display_path(change.path)} was changed by another program after migrate-ws wrote it; stopped "
                                 "before overwriting it")
            elif self.journal.original(change.full) is None and change.planned_from is not None:
                if current != change.planned_from:
                    raise Failed(f"{display_path(change.path)} changed on disk after the migration was planned; "
                                 "nothing of it was written (run migrate-ws again)")
            try:
                if change.deleted:
                    if not os.path.lexists(change.full):
                        continue
                    self.journal.delete(change.full)
                else:
                    if current == change.data:
                        continue
                    if not known and current is not None:
                        self.journal.remember(change.full, current)  # the bytes just read: not read again
                    self.journal.write(change.full, change.data, durable=self.last_step.get(change.path) == step.name)
                written.append(change)
            except ReadOnlyFile:
                raise Failed(f"cannot write {display_path(change.path)}: the file is read-only") from None
            except OSError as exc:
                verb = "delete" if change.deleted else "write"
                raise Failed(f"cannot {verb} {display_path(change.path)}: {exc.strerror or exc}") from None
        try:
            self.journal.flush()  # one directory sync per directory and step, before the commit reads them
        except OSError as exc:
            where = Path(exc.filename) if exc.filename else None
            if where is not None and where.is_relative_to(self.root):
                where = where.relative_to(self.root)
            what = display_path(where.as_posix()) if where is not None else "the files of this step"
            raise Failed(f"cannot write {what}: {exc.strerror or exc}") from None
        return written

    def transaction(self) -> Outcome:
        commits: list[CommitRecord] = []
        test_run: TestRun | None = None
        self.writing = True
        try:
            self.begin()
            for step in self.steps:
                if not step.changes:
                    continue
                written = self.write_step(step)
                if not written:
                    continue  # never an empty commit
                record = CommitRecord(step.name, step.title, step.sites, [c.repo_path for c in written])
                self.finish_step(record)
                commits.append(record)
            if self.options.test_cmd:
                self.recovery.phase("tests")  # recovery
                test_run = run_tests(self.ui, self.options.test_cmd, self.top, self.recovery.tests_started)
                if not test_run.passed and self.options.rollback_on_fail:
                    problems = self.rollback()
                    return self.restored(Outcome("rolled-back", ExitCode.FAILED, commits, test_run,
                                                 error="the tests failed (--rollback-on-fail)"),
                                         problems)
            pr_path = self.pr_body_path()
            if pr_path is not None:
                self.recovery.describing(pr_path)  # recovery
                self.write_description(pr_path, commits, test_run)
            if test_run is not None and not test_run.passed:
                outcome = Outcome("tests-failed", ExitCode.FAILED, commits, test_run, pr_path)
            else:
                outcome = Outcome("applied", applied_exit_code(self.plan, self.excluded), commits, test_run, pr_path)
        except KeyboardInterrupt as exc:
            problems = self.rollback()
            ignore_further_signals()  # the run is ending with 130: a late signal must not cut the exit short
            what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
            return self.restored(Outcome("interrupted", ExitCode.INTERRUPTED, commits, test_run, error=what), problems)
        except BranchExists as exc:
            problems = self.rollback()
            if problems:
                return self.restored(Outcome("failed", ExitCode.FAILED, error=branch_taken(exc)), problems)
            raise Refused(branch_taken(exc)) from None
        except (Failed, GitError, GitUnavailable, OSError) as exc:
            problems = self.rollback()
            return self.restored(Outcome("failed", ExitCode.FAILED, commits, test_run, error=describe_error(exc)), problems)
        except Exception as exc:  # a defect in migrate-ws: still put everything back
            problems = self.rollback()
            return self.restored(Outcome("failed", ExitCode.INTERNAL, commits, test_run,
                                         error=f"internal error: {type(exc).__name__}: {exc}"), problems)
        # from here on the change stands: an interruption no longer undoes it
        self.journal.discard()
        self.recovery.finished()  # recovery
        return outcome

    def rollback(self) -> list[str]:
        self.recovery.restoring()  # recovery
        problems = uninterruptible(self.undo)
        for path in self.journal.left_alone:
            self.recovery.left_as_changed(Path(path))  # recovery
            self.ui.note(f"{self.shown(path)} was left as another program wrote it during the run (it also holds "
                         "what migrate-ws had written to it before)")
        if not problems:
            self.recovery.finished()  # recovery
        return problems

    def shown(self, path: str) -> str:
        """A path as the user names it: relative to the root when it is inside."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path

    def restored(self, outcome: Outcome, problems: list[str]) -> Outcome:
        outcome.restored = not problems
        for problem in problems:
            self.ui.error(f"could not restore: {problem}")
        if problems:
            outcome.code = ExitCode.INTERNAL
        return outcome

    def describe(self, commits: list[CommitRecord], test_run: TestRun | None, full_list: str | None = None) -> str:
        assert self.plan is not None
        return render(
            plan=self.plan, commits=commits, branch=self.branch, base=self.base.describe() if self.base else None,
            check_command=check_command(self.config, self.root, self.top, self.options.legacy_policy),
            test_command=self.options.test_cmd, test_run=test_run, excluded=self.excluded, full_list=full_list,
        )

    def write_description(self, pr_path: Path, commits: list[CommitRecord], test_run: TestRun | None) -> None:
        """The PR description, and next to it the complete list of follow-ups (Markdown and JSON)."""
        assert self.plan is not None
        findings = review.reported(self.plan, self.excluded)
        try:
            folder = pr_path.parent.relative_to(self.top).as_posix()
        except ValueError:
            folder = str(pr_path.parent)
        full_list = f"`{FOLLOW_UPS_MD}` and `{FOLLOW_UPS_JSON}`, written next to this description (`{folder}`)"
        contents = {
            pr_path: self.describe(commits, test_run, full_list),
            pr_path.parent / FOLLOW_UPS_MD: review.followups_markdown(findings, self.plan.heading),
            pr_path.parent / FOLLOW_UPS_JSON: review.followups_json(findings),
        }
        for path, text in contents.items():
            try:
                self.journal.write(path, text.encode("utf-8"))
            except OSError as exc:
                raise Failed(f"cannot write {path}: {exc.strerror or exc}") from None

    # reporting
    def document(self, outcome: Outcome) -> dict:
        return json_document(outcome, mode=self.mode, plan=self.plan, steps=self.steps,
                             excluded=self.excluded, branch=self.branch, base=self.base,
                             legacy_policy=self.options.legacy_policy)

    def nothing_to_apply(self) -> int:
        assert self.plan is not None
        outcome = Outcome("nothing-to-apply", applied_exit_code(self.plan, self.excluded))
        if self.ui.as_json:
            self.ui.json(self.document(outcome))
            return outcome.code
        assert self.plan is not None
        self.ui.line(f"migrate-ws: nothing to apply ({self.plan.scanned} files scanned){self.nothing_done}.")
        print_findings(self.ui, self.plan, self.excluded, self.options.follow_ups)
        return outcome.code

    def finish(self, outcome: Outcome) -> int:
        ui = self.ui
        assert self.plan is not None
        if outcome.status in ("applied", "tests-failed"):
            if ui.as_json:
                ui.json(self.document(outcome))
            else:
                self.print_summary(outcome)
            if outcome.test_run is not None and not outcome.test_run.passed:
                ui.error(f"the tests failed ({outcome.test_run.error or f'exit code {outcome.test_run.exit_code}'}); "
                         + self.kept_after_failed_tests)
            if outcome.status == "applied" and self.options.open_pr and outcome.pr_body is not None:
                self.open_pr(outcome.pr_body)
            return outcome.code
        if outcome.test_run is not None and not ui.as_json:
            describe_test_run(ui, outcome.test_run)
        if outcome.restored is None:
            state = "nothing was changed"
        elif outcome.restored:
            state = self.restored_state()
        else:
            state = "restoring FAILED, see above"
        if outcome.status == "interrupted":
            ui.note(f"{outcome.error}; {state}")
        else:
            ui.error(f"{outcome.error}; {state}")
        if ui.as_json:
            ui.json(self.document(outcome))
        return outcome.code

    def print_summary(self, outcome: Outcome) -> None:
        ui = self.ui
        assert self.plan is not None
        files = sorted({path for commit in outcome.commits for path in commit.files})
        sites = sum(commit.sites for commit in outcome.commits)
        ui.line(f"migrate-ws: applied {self.where_applied()}: {self.plural_commits(len(outcome.commits))}, "
                f"{plural(len(files), 'file')} changed, {plural(sites, 'site')}.")
        committed = {commit.step: commit for commit in outcome.commits}
        for step in self.steps:
            commit = committed.get(step.name)
            if commit is None:
                ui.line(f"  {'-':<10}  {step.name:<15} nothing to change")
                continue
            label = commit.sha[:10] if commit.sha else "written"
            ui.line(f"  {label:<10}  {step.name:<15} {plural(commit.sites, 'site')} in {plural(len(commit.files), 'file')}  {step.title}")
        print_findings(ui, self.plan, self.excluded, self.options.follow_ups)
        if outcome.test_run is not None:
            describe_test_run(ui, outcome.test_run)
        if outcome.pr_body is not None:
            ui.line(f"PR description: {outcome.pr_body}")
        else:
            ui.line("No PR description was written (use --pr-body FILE to write one).")
        self.print_next_steps()

    # what differs between writing in place and committing to a branch
    nothing_done = ""
    kept_after_failed_tests = "the files are kept as written"

    def restored_state(self) -> str:
        return "every file was restored"

    def where_applied(self) -> str:
        return "in place"

    def plural_commits(self, count: int) -> str:
        return plural(count, "step")

    def print_next_steps(self) -> None:
        pass

    def open_pr(self, body: Path) -> None:
        pass


class InPlaceApplier(Applier):
    """`--no-git`: write the files in place; a failure restores every file already written."""

    mode = "no-git"

    def prepare(self) -> None:
        if self.options.branch:
            raise UsageError("--branch needs git; it cannot be used with --no-git")
        if self.options.open_pr:
            raise UsageError("--open-pr needs git; it cannot be used with --no-git")
        # inside a git repository: the apply lock, and a refusal while an --apply awaits --abort
        self.recovery = InPlaceRecovery.take(self.root, self.ui.note)  # recovery

    def close(self) -> None:
        self.recovery.close()  # recovery: the lock

    def select(self, plan: Plan) -> None:
        self.excluded = unwritable.find(self.root, plan, not_processed(plan), self.ui.note)  # unwritable

    def write_step(self, step: PlannedStep) -> list[FileChange]:
        # without commits only the end state matters: each file is written once, with its final content
        final = [change for change in step.changes if self.last_step[change.path] == step.name]
        super().write_step(PlannedStep(step.name, step.title, step.sites, final))
        return step.changes  # reported per step, as the commits would be

    def pr_body_path(self) -> Path | None:
        return Path(os.path.abspath(self.options.pr_body)) if self.options.pr_body is not None else None


class GitApplier(Applier):
    """Commit each step on a new branch created from the current commit."""

    mode = "git"
    writes_working_tree = True
    nothing_done = "; no branch was created"
    kept_after_failed_tests = "the branch is kept and the failure is recorded in the PR description"

    def restored_state(self) -> str:
        assert self.base is not None
        if self.created_at is None:
            return f"the repository was restored (no branch was created, {self.base.describe()} checked out)"
        if self.branch_kept is not None:
            return (f"the repository was restored ({self.base.describe()} checked out; branch {self.branch} was kept: "
                    f"it points at {self.branch_kept[:10]}, which this run did not make)")
        return f"the repository was restored (branch {self.branch} removed, {self.base.describe()} checked out)"

    def where_applied(self) -> str:
        assert self.base is not None
        return f"on branch {self.branch} (from {self.base.describe()} at {self.base.sha[:10]})"

    def plural_commits(self, count: int) -> str:
        return plural(count, "commit")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # the recovery journal keeps every original on disk before the first write, so the files
        # are synced once each, at the end of a step, not after every write (see writer.Journal)
        self.journal.deferred_sync = True
        self.repo: Repository | None = None
        self.dirty: list[tuple[str, str]] = []
        self.branch_created = False
        self.creating_branch = False  # `git update-ref` creating it ran (and may have been stopped)
        self.created_at: str | None = None  # the commit git created the branch at (None: not created)
        self.made_commits: list[str] = []
        self.committing: str | None = None  # the step whose `git commit` runs
        self.branch_kept: str | None = None  # the tip of a branch the undo did not delete: not this run's
        self.head_switched = False
        self.locks: list[Path] = []
        self.objects: ObjectStore | None = None  # fast-import storing each step's blobs and trees before its commit
        self.step_numbers: dict[str, int] = {}

    def stop_storing_objects(self) -> None:
        if self.objects is not None:
            self.objects.stop()
            self.objects = None

    def close(self) -> None:
        self.stop_storing_objects()
        self.recovery.close()  # recovery: remove the journal (unless a restore failed), release the lock
        if self.repo is not None:
            self.repo.close()

    def prepare(self) -> None:
        try:
            self.repo = repo = Repository(self.root)
        except GitUnavailable as exc:
            raise Refused(f"{exc}; install git, or use --no-git to apply in place without git") from None
        except NotARepository:
            raise Refused(f"{self.root} is not in a git repository; use --no-git to apply in place without git") from None
        self.top = repo.top
        self.recovery = ApplyRecovery.take(repo, self.ui.note)  # recovery: the lock; refuses after an interrupted run
        try:
            self.base = repo.head()
        except GitError:
            raise Refused("the repository has no commits yet; commit something first") from None
        busy = repo.operation_in_progress()
        if busy is not None:
            raise Refused(f"{busy} is in progress; finish or abort it first")
        name = self.options.branch or default_branch(self.config)
        if not repo.valid_branch_name(name):
            raise UsageError(f"--branch {name!r}: not a valid branch name")
        conflict = repo.ref_conflict(name)
        if conflict == name:
            raise Refused(f"branch {name} already exists; choose another name with --branch (it was not changed)")
        if conflict is not None:
            raise Refused(f"branch {name} clashes with the existing branch {conflict}; choose another name with --branch")
        self.branch = name
        problem = repo.identity_problem()
        if problem is not None:
            raise Refused(problem)
        self.locks = [repo.git_path("index.lock"), repo.git_path("HEAD.lock"), repo.git_path(f"refs/heads/{name}.lock")]
        if self.locks[0].exists():
            raise Refused(f"another git process is running ({self.locks[0]} exists); try again when it has finished")
        self.dirty = repo.status_entries()
        if self.dirty and not self.options.allow_dirty:
            sample = ", ".join(path for _, path in self.dirty[:3]) + (", ..." if len(self.dirty) > 3 else "")
            raise Refused(f"the working tree has uncommitted changes ({plural(len(self.dirty), 'path')}: {sample}); "
                          "commit or stash them, or pass --allow-dirty")
        self.recovery.planning(self.base, self.branch)  # recovery: the journal starts

    def select(self, plan: Plan) -> None:
        assert self.repo is not None
        prefix = self.prefix
        paths = [result.path for result in plan.changed_files]
        tracked = self.repo.tracked([prefix + p for p in paths])
        self.excluded = [left_out(p, "not tracked by git; left unchanged", NOT_TRACKED)
                         for p in paths if prefix + p not in tracked]
        dirty = {path for _, path in self.dirty}  # (status, path) pairs from git
        touched = [p for p in paths if prefix + p in dirty and prefix + p in tracked]
        if touched:
            sample = ", ".join(touched[:5]) + (", ..." if len(touched) > 5 else "")
            raise Refused(f"--allow-dirty: the migration rewrites {len(touched)} files that have uncommitted changes "
                          f"({sample}); commit or stash those first")
        if self.writes_working_tree:
            self.excluded += unwritable.find(self.root, plan, left_out_paths(self.excluded) | not_processed(plan),
                                             self.ui.note)  # unwritable

    def begin(self) -> None:
        assert self.repo is not None and self.base is not None and self.branch is not None
        # the commits' blobs and trees are stored in the background while the files are written
        self.step_numbers = {step.name: number for number, step in enumerate(self.steps)}
        self.objects = self.repo.store_objects(self.base.sha, [[self.file_state(change) for change in step.changes]
                                                               for step in self.steps])
        if self.objects is not None:
            self.recovery.fast_import_started(self.objects.process.pid)  # recovery
        self.journal.remember(self.repo.git_path("index"))
        self.recovery.save_originals(self.steps, self.pr_body_path(), self.repo.git_path("index"))  # recovery
        # in one step, and only if no branch of that name exists: one created since the check
        # before planning is never touched (BranchExists)
        self.creating_branch = True
        self.repo.create_branch(self.branch, self.base.sha, self.recovery.creation_message)
        self.branch_created = True
        self.created_at = self.base.sha
        self.recovery.branch_created(self.base.sha)  # recovery: only now is the branch this run's
        self.head_switched = True
        self.repo.switch_head(self.branch)

    def finish_step(self, record: CommitRecord) -> None:
        assert self.repo is not None
        if self.objects is not None:
            self.objects.wait(self.step_numbers[record.step])
        subject, body = record.message()
        self.recovery.phase("committing", record.step)  # recovery
        self.committing = record.step
        try:
            record.sha = self.repo.commit(record.files, subject, body)
            self.made_commits.append(record.sha)
            self.committing = None
        except GitError as exc:
            raise Failed(f"git could not commit the {record.step} step: {exc.stderr.splitlines()[-1] if exc.stderr else exc}") from None
        self.recovery.committed(record.step, record.sha)  # recovery

    def undo(self) -> list[str]:
        repo = self.repo
        assert repo is not None and self.base is not None
        self.stop_storing_objects()
        problems: list[str] = []
        if repo.stopped_process:
            for lock in self.locks:  # left by the git process migrate-ws stopped; none existed before
                try:
                    lock.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    problems.append(f"{lock}: cannot remove: {exc.strerror}")
        if self.head_switched:
            try:
                repo.restore_head(self.base)
                self.head_switched = False
            except (GitError, GitUnavailable, OSError) as exc:
                problems.append(f"cannot check out {self.base.describe()} again ({describe_error(exc)})")
        problems.extend(self.journal.restore())
        if self.creating_branch and not self.branch_created and self.created_at is None \
                and repo.creation_message(self.branch or "") == self.recovery.creation_message:
            # interrupted while `git update-ref` ran, which had created it: the reflog names this run
            self.branch_created, self.created_at = True, self.base.sha
        if self.branch_created and not problems:
            try:
                self.delete_own_branch()
            except (GitError, GitUnavailable, OSError) as exc:
                problems.append(f"cannot delete the branch {self.branch} ({describe_error(exc)})")
        return problems

    def delete_own_branch(self) -> None:
        """The branch this run created, while it points at a commit the run made (or was making when it
        was interrupted): `update-ref -d` with that commit as the expected old value. Moved by
        someone else, it is kept."""
        repo, name = self.repo, self.branch or ""
        assert repo is not None and self.created_at is not None
        tip = repo.branch_tip(name)
        made = [self.created_at, *self.made_commits]
        if tip is not None and (tip in made or (self.committing is not None
                                                and is_step_commit(repo, tip, made[-1], self.committing))):
            if not repo.delete_branch(name, tip):  # moved since it was read
                tip = repo.branch_tip(name)
            else:
                tip = None
        if tip is not None:
            self.branch_kept = tip
            self.ui.note(f"branch {name} was kept: it points at {tip[:10]}, which this run did not make")
        self.branch_created = False

    def pr_body_path(self) -> Path | None:
        if self.options.pr_body is not None:
            return Path(os.path.abspath(self.options.pr_body))
        assert self.repo is not None
        return self.repo.git_path(PR_BODY_NAME)

    def print_next_steps(self) -> None:
        assert self.base is not None
        self.ui.line(f"HEAD is now on {self.branch}; {self.base.describe()} is unchanged. "
                     f"Review with: git log --stat {self.base.sha[:10]}..{self.branch}")
        if self.dirty:
            self.ui.line(f"Your uncommitted changes ({plural(len(self.dirty), 'path')}) were left as they were, not committed.")

    def open_pr(self, body: Path) -> None:
        ui = self.ui
        gh = shutil.which("gh")
        if gh is None:
            ui.line(f"--open-pr: gh (the GitHub CLI) is not on PATH, so no PR was opened; push {self.branch} "
                    f"and open one with the description in {body}")
            return
        assert self.plan is not None
        created = gh_pr_create(ui, gh, ["--title", title(self.plan), "--body-file", str(body), "--head", self.branch or ""],
                               self.top)
        if created.unrunnable is not None:
            ui.line(f"--open-pr: gh could not be run ({created.unrunnable}); the branch and the PR description are ready")
        elif created.failed is not None:
            ui.line(f"--open-pr: gh pr create failed ({created.failed}); push {self.branch} first if needed, "
                    f"then open the PR with the description in {body}")
        else:
            ui.line(f"PR opened: {created.opened}")


@dataclass
class CreatedPR:
    """What `gh pr create` did: opened the PR (its address), could not be run, or failed."""

    opened: str | None = None
    unrunnable: str | None = None  # why gh could not be run
    failed: str | None = None  # the last line gh printed, or its exit code


def gh_pr_create(ui: UI, gh: str, arguments: list[str], cwd: Path) -> CreatedPR:
    """Run `gh pr create ARGUMENTS` (said on stderr first)."""
    command = ["pr", "create", *arguments]
    ui.note("opening the PR: " + " ".join(shlex.quote(part) for part in command))
    try:
        result = subprocess.run([gh, *command], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                errors="replace", timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CreatedPR(unrunnable=str(exc))
    if result.returncode != 0:
        return CreatedPR(failed=(result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1])
    return CreatedPR(opened=result.stdout.strip())


def run_apply(out: Any, err: Any, repository: Path, config: Config, options: Options) -> int:
    """Apply the migration under `repository`; return the exit code (see the module docstring)."""
    ui = UI(out, err, options.as_json)
    if options.rollback_on_fail and not options.test_cmd:
        ui.error("--rollback-on-fail needs --test-cmd")
        return ExitCode.USAGE
    if options.split_by:
        from .split_apply import SplitApplier

        applier: Applier = SplitApplier(ui, repository, config, options)
    else:
        applier = (InPlaceApplier if options.no_git else GitApplier)(ui, repository, config, options)
    with sigterm_raises():
        try:
            return applier.run()
        except (Refused, Refusal) as exc:  # recovery: Refusal (lock held, interrupted run)
            ui.error(str(exc))
            return ExitCode.REFUSED
        except UsageError as exc:
            ui.error(str(exc))
            return ExitCode.USAGE
        except GitUnavailable as exc:
            ui.error(f"{exc}; nothing was changed")
            return ExitCode.REFUSED
        except GitError as exc:
            ui.error(f"{exc}; nothing was changed")
            return ExitCode.REFUSED
        except KeyboardInterrupt:
            ui.note("interrupted" if applier.writing else "interrupted; nothing was changed")
            return ExitCode.INTERRUPTED
