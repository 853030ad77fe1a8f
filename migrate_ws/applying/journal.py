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

On start, `--apply` (under its lock, `lock.py`, one per repository) refuses while a
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..writer import fsync_directory, read_or_none
from .lock import Holder

JOURNAL_DIR = "apply-journal"
STATE = "state.json"
ORIGINALS = "originals.json"
BLOBS = "originals.bin"
INDEX_COPY = "index"
VERSION = 2
RECORD_HEADER = b"migrate-ws-journal"

# git commands the apply runs that hold git lock files while they run
LOCKING_COMMANDS = {"commit", "update-ref", "symbolic-ref"}


# ----- small file helpers ------------------------------------------------------------------------


def write_durably(path: Path, data: bytes) -> None:
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


def remove_tree(directory: Path) -> None:
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


# ----- finding the journal (--dry-run and --check: without running git) ---------------------------------------------------------------------

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
