"""A SIGKILL (or a power cut) in the middle of `--apply`, then `migrate-ws --abort`.

A real `python -m migrate_ws --apply` process is killed with SIGKILL at several points:
inside planning, after the branch was created, in the middle of a file write (its
temporary file complete, the rename not done), inside `git commit` of the second step (a
pre-commit hook of the repository holds it there; git itself killed too, or still
running), and while the user's `--test-cmd` runs. Points a test cannot reach from outside
use the documented test seam `MIGRATE_WS_TEST_PAUSE` (`migrate_ws/applying/test_pause.py`).

Before each `--abort`, the test checks that the kill really hit the intended point (the
journal's phase, the branch, modified files, temporary files, git's lock files). After
it, HEAD, the symbolic ref, every branch, the index (its entries and its bytes), the
status and the bytes and mode of every file are compared with the state before the run,
and nothing of migrate-ws is left in the git directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import (BRANCH, ROUTE, WAIT, assert_exactly_as_before, assert_restored, branches, cli_env, commits_on,
                     git, make_repo, pausing_script, repo_state, run_cli, settled, sigkill, start_killable_apply,
                     temp_files, wait_for)
from migrate_ws.applying.lock import process_alive
from migrate_ws.applying.journal import encode_state, read_state


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


# ----- helpers -------------------------------------------------------------------------------------

def kill_group(pid: int) -> None:
    """SIGKILL a process started in its own session (git, the test command) with all it started."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    wait_gone(pid)


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + WAIT
    while process_alive(pid):
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} did not end")
        time.sleep(0.02)


def journal(repo: Path) -> dict:
    state = read_state(repo / ".git" / "migrate-ws" / "apply-journal")
    assert state is not None
    return state


def git_leftovers(repo: Path) -> list[str]:
    git_dir = repo / ".git"
    return sorted(p.name for p in [*git_dir.glob("fast_import_crash_*"), *(git_dir / "objects" / "pack").glob("tmp_*")])


def modified(repo: Path) -> list[str]:
    return sorted(line[3:] for line in git(repo, "status", "--porcelain").splitlines() if line[1] == "M" or line[0] == "M")


def abort(repo: Path) -> subprocess.CompletedProcess:
    return run_cli(["--abort"], cwd=repo)


def blocking_hook(repo: Path, tmp_path: Path, commit: int) -> tuple[Path, Path]:
    """A pre-commit hook that holds the `commit`-th commit until the test creates the release file."""
    count, marker, release = tmp_path / "commits", tmp_path / "in-hook", tmp_path / "release"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f'#!/bin/sh\necho x >> "{count}"\n'
                    f'if [ "$(wc -l < "{count}")" -eq {commit} ]; then\n'
                    f'  touch "{marker}"\n'
                    f'  while [ ! -e "{release}" ]; do sleep 0.05; done\n'
                    f'fi\n')
    hook.chmod(0o755)
    return marker, release


# ----- kill points reached through the test seam ---------------------------------------------------

def test_sigkill_while_planning_then_abort(repo: Path, tmp_path: Path) -> None:
    before = settled(repo)
    proc = start_killable_apply(repo, [], tmp_path, pause="planning")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)

    assert journal(repo)["phase"] == "planning"
    assert (repo / ".git" / "migrate-ws" / "apply.lock").exists()
    assert branches(repo) == ["main"]

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "interrupted while planning" in done.stdout and "nothing had been changed" in done.stdout
    assert "removed a stale lock" in done.stderr
    assert_exactly_as_before(repo, before)


def test_sigkill_while_planning_does_not_block_the_next_apply(repo: Path, tmp_path: Path) -> None:
    proc = start_killable_apply(repo, [], tmp_path, pause="planning")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)

    done = run_cli(["--apply", "--branch", "next"], cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (f"an earlier --apply (pid {proc.pid}, started " in done.stderr
            and "was interrupted while planning, before it changed anything; its journal was removed" in done.stderr)
    assert len(commits_on(repo, "next")) == 5
    assert not (repo / ".git" / "migrate-ws" / "apply-journal").exists()
    assert not (repo / ".git" / "migrate-ws" / "apply.lock").exists()


def test_sigkill_after_the_branch_was_created_then_abort(repo: Path, tmp_path: Path) -> None:
    before = settled(repo)
    proc = start_killable_apply(repo, [], tmp_path, pause="switching-head")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)

    assert journal(repo)["phase"] == "switching-head"
    assert BRANCH in branches(repo) and git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"branch {BRANCH} deleted" in done.stdout
    assert_exactly_as_before(repo, before)


