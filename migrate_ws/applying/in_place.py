"""`migrate-ws --fix [PATH]...`: write the change in place, without git, like `ruff --fix`.

Made for the fixing pre-commit hook (`.pre-commit-hooks.yaml`): pre-commit passes the
staged Python files, `--fix` rewrites the ones that need it and exits 1, so the hook fails
and the user reviews and stages the rewritten files (what black and `ruff --fix
--exit-non-zero-on-fix` do). It works inside a git repository and never runs git: no
branch, no commit. It does take the apply lock of the repository (`apply_lock.py`, found
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

from ..exit_codes import ExitCode
from ..quoting import display_path
from ..report import plural
from . import unwritable
from .base import InPlaceApplier, Outcome, applied_exit_code, print_findings


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
        self.ui.line(f"migrate-ws: nothing to fix ({self.plan.scanned} files scanned).")
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
