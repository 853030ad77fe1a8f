"""Exit codes and the errors that end a command with one, in one place.

  0    nothing to change (--dry-run, --check), or --apply succeeded (or had nothing to apply)
  1    changes pending (--dry-run, --check), or --apply refused before writing anything
  2    usage or configuration error (one line, no traceback)
  3    nothing pending, but some files could not be read or parsed (listed)
  4    --apply failed (verification, a write or git error, or --test-cmd); the repository was
       restored, except when --test-cmd fails without --rollback-on-fail: the branch is kept
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
