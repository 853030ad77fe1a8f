"""Crash recovery for `--apply`: a journal in the git directory, and `migrate-ws --abort`.

Ctrl-C, SIGTERM and failures are undone by the running `--apply` itself (the in-memory
journal of `migrate_ws.writer`). A SIGKILL or a power cut gives it no chance, so the run
also records what it is doing in `<git dir>/migrate-ws/apply-journal/` (the working
tree's own git directory: HEAD and the index belong to a working tree):

- `state.json`: who runs (pid, host, process start time, command line), the original HEAD
  (branch or detached commit), the new branch and, once `git update-ref` has created it,
  the commit it was created at, the phase the run is in, every commit it made, the files
  it has begun writing, the git process it is running (pid and start time) while that
  process may hold one of git's lock files, and the process group of `--test-cmd` while
  it runs. It is rewritten atomically (temporary file, fsync, rename, fsync of the
  directory) *before* each phase begins: `planning`, `creating-branch`, `switching-head`,
  `writing` (a step, with the files about to be written), `committing` (a step),
  `committed` (a step and its commit), `tests`, `describing` (the PR description);
- `index`: the git index file as it was, byte for byte (or its absence, in `state.json`);
- `originals.bin` and `originals.json`: before the first write, the bytes and permission
  bits of every file the run may write (or that it did not exist), written once, in one
  file and with one fsync.

Every record has a length and a checksum (SHA-256): `state.json` carries its own in a
header line, and it holds those of `originals.json`, `index` and (per file) of
`originals.bin`, each written and synced before `state.json` points at it. `--abort`
validates the whole journal before it changes anything; a damaged journal (a truncated
file, a flipped byte, a list of originals that no longer matches) is named in one line,
exit 4, and nothing is changed: the journal is kept.

The journal is removed when the run ends: applied, or restored by the run itself. If that
restore failed, the journal stays for `--abort`.

On start, `--apply` (under its lock, `apply_lock.py`, one per repository) refuses while a
journal of a run that is gone exists (exit 1), and says in one line what was interrupted;
one left while planning, before anything changed, is just removed. `--dry-run` and
`--check` print the same line as a warning. `migrate-ws --abort` then puts the repository
back the way `git rebase --abort` does: it first ends the interrupted run's `--test-cmd`
(SIGTERM to its process group, SIGKILL after a grace period), then the original branch or
detached HEAD, the index, every file the run began writing (bytes and mode; files it
created are removed), no temporary files, no new branch (deleted only if the run created
it, with `update-ref -d` and the commit it is expected at: the original commit or one the
run made; any other branch is never touched), and git's `index.lock` (and HEAD/branch
locks) removed only when the journal shows the run was running a git command that takes
it and that process is gone. `--abort` holds the apply lock, records that it is aborting,
and can itself be interrupted and run again.

With `--no-git` (and `--fix`) there is no journal, only the lock inside a git repository
(`InPlaceRecovery`): a SIGKILL there leaves the files as far as the run got.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import test_pause
from ..exit_codes import ExitCode
from ..writer import fsync_directory, read_or_none
from .lock import ApplyLock, Holder, LockHeld, process_alive, process_group_alive, process_start

JOURNAL_DIR = "apply-journal"
STATE = "state.json"
ORIGINALS = "originals.json"
BLOBS = "originals.bin"
INDEX_COPY = "index"
VERSION = 2
RECORD_HEADER = b"migrate-ws-journal"

# how long the interrupted run's --test-cmd gets to end after SIGTERM before SIGKILL
TEST_COMMAND_GRACE = 2.0

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


# ----- records with a length and a checksum ------------------------------------------------------

class JournalDamaged(Exception):
    """A journal file is missing, truncated or altered: nothing can be restored from it safely.

    `str()` names what is damaged; `state` is the state when it could still be read."""

    def __init__(self, what: str, state: dict | None = None) -> None:
        self.state = state
        super().__init__(what)


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seal(data: bytes) -> dict:
    """The length and checksum of a record, as the state keeps them."""
    return {"size": len(data), "sha256": checksum(data)}


def encode_state(state: dict) -> bytes:
    payload = json.dumps(state).encode("utf-8")
    return b"%s %d %d %s\n" % (RECORD_HEADER, VERSION, len(payload), checksum(payload).encode("ascii")) + payload


def _decode_state(data: bytes) -> dict:
    """`state.json` back from its header line and payload; `JournalDamaged` unless both agree."""
    if not data:
        raise JournalDamaged(f"{STATE} is empty")
    if data.startswith(b"{"):
        raise JournalDamaged(f"{STATE} has no length and checksum (written by an older migrate-ws, journal "
                             "version 1)")
    header, newline, payload = data.partition(b"\n")
    fields = header.split(b" ")
    if not newline or len(fields) != 4 or fields[0] != RECORD_HEADER or not fields[1].isdigit() \
            or not fields[2].isdigit():
        raise JournalDamaged(f"{STATE} is damaged (its header line is not a migrate-ws journal header)")
    if int(fields[1]) != VERSION:
        raise JournalDamaged(f"{STATE} is journal version {int(fields[1])}; this migrate-ws reads version {VERSION}")
    size = int(fields[2])
    if len(payload) != size:
        raise JournalDamaged(f"{STATE} is truncated ({len(payload)} of {size} bytes)" if len(payload) < size
                             else f"{STATE} is damaged ({len(payload)} bytes where {size} were written)")
    if checksum(payload) != fields[3].decode("ascii", "replace"):
        raise JournalDamaged(f"{STATE} is damaged (its checksum does not match)")
    try:
        state = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise JournalDamaged(f"{STATE} is damaged (not JSON)") from None
    problem = _state_problem(state)
    if problem is not None:
        raise JournalDamaged(f"{STATE} is damaged ({problem})")
    return state


_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
PHASES = {"planning", "creating-branch", "switching-head", "writing", "committing", "committed", "tests",
          "describing", "importing", "restoring"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_sha(value: Any) -> bool:
    return isinstance(value, str) and _SHA.match(value) is not None


def _is_process(value: Any) -> bool:
    return isinstance(value, dict) and _is_int(value.get("pid")) and (value.get("start") is None
                                                                      or _is_int(value.get("start")))


def _is_holder(value: Any) -> bool:
    return _is_process(value) and isinstance(value.get("host"), str) and isinstance(value.get("command"), str) \
        and isinstance(value.get("started"), (int, float))


def _is_seal(value: Any) -> bool:
    return isinstance(value, dict) and _is_int(value.get("size")) and isinstance(value.get("sha256"), str)


def _state_problem(state: Any) -> str | None:
    """What is wrong with the shape of a decoded state, or None."""
    if not isinstance(state, dict):
        return "not an object"
    base = state.get("base")
    checks = {
        "holder": _is_holder(state.get("holder")),
        "aborting": state.get("aborting") is None or _is_holder(state.get("aborting")),
        "top": isinstance(state.get("top"), str),
        "base": isinstance(base, dict) and _is_sha(base.get("sha"))
        and (base.get("ref") is None or isinstance(base.get("ref"), str)),
        "branch": state.get("branch") is None or isinstance(state.get("branch"), str),
        "created": state.get("created") is None or _is_sha(state.get("created")),
        "run": isinstance(state.get("run"), str),
        "phase": state.get("phase") in PHASES,
        "step": state.get("step") is None or isinstance(state.get("step"), str),
        "commits": isinstance(state.get("commits"), list) and all(
            isinstance(c, dict) and isinstance(c.get("step"), str) and (c.get("sha") is None or _is_sha(c.get("sha")))
            for c in state.get("commits", [])),
        "git": state.get("git") is None or (_is_process(state["git"]) and isinstance(state["git"].get("command"), str)),
        "fast_import": state.get("fast_import") is None or _is_process(state.get("fast_import")),
        "tests": state.get("tests") is None or _is_process(state.get("tests")),
        "originals": state.get("originals") is False or _is_seal(state.get("originals")),
        "index": state.get("index") in (None, False) or _is_seal(state.get("index")),
        "pending": isinstance(state.get("pending"), list) and all(_is_int(n) and n >= 0 for n in state["pending"]),
        "branches": state.get("branches") is None or (isinstance(state["branches"], dict) and all(
            isinstance(name, str) and (tip is None or _is_sha(tip)) for name, tip in state["branches"].items())),
    }
    wrong = [name for name, good in checks.items() if not good]
    return f"its {', '.join(wrong)} field{'s' if len(wrong) > 1 else ''} malformed" if wrong else None


def _read_sealed(directory: Path, name: str, sealed: dict) -> bytes:
    """A journal file whose length and checksum the state holds; `JournalDamaged` unless it matches."""
    data = read_or_none(directory / name)
    if data is None:
        raise JournalDamaged(f"{name} is missing")
    if len(data) != sealed["size"]:
        raise JournalDamaged(f"{name} is truncated ({len(data)} of {sealed['size']} bytes)"
                             if len(data) < sealed["size"]
                             else f"{name} is damaged ({len(data)} bytes where {sealed['size']} were written)")
    if checksum(data) != sealed["sha256"]:
        raise JournalDamaged(f"{name} is damaged (its checksum does not match)")
    return data


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not isinstance(entry.get("existed"),
                                                                                              bool):
        return "an entry without a path"
    if entry["existed"]:
        if not all(_is_int(entry.get(key)) and entry[key] >= 0 for key in ("mode", "offset", "size")) \
                or not isinstance(entry.get("sha256"), str):
            return f"the entry of {entry['path']} is incomplete"
    elif not isinstance(entry.get("missing_dirs", []), list) \
            or not all(isinstance(folder, str) for folder in entry.get("missing_dirs", [])):
        return f"the entry of {entry['path']} is incomplete"
    return None


@dataclass
class ValidJournal:
    """A journal checked end to end: its state, and (once saved) the originals' entries."""

    state: dict
    entries: list[dict] = field(default_factory=list)


