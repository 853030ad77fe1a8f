"""The running `--apply`'s side of crash recovery: the apply lock, and the journal
(`journal.py`) written as the run goes, phase by phase. `--fix` and `--no-git` only take the
lock (`InPlaceRecovery`)."""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import test_pause
from ..writer import read_or_none
from .journal import (BLOBS, INDEX_COPY, LOCKING_COMMANDS, ORIGINALS, STATE, VERSION, JournalDamaged, checksum,
                      describe_damage, describe_leftover, encode_state, find_common_dir, find_git_dir,
                      journal_directory, read_state, remove_tree, seal, validate_journal, write_durably)
from .lock import ApplyLock, Holder, LockHeld, process_alive, process_start


class Refusal(Exception):
    """`--apply` must not start (exit 1): another run holds the lock, or an interrupted run must be aborted."""


# ----- ----------------------------------------------------------------

class NoRecovery:
    """`--no-git`, or before the git applier has prepared: nothing is recorded."""

    creation_message = "migrate-ws: create branch"

    def planning(self, base: Any, branch: str | None) -> None:
        pass

    def save_originals(self, steps: Iterable[Any], pr_body: Path | None, index: Path | None) -> None:
        pass

    def phase(self, name: str, step: str | None = None) -> None:
        pass

    def writing(self, step: str, paths: Iterable[Path]) -> None:
        pass

    def fast_import_started(self, pid: int) -> None:
        pass

    def committed(self, step: str, sha: str | None) -> None:
        pass

    def describing(self, path: Path | None) -> None:
        pass

    def importing(self, branches: list[str]) -> None:
        pass

    def imported(self, tips: dict[str, str | None]) -> None:
        pass

    def branch_created(self, sha: str) -> None:
        pass

    def tests_started(self, pid: int) -> None:
        pass

    def left_as_changed(self, path: Path) -> None:
        pass

    def restoring(self) -> None:
        pass

    def finished(self) -> None:
        pass

    def close(self) -> None:
        pass


NO_RECOVERY = NoRecovery()


