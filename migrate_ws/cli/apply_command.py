"""`migrate-ws --apply` at the door: checks an option pair, chooses the applier, shows what it
reports on the terminal, and turns what ended the run into an exit code.

The machinery (planning, verifying, writing, committing, undoing, the journal and the lock) is
`migrate_ws/applying/`; `git_applier.py` describes the run and its exit codes.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..applying.base import Applier
from ..applying.git import GitError, GitUnavailable
from ..applying.git_applier import GitApplier
from ..applying.in_place import InPlaceApplier
from ..applying.outcome import Options
from ..applying.recovery import Refusal
from ..applying.signals import sigterm_raises
from ..applying.ui import UI
from ..config import Config
from ..exit_codes import ExitCode, Refused, UsageError
from ..findings import Finding
from ..model import Plan
from .terminal import say

__all__ = ["Options", "TerminalUI", "run_apply"]


class TerminalUI(UI):
    """The appliers' report on the terminal: the report on stdout (on stderr with `--json`, whose
    document is then alone on stdout), notes and errors on stderr, a spinner while planning."""

    def __init__(self, out: Any, err: Any, as_json: bool) -> None:
        self.out = out
        self.err = err
        self.as_json = as_json

    def line(self, text: str = "") -> None:
        say(self.err if self.as_json else self.out, text)

    def note(self, text: str) -> None:
        say(self.err, f"migrate-ws: {text}")

    def error(self, text: str) -> None:
        say(self.err, f"migrate-ws: error: {text}")

    def json(self, document: dict) -> None:
        self.out.file.write(json.dumps(document, indent=2) + "\n")

    @contextmanager
    def working(self, message: str) -> Iterator[None]:
        if self.err.is_terminal and not self.as_json:
            with self.err.status(message):
                yield
        else:
            yield

    def shows_test_output(self) -> bool:
        return self.err.is_terminal and not self.as_json

    def test_output(self, line: str) -> None:
        say(self.err, line)

    def review(self, plan: Plan, root: Path, files: list[str], changed: set[str]) -> list[Finding]:
        from .interactive import review_interactively

        return review_interactively(plan, root, files, changed, self.out, sys.stdin)


def run_apply(out: Any, err: Any, repository: Path, config: Config, options: Options) -> int:
    """Apply the migration under `repository`; return the exit code (see applying/git_applier.py)."""
    ui = TerminalUI(out, err, options.as_json)
    if options.rollback_on_fail and not options.test_cmd:
        ui.error("--rollback-on-fail needs --test-cmd")
        return ExitCode.USAGE
    if options.split_by:
        from ..applying.split import SplitApplier

        applier: Applier = SplitApplier(ui, repository, config, options)
    else:
        applier = (InPlaceApplier if options.no_git else GitApplier)(ui, repository, config, options)
    with sigterm_raises():
        try:
            return applier.run()
        except (Refused, Refusal) as exc:  # Refusal: the lock is held, or an interrupted run awaits --abort
            ui.error(str(exc))
            return ExitCode.REFUSED
        except UsageError as exc:
            ui.error(str(exc))
            return ExitCode.USAGE
        except GitUnavailable as exc:
            ui.error(f"{exc}; nothing was changed")
            return ExitCode.REFUSED
        except GitError as exc:
            ui.error(f"{exc}; nothing was changed")
            return ExitCode.REFUSED
        except KeyboardInterrupt:
            ui.note("interrupted" if applier.writing else "interrupted; nothing was changed")
            return ExitCode.INTERRUPTED
