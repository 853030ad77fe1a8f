"""`--test-cmd`: the user's tests, run on the written change; the end of their output is kept."""

from __future__ import annotations

import subprocess
import time
from collections import deque
from pathlib import Path
from typing import Callable

from ..pr import OUTPUT_TAIL_LINES, TestRun
from .git import stop_process
from .ui import UI

# The shell waits for one line before it runs the command (with /dev/null as its input, as
# before): the line comes once the journal holds the process group, and a migrate-ws killed
# before that closes the pipe, so the command never starts unrecorded.
TEST_GATE = 'IFS= read -r _ || exit 125; exec </dev/null; exec /bin/sh -c "$1"'


def run_tests(ui: UI, command: str, cwd: Path, started_as: Callable[[int], None] = lambda pid: None) -> TestRun:
    """Run `command` through the shell in `cwd`, in a process group of its own that `started_as`
    is told before the command starts; keep the end of its output."""
    tee = ui.shows_test_output()
    ui.note(f"running the tests: {command}")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", TEST_GATE, "migrate-ws-test-cmd", command], cwd=cwd,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as exc:
        return TestRun(command, None, time.monotonic() - started, error=f"cannot start: {exc.strerror}")
    tail: deque[str] = deque(maxlen=OUTPUT_TAIL_LINES)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        started_as(proc.pid)
        try:
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        except OSError:
            pass  # it ended already; its exit code says why
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            if tee:
                ui.test_output(line)
        proc.wait()
    except BaseException:
        stop_process(proc)
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    code = proc.returncode
    return TestRun(command, code, time.monotonic() - started, list(tail),
                   error=None if code is None or code >= 0 else f"killed by signal {-code}")


def describe_test_run(ui: UI, run: TestRun) -> None:
    if run.passed:
        ui.line(f"Tests passed: {run.command} (exit 0, {run.seconds:.1f} s)")
        return
    ui.line(f"Tests FAILED: {run.command} ({run.error or f'exit code {run.exit_code}'}, {run.seconds:.1f} s)")
    if run.output_tail:
        ui.line(f"  last {len(run.output_tail)} lines of output:")
        for line in run.output_tail:
            ui.line(f"  | {line}")
