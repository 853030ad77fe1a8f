"""`--fix` next to `--apply`: the same lock, the same refusal after an interrupted `--apply`, and
the temporary files a killed run leaves behind.

Everything through the real command line: `python -m migrate_ws` processes on real git
repositories (and one plain directory), held or killed at a point of the run by the test
seam (`MIGRATE_WS_TEST_PAUSE`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import (RUNNER, assert_restored, git, make_repo, repo_state, run_cli, second_worktree, sigkill,
                     start_killable_apply, start_paused_apply, wait_for, wait_paused)

TEMP = ".migrate-ws.tmp"


@pytest.mark.parametrize("where", ["one working tree", "two working trees"])
def test_fix_refuses_while_an_apply_runs(tmp_path: Path, where: str) -> None:
    repo = make_repo(tmp_path / "repo")
    fix_in = repo if where == "one working tree" else second_worktree(repo)
    before = repo_state(fix_in)
    apply = start_paused_apply(repo, ["--branch", "feature"], "planning", tmp_path)
    try:
        wait_paused(apply, tmp_path)

        fix = run_cli(["--fix"], cwd=fix_in)

        assert fix.returncode == 1, fix.stdout + fix.stderr
        assert fix.stderr.startswith("migrate-ws: error: another migrate-ws run is in progress in this repository "
                                     f"(pid {apply.pid}, started ")
        assert "migrate-ws --apply --branch feature); wait for it to finish" in fix.stderr
        assert fix.stderr.count("\n") == 1 and fix.stdout == ""
        after = repo_state(fix_in)
        assert after["files"] == before["files"] and after["status"] == before["status"]
    finally:
        apply.kill()
        apply.communicate()


def test_fix_refuses_while_an_interrupted_apply_awaits_abort(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:imports")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)
    refused_apply = run_cli(["--apply", "--branch", "other"], cwd=repo)
    during = repo_state(repo)

    fix = run_cli(["--fix"], cwd=repo)

    assert fix.returncode == 1, fix.stdout + fix.stderr
    line = refused_apply.stderr.splitlines()[-1]
    assert line.startswith(f"migrate-ws: error: an earlier --apply (pid {proc.pid}, started ")
    assert fix.stderr.splitlines()[-1] == line
    assert fix.stdout == ""
    assert_restored(repo, during)

    assert run_cli(["--abort"], cwd=repo).returncode == 0
    assert run_cli(["--fix"], cwd=repo).returncode == 1  # now it fixes (exit 1: files were rewritten)
    assert "netra_backend.app.websocket_core.manager" not in (repo / RUNNER).read_text()


def kill_a_fix_in_its_first_write(root: Path, tmp_path: Path) -> tuple[int, Path]:
    """Run `--fix`, SIGKILL it between writing its first temporary file and renaming it."""
    marker = tmp_path / "paused-fix"
    env = {**os.environ, "MIGRATE_WS_TEST_PAUSE": "write:1", "MIGRATE_WS_TEST_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-m", "migrate_ws", "--fix", "--preset", "netra"], cwd=root, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(marker, proc)
    sigkill(proc)
    (left,) = [path for path in root.rglob(f"*{TEMP}")]
    assert left.name.startswith(".") and f".{proc.pid}-" in left.name
    return proc.pid, left


@pytest.mark.parametrize("next_run", ["--fix", "--apply"])
def test_the_next_run_removes_the_temporary_file_a_killed_fix_left(tmp_path: Path, next_run: str) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "status.showUntrackedFiles", "all")
    _, left = kill_a_fix_in_its_first_write(repo, tmp_path)
    # next to it: a temporary file of a process that still runs (this one), and names that only
    # look like the tool's: none of them is touched
    running = left.parent / f".notes.py.{os.getpid()}-0{TEMP}"
    lookalikes = [left.parent / f"notes{TEMP}", left.parent / f".notes.py{TEMP}", left.parent / f".notes.py.x-1{TEMP}"]
    for path in [running, *lookalikes]:
        path.write_text("not migrate-ws's to remove\n")
    git(repo, "checkout", "-q", "--", ".")  # the killed --fix had rewritten nothing: only its temporary file is left

    done = run_cli([next_run, "--preset", "netra"] + (["--allow-dirty", "--branch", "next"] if next_run == "--apply"
                                                       else []), cwd=repo)

    assert done.returncode in ((1,) if next_run == "--fix" else (0,)), done.stdout + done.stderr
    shown = left.relative_to(repo).as_posix()
    assert f"migrate-ws: removed 1 temporary file a killed migrate-ws run left: {shown}\n" in done.stderr
    assert (f"migrate-ws: left {running.relative_to(repo).as_posix()}: a migrate-ws temporary file of process "
            f"{os.getpid()}, which is still running") in done.stderr
    assert not left.exists()
    assert running.exists() and all(path.exists() for path in lookalikes)


def test_the_next_fix_removes_a_killed_fix_s_temporary_file_outside_git(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    _, left = kill_a_fix_in_its_first_write(root, tmp_path)

    done = run_cli(["--fix", "--preset", "netra"], cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"removed 1 temporary file a killed migrate-ws run left: {left.relative_to(root).as_posix()}" in done.stderr
    assert not left.exists() and not list(root.rglob(f"*{TEMP}"))
