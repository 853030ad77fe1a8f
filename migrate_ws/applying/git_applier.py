"""`migrate-ws --apply`: write the migration to a new git branch, one commit per step.

What it does, in order:

1. Checks, before writing anything (exit 1 when one fails): the directory is in a git
   working tree (or `--no-git` was given), git can be run and can make commits, no merge
   or rebase is in progress, the working tree is clean (unless `--allow-dirty`; even then
   a file the migration rewrites must not have uncommitted changes), and the branch name
   is free. Untracked files are let be, as `git switch` lets them be, and listed in a note
   (and in `--json`); once planned, an untracked file the migration would write refuses the
   run (with `--allow-dirty` it is left out, as an ignored file is). A malformed `--branch`, or `--branch`/`--open-pr` with `--no-git`, is a usage
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
from before step 1 to its end (`lock.py`), and records what it does in a journal in the git directory,
so that `migrate-ws --abort` can undo it after a SIGKILL or a power cut (`recovery.py`, `journal.py`, `abort.py`).
Files it cannot write (read-only, or in a directory that is not writable) are found in
step 2 and left out like untracked files (`unwritable.py`).

Exit codes are those of `migrate_ws/exit_codes.py`: 0 applied (or nothing to apply), 1 refused before
writing anything (another --apply running, an interrupted --apply not yet aborted, ...),
2 usage error, 3 applied but some files were left unchanged (listed: they could not be
written, or the binding check rejected their change), 4 failed and
restored (or --test-cmd failed without --rollback-on-fail: the branch is kept and the
failure recorded), 123 internal error or a failed restore (what could not be restored is
listed), 130 interrupted and restored.
"""


from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path

from ..config import Config
from ..exit_codes import Failed, Refused, UsageError
from ..findings import NOT_TRACKED
from ..model import Plan
from ..pr import CommitRecord, title
from ..quoting import display_path
from ..report import plural
from . import unwritable
from .base import Applier, not_processed
from .git import GitError, GitUnavailable, NotARepository, ObjectStore, Repository, is_step_commit
from .github import gh_pr_create
from .outcome import PR_BODY_NAME, describe_error, left_out, left_out_paths
from .recovery import ApplyRecovery


def default_branch(config: Config, today: date | None = None) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", config.name).strip("-.") or "migration"
    return f"migrate-ws/{name}-{(today or date.today()):%Y%m%d}"



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
        self.dirty: list[tuple[str, str]] = []  # (status, path) of each uncommitted change to a tracked file
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
        entries = repo.status_entries()
        # untracked files are let be, as `git switch` lets them be (and `git stash` would not take
        # them): only those the migration writes stop it, once the plan names them (select)
        self.dirty = [(status, path) for status, path in entries if status != "??"]
        self.untracked = [path for status, path in entries if status == "??"]
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
        untracked = set(self.untracked)
        written = [p for p in paths if prefix + p in untracked]
        if written and not self.options.allow_dirty:
            sample = ", ".join(display_path(p) for p in written[:5]) + (", ..." if len(written) > 5 else "")
            raise Refused(f"the migration would write {plural(len(written), 'untracked file')} ({sample}); add "
                          "them to git first, or pass --allow-dirty to leave them unchanged")
        dirty = {path for _, path in self.dirty}
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
        self.print_untracked()

    def print_untracked(self) -> None:
        """Note: the untracked files the run let be (the --json document lists them all)."""
        if self.untracked:
            shown = ", ".join(display_path(path) for path in self.untracked[:10])
            self.ui.line(f"Note: {plural(len(self.untracked), 'untracked file')} left alone (the migration does not "
                         f"write them): {shown}{', ...' if len(self.untracked) > 10 else ''}")

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
