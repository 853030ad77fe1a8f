"""Exit codes and the errors that end a command with one, in one place.

  0    nothing to change (--dry-run, --check, --fix); --apply succeeded (or had nothing to
       apply); --abort restored the repository (or found nothing to abort)
  1    changes pending or an import the change would break (--dry-run, --check); --fix
       rewrote files (a pre-commit fixer fails so the user reviews and stages them); --apply
       refused before writing anything (dirty tree, branch exists, another --apply running,
       an interrupted --apply not yet aborted, ...); --abort refused, changing nothing
  2    usage or configuration error (one line, no traceback)
  3    --dry-run / --check: nothing pending, but some files could not be read or parsed, or
       their change was rejected (listed); --apply / --fix: applied, but some files were left
       unchanged (listed): they could not be written (read-only file, directory not writable),
       or the binding check rejected their change (MW704, and MW706 for what relied on it;
       --fix then exits 3 even when it rewrote other files)
  4    --apply / --fix failed (verification, a write or git error, or --test-cmd); the repository was
       restored, except when --test-cmd fails without --rollback-on-fail: the branch is kept;
       --abort could not restore everything (the journal is kept: run it again)
  123  internal error (with --apply the repository is restored all the same)
  130  interrupted; with --apply the repository was restored
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    CLEAN = 0
    PENDING = 1
    REFUSED = 1
    USAGE = 2
    UNPROCESSED = 3
    FAILED = 4
    INTERNAL = 123
    INTERRUPTED = 130


class UsageError(Exception):
    """Bad options or configuration: one line, exit 2."""


class Refused(Exception):
    """A check before writing anything failed: one line, exit 1."""


class Failed(Exception):
    """The apply cannot go on; everything written is put back (exit 4)."""
