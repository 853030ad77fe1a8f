"""`migrate-ws --fix [PATH]...` at the door: the in-place applier (`applying/in_place.py`, which
describes the command and its exit codes) reporting on the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ..applying.in_place import FixApplier
from ..applying.outcome import Options
from ..applying.recovery import Refusal
from ..applying.signals import sigterm_raises
from ..config import Config
from ..exit_codes import ExitCode, Refused, UsageError
from .apply_command import TerminalUI


def run_fix(out: Any, err: Any, repository: Path, config: Config, *, only: Optional[list[str]] = None,
            jobs: Optional[int] = None, legacy_policy: str = "shim", todo_comments: bool = False,
            as_json: bool = False) -> int:
    ui = TerminalUI(out, err, as_json)
    options = Options(jobs=jobs, allow_dirty=True, no_git=True, legacy_policy=legacy_policy,
                      todo_comments=todo_comments, as_json=as_json, only=only)
    applier = FixApplier(ui, repository, config, options)
    with sigterm_raises():
        try:
            return applier.run()
        except (Refused, Refusal) as exc:  # Refusal: the lock is held, or an interrupted --apply awaits --abort
            ui.error(str(exc))
            return ExitCode.REFUSED
        except UsageError as exc:
            ui.error(str(exc))
            return ExitCode.USAGE
        except KeyboardInterrupt:
            ui.note("interrupted" if applier.writing else "interrupted; nothing was changed")
            return ExitCode.INTERRUPTED