def test_sigkill_in_the_middle_of_a_file_write_then_abort(repo: Path, tmp_path: Path) -> None:
    before = settled(repo)
    proc = start_killable_apply(repo, [], tmp_path, pause="write:3")  # the canonical step, then the 2nd file of imports
    wait_for(tmp_path / "paused", proc)
    pid = proc.pid
    sigkill(proc)

    state = journal(repo)
    assert (state["phase"], state["step"]) == ("writing", "imports")
    assert [c["step"] for c in state["commits"]] == ["canonical"]
    assert git(repo, "symbolic-ref", "HEAD").strip() == f"refs/heads/{BRANCH}"
    assert len(commits_on(repo, BRANCH)) == 1
    assert len(modified(repo)) == 1, "one file of the imports step was written before the kill"
    temps = temp_files(repo)
    assert len(temps) == 1 and f".{pid}-" in temps[0], "the kill came between a temporary file and its rename"
    # as the background object store's fast-import does when the kill ends its input inside a step
    git(repo, "update-ref", "refs/migrate-ws/objects", "HEAD")

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "interrupted while writing the files of the imports step" in done.stdout
    assert "main checked out" in done.stdout and f"branch {BRANCH} deleted" in done.stdout
    assert_exactly_as_before(repo, before)
    assert temp_files(repo) == []
    # the background fast-import storing the blobs saw its input end: it finished its pack and
    # exited, leaving no temporary pack and no crash report in the git directory
    deadline = time.monotonic() + WAIT
    while git_leftovers(repo) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert git_leftovers(repo) == []


def test_sigkill_with_a_detached_head_and_a_dirty_tree_then_abort(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    (repo / "README.md").write_text("# backend\n\nunstaged\n")
    (repo / "netra_backend/__init__.py").write_text("# staged\n")
    git(repo, "add", "netra_backend/__init__.py")
    (repo / "notes.txt").write_bytes(b"untracked\r\n\x00binary")
    before = settled(repo)
    assert before["symbolic_ref"] is None and before["staged"]

    proc = start_killable_apply(repo, ["--allow-dirty"], tmp_path, pause="write:5")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)

    assert journal(repo)["phase"] == "writing"
    assert git(repo, "symbolic-ref", "HEAD").strip() == f"refs/heads/{BRANCH}"

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "detached HEAD" in done.stdout
    assert_exactly_as_before(repo, before)


# ----- kill points reached from the repository: a git hook, the test command -------------------------

def test_sigkill_inside_the_second_commit_with_git_killed_too_then_abort(repo: Path, tmp_path: Path) -> None:
    """A power cut while `git commit` runs: git's index.lock is left behind."""
    before = settled(repo)
    marker, release = blocking_hook(repo, tmp_path, commit=2)
    proc = start_killable_apply(repo, [], tmp_path)
    try:
        wait_for(marker, proc)
        sigkill(proc)
        state = journal(repo)
        assert (state["phase"], state["step"], state["git"]["command"]) == ("committing", "imports", "commit")
        kill_group(state["git"]["pid"])  # git and its hook die with migrate-ws

        assert (repo / ".git" / "index.lock").exists(), "git held the index when it was killed"
        assert len(commits_on(repo, BRANCH)) == 1
        assert len(modified(repo)) == 5

        # until it is aborted, another --apply refuses and says why; --check warns
        again = run_cli(["--apply", "--branch", "other"], cwd=repo)
        assert again.returncode == 1
        assert (f"an earlier --apply (pid {proc.pid}, started " in again.stderr
                and "interrupted while committing the imports step" in again.stderr
                and "migrate-ws --abort" in again.stderr)
        assert "other" not in branches(repo)
        check = run_cli(["--check"], cwd=repo)
        assert "warning: an earlier --apply" in check.stderr and check.returncode in (0, 1)

        done = abort(repo)
    finally:
        release.touch()

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"removed git's index.lock left by the interrupted git commit, pid {state['git']['pid']}" in done.stderr
    assert_exactly_as_before(repo, before)


