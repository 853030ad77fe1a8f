"""Crash recovery for `--apply`: a journal in the git directory, and `migrate-ws --abort`.

Ctrl-C, SIGTERM and failures are undone by the running `--apply` itself (the in-memory
journal of `migrate_ws.writer`). A SIGKILL or a power cut gives it no chance, so the run
also records what it is doing in `<git dir>/migrate-ws/apply-journal/`:

- `state.json`: who runs (pid, host, process start time, command line), the original HEAD
  (branch or detached commit), the new branch, the phase the run is in, every commit it
  made, the files it has begun writing, and the git process it is running (pid and start
  time) while that process may hold one of git's lock files. It is rewritten atomically
  (temporary file, fsync, rename, fsync of the directory) *before* each phase begins:
  `planning`, `creating-branch`, `switching-head`, `writing` (a step, with the files about
  to be written), `committing` (a step), `committed` (a step and its commit), `tests`,
  `describing` (the PR description);
- `index`: the git index file as it was, byte for byte (or its absence, in `state.json`);
- `originals.bin` and `originals.json`: before the first write, the bytes and permission
  bits of every file the run may write (or that it did not exist), written once, in one
  file and with one fsync.

The journal is removed when the run ends: applied, or restored by the run itself. If that
restore failed, the journal stays for `--abort`.

On start, `--apply` (under its lock, `apply_lock.py`) refuses while a journal of a run
that is gone exists (exit 1), and says in one line what was interrupted; one left while
planning, before anything changed, is just removed. `--dry-run` and `--check` print the
same line as a warning. `migrate-ws --abort` then puts the repository back the way
`git rebase --abort` does: the original branch or detached HEAD, the index, every file the
run began writing (bytes and mode; files it created are removed), no temporary files, no
new branch (deleted only while it points at the original commit or at a commit the run
made), and git's `index.lock` (and HEAD/branch locks) removed only when the journal shows
the run was running a git command that takes it and that process is gone. `--abort` holds
the apply lock, records that it is aborting, and can itself be interrupted and run again.

With `--no-git` there is no git directory: no lock and no journal on disk (a SIGKILL
there leaves the files as far as the run got).
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import test_pause
from .exit_codes import ExitCode
from ..writer import fsync_directory, read_or_none
from .apply_lock import ApplyLock, Holder, LockHeld, process_alive, process_start

JOURNAL_DIR = "apply-journal"
STATE = "state.json"
ORIGINALS = "originals.json"
BLOBS = "originals.bin"
INDEX_COPY = "index"
VERSION = 1

EXIT_RESTORED = ExitCode.CLEAN
EXIT_REFUSED = ExitCode.REFUSED
EXIT_FAILED = ExitCode.FAILED

# git commands the apply runs that hold git lock files while they run
LOCKING_COMMANDS = {"commit", "update-ref", "symbolic-ref"}


class Refusal(Exception):
    """`--apply` must not start (exit 1): another run holds the lock, or an interrupted run must be aborted."""


# ----- small file helpers ------------------------------------------------------------------------


def _write_durably(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: temporary file, fsync, rename (`os.rename` replaces on POSIX), fsync directory."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    fsync_directory(path.parent)


def _remove_tree(directory: Path) -> None:
    """Remove the journal directory; `state.json` first, so a half-removed journal is recognisably empty."""
    try:
        os.unlink(directory / STATE)
    except FileNotFoundError:
        pass
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        try:
            entry.unlink()
        except IsADirectoryError:
            pass
        except FileNotFoundError:
            pass
    directory.rmdir()
    fsync_directory(directory.parent)


# ----- the phases --------------------------------------------------------------------------------

def describe_phase(state: dict) -> str:
    phase = state.get("phase")
    step = state.get("step")
    branch = state.get("branch") or "?"
    if phase == "planning":
        return "planning (before it changed anything)"
    if phase == "creating-branch":
        return f"creating the branch {branch}"
    if phase == "switching-head":
        return f"switching HEAD to the new branch {branch}"
    if phase == "writing":
        return f"writing the files of the {step} step"
    if phase == "committing":
        return f"committing the {step} step"
    if phase == "committed":
        return f"after committing the {step} step"
    if phase == "tests":
        return "running the tests (--test-cmd)"
    if phase == "describing":
        return "writing the PR description"
    if phase == "importing":
        return "writing the branches of a split change (git fast-import)"
    if phase == "restoring":
        return "restoring the repository after a failure or an interruption"
    return str(phase)


def when_interrupted(state: dict) -> str:
    """`describe_phase` as it follows "interrupted": "while committing the imports step", "after
    committing the imports step"."""
    what = describe_phase(state)
    return what if what.startswith("after ") else f"while {what}"


