"""One `--apply` at a time: `<git dir>/migrate-ws/apply.lock`.

The lock itself (stale pid, reused pid, another host, a lock being written), then two real
`migrate-ws --apply` processes on one repository: the first is held inside a git
pre-commit hook (a pause that comes from the repository, not from the product) until the
second has exited; the second must refuse at once, naming the first, and touch nothing;
the repository then ends exactly as one successful run leaves it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrate_ws.cli.apply_lock import ApplyLock, Holder, LockHeld, process_alive, process_start, this_host
from test_apply import (
    assert_restored,
    branches,
    cli_env,
    commits_on,
    files_of,
    git,
    invoke,
    make_repo,
    pr_body,
    repo_state,
    run_cli,
)
from test_apply_faults import WAIT, start_cli, wait_for


def lock_path(repo: Path) -> Path:
    return repo / ".git" / "migrate-ws" / "apply.lock"


def write_lock(path: Path, **fields) -> None:
    record = {"pid": os.getpid(), "host": this_host(), "start": process_start(os.getpid()),
              "started": time.time(), "command": "migrate-ws --apply"}
    record.update(fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ----- the lock file -------------------------------------------------------------------------------

def test_lock_is_created_with_its_holder_and_removed_on_release(tmp_path: Path) -> None:
    lock = ApplyLock(tmp_path / "git" / "migrate-ws")
    lock.acquire()
    content = json.loads(lock.path.read_text())
    assert content["pid"] == os.getpid() and content["host"] == this_host()
    assert content["command"].startswith("migrate-ws")
    if process_start(os.getpid()) is not None:
        assert content["start"] == process_start(os.getpid())
    assert [p.name for p in lock.path.parent.iterdir()] == ["apply.lock"]  # no temporary file left

    with pytest.raises(LockHeld) as held:  # a second holder, even in the same process
        ApplyLock(tmp_path / "git" / "migrate-ws").acquire()
    assert f"pid {os.getpid()}" in str(held.value)

    lock.release()
    assert not lock.path.exists() and not lock.path.parent.exists()  # the empty directory goes too


def test_a_stale_lock_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "migrate-ws" / "apply.lock"
    pid = dead_pid()
    write_lock(path, pid=pid, start=None)
    assert not process_alive(pid)

    lock = ApplyLock(path.parent)
    lock.acquire()

    assert lock.replaced is not None and lock.replaced.pid == pid
    assert json.loads(path.read_text())["pid"] == os.getpid()
    lock.release()


@pytest.mark.skipif(process_start(os.getpid()) is None, reason="process start times need /proc")
def test_a_reused_pid_does_not_keep_a_lock(tmp_path: Path) -> None:
    path = tmp_path / "migrate-ws" / "apply.lock"
    write_lock(path, start=process_start(os.getpid()) - 1)  # our pid, but not our process

    lock = ApplyLock(path.parent)
    lock.acquire()

    assert lock.replaced is not None
    lock.release()


def test_a_lock_from_another_host_is_never_stale(tmp_path: Path) -> None:
    path = tmp_path / "migrate-ws" / "apply.lock"
    write_lock(path, pid=dead_pid(), host="build-07.example")

    with pytest.raises(LockHeld) as held:
        ApplyLock(path.parent).acquire()

    assert "build-07.example" in str(held.value) and str(path) in str(held.value)
    assert path.exists()


def test_a_lock_being_written_is_held_and_an_old_unreadable_one_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "migrate-ws" / "apply.lock"
    path.parent.mkdir()
    path.write_bytes(b"")  # created, content not there yet
    with pytest.raises(LockHeld) as held:
        ApplyLock(path.parent).acquire()
    assert "is being created" in str(held.value)

    old = time.time() - 60
    os.utime(path, (old, old))  # a crash while it was written
    lock = ApplyLock(path.parent)
    lock.acquire()
    assert json.loads(path.read_text())["pid"] == os.getpid()
    lock.release()


def test_release_leaves_a_lock_that_is_not_ours(tmp_path: Path) -> None:
    lock = ApplyLock(tmp_path / "migrate-ws")
    lock.acquire()
    write_lock(lock.path, pid=os.getppid(), start=process_start(os.getppid()))  # someone broke it and took it
    lock.release()
    assert json.loads(lock.path.read_text())["pid"] == os.getppid()


def test_holder_description_names_pid_and_start() -> None:
    holder = Holder.current()
    assert holder.describe().startswith(f"pid {os.getpid()}, started ")
    assert Holder.from_json(holder.to_json()) == holder
