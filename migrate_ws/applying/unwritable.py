"""Files `--apply` cannot write, found before the branch is created.

Every file the plan would write or delete is checked once, before anything is changed:
it must be writable by the user (a write permission bit is set, and `os.access(W_OK)`
agrees; the same rule as the writer's, so root does not overwrite a file marked
read-only either), and so must its directory, with search permission (the atomic write
renames a temporary file there; a deletion unlinks there). A file that fails is dropped
from every step, exactly as a file git does not track is, reported with a one-line reason
(on stderr at once, and with the other files not processed in the summary, `--json` and
the PR description), and the rest of the migration is applied. The run then exits with
`EXIT_NOT_ALL_WRITTEN` (3): applied, but some files were left unchanged.

A legacy module is not deleted (`--legacy-modules delete`) while a file the migration
would have changed is left unchanged this way, since that file may still import it.
Other changes planned on the assumption that a dropped file is rewritten (a patch target
that follows another module's rewrite, a collapsed alias) are applied as planned: the
limitation the untracked-file exclusion has as well.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable, Iterable

from ..findings import MODULE_STILL_USED, UNWRITABLE, Finding
from ..quoting import display_path
from ..exit_codes import ExitCode

EXIT_NOT_ALL_WRITTEN = ExitCode.UNPROCESSED

READ_ONLY = "read-only file; left unchanged"
DIRECTORY = "directory not writable; left unchanged"
NOT_DELETED = "legacy module not deleted: files that would stop importing it were left unchanged (read-only)"
REASONS = (READ_ONLY, DIRECTORY, NOT_DELETED)

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def _writable(path: Path, mode: int, access: int) -> bool:
    return bool(stat.S_IMODE(mode) & _WRITE_BITS) and os.access(path, access)


def problem(full: Path) -> str | None:
    """Why `--apply` cannot write or delete `full`; None when it can."""
    directory = full.parent
    try:
        folder = os.stat(directory)
    except OSError:
        return None  # the writer reports it
    if not _writable(directory, folder.st_mode, os.W_OK | os.X_OK):
        return DIRECTORY
    try:
        info = os.stat(full)
    except OSError:
        return None  # a file that does not exist yet only needs its directory
    if not _writable(full, info.st_mode, os.W_OK):
        return READ_ONLY
    return None


def find(root: Path, plan, skip: Iterable[str], note: Callable[[str], None]) -> list[Finding]:
    """(path, reason) for each file the plan would change but cannot write; each reported through `note`."""
    skipped = set(skip)
    found: list[tuple[str, str]] = []
    deletions = [result.path for result in plan.changed_files if result.deleted]
    code_changes = {result.path for result in plan.changed_files if not result.deleted}
    for result in plan.changed_files:
        if result.path in skipped:
            continue
        reason = problem(root / result.path)
        if reason is not None:
            found.append((result.path, reason))
    if deletions and any(path in code_changes for path, _ in found):
        dropped = {path for path, _ in found}
        found.extend((path, NOT_DELETED) for path in deletions if path not in dropped)
    for path, reason in found:
        note(f"not deleting the legacy module {display_path(path)}: files that import it are left unchanged (read-only)"
             if reason == NOT_DELETED else f"not writing {display_path(path)}: {reason.split(';')[0]}")
    return [Finding((MODULE_STILL_USED if reason == NOT_DELETED else UNWRITABLE).code, path, 0, f"not processed: {reason}")
            for path, reason in found]


def exit_code(excluded: Iterable[Finding], code: int) -> int:
    """`EXIT_NOT_ALL_WRITTEN` instead of success when files were left unchanged for one of these reasons."""
    if code == 0 and any(finding.message.endswith(REASONS) for finding in excluded):
        return EXIT_NOT_ALL_WRITTEN
    return code