def describe_leftover(state: dict) -> str:
    holder = Holder.from_json(state["holder"])
    if state.get("aborting"):
        return (f"an earlier `migrate-ws --abort` of an --apply ({holder.describe()}) was interrupted; "
                "run `migrate-ws --abort` again to finish restoring the repository")
    return (f"an earlier --apply ({holder.describe()}) was interrupted {when_interrupted(state)}; "
            "run `migrate-ws --abort` to restore the repository as it was before it")


def journal_directory(git_dir: Path) -> Path:
    return git_dir / "migrate-ws" / JOURNAL_DIR


def read_state(directory: Path) -> dict | None:
    data = read_or_none(directory / STATE)
    if data is None:
        return None
    try:
        state = json.loads(data.decode("utf-8"))
        Holder.from_json(state["holder"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return state if isinstance(state, dict) else None


# ----- the running --apply's side ----------------------------------------------------------------

class NoRecovery:
    """`--no-git`, or before the git applier has prepared: nothing is recorded."""

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
        lock = ApplyLock(git_dir / "migrate-ws")
        try:
            lock.acquire()
        except LockHeld as exc:
            raise Refusal(str(exc)) from None
        except OSError as exc:
            raise Refusal(f"cannot create {lock.path}: {exc.strerror or exc}") from None
        recovery = cls(git_dir, repo.top, lock, note)
        try:
            if lock.replaced is not None:
                note(f"removed a stale lock left by an --apply that is gone ({lock.replaced.describe()})")
            recovery._check_leftover()
        except BaseException:
            lock.release()
            raise
        test_pause.install()
        repo.on_start = recovery.git_started
        return recovery

    def _check_leftover(self) -> None:
        directory = self.directory
        if not directory.exists():
            return
        state = read_state(directory)
        if state is None or (state.get("phase") == "planning" and not state.get("aborting")):
            if state is not None:
                holder = Holder.from_json(state["holder"])
                self.note(f"an earlier --apply ({holder.describe()}) was interrupted while planning, before it "
                          "changed anything; its journal was removed")
            _remove_tree(directory)
            return
        raise Refusal(describe_leftover(state))

    # -- phases ---------------------------------------------------------------------------------

    def _save_state(self) -> None:
        self.state["pending"] = sorted(self.pending)
        _write_durably(self.directory / STATE, json.dumps(self.state).encode("utf-8"))

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
            "commits": [],
            "git": None,
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
                    entry.update(existed=True, mode=stat.S_IMODE(info.st_mode), offset=offset, size=len(data))
                    offset += len(data)
                self.index_of[key] = len(entries)
                entries.append(entry)
            blobs.flush()
            os.fsync(blobs.fileno())
        _write_durably(self.directory / ORIGINALS, json.dumps(entries).encode("utf-8"))
        if index is not None:
            data = read_or_none(index)
            if data is not None:
                _write_durably(self.directory / INDEX_COPY, data)
            self.state["index"] = data is not None
        self.state["originals"] = True
        self.phase("creating-branch")

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
        """A `git fast-import` started (the background object store, cli/git.ObjectStore, or the
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
                        _remove_tree(self.directory)
                    except OSError as exc:
                        self.note(f"cannot remove the recovery journal {self.directory}: {exc.strerror or exc}")
            else:
                self.note(f"what could not be restored is recorded in {self.directory}; "
                          "run `migrate-ws --abort` to finish restoring the repository")
        finally:
            self.lock.release()


# ----- --dry-run and --check ---------------------------------------------------------------------

def find_git_dir(root: Path) -> Path | None:
    """The git directory of the working tree `root` is in, found without running git (`--dry-run`, `--check`)."""
    explicit = os.environ.get("GIT_DIR")
    if explicit:
        return Path(explicit).resolve()
    for folder in (root, *root.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():
            text = (read_or_none(candidate) or b"").decode("utf-8", "replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                return (target if target.is_absolute() else folder / target).resolve()
            return None
    return None


def interrupted_apply_warning(root: Path) -> str | None:
    """One line when the repository holds the journal of an --apply (interrupted, or running now)."""
    try:
        git_dir = find_git_dir(root)
        if git_dir is None:
            return None
        state = read_state(journal_directory(git_dir))
    except OSError:
        return None
    if state is None:
        return None
    holder = Holder.from_json(state["holder"])
    if holder.alive() and not state.get("aborting"):
        return (f"an --apply is in progress in this repository ({holder.describe()}, {describe_phase(state)}); "
                "what is read now may be half written")
    return describe_leftover(state)


# ----- migrate-ws --abort -------------------------------------------------------------------------

def _temp_files_near(path: Path, pids: Iterable[int]) -> list[Path]:
    from ..writer import is_temp_for

    found: list[Path] = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return found
    for pid in pids:
        found.extend(path.parent / name for name in names if is_temp_for(name, path.name, pid))
    return found


class Aborter:
    """Undo an interrupted `--apply` from its journal; every action is idempotent."""

    def __init__(self, repo: Any, directory: Path, state: dict) -> None:
        self.repo = repo
        self.directory = directory
        self.state = state
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
        self.mark_aborting()
        if self.state.get("phase") == "planning" or not self.state.get("originals"):
            self.lines.append("nothing had been changed")
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

    def remove_fast_import_leftovers(self) -> None:
        """What a fast-import leaves when the run's end cuts its input: a crash report (cut in the
        middle of a command), or the background object store's scratch ref (cut inside a step)."""
        from .git import SCRATCH_REF

        store = self.state.get("fast_import")
        if store and self.holder.local:
            deadline = time.monotonic() + 10
            while process_alive(int(store["pid"]), store.get("start")) and time.monotonic() < deadline:
                time.sleep(0.02)  # it ends as soon as it has read what was written to it
            self._remove(self.repo.git_path(f"fast_import_crash_{int(store['pid'])}"))
        self.repo.run_status("update-ref", "-d", SCRATCH_REF)

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
        _write_durably(self.directory / STATE, json.dumps(self.state).encode("utf-8"))

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

        data = read_or_none(self.directory / ORIGINALS)
        if data is None:
            self.errors.append("the list of original files is missing from the journal")
            return
        entries = json.loads(data.decode("utf-8"))
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

    def delete_branch(self) -> None:
        branch = self.state.get("branch")
        if not branch or self.state.get("phase") in ("planning",):
            return
        ref = f"refs/heads/{branch}"
        status, out, _ = self.repo.run_status("rev-parse", "-q", "--verify", f"{ref}^{{commit}}")
        if status != 0:
            return  # never created, or already deleted
        tip = out.strip()
        made = {self.state["base"]["sha"]} | {c["sha"] for c in self.state.get("commits", []) if c.get("sha")}
        if tip not in made and not self._last_unrecorded_commit(tip):
            self.lines.append(f"branch {branch} was kept: it points at {tip[:10]}, which the interrupted --apply did "
                              "not make")
            return
        try:
            self.repo.run("update-ref", "-m", "migrate-ws --abort", "-d", ref, tip)
        except Exception as exc:
            self.errors.append(f"cannot delete the branch {branch} ({exc})")
            return
        self.lines.append(f"branch {branch} deleted")

    def delete_split_branches(self) -> None:
        """`--split-by`: every branch the run created; one it was creating when killed only when all of
        its commits since the original HEAD are migrate-ws commits (no one else's work is lost)."""
        base = self.state["base"]["sha"]
        for name, recorded in (self.state.get("branches") or {}).items():
            ref = f"refs/heads/{name}"
            status, out, _ = self.repo.run_status("rev-parse", "-q", "--verify", f"{ref}^{{commit}}")
            if status != 0:
                continue
            tip = out.strip()
            if recorded is None or tip != recorded:
                status, log, _ = self.repo.run_status("log", "--format=%s", f"{base}..{tip}")
                subjects = [line for line in log.splitlines() if line.strip()]
                if status != 0 or not subjects or not all(s.startswith("migrate-ws: ") for s in subjects) \
                        or (recorded is not None and tip != recorded):
                    self.lines.append(f"branch {name} was kept: it points at {tip[:10]}, which the interrupted "
                                      "--apply did not make")
                    continue
            try:
                self.repo.run("update-ref", "-m", "migrate-ws --abort", "-d", ref, tip)
            except Exception as exc:  # noqa: BLE001 - every problem is listed
                self.errors.append(f"cannot delete the branch {name} ({exc})")
                continue
            self.lines.append(f"branch {name} deleted")

    def _last_unrecorded_commit(self, tip: str) -> bool:
        """A commit `git commit` finished after the run was killed, before the run could record it."""
        if self.state.get("phase") not in ("committing", "restoring"):
            return False
        commits = [c["sha"] for c in self.state.get("commits", []) if c.get("sha")]
        parent_expected = commits[-1] if commits else self.state["base"]["sha"]
        status, out, _ = self.repo.run_status("log", "-1", "--format=%P%x00%s%x00%b", tip)
        if status != 0:
            return False
        parents, subject, body = (out.split("\x00") + ["", ""])[:3]
        return (parents.strip() == parent_expected and subject.startswith("migrate-ws: ")
                and f"Step: {self.state.get('step')}" in body.splitlines())


def run_abort(out: Any, err: Any, root: Path) -> int:
    """`migrate-ws --abort`: restore the repository from the journal of an interrupted --apply."""
    from .git import GitError, GitUnavailable, NotARepository, Repository
    from .terminal import say

    def error(text: str) -> None:
        say(err, f"migrate-ws: error: {text}")

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
        lock = ApplyLock(git_dir / "migrate-ws")
        directory = journal_directory(git_dir)
        if not directory.exists() and not lock.path.exists():
            say(out, "migrate-ws: nothing to abort (no interrupted --apply in this repository).")
            return EXIT_RESTORED
        try:
            lock.acquire()
        except LockHeld as exc:
            error(str(exc).replace("wait for it to finish", "it is not interrupted; nothing was changed"))
            return EXIT_REFUSED
        try:
            if lock.replaced is not None:
                say(err, f"migrate-ws: removed a stale lock left by a run that is gone ({lock.replaced.describe()})")
            state = read_state(directory)
            if state is None:
                if directory.exists():
                    _remove_tree(directory)
                say(out, "migrate-ws: nothing to abort (no interrupted --apply in this repository).")
                return EXIT_RESTORED
            aborter = Aborter(repo, directory, state)
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
                if line.startswith("removed git's"):
                    say(err, f"migrate-ws: {line}")
            if aborter.errors:
                for problem in aborter.errors:
                    error(f"could not restore: {problem}")
                error(f"the repository is not fully restored; the journal is kept in {directory}: "
                      "fix the problem above and run `migrate-ws --abort` again")
                return EXIT_FAILED
            _remove_tree(directory)
            summary = ", ".join(line for line in aborter.lines if not line.startswith("removed git's"))
            say(out, f"migrate-ws: aborted the --apply interrupted {what} ({holder}): {summary}.")
            return EXIT_RESTORED
        finally:
            lock.release()
    finally:
        repo.close()