def validate_journal(directory: Path, state: dict) -> ValidJournal:
    """Check every record the state points at (lengths, checksums, shapes); `JournalDamaged` names
    the first that does not hold. Reads the whole journal; changes nothing."""
    journal = ValidJournal(state)
    try:
        sealed = state.get("originals")
        if sealed:
            data = _read_sealed(directory, ORIGINALS, sealed)
            try:
                entries = json.loads(data.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise JournalDamaged(f"{ORIGINALS} is damaged (not JSON)") from None
            if not isinstance(entries, list):
                raise JournalDamaged(f"{ORIGINALS} is damaged (not a list)")
            for entry in entries:
                problem = _entry_problem(entry)
                if problem is not None:
                    raise JournalDamaged(f"{ORIGINALS} is damaged ({problem})")
            bad = [n for n in state["pending"] if n >= len(entries)]
            if bad:
                raise JournalDamaged(f"{STATE} is damaged (it names file {bad[0]} of {len(entries)} in {ORIGINALS})")
            saved = [entry for entry in entries if entry["existed"]]
            expected = max((entry["offset"] + entry["size"] for entry in saved), default=0)
            try:
                size = os.path.getsize(directory / BLOBS)
            except OSError:
                raise JournalDamaged(f"{BLOBS} is missing") from None
            if size < expected:
                raise JournalDamaged(f"{BLOBS} is truncated ({size} of {expected} bytes)")
            with open(directory / BLOBS, "rb") as blobs:
                for entry in saved:
                    blobs.seek(entry["offset"])
                    if checksum(blobs.read(entry["size"])) != entry["sha256"]:
                        raise JournalDamaged(f"{BLOBS} is damaged (the saved copy of {entry['path']} does not match "
                                             "its checksum)")
            journal.entries = entries
        if state.get("index"):
            _read_sealed(directory, INDEX_COPY, state["index"])
    except JournalDamaged as exc:
        raise JournalDamaged(str(exc), state) from None
    except OSError as exc:
        raise JournalDamaged(f"cannot be read: {exc.strerror or exc}", state) from None
    return journal


def describe_damage(directory: Path, damage: JournalDamaged) -> str:
    """One line: what is damaged, that nothing was changed, and what the user can do."""
    state = damage.state
    where = ""
    if state is not None:
        base = state["base"]
        name = base["ref"][len("refs/heads/"):] if base["ref"] and base["ref"].startswith("refs/heads/") else None
        where = (f" (the run started on {name or 'a detached HEAD'} at {base['sha'][:10]}"
                 + (f" and made the branch {state['branch']}" if state.get("branch") else "") + ")")
    return (f"the journal of the interrupted --apply is damaged: {damage}; nothing was changed and the journal is "
            f"kept in {directory}: restore the repository by hand{where}, then remove that directory")


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
    """The journal's state; None when there is none (never written, or removed first when the
    journal was being removed); `JournalDamaged` when it is there but cannot be trusted."""
    try:
        with open(directory / STATE, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise JournalDamaged(f"{STATE} cannot be read: {exc.strerror or exc}") from None
    return _decode_state(data)


# ----- the running --apply's side ----------------------------------------------------------------

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
        try:
            state = read_state(directory)
            if state is not None:
                validate_journal(directory, state)
        except JournalDamaged as exc:
            raise Refusal(describe_damage(directory, exc)) from None
        if state is None or (state.get("phase") == "planning" and not state.get("aborting")):
            if state is not None:
                holder = Holder.from_json(state["holder"])
                self.note(f"an earlier --apply ({holder.describe()}) was interrupted while planning, before it "
                          "changed anything; its journal was removed")
                remove_fast_import_leftovers(repo, state)
            _remove_tree(directory)
            return
        raise Refusal(describe_leftover(state))

    # -- phases ---------------------------------------------------------------------------------

    def _save_state(self) -> None:
        self.state["pending"] = sorted(self.pending)
        _write_durably(self.directory / STATE, encode_state(self.state))

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
        _write_durably(self.directory / ORIGINALS, listing)
        if index is not None:
            data = read_or_none(index)
            if data is not None:
                _write_durably(self.directory / INDEX_COPY, data)
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
            try:
                state = read_state(directory)
                if state is not None:
                    validate_journal(directory, state)
            except JournalDamaged as exc:
                raise Refusal(describe_damage(directory, exc)) from None
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


def find_common_dir(git_dir: Path) -> Path:
    """The git directory shared by all working trees of the repository (a linked working tree's
    own git directory names it in `commondir`), found without running git."""
    explicit = os.environ.get("GIT_COMMON_DIR")
    if explicit:
        return Path(explicit).resolve()
    text = read_or_none(git_dir / "commondir")
    if text is None:
        return git_dir
    target = Path(text.decode("utf-8", "surrogateescape").strip())
    return (target if target.is_absolute() else git_dir / target).resolve()


def interrupted_apply_warning(root: Path) -> str | None:
    """One line when the repository holds the journal of an --apply (interrupted, or running now)."""
    try:
        git_dir = find_git_dir(root)
        if git_dir is None:
            return None
        directory = journal_directory(git_dir)
        state = read_state(directory)
        if state is not None and not Holder.from_json(state["holder"]).alive():
            validate_journal(directory, state)
    except OSError:
        return None
    except JournalDamaged as exc:
        return describe_damage(directory, exc)
    if state is None:
        return None
    holder = Holder.from_json(state["holder"])
    if holder.alive() and not state.get("aborting"):
        return (f"an --apply is in progress in this repository ({holder.describe()}, {describe_phase(state)}); "
                "what is read now may be half written")
    return describe_leftover(state)


# ----- migrate-ws --abort -------------------------------------------------------------------------

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

    def __init__(self, repo: Any, directory: Path, journal: ValidJournal) -> None:
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
        _write_durably(self.directory / STATE, encode_state(self.state))

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


def is_step_commit(repo: Any, sha: str, parent: str, step: str | None) -> bool:
    """Whether `sha` is the commit of the step `step` made on `parent` by migrate-ws (one whose
    `git commit` ended after the run that started it lost track: killed or interrupted)."""
    status, out, _ = repo.run_status("log", "-1", "--format=%P%x00%s%x00%b", sha)
    if status != 0:
        return False
    parents, subject, body = (out.split("\x00") + ["", ""])[:3]
    return (parents.strip() == parent and subject.startswith("migrate-ws: ")
            and f"Step: {step}" in body.splitlines())


def run_abort(ui: Any, root: Path) -> int:
    """`migrate-ws --abort`: restore the repository from the journal of an interrupted --apply;
    reported through `ui` (the report's lines, notes and errors)."""
    from .git import GitError, GitUnavailable, NotARepository, Repository

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
                    _remove_tree(directory)
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
            _remove_tree(directory)
            summary = ", ".join(line for line in aborter.lines
                                if not line.startswith(("removed git's", "stopped the test command")))
            ui.line(f"migrate-ws: aborted the --apply interrupted {what} ({holder}): {summary}.")
            return EXIT_RESTORED
        finally:
            lock.release()
    finally:
        repo.close()
