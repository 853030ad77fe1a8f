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
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import (WAIT, assert_restored, branches, cli_env, commits_on, default_sigint, git, interrupt, invoke,
                     make_repo, pr_body, repo_state, run_cli, start_cli, wait_for)
from migrate_ws.applying.lock import ApplyLock, Holder, LockHeld, process_alive, process_start, this_host


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


# ----- two real --apply processes -----------------------------------------------------------------

def commit_summary(repo: Path, branch: str) -> list[tuple[str, str, str]]:
    """(subject, body, tree) of each commit the run made: equal for equal runs, whatever the dates."""
    return [(c["subject"], c["body"], git(repo, "rev-parse", f"{c['sha']}^{{tree}}").strip())
            for c in commits_on(repo, branch)]


def without_shas(text: str) -> str:
    import re

    return re.sub(r"`[0-9a-f]{10}`", "`<sha>`", text)


def test_two_concurrent_applies_one_succeeds_and_the_other_touches_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    twin = make_repo(tmp_path / "twin")  # the same repository, for one undisturbed run
    marker, release = tmp_path / "in-hook", tmp_path / "release"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f'#!/bin/sh\nif [ ! -e "{marker}" ]; then\n  touch "{marker}"\n'
                    f'  while [ ! -e "{release}" ]; do sleep 0.05; done\nfi\n')
    hook.chmod(0o755)

    first = start_cli(["--apply"], cwd=repo)
    try:
        wait_for(marker, first)  # the first run holds the lock, inside its first commit
        assert lock_path(repo).exists()
        during = repo_state(repo)

        second = run_cli(["--apply"], cwd=repo)

        assert second.returncode == 1, second.stdout + second.stderr
        assert second.stderr.startswith("migrate-ws: error: another migrate-ws run is in progress in this repository "
                                        f"(pid {first.pid}, started ")
        assert "migrate-ws --apply" in second.stderr and second.stderr.count("\n") == 1
        assert second.stdout == ""
        assert_restored(repo, during)

        # --check and --dry-run never take the lock; they say that an --apply is running
        check = run_cli(["--check"], cwd=repo)
        assert check.returncode in (0, 1), check.stderr
        assert f"an --apply is in progress in this repository (pid {first.pid}" in check.stderr
        assert_restored(repo, during)
    finally:
        release.touch()
    out, err = first.communicate(timeout=WAIT)
    assert first.returncode == 0, out + err

    single = run_cli(["--apply"], cwd=twin)
    assert single.returncode == 0, single.stdout + single.stderr
    (branch,) = [b for b in branches(repo) if b != "main"]
    assert branches(repo) == branches(twin)
    assert commit_summary(repo, branch) == commit_summary(twin, branch)
    assert len(commit_summary(repo, branch)) == 5
    mine, theirs = repo_state(repo), repo_state(twin)
    for key in ("status", "symbolic_ref", "branch_list", "index", "staged", "unstaged", "files", "git_leftovers"):
        assert mine[key] == theirs[key], key
    assert [p for p in mine["git_leftovers"] if p.startswith("migrate-ws/")] == \
        ["migrate-ws/FOLLOW_UPS.md", "migrate-ws/PR_DESCRIPTION.md", "migrate-ws/follow-ups.json"]
    assert without_shas(pr_body(repo)) == without_shas(pr_body(twin))


def test_the_lock_is_released_when_an_apply_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    with open(repo / "README.md", "a") as handle:  # a tracked file: untracked ones do not refuse
        handle.write("dirty\n")
    result = invoke(["--apply", "-C", repo])
    assert result.exit_code == 1 and "uncommitted changes" in result.stderr
    assert not (repo / ".git" / "migrate-ws").exists()


def test_a_stale_lock_from_a_reused_pid_does_not_stop_an_apply(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    # the lock names a live process (this one) that is not the one that wrote it
    write_lock(lock_path(repo), start=(process_start(os.getpid()) or 0) + 12345)
    done = run_cli(["--apply", "--branch", "after-stale"], cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"removed a stale lock left by a migrate-ws run that is gone (pid {os.getpid()}" in done.stderr
    assert "after-stale" in branches(repo)
    assert not lock_path(repo).exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_lock_and_journal_go_when_the_apply_is_interrupted_while_planning(tmp_path: Path, sig: int) -> None:
    repo = make_repo(tmp_path / "repo")
    before = repo_state(repo)
    marker = tmp_path / "paused"
    proc = subprocess.Popen([sys.executable, "-m", "migrate_ws", "--apply"], cwd=repo,
                            env=cli_env(MIGRATE_WS_TEST_PAUSE="planning", MIGRATE_WS_TEST_PAUSE_MARKER=str(marker)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    wait_for(marker, proc)
    assert lock_path(repo).exists() and (repo / ".git" / "migrate-ws" / "apply-journal" / "state.json").exists()

    code, out, err = interrupt(proc, sig)

    assert code == 130, out + err
    assert "nothing was changed" in err
    assert_restored(repo, before)  # git_leftovers: no lock, no journal
    assert not (repo / ".git" / "migrate-ws").exists()
