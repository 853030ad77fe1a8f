"""One writing run at a time per repository: `<common git dir>/migrate-ws/apply.lock`.

`--apply`, `--abort` and `--fix` (and `--no-git` inside a repository) hold it. It lives in
the git directory all working trees of the repository share (`git rev-parse
--git-common-dir`), not in one working tree's own: the working trees share their branches,
so two of them applying at once could take each other's branch.

Like git's `index.lock`, the lock is a file whose existence is the lock. It is created
atomically with its whole content (written to a private temporary file, then hard-linked
to the lock's name, which fails if the name exists; where hard links are not supported,
`O_CREAT|O_EXCL` and then the content), before `--apply` plans or changes anything, and it
is removed when the run ends: normally, on an error, on Ctrl-C and on SIGTERM.

The content is JSON: pid, host, the process's start time (in clock ticks since boot, from
`/proc/<pid>/stat` on Linux, to tell a reused pid from the original process), the wall
time the run started and its command line. A lock is *stale* when it was made on this
host and its process is gone (`os.kill(pid, 0)` raises `ProcessLookupError`) or the pid
now belongs to a process that started at another time. A stale lock (left by a SIGKILL or
a power cut) is removed and taken over; removing it is serialised with `flock` on the
lock's directory, and the lock is read again under that mutex, so two runs that find the
same stale lock cannot both take it. A lock made on another host (a repository on a
shared file system) is never considered stale: the message names the host and the file.

`--dry-run` and `--check` never take the lock. `--no-git` outside a git repository has no
git directory and takes no lock.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..writer import fsync_directory

LOCK_NAME = "apply.lock"


# ----- processes -------------------------------------------------------------------------------

def _proc_stat(pid: int) -> list[bytes] | None:
    """Fields 3 and later of /proc/<pid>/stat (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may contain spaces and parentheses
    return data[data.rfind(b")") + 2:].split()


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None when unknown."""
    fields = _proc_stat(pid)
    try:
        return int(fields[19]) if fields else None  # field 22 of the whole line
    except (IndexError, ValueError):
        return None


def process_alive(pid: int, start: int | None = None) -> bool:
    """Whether `pid` runs on this host and, when `start` is known, is the process that started then."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    fields = _proc_stat(pid)
    if fields and fields[0] in (b"Z", b"X"):
        return False  # killed, not yet reaped by its parent
    if start is not None and fields:
        try:
            if int(fields[19]) != start:
                return False  # the pid was reused by a later process
        except (IndexError, ValueError):
            pass
    return True


def _group_members(group: int) -> list[int] | None:
    """The live (not zombie) processes of the process group (Linux, from /proc), or None elsewhere."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    if not os.path.exists(f"/proc/{os.getpid()}/stat"):
        return None
    members = []
    for name in names:
        if not name.isdigit():
            continue
        fields = _proc_stat(int(name))
        try:
            if fields and int(fields[2]) == group and fields[0] not in (b"Z", b"X"):
                members.append(int(name))
        except (IndexError, ValueError):
            continue
    return members


def process_group_alive(group: int, leader_start: int | None = None) -> bool:
    """Whether any process of the process group `group` (its leader's pid) still runs.

    While its leader runs, only if the leader is the process that started at `leader_start`
    (when known): a pid reused since belongs to another process. Once the leader is gone, a
    member that remains keeps the group's id from being reused, so it is still that group."""
    if group <= 1:
        return False
    members = _group_members(group)
    if members is not None:
        if not members:
            return False
    else:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    if leader_start is not None and process_alive(group) and process_start(group) not in (None, leader_start):
        return False
    return True


def this_host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return ""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock or started a journal."""

    pid: int
    host: str
    start: int | None  # process start time in ticks since boot (Linux), if known
    started: float  # wall time (seconds since the epoch)
    command: str

    @classmethod
    def current(cls) -> "Holder":
        pid = os.getpid()
        return cls(pid, this_host(), process_start(pid), time.time(), shlex.join(["migrate-ws", *sys.argv[1:]]))

    @classmethod
    def from_json(cls, data: dict) -> "Holder":
        return cls(int(data["pid"]), str(data.get("host", "")), data.get("start"), float(data.get("started", 0.0)),
                   str(data.get("command", "")))

    def to_json(self) -> dict:
        return {"pid": self.pid, "host": self.host, "start": self.start, "started": self.started,
                "command": self.command}

    @property
    def local(self) -> bool:
        return self.host == this_host()

    def alive(self) -> bool:
        """True unless the process is known to be gone (a holder on another host counts as alive)."""
        if not self.local:
            return True
        return process_alive(self.pid, self.start)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)) if self.started else "?"
        where = "" if self.local else f" on {self.host}"
        return f"pid {self.pid}{where}, started {when}"


# ----- the lock --------------------------------------------------------------------------------

class LockHeld(Exception):
    """Another live process holds the lock."""

    def __init__(self, path: Path, holder: Holder | None) -> None:
        self.path = path
        self.holder = holder
        if holder is None:
            text = f"another migrate-ws run is starting in this repository ({path} is being created)"
        elif holder.local:
            text = (f"another migrate-ws run is in progress in this repository ({holder.describe()}: "
                    f"{holder.command}); wait for it to finish")
        else:
            text = (f"another migrate-ws run holds {path} ({holder.describe()}: {holder.command}); if no "
                    f"migrate-ws runs on {holder.host} any more, remove that file")
        super().__init__(text)


def read_holder(path: Path) -> Holder | None:
    """The lock's holder; None when the file is missing, empty or not (yet) valid JSON."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        return Holder.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


@contextmanager
def _directory_mutex(directory: Path) -> Iterator[None]:
    """An exclusive `flock` on the directory (serialises removing a stale lock)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no mutex
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock



class ApplyLock:
    """`<common git dir>/migrate-ws/apply.lock`, held from `acquire()` to `release()`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory  # <git dir>/migrate-ws
        self.path = directory / LOCK_NAME
        self.holder: Holder | None = None  # set while held
        self.replaced: Holder | None = None  # the stale lock this run took over, if any

    @property
    def held(self) -> bool:
        return self.holder is not None

    def acquire(self) -> None:
        """Take the lock or raise `LockHeld`; a stale lock is removed and taken over."""
        me = Holder.current()
        content = (json.dumps(me.to_json(), indent=2) + "\n").encode("utf-8")
        for _ in range(20):
            if not self.directory.is_dir():
                try:
                    self.directory.mkdir(parents=True)
                except FileExistsError:
                    pass
            if self._create(content):
                self.holder = me
                return
            other = read_holder(self.path)
            if other is None:
                if not self.path.exists():
                    continue  # released in the meantime
                if time.time() - self._mtime() < 10:
                    raise LockHeld(self.path, None)  # being written right now
                other = None  # unreadable and old: left by a crash while it was being written
            elif other.alive():
                raise LockHeld(self.path, other)
            self._remove_stale(other)
        raise LockHeld(self.path, read_holder(self.path))

    def _mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return time.time()

    def _create(self, content: bytes) -> bool:
        temp = self.directory / f".{LOCK_NAME}.{os.getpid()}.tmp"
        try:
            with open(temp, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, self.path)
            except FileExistsError:
                return False
            except OSError:  # no hard links here: exclusive create, then the content
                try:
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    return False
                try:
                    os.write(fd, content)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            fsync_directory(self.directory)
            return True
        finally:
            try:
                os.unlink(temp)
            except OSError:
                pass

    def _remove_stale(self, seen: Holder | None) -> None:
        with _directory_mutex(self.directory):
            now = read_holder(self.path)
            if now != seen:
                return  # released, or taken by another run in the meantime: look again
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                return
            self.replaced = seen

    def release(self) -> None:
        """Remove the lock if this run holds it, and its directory if that is now empty."""
        if self.holder is None:
            return
        if read_holder(self.path) == self.holder:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        self.holder = None
        try:
            self.directory.rmdir()  # only when empty: the PR description may live there
        except OSError:
            pass
