"""The run every applier shares: plan, verify, write step by step, test, describe; undo
everything on failure. The variants (in place, a new branch, split branches) fill in its hooks.
What `--apply` does, in order, and its exit codes: `git_applier.py`."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ..config import Config, project_folders
from ..editing import sites_by_step, step_contents
from ..engine import plan as build_plan
from ..exit_codes import ExitCode, Failed, Refused
from ..findings import BINDING_LOST, LEFT_OUT_WITH_REJECTED, Finding, Severity
from ..model import Plan
from .. import review
from ..pr import CommitRecord, TestRun, followup_lines, render
from ..quoting import display_path
from ..report import plural
from ..writer import Journal, ReadOnlyFile, read_or_none
from .git import BranchExists, FileState, GitError, GitUnavailable, HeadState
from . import test_pause, unwritable
from .outcome import (FOLLOW_UPS_JSON, FOLLOW_UPS_MD, FileChange, Options, Outcome, PlannedStep, describe_error,
                      json_document, left_out_paths)
from .recovery import NO_RECOVERY
from .signals import Terminated, ignore_further_signals, uninterruptible
from .ui import UI
from .user_tests import describe_test_run, run_tests


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


def print_findings(ui: UI, plan: Plan, excluded: list[Finding], follow_ups: str = "summary") -> None:
    if follow_ups == "summary":
        for line in review.summary_lines(review.reported(plan, excluded)):
            ui.line(line)
        return
    lines = followup_lines(plan, excluded)
    if lines:
        ui.line(review.listing_header(review.reported(plan, excluded)))
        for line in lines:
            ui.line(f"  {line}")


def branch_taken(exc: BranchExists) -> str:
    """The refusal when the branch (or one whose name clashes) appeared while the run planned."""
    at = f" (it points at {exc.tip[:10]})" if exc.tip else ""
    what = f"branch {exc.name}" if exc.existing == exc.name else \
        f"branch {exc.existing}, whose name clashes with {exc.name},"
    return (f"{what} was created while migrate-ws was planning{at}; it was not touched and nothing was changed; "
            "choose another name with --branch")



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
        self.untracked: list[str] = []  # untracked files (relative to the top) the run let be
        self.writing = False  # the transaction has started
        self.recovery = NO_RECOVERY  # recovery: the lock and on-disk journal (git mode), see recovery.py and journal.py

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
        self.excluded += self.ui.review(plan, self.root, [result.path for result in plan.files], changed)

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
        from .lock import process_alive

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
                             legacy_policy=self.options.legacy_policy, untracked=self.untracked)

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
