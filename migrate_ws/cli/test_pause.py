"""A test seam, and the only one: make `--apply` stop at a named point so a test can kill it.

Only tests set these variables; when `MIGRATE_WS_TEST_PAUSE` is unset (always, in real
use) nothing here does anything but one dictionary lookup per point.

- `MIGRATE_WS_TEST_PAUSE=<point>`: when `--apply` reaches `<point>` it writes its pid to
  the file named by `MIGRATE_WS_TEST_PAUSE_MARKER` and sleeps until it is killed.
- The points are the phases the recovery journal records, reached just after the journal
  records them (`planning`, `creating-branch`, `switching-head`, `writing:<step>`,
  `committing:<step>`, `committed:<step>`, `tests`, `describing`; with `--split-by`:
  `importing`, and `imported` once `git fast-import` has made the branches), and `write:<n>`: in
  the middle of the n-th atomic file write of the run (its temporary file is complete, the
  rename over the target has not happened yet); and `abort:files`: `migrate-ws --abort`
  has put HEAD and the index back and is about to restore the files.

Points that a test can reach from outside (a git hook, `--test-cmd`) are reached that way
in the tests; this seam serves the others: inside planning, between two file writes.
"""

from __future__ import annotations

import os
import time

PAUSE = "MIGRATE_WS_TEST_PAUSE"
MARKER = "MIGRATE_WS_TEST_PAUSE_MARKER"


def reached(point: str) -> None:
    if os.environ.get(PAUSE) != point:
        return
    marker = os.environ.get(MARKER)
    if marker:
        with open(marker + ".tmp", "w") as handle:
            handle.write(f"{os.getpid()}\n")
        os.replace(marker + ".tmp", marker)
    while True:
        time.sleep(3600)


def install() -> None:
    """Arm `write:<n>` in the writer when it is asked for (called when an --apply starts)."""
    wanted = os.environ.get(PAUSE, "")
    if not wanted.startswith("write:"):
        return
    from .. import writer

    count = 0

    def before_replace(target: str) -> None:
        nonlocal count
        count += 1
        reached(f"write:{count}")

    writer.before_replace = before_replace
