"""Writing in place, without git: `--apply --no-git` (`InPlaceApplier`: a failure restores every
file written) and `migrate-ws --fix [PATH]...` (`FixApplier`), like `ruff --fix`.

Made for the fixing pre-commit hook (`.pre-commit-hooks.yaml`): pre-commit passes the
staged Python files, `--fix` rewrites the ones that need it and exits 1, so the hook fails
and the user reviews and stages the rewritten files (what black and `ruff --fix
--exit-non-zero-on-fix` do). It works inside a git repository and never runs git: no
branch, no commit. It does take the apply lock of the repository (`lock.py`, found
without running git), so it never writes while an `--apply`, `--abort` or another `--fix`
does, and it refuses while an interrupted `--apply` awaits `--abort` (exit 1, the line
`--apply` prints). It removes the temporary files a killed run left next to the files it
writes (only this tool's temporary names, of processes that are gone).

It is `--apply --no-git` with a report of its own: the same plan and the same full
verification before anything is written (every step's state parses, a second run plans
nothing, the safety check, no import may break: MW701 refuses), files that cannot be
written are left out and listed, and a failure or Ctrl-C restores every file written.

Exit codes: 0 nothing to fix; 1 files were rewritten, or refused before writing anything
(another migrate-ws run holds the lock, an interrupted --apply awaits --abort); 2 usage error; 3 nothing rewritten,
but some files could not be read, parsed or written (listed), or the binding check rejected
a file's change (MW704; the file is left as it is, the rest is rewritten); 4 nothing written
because the verification refused the change (an import it would break, MW701), or failed
and every file restored; 130 interrupted, every file restored.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..exit_codes import ExitCode, UsageError
from ..model import Plan
from ..quoting import display_path
from ..report import plural
from . import unwritable
from .base import Applier, applied_exit_code, not_processed, print_findings
from .outcome import FileChange, Outcome, PlannedStep
from .recovery import InPlaceRecovery


class InPlaceApplier(Applier):
    """`--no-git`: write the files in place; a failure restores every file already written."""

    mode = "no-git"

    def prepare(self) -> None:
        if self.options.branch:
            raise UsageError("--branch needs git; it cannot be used with --no-git")
        if self.options.open_pr:
            raise UsageError("--open-pr needs git; it cannot be used with --no-git")
        # inside a git repository: the apply lock, and a refusal while an --apply awaits --abort
        self.recovery = InPlaceRecovery.take(self.root, self.ui.note)  # recovery

    def close(self) -> None:
        self.recovery.close()  # recovery: the lock

    def select(self, plan: Plan) -> None:
        self.excluded = unwritable.find(self.root, plan, not_processed(plan), self.ui.note)  # unwritable

    def write_step(self, step: PlannedStep) -> list[FileChange]:
        # without commits only the end state matters: each file is written once, with its final content
        final = [change for change in step.changes if self.last_step[change.path] == step.name]
        super().write_step(PlannedStep(step.name, step.title, step.sites, final))
        return step.changes  # reported per step, as the commits would be

    def pr_body_path(self) -> Path | None:
        return Path(os.path.abspath(self.options.pr_body)) if self.options.pr_body is not None else None


class FixApplier(InPlaceApplier):
    """Writes in place; reports what it fixed in one line per file."""

    def nothing_to_apply(self) -> int:
        assert self.plan is not None
        # as --check: files that could not be read or parsed make the hook fail (exit 3)
        clean = ExitCode.UNPROCESSED if self.plan.skipped_files else ExitCode.CLEAN
        outcome = Outcome("nothing-to-apply", unwritable.exit_code(self.excluded, clean))
        if self.ui.as_json:
            self.ui.json(self.document(outcome))
            return outcome.code
        assert self.plan is not None
        self.ui.line(f"migrate-ws: nothing to fix ({plural(self.plan.scanned, 'file')} scanned).")
        print_findings(self.ui, self.plan, self.excluded)
        return outcome.code

    def print_summary(self, outcome: Outcome) -> None:
        assert self.plan is not None
        files = sorted({path for commit in outcome.commits for path in commit.files})
        sites = sum(commit.sites for commit in outcome.commits)
        self.ui.line(f"migrate-ws: fixed {plural(len(files), 'file')} in place ({plural(sites, 'site')}):")
        for path in files:
            self.ui.line(f"  {display_path(path)}")
        print_findings(self.ui, self.plan, self.excluded)

    def finish(self, outcome: Outcome) -> int:
        code = super().finish(outcome)
        if outcome.status == "applied" and any(commit.files for commit in outcome.commits):
            if self.plan is not None and applied_exit_code(self.plan, []) == ExitCode.UNPROCESSED:
                return ExitCode.UNPROCESSED  # the binding check rejected a file's change: more than "files modified"
            return ExitCode.PENDING  # files modified: the hook fails, the user reviews and stages them
        if code == ExitCode.CLEAN and self.plan is not None and self.plan.skipped_files:
            return ExitCode.UNPROCESSED
        return code
