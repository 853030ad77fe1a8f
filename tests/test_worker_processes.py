"""Worker processes end when the migrate-ws process that started them is killed.

A real `migrate-ws --apply -j 2` runs on a repository with enough files for the worker pool,
inside a shell that captures its output as `$(migrate-ws ...)` does; the test seam holds the
main process while it plans (the pool is up: the first chunk of files came back). Then the
main process gets SIGKILL, which no clean-up survives: the workers must be gone within a
few seconds, and the shell's capture must return, because nothing holds its pipe any more.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import WAIT, cli_env, git, make_repo, write_files
from migrate_ws.applying.lock import process_alive


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (a fork server's workers, say)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    found = [int(line) for line in out.split()]
    return found + [grandchild for child in found for grandchild in descendants(child)]


@pytest.mark.skipif(subprocess.run(["sh", "-c", "command -v pgrep"], capture_output=True).returncode != 0,
                    reason="needs pgrep to find the workers")
def test_workers_end_and_the_output_closes_when_the_main_process_is_killed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    # enough files for worker processes (runs of fewer than 64 stay in the main process)
    write_files(repo, {f"netra_backend/app/extra/module_{n}.py": f"VALUE_{n} = {n}\n" for n in range(120)})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "More modules")
    marker = tmp_path / "paused"
    workers: list[int] = []
    command = shlex.join([sys.executable, "-m", "migrate_ws", "--apply", "-j", "2"])
    env = cli_env(MIGRATE_WS_TEST_PAUSE="planning:files", MIGRATE_WS_TEST_PAUSE_MARKER=str(marker))
    shell = subprocess.Popen(["sh", "-c", f'captured=$({command} 2>&1); echo "returned $?"'], cwd=repo, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + WAIT
        while not marker.exists():
            assert shell.poll() is None, shell.communicate()
            assert time.monotonic() < deadline, "migrate-ws did not reach the pause in time"
            time.sleep(0.02)
        main = int(marker.read_text().split()[0])
        workers = descendants(main)
        assert len(workers) >= 2, "the worker pool is up"

        started = time.monotonic()
        subprocess.run(["kill", "-KILL", str(main)], check=True)

        out, err = shell.communicate(timeout=10)  # the capture returns: no worker holds its pipe
        assert out == f"returned {128 + signal.SIGKILL}\n", out + err
        while any(process_alive(worker) for worker in workers):
            assert time.monotonic() - started < 5, "the workers outlived their parent"
            time.sleep(0.05)
    finally:
        for worker in workers:  # should the test fail, no process of it outlives it
            if process_alive(worker):
                subprocess.run(["kill", "-KILL", str(worker)])
        if shell.poll() is None:
            shell.kill()
            shell.communicate()
