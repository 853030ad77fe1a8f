"""A test seam, and the only one: make `--apply` stop at a named point so a test can kill it.

Only tests set these variables; when `MIGRATE_WS_TEST_PAUSE` is unset (always, in real
use) nothing here does anything but one dictionary lookup per point.

- `MIGRATE_WS_TEST_PAUSE=<point>`: when `--apply` reaches `<point>` it writes its pid to
  the file named by `MIGRATE_WS_TEST_PAUSE_MARKER` and sleeps until it is killed.
  Several points separated by commas pause each thread that reaches one of them; the
  marker is written once every one of them has been reached (the main thread in a file
  write and the background fast-import's feeder in the middle of a file, say).
- `MIGRATE_WS_TEST_RESUME=<file>`: instead of sleeping until it is killed, a paused
  thread goes on as soon as that file exists (the test changes something in the meantime).
- The points are the phases the recovery journal records, reached just after the journal
  records them (`planning`, `creating-branch`, `switching-head`, `writing:<step>`,
  `committing:<step>`, `committed:<step>`, `tests`, `describing`; with `--split-by`:
  `importing`, and `imported` once the branches exist), and:
  `planning:files`: while the worker processes plan (after the first chunk of files came
  back); `branch-created`: the branch exists, the journal does not say so yet;
  `write:<n>`: in the middle of the n-th atomic file write of the run (its temporary file
  is complete, the rename over the target has not happened yet); `fast-import:<n>`: the
  background object store has sent fast-import the first half of the n-th file; and
  `abort:files`: `migrate-ws --abort` has put HEAD and the index back and is about to
  restore the files.

Points that a test can reach from outside (a git hook, `--test-cmd`) are reached that way
in the tests; this seam serves the others: inside planning, between two file writes.
"""

from __future__ import annotations

import os
import threading
import time

PAUSE = "MIGRATE_WS_TEST_PAUSE"
MARKER = "MIGRATE_WS_TEST_PAUSE_MARKER"
RESUME = "MIGRATE_WS_TEST_RESUME"

_reached: set[str] = set()
_reached_lock = threading.Lock()


def wanted(prefix: str) -> set[str]:
    """The points asked for that start with `prefix` (empty outside tests)."""
    value = os.environ.get(PAUSE)
    if not value:
        return set()
    return {point for point in value.split(",") if point.startswith(prefix)}


def reached(point: str) -> None:
    value = os.environ.get(PAUSE)
    if value is None or (value != point and point not in value.split(",")):
        return
    points = set(value.split(","))
    with _reached_lock:
        _reached.add(point)
        everything = _reached >= points
    marker = os.environ.get(MARKER)
    if marker and everything:
        with open(marker + ".tmp", "w") as handle:
            handle.write(f"{os.getpid()}\n")
        os.replace(marker + ".tmp", marker)
    resume = os.environ.get(RESUME)
    while True:
        if resume and os.path.exists(resume):
            return
        time.sleep(0.01 if resume else 3600)


def install() -> None:
    """Arm `write:<n>` in the writer when it is asked for (called when an --apply starts)."""
    if not wanted("write:"):
        return
    from .. import writer

    count = 0

    def before_replace(target: str) -> None:
        nonlocal count
        count += 1
        reached(f"write:{count}")

    writer.before_replace = before_replace
