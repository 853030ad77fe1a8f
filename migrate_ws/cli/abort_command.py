"""`migrate-ws --abort` at the door, and the warning `--dry-run` and `--check` print while the
repository holds the journal of an interrupted `--apply` (`applying/journal.py`, `applying/abort.py`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def run_abort(out: Any, err: Any, root: Path) -> int:
    """Restore the repository from the journal of an interrupted --apply; return the exit code."""
    from ..applying.abort import run_abort as abort
    from .apply_command import TerminalUI

    return abort(TerminalUI(out, err, False), root)


def interrupted_apply_warning(root: Path) -> str | None:
    """One line when the repository holds the journal of an --apply (interrupted, or running now)."""
    if not _may_hold_a_journal(root):
        return None
    from ..applying.journal import interrupted_apply_warning as warning

    return warning(root)


def _may_hold_a_journal(root: Path) -> bool:
    """False only when there certainly is no journal: a `--check` in a pre-commit hook then never
    loads the apply machinery. (A linked working tree, whose git directory is elsewhere, or
    GIT_DIR, gets the full look.)"""
    if os.environ.get("GIT_DIR"):
        return True
    for folder in (root, *root.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return (candidate / "migrate-ws" / "apply-journal").exists()  # journal.journal_directory
        if candidate.exists():
            return True
    return False