def test_sigkill_inside_a_commit_while_git_still_runs(repo: Path, tmp_path: Path) -> None:
    """migrate-ws killed alone: its git commit goes on. --abort waits for it, then also removes that commit."""
    before = settled(repo)
    marker, release = blocking_hook(repo, tmp_path, commit=2)
    proc = start_killable_apply(repo, [], tmp_path)
    try:
        wait_for(marker, proc)
        sigkill(proc)
        git_pid = journal(repo)["git"]["pid"]
        assert process_alive(git_pid)
        during = repo_state(repo)

        refused = abort(repo)

        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"the git commit started by the interrupted --apply is still running (pid {git_pid})" in refused.stderr
        assert "nothing was changed" in refused.stderr
        # the killed run's lock was stale: --abort took it over, and released it
        during["git_leftovers"].remove("migrate-ws/apply.lock")
        assert_restored(repo, during)
    finally:
        release.touch()  # the hook lets git finish its commit, which nobody records
    wait_gone(git_pid)
    assert len(commits_on(repo, BRANCH)) == 2
    assert not (repo / ".git" / "index.lock").exists()

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"branch {BRANCH} deleted" in done.stdout
    assert_exactly_as_before(repo, before)


def test_sigkill_while_the_tests_run_then_abort(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "in-tests"
    existing = tmp_path / "pr.md"
    existing.write_text("an older description\n")
    before = settled(repo)
    proc = start_killable_apply(repo, ["--pr-body", str(existing), "--test-cmd", pausing_script(marker)], tmp_path)
    try:
        wait_for(marker, proc)
        sigkill(proc)
    finally:
        kill_group(int(Path(f"{marker}.pid").read_text().split()[0]))

    assert journal(repo)["phase"] == "tests"
    assert len(commits_on(repo, BRANCH)) == 5

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "interrupted while running the tests" in done.stdout
    assert_exactly_as_before(repo, before)
    assert existing.read_text() == "an older description\n"


@pytest.mark.parametrize("test_command", ["ends on SIGTERM", "ignores SIGTERM"])
def test_abort_stops_the_test_command_before_it_restores(repo: Path, tmp_path: Path, test_command: str) -> None:
    """The test command runs in a session of its own: a SIGKILL of migrate-ws leaves it running,
    and it goes on writing into the working tree. --abort ends its process group (SIGTERM, then
    SIGKILL after a grace period) before it restores anything: afterwards nothing of it runs and
    the restored tree stays as it was."""
    marker = tmp_path / "in-tests"
    before = settled(repo)
    ignore = "trap '' TERM; " if test_command == "ignores SIGTERM" else ""
    script = (f'{ignore}echo $$ > "{marker}.pid"; touch "{marker}"; i=0; '
              f'while [ $i -lt 100 ]; do sleep 0.2; echo "# test command $i" >> {ROUTE}; i=$((i+1)); done')
    proc = start_killable_apply(repo, ["--test-cmd", script], tmp_path)
    wait_for(marker, proc)
    group = int(Path(f"{marker}.pid").read_text().split()[0])
    sigkill(proc)
    assert journal(repo)["tests"]["pid"] == group
    assert process_alive(group), "the test command outlives migrate-ws"

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"migrate-ws: stopped the test command (process group {group}) the interrupted --apply had started" \
        in done.stderr
    assert not process_alive(group)
    time.sleep(0.6)  # three more rounds of its loop, had it survived
    assert_exactly_as_before(repo, before)


def test_sigkill_while_the_run_restores_itself_after_a_failure_then_abort(repo: Path, tmp_path: Path) -> None:
    """A hook rejects the third commit; the run starts putting everything back and is killed."""
    before = settled(repo)
    count = tmp_path / "commits"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f'#!/bin/sh\necho x >> "{count}"\n'
                    f'if [ "$(wc -l < "{count}")" -ge 3 ]; then echo "lint: rejected" >&2; exit 1; fi\n')
    hook.chmod(0o755)
    proc = start_killable_apply(repo, [], tmp_path, pause="restoring")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)

    state = journal(repo)
    assert (state["phase"], state["step"]) == ("restoring", "aliases")
    assert len(commits_on(repo, BRANCH)) == 2 and modified(repo)

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "interrupted while restoring the repository after a failure" in done.stdout
    assert_exactly_as_before(repo, before)