@dataclass
class ApplyRecovery(NoRecovery):
    """The lock and the journal of one `--apply` in a git repository."""

    git_dir: Path
    top: Path
    lock: ApplyLock
    note: Callable[[str], None]
    state: dict = field(default_factory=dict)
    index_of: dict[str, int] = field(default_factory=dict)  # path (as recorded) -> entry in originals.json
    pending: set[int] = field(default_factory=set)
    done: bool = False

    @property
    def directory(self) -> Path:
        return journal_directory(self.git_dir)

    # -- start ----------------------------------------------------------------------------------

    @classmethod
    def take(cls, repo: Any, note: Callable[[str], None]) -> "ApplyRecovery":
        """Take the apply lock (`Refusal` if a live run holds it), then check for an interrupted run."""
        git_dir = repo.git_path("migrate-ws").parent
        lock = take_lock(repo.common_dir(), note)
        recovery = cls(git_dir, repo.top, lock, note)
        try:
            recovery._check_leftover(repo)
        except BaseException:
            lock.release()
            raise
        test_pause.install()
        repo.on_start = recovery.git_started
        return recovery

    def _check_leftover(self, repo: Any) -> None:
        directory = self.directory
        if not directory.exists():
            return
        state = _checked_state(directory)
        if state is None or (state.get("phase") == "planning" and not state.get("aborting")):
            if state is not None:
                holder = Holder.from_json(state["holder"])
                self.note(f"an earlier --apply ({holder.describe()}) was interrupted while planning, before it "
                          "changed anything; its journal was removed")
                remove_fast_import_leftovers(repo, state)
            remove_tree(directory)
            return
        raise Refusal(describe_leftover(state))

    # -- phases ---------------------------------------------------------------------------------

    def _save_state(self) -> None:
        self.state["pending"] = sorted(self.pending)
        write_durably(self.directory / STATE, encode_state(self.state))

    @property
    def creation_message(self) -> str:
        """The reflog message of the branch this run creates: names the run, so that --abort can tell
        a branch it created (but could not record) from one someone else created."""
        return f"migrate-ws: create branch (run {self.state.get('run', '?')})"

    def _relative(self, path: Path) -> str:
        absolute = os.path.abspath(path)
        top = os.fspath(self.top)
        prefix = top if top.endswith(os.sep) else top + os.sep
        # string operations: called for every file the run writes (pathlib's relative_to is 20x slower)
        if absolute.startswith(prefix):
            return absolute[len(prefix):].replace(os.sep, "/")
        return absolute

    def planning(self, base: Any, branch: str | None) -> None:
        state = {
            "version": VERSION,
            "holder": self.lock.holder.to_json() if self.lock.holder else Holder.current().to_json(),
            "top": str(self.top),
            "base": {"sha": base.sha, "ref": base.ref},
            "branch": branch,
            "phase": "planning",
            "step": None,
            "run": secrets.token_hex(8),
            "created": None,  # the commit the branch was created at, once git created it
            "commits": [],
            "git": None,
            "tests": None,
            "originals": False,
            "index": None,
            "pending": [],
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.state = state
            self._save_state()
        except OSError as exc:
            self.state = {}
            raise Refusal(f"cannot write the recovery journal in {self.directory}: {exc.strerror or exc}") from None
        test_pause.reached("planning")

    def save_originals(self, steps: Iterable[Any], pr_body: Path | None, index: Path | None) -> None:
        """Before the first change: every file the steps (and the PR description) may write, once, and the
        index; then the phase `creating-branch`."""
        paths = [change.full for step in steps for change in step.changes] + ([pr_body] if pr_body else [])
        entries: list[dict] = []
        offset = 0
        with open(self.directory / BLOBS, "wb") as blobs:
            for path in paths:
                key = self._relative(path)
                if key in self.index_of:
                    continue
                full = Path(os.path.abspath(path))
                entry: dict = {"path": key, "existed": False}
                try:
                    info = os.lstat(full)
                except FileNotFoundError:
                    missing: list[str] = []
                    parent = full.parent
                    while not parent.exists() and parent != parent.parent:
                        missing.append(self._relative(parent))
                        parent = parent.parent
                    entry["missing_dirs"] = missing
                else:
                    if not stat.S_ISREG(info.st_mode):
                        continue  # never written (the writer refuses anything but a regular file)
                    with open(full, "rb") as handle:
                        data = handle.read()
                    blobs.write(data)
                    entry.update(existed=True, mode=stat.S_IMODE(info.st_mode), offset=offset, size=len(data),
                                 sha256=checksum(data))
                    offset += len(data)
                self.index_of[key] = len(entries)
                entries.append(entry)
            blobs.flush()
            os.fsync(blobs.fileno())
        listing = json.dumps(entries).encode("utf-8")
        write_durably(self.directory / ORIGINALS, listing)
        if index is not None:
            data = read_or_none(index)
            if data is not None:
                write_durably(self.directory / INDEX_COPY, data)
            self.state["index"] = seal(data) if data is not None else False
        # only now, with every record it names written and synced, does the state point at them
        self.state["originals"] = seal(listing)
        self.phase("creating-branch")

    def branch_created(self, sha: str) -> None:
        """git created the branch at `sha` (this run's `update-ref` with the all-zero old value
        succeeded): from now on it is this run's to delete, and only while it points at a commit
        the run expects."""
        test_pause.reached("branch-created")
        self.state["created"] = sha
        self.phase("switching-head")

    def tests_started(self, pid: int) -> None:
        """`--test-cmd` runs as the process group `pid` (held at its start until this is on disk):
        `--abort` ends that group before it restores anything."""
        self.state["tests"] = {"pid": pid, "start": process_start(pid)}
        self._save_state()

    def left_as_changed(self, path: Path) -> None:
        """Another program changed `path` after this run wrote it: it is left as that program wrote
        it, by the run's own restore and by --abort."""
        number = self.index_of.get(self._relative(path))
        if number is not None and number in self.pending:
            self.pending.discard(number)
            self._save_state()

    def phase(self, name: str, step: str | None = None) -> None:
        self.state.update(phase=name, step=step, git=None)
        self._save_state()
        test_pause.reached(f"{name}:{step}" if step else name)

    def writing(self, step: str, paths: Iterable[Path]) -> None:
        for path in paths:
            number = self.index_of.get(self._relative(path))
            if number is not None:
                self.pending.add(number)
        self.phase("writing", step)

    def fast_import_started(self, pid: int) -> None:
        """A `git fast-import` started (the background object store, git.ObjectStore, or the
        split applier's): should the run be killed in the middle of its input, it leaves a crash
        report in the git directory for --abort to remove."""
        if not self.state or self.done:
            return
        self.state["fast_import"] = {"pid": pid, "start": process_start(pid)}
        self._save_state()

    def committed(self, step: str, sha: str | None) -> None:
        self.state["commits"].append({"step": step, "sha": sha})
        self.phase("committed", step)

    def describing(self, path: Path | None) -> None:
        if path is not None:
            number = self.index_of.get(self._relative(path))
            if number is not None:
                self.pending.add(number)
        self.phase("describing")

    def importing(self, branches: list[str]) -> None:
        """`--split-by`: the branches `git fast-import` is about to create (none exists yet)."""
        self.state["branches"] = {name: None for name in branches}
        self.phase("importing")

    def imported(self, tips: dict[str, str | None]) -> None:
        test_pause.reached("imported")  # the branches exist; their tips are not recorded yet
        self.state["branches"] = dict(tips)
        self._save_state()

    def git_started(self, pid: int, args: tuple[str, ...]) -> None:
        """A git process started; recorded while it may hold one of git's lock files."""
        while args[:1] == ("-c",):  # `git -c name=value <command>`
            args = args[2:]
        if args[:1] == ("fast-import",):
            self.fast_import_started(pid)
            return
        if not self.state.get("originals") or self.state.get("phase") == "restoring" or self.done \
                or not args or args[0] not in LOCKING_COMMANDS:
            return
        self.state["git"] = {"pid": pid, "start": process_start(pid), "command": args[0]}
        self._save_state()

    # -- the end --------------------------------------------------------------------------------

    def restoring(self) -> None:
        """The run is undoing itself (a failure, Ctrl-C, SIGTERM). Recorded if possible; never in the way."""
        if not self.state.get("originals") or self.state.get("phase") == "restoring":
            return
        self.state["phase"] = "restoring"  # the step and the git process stay: --abort may need them
        try:
            self._save_state()
        except OSError:
            pass
        test_pause.reached("restoring")

    def finished(self) -> None:
        """The run ended as it should: applied, or restored by itself. The journal goes."""
        self.done = True

    def close(self) -> None:
        """Remove the journal unless a restore failed (then `--abort` needs it), and release the lock."""
        try:
            if self.done or self.state.get("phase") in (None, "planning"):
                if self.directory.exists():
                    try:
                        remove_tree(self.directory)
                    except OSError as exc:
                        self.note(f"cannot remove the recovery journal {self.directory}: {exc.strerror or exc}")
            else:
                self.note(f"what could not be restored is recorded in {self.directory}; "
                          "run `migrate-ws --abort` to finish restoring the repository")
        finally:
            self.lock.release()


def take_lock(common_dir: Path, note: Callable[[str], None]) -> ApplyLock:
    """The apply lock of the repository (`<common git dir>/migrate-ws/apply.lock`, one for all its
    working trees: they share their branches); `Refusal` while a live run holds it."""
    lock = ApplyLock(common_dir / "migrate-ws")
    try:
        lock.acquire()
    except LockHeld as exc:
        raise Refusal(str(exc)) from None
    except OSError as exc:
        raise Refusal(f"cannot create {lock.path}: {exc.strerror or exc}") from None
    if lock.replaced is not None:
        note(f"removed a stale lock left by a migrate-ws run that is gone ({lock.replaced.describe()})")
    return lock


class InPlaceRecovery(NoRecovery):
    """`--fix` (and `--no-git`) inside a git repository: the apply lock, held so that no `--apply`,
    `--abort` or other `--fix` writes while this run does, and a refusal while an interrupted
    `--apply` awaits `--abort` (its files are half written). No journal of its own."""

    def __init__(self, lock: ApplyLock) -> None:
        self.lock = lock

    @classmethod
    def take(cls, root: Path, note: Callable[[str], None]) -> NoRecovery:
        test_pause.install()
        git_dir = find_git_dir(root)
        if git_dir is None or not git_dir.is_dir():
            return NO_RECOVERY  # not in a repository: nothing to share the files with
        lock = take_lock(find_common_dir(git_dir), note)
        try:
            directory = journal_directory(git_dir)
            state = _checked_state(directory)
            if state is not None and (state.get("phase") != "planning" or state.get("aborting")):
                raise Refusal(describe_leftover(state))
        except BaseException:
            lock.release()
            raise
        return cls(lock)

    def close(self) -> None:
        self.lock.release()


def remove_fast_import_leftovers(repo: Any, state: dict) -> None:
    """What a fast-import leaves when the end of the run cuts its input: a crash report (cut in the
    middle of a command), or a scratch ref (cut inside a step)."""
    from .git import SCRATCH_REF, SPLIT_SCRATCH_REF

    store = state.get("fast_import")
    holder = Holder.from_json(state["holder"])
    if store and holder.local:
        deadline = time.monotonic() + 10
        while process_alive(int(store["pid"]), store.get("start")) and time.monotonic() < deadline:
            time.sleep(0.02)  # it ends as soon as it has read what was written to it
        try:
            repo.git_path(f"fast_import_crash_{int(store['pid'])}").unlink()
        except FileNotFoundError:
            pass
    for ref in (SCRATCH_REF, SPLIT_SCRATCH_REF):
        repo.run_status("update-ref", "-d", ref)


def _checked_state(directory: Path) -> dict | None:
    """The journal's state, after checking the whole journal (None: there is none); a damaged one
    refuses the run, naming what is damaged."""
    try:
        state = read_state(directory)
        if state is not None:
            validate_journal(directory, state)
    except JournalDamaged as exc:
        raise Refusal(describe_damage(directory, exc)) from None
    return state
