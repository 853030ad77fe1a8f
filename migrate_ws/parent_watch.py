"""Worker processes end when the migrate-ws process that started them is gone.

A worker of a `ProcessPoolExecutor` waits for work on a pipe that the other workers hold
open too, so when the main process is killed (SIGKILL, where nothing of it can clean up)
no worker sees the pipe close: they would wait forever, and hold the caller's stdout and
stderr open with them, so that `$(migrate-ws ...)` never returns. Each worker therefore
(`end_with_parent`, the pools' initializer):

- on Linux, asks the kernel to SIGKILL it when its parent dies (`prctl(PR_SET_PDEATHSIG)`,
  through ctypes);
- everywhere (macOS, or when prctl cannot be had), watches from a daemon thread whether
  its parent is still the process that started it (a dead process's children are handed
  to another, so `os.getppid()` changes) and exits at once when it is not, within a
  quarter of a second;
- exits at once if the main process died before the worker got that far.

Nothing a worker does is worth finishing without its parent: it reads files and computes
a part of the plan that only the parent would have collected. This module never prints.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL = 0.25  # seconds between two looks at the parent


def end_with_parent(main_pid: int) -> None:
    """Make this worker end when its parent does; `main_pid` is the migrate-ws process that
    created the pool (the parent itself, unless a fork server stands between them)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        _kill_me_with_parent()
    if not _alive(main_pid) or os.getppid() != parent:
        os._exit(1)  # the parent died before this worker could watch it
    threading.Thread(target=_watch, args=(parent, main_pid), name="migrate-ws-parent-watch", daemon=True).start()


def _kill_me_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl here: the watching thread is enough


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(parent: int, main_pid: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL)
        if os.getppid() != parent or (main_pid != parent and not _alive(main_pid)):
            os._exit(1)