def test_a_journal_written_on_another_host_is_aborted_under_the_lock(repo: Path, tmp_path: Path) -> None:
    """A container that came back with a new host name: its pids mean nothing here."""
    before = settled(repo)
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:imports")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)
    path = repo / ".git" / "migrate-ws" / "apply-journal" / "state.json"
    state = journal(repo)
    state["holder"]["host"] = "old-container-1f3a"
    state["holder"]["pid"] = os.getpid()  # alive here, but not that process
    path.write_bytes(encode_state(state))
    (repo / ".git" / "migrate-ws" / "apply.lock").unlink()  # a lock from that host is removed by hand

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "on old-container-1f3a" in done.stdout
    assert_exactly_as_before(repo, before)


# ----- --abort itself ----------------------------------------------------------------------------

def test_abort_with_nothing_to_abort(repo: Path) -> None:
    before = settled(repo)
    done = abort(repo)
    assert done.returncode == 0
    assert "nothing to abort" in done.stdout
    assert_exactly_as_before(repo, before)


def test_abort_outside_a_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    done = abort(root)
    assert done.returncode == 1 and "not in a git repository" in done.stderr


def test_abort_refuses_while_the_apply_runs(repo: Path, tmp_path: Path) -> None:
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:canonical")
    try:
        wait_for(tmp_path / "paused", proc)
        during = repo_state(repo)

        done = abort(repo)

        assert done.returncode == 1, done.stdout + done.stderr
        assert f"pid {proc.pid}" in done.stderr and "nothing was changed" in done.stderr
        assert_restored(repo, during)
    finally:
        proc.kill()
        proc.communicate()


def test_an_interrupted_abort_can_be_run_again(repo: Path, tmp_path: Path) -> None:
    before = settled(repo)
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:aliases")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)
    assert len(commits_on(repo, BRANCH)) == 3

    # the first --abort is killed after it has put HEAD and the index back, before the files
    marker = tmp_path / "abort-paused"
    first = subprocess.Popen([sys.executable, "-m", "migrate_ws", "--abort"], cwd=repo,
                             env=cli_env(MIGRATE_WS_TEST_PAUSE="abort:files", MIGRATE_WS_TEST_PAUSE_MARKER=str(marker)),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(marker, first)
    sigkill(first)
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert modified(repo), "the files were not restored yet"
    assert journal(repo)["aborting"]["pid"] == first.pid

    check = run_cli(["--check"], cwd=repo)
    assert "an earlier `migrate-ws --abort`" in check.stderr and "run `migrate-ws --abort` again" in check.stderr
    # as if the killed --abort had been writing the index through git's lock file
    (repo / ".git" / "index.lock").write_bytes(b"half an index")

    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"removed git's index.lock left by the interrupted migrate-ws --abort, pid {first.pid}" in done.stderr
    assert_exactly_as_before(repo, before)


def test_abort_that_cannot_restore_a_file_keeps_the_journal_for_another_try(repo: Path, tmp_path: Path) -> None:
    before = settled(repo)
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:imports")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)
    routes = repo / ROUTE
    assert routes.read_bytes() != before["files"][ROUTE][0]
    routes.unlink()
    routes.mkdir()  # a directory where the file was: the restore cannot replace it
    (routes / "inside").write_text("x\n")

    failed = abort(repo)

    assert failed.returncode == 4, failed.stdout + failed.stderr
    assert f"{ROUTE}: cannot restore" in failed.stderr and "run `migrate-ws --abort` again" in failed.stderr
    assert BRANCH in branches(repo), "the branch is kept until everything else is restored"
    assert (repo / ".git" / "migrate-ws" / "apply-journal" / "state.json").exists()

    (routes / "inside").unlink()
    routes.rmdir()
    done = abort(repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert_exactly_as_before(repo, before)
