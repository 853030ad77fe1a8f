"""`migrate-ws --abort`: put the repository back from the journal of an interrupted `--apply`
(what it restores, and in which order: `journal.py`)."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path
from typing import Iterable

from ..exit_codes import ExitCode
from ..writer import fsync_directory, read_or_none
from . import test_pause
from .git import GitError, GitUnavailable, NotARepository, Repository, is_step_commit
from .journal import (BLOBS, INDEX_COPY, LOCKING_COMMANDS, STATE, JournalDamaged, ValidJournal, checksum,
                      describe_damage, encode_state, journal_directory, read_state, remove_tree, validate_journal,
                      when_interrupted, write_durably)
from .lock import ApplyLock, Holder, LockHeld, process_alive, process_group_alive
from .recovery import remove_fast_import_leftovers
from .ui import UI

# how long the interrupted run's --test-cmd gets to end after SIGTERM before SIGKILL
TEST_COMMAND_GRACE = 2.0

EXIT_RESTORED = ExitCode.CLEAN
EXIT_REFUSED = ExitCode.REFUSED
EXIT_FAILED = ExitCode.FAILED


# ----- -------------------------------------------------------------------------

def _temp_files_near(path: Path, pids: Iterable[int]) -> list[Path]:
    """The temporary files the processes `pids` made in the directory of `path` (writer.temp_path_for)."""
    from ..writer import temp_file_pid

    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    wanted = set(pids)
    return [path.parent / name for name in names if temp_file_pid(name) in wanted]


class Aborter:
    """Undo an interrupted `--apply` from its journal; every action is idempotent."""

    def __init__(self, repo: Repository, directory: Path, journal: ValidJournal) -> None:
        self.repo = repo
        self.directory = directory
        self.state = state = journal.state
        self.entries = journal.entries
        self.top = repo.top
        self.holder = Holder.from_json(state["holder"])
        aborting = state.get("aborting")  # an earlier --abort of this journal that was interrupted
        self.previous_abort = Holder.from_json(aborting) if aborting else None
        self.lines: list[str] = []
        self.errors: list[str] = []

    def path(self, recorded: str) -> Path:
        path = Path(recorded)
        return path if path.is_absolute() else self.top / path

    # -- checks before changing anything ----------------------------------------------------------

    # A run on another host (a repository on a shared file system, a container that came back
    # with a new host name) cannot be looked up; the apply lock, which this --abort holds, is
    # what says that it is gone.

    def refusal(self) -> str | None:
        if self.holder.local and self.holder.alive() and self.previous_abort is None:
            return (f"the --apply that wrote this journal is still running ({self.holder.describe()}); "
                    "stop it first (Ctrl-C restores the repository by itself)")
        git = self.state.get("git")
        if git and self.holder.local and process_alive(int(git["pid"]), git.get("start")):
            return (f"the git {git['command']} started by the interrupted --apply is still running (pid {git['pid']}); "
                    f"wait for it to end or stop it, then run `migrate-ws --abort` again")
        index_lock = self.repo.git_path("index.lock")
        if index_lock.exists() and not self._may_remove_index_lock():
            return (f"{index_lock} exists and the interrupted --apply was not running a git command that holds it; "
                    "another git process may be running: if none is, remove that file and run `migrate-ws --abort` "
                    "again")
        return None

    def _git_gone(self) -> bool:
        git = self.state.get("git")
        return bool(git) and (not self.holder.local or not process_alive(int(git["pid"]), git.get("start")))

    def _may_remove_index_lock(self) -> bool:
        git = self.state.get("git")
        if git and git.get("command") == "commit" and self._git_gone():
            return True
        # an --abort killed while it wrote the index through index.lock
        return self.previous_abort is not None and not self.previous_abort.alive()

    # -- the undo -------------------------------------------------------------------------------

    def run(self) -> None:
        self.end_test_command()
        if self.errors:
            return  # while it runs, what is restored could be changed again
        self.mark_aborting()
        if self.state.get("phase") == "planning" or not self.state.get("originals"):
            self.lines.append("nothing had been changed")
            self.remove_fast_import_leftovers()
            return
        self.remove_git_locks()
        self.restore_head()
        self.restore_index()
        test_pause.reached("abort:files")
        self.restore_files()
        if not self.errors:
            self.delete_branch()
            self.delete_split_branches()
            self.remove_fast_import_leftovers()

    def end_test_command(self) -> None:
        """The interrupted run's `--test-cmd` (its own process group) may still be running and
        writing into the working tree: SIGTERM to the group, SIGKILL after a grace period, and
        wait until every process of it is gone."""
        tests = self.state.get("tests")
        if not tests or not self.holder.local:
            return  # none, or on another host, where this --abort cannot see it
        group, start = int(tests["pid"]), tests.get("start")
        if not process_group_alive(group, start):
            return
        for sig, wait in ((signal.SIGTERM, TEST_COMMAND_GRACE), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            except PermissionError as exc:
                self.errors.append(f"cannot stop the test command (process group {group}) the interrupted --apply "
                                   f"started: {exc.strerror or exc}")
                return
            deadline = time.monotonic() + wait
            while process_group_alive(group, start) and time.monotonic() < deadline:
                time.sleep(0.02)
            if not process_group_alive(group, start):
                break
        if process_group_alive(group, start):
            self.errors.append(f"the test command (process group {group}) the interrupted --apply started does not "
                               "end, even after SIGKILL")
            return
        self.lines.append(f"stopped the test command (process group {group}) the interrupted --apply had started")

    def remove_fast_import_leftovers(self) -> None:
        remove_fast_import_leftovers(self.repo, self.state)

    def _remove(self, path: Path) -> bool:
        """Remove a file a killed git process left; False when it was not there or cannot go
        (then said in the errors)."""
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            self.errors.append(f"{path}: cannot remove: {exc.strerror or exc}")
            return False
        return True

    def mark_aborting(self) -> None:
        self.state["aborting"] = Holder.current().to_json()
        write_durably(self.directory / STATE, encode_state(self.state))

    def remove_git_locks(self) -> None:
        branch = self.state.get("branch")
        git = self.state.get("git")
        by_git = f"git {git['command']}, pid {git['pid']}" if git else ""
        names: dict[str, str] = {}  # lock file -> who left it
        if git and git.get("command") == "commit" and self._git_gone():
            names["index.lock"] = by_git
            names[f"next-index-{git['pid']}.lock"] = by_git  # the temporary index of `git commit --only`
        elif self._may_remove_index_lock():
            assert self.previous_abort is not None
            names["index.lock"] = f"migrate-ws --abort, pid {self.previous_abort.pid}"
        if git and git.get("command") in LOCKING_COMMANDS and self._git_gone():
            names["HEAD.lock"] = by_git
            if branch:
                names[f"refs/heads/{branch}.lock"] = by_git
        for name, who in names.items():
            if self._remove(self.repo.git_path(name)):
                self.lines.append(f"removed git's {name} left by the interrupted {who}")

    def restore_head(self) -> None:
        base = self.state["base"]
        status, ref, _ = self.repo.run_status("symbolic-ref", "-q", "HEAD")
        ref = ref.strip() if status == 0 else None
        sha = self.repo.run_status("rev-parse", "-q", "--verify", "HEAD")[1].strip()
        try:
            if base["ref"] is not None:
                if ref != base["ref"]:
                    self.repo.run("symbolic-ref", "-m", "migrate-ws --abort: restore", "HEAD", base["ref"])
                what = base["ref"][len("refs/heads/"):] if base["ref"].startswith("refs/heads/") else base["ref"]
            else:
                if ref is not None or sha != base["sha"]:
                    self.repo.run("update-ref", "--no-deref", "-m", "migrate-ws --abort: restore", "HEAD", base["sha"])
                what = f"detached HEAD {base['sha'][:10]}"
        except Exception as exc:  # GitError, GitUnavailable, OSError
            self.errors.append(f"cannot check out the original HEAD again ({exc})")
            return
        self.lines.append(f"{what} checked out")

    def restore_index(self) -> None:
        index = self.repo.git_path("index")
        saved = self.state.get("index")
        try:
            if saved is None:
                return  # never recorded: the run had not got that far
            if not saved:
                if index.exists():
                    index.unlink()
                self.lines.append("the index restored")
                return
            data = read_or_none(self.directory / INDEX_COPY)
            if data is None:
                self.errors.append("the saved copy of the index is missing from the journal")
                return
            if read_or_none(index) != data:
                # git's own protocol: write index.lock (exclusively), then rename it over the index
                lock = index.with_name(index.name + ".lock")
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.rename(lock, index)
                fsync_directory(index.parent)
            self.lines.append("the index restored")
        except FileExistsError:
            self.errors.append(f"{index}.lock exists: another git process is running; run `migrate-ws --abort` again "
                               "when it has finished")
        except OSError as exc:
            self.errors.append(f"cannot restore the index: {exc.strerror or exc}")

    def restore_files(self) -> None:
        from ..writer import atomic_write

        entries = self.entries  # validated: every entry is complete, every copy matches its checksum
        pids = [self.holder.pid] + ([self.previous_abort.pid] if self.previous_abort else [])
        restored = 0
        blobs_path = self.directory / BLOBS
        with open(blobs_path, "rb") as blobs:
            for number in self.state.get("pending", []):
                entry = entries[number]
                path = self.path(entry["path"])
                try:
                    for temp in _temp_files_near(path, set(pids)):
                        temp.unlink()
                    if not entry["existed"]:
                        if os.path.lexists(path):
                            path.unlink()
                            restored += 1
                        for folder in entry.get("missing_dirs", []):
                            try:
                                self.path(folder).rmdir()
                            except (FileNotFoundError, OSError):
                                pass
                        continue
                    blobs.seek(entry["offset"])
                    original = blobs.read(entry["size"])
                    if checksum(original) != entry["sha256"]:  # changed since it was validated
                        self.errors.append(f"{BLOBS}: the saved copy of {entry['path']} does not match its checksum")
                        continue
                    try:
                        info = os.lstat(path)
                    except FileNotFoundError:
                        info = None
                    if info is not None and stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == entry["mode"] \
                            and read_or_none(path) == original:
                        continue
                    if info is not None and not stat.S_ISREG(info.st_mode):
                        path.unlink()
                    if not path.parent.is_dir():
                        path.parent.mkdir(parents=True)
                    atomic_write(path, original, entry["mode"])
                    restored += 1
                except OSError as exc:
                    self.errors.append(f"{entry['path']}: cannot restore: {exc.strerror or exc}")
        self.lines.append(f"{restored} file{'s' if restored != 1 else ''} restored")

    def _created_by_the_run(self, name: str) -> bool:
        """Whether the interrupted run's own `update-ref` created the branch, when the run was killed
        before it could record that: the branch's reflog then begins with the run's message."""
        message = f"migrate-ws: create branch (run {self.state['run']})"
        return self.repo.creation_message(name) == message

    def _delete(self, name: str, tip: str) -> None:
        """Delete the branch while it still points at `tip` (git compares and deletes in one step)."""
        try:
            gone = self.repo.delete_branch(name, tip, "migrate-ws --abort")
        except Exception as exc:  # noqa: BLE001 - GitError, GitUnavailable, OSError: every problem is listed
            self.errors.append(f"cannot delete the branch {name} ({exc})")
            return
        if gone:
            self.lines.append(f"branch {name} deleted")
        else:
            self.lines.append(f"branch {name} was kept: it was moved while --abort ran")

    def delete_branch(self) -> None:
        """The run's branch, only if the run created it (never one that someone else created under that
        name in the meantime) and only while it points at a commit the run expects."""
        branch = self.state.get("branch")
        if not branch or self.state.get("phase") in ("planning",):
            return
        tip = self.repo.branch_tip(branch)
        if tip is None:
            return  # never created, or already deleted
        created = self.state.get("created")
        if created is None:
            if self.state.get("phase") != "creating-branch" or not self._created_by_the_run(branch):
                self.lines.append(f"branch {branch} was kept: the interrupted --apply did not create it")
                return
            created = self.state["base"]["sha"]
        made = {created} | {c["sha"] for c in self.state.get("commits", []) if c.get("sha")}
        if tip not in made and not self._last_unrecorded_commit(tip):
            self.lines.append(f"branch {branch} was kept: it points at {tip[:10]}, which the interrupted --apply did "
                              "not make")
            return
        self._delete(branch, tip)

    def delete_split_branches(self) -> None:
        """`--split-by`: every branch the run created (all at once, in one `update-ref` transaction):
        one whose tip was recorded while it still points there; one the run was killed before
        recording only when its reflog shows the run created it and all of its commits since the
        original HEAD are migrate-ws commits (no one else's work is lost)."""
        base = self.state["base"]["sha"]
        for name, recorded in (self.state.get("branches") or {}).items():
            tip = self.repo.branch_tip(name)
            if tip is None:
                continue
            if recorded is None:
                status, log, _ = self.repo.run_status("log", "--format=%s", f"{base}..{tip}")
                subjects = [line for line in log.splitlines() if line.strip()]
                if status != 0 or not subjects or not all(s.startswith("migrate-ws: ") for s in subjects) \
                        or not self._created_by_the_run(name):
                    self.lines.append(f"branch {name} was kept: the interrupted --apply did not create it")
                    continue
            elif tip != recorded:
                self.lines.append(f"branch {name} was kept: it points at {tip[:10]}, which the interrupted "
                                  "--apply did not make")
                continue
            self._delete(name, tip)

    def _last_unrecorded_commit(self, tip: str) -> bool:
        """A commit `git commit` finished after the run was killed, before the run could record it."""
        if self.state.get("phase") not in ("committing", "restoring"):
            return False
        commits = [c["sha"] for c in self.state.get("commits", []) if c.get("sha")]
        parent_expected = commits[-1] if commits else (self.state.get("created") or self.state["base"]["sha"])
        return is_step_commit(self.repo, tip, parent_expected, self.state.get("step"))


def run_abort(ui: UI, root: Path) -> int:
    """`migrate-ws --abort`: restore the repository from the journal of an interrupted --apply;
    reported through `ui` (the report's lines, notes and errors)."""
    error = ui.error

    try:
        repo = Repository(root)
    except GitUnavailable as exc:
        error(f"{exc}; nothing was changed")
        return EXIT_REFUSED
    except NotARepository:
        error(f"{root} is not in a git repository; there is nothing to abort (--no-git keeps no journal)")
        return EXIT_REFUSED
    try:
        git_dir = repo.git_path("migrate-ws").parent
        lock = ApplyLock(repo.common_dir() / "migrate-ws")
        directory = journal_directory(git_dir)
        if not directory.exists() and not lock.path.exists():
            ui.line("migrate-ws: nothing to abort (no interrupted --apply in this repository).")
            return EXIT_RESTORED
        # A damaged journal is named before anything at all changes, even the killed run's stale
        # lock. Reading needs no lock: a run writes each record before the state points at it,
        # and replaces the state atomically.
        try:
            state = read_state(directory)
            if state is not None:
                validate_journal(directory, state)
        except JournalDamaged as exc:
            error(describe_damage(directory, exc))
            return EXIT_FAILED
        try:
            lock.acquire()
        except LockHeld as exc:
            error(str(exc).replace("wait for it to finish", "it is not interrupted; nothing was changed"))
            return EXIT_REFUSED
        try:
            if lock.replaced is not None:
                ui.note(f"removed a stale lock left by a run that is gone ({lock.replaced.describe()})")
            try:
                state = read_state(directory)
                journal = validate_journal(directory, state) if state is not None else None
            except JournalDamaged as exc:
                error(describe_damage(directory, exc))
                return EXIT_FAILED
            if state is None or journal is None:
                if directory.exists():
                    remove_tree(directory)
                ui.line("migrate-ws: nothing to abort (no interrupted --apply in this repository).")
                return EXIT_RESTORED
            aborter = Aborter(repo, directory, journal)
            problem = aborter.refusal()
            if problem is not None:
                error(f"{problem}; nothing was changed")
                return EXIT_REFUSED
            what = when_interrupted(state)
            holder = aborter.holder.describe()
            try:
                aborter.run()
            except (GitError, GitUnavailable, OSError) as exc:
                aborter.errors.append(str(exc))
            for line in aborter.lines:
                if line.startswith(("removed git's", "stopped the test command")):
                    ui.note(line)
            if aborter.errors:
                for problem in aborter.errors:
                    error(f"could not restore: {problem}")
                error(f"the repository is not fully restored; the journal is kept in {directory}: "
                      "fix the problem above and run `migrate-ws --abort` again")
                return EXIT_FAILED
            remove_tree(directory)
            summary = ", ".join(line for line in aborter.lines
                                if not line.startswith(("removed git's", "stopped the test command")))
            ui.line(f"migrate-ws: aborted the --apply interrupted {what} ({holder}): {summary}.")
            return EXIT_RESTORED
        finally:
            lock.release()
    finally:
        repo.close()
