"""`migrate-ws --apply --split-by owners|directory[:DEPTH]`: one branch per reviewable piece.

The change is planned and verified as for a single branch, then cut into a foundation (what
everything else depends on) and slices (by owners in CODEOWNERS, or by directory; see
`slicing.py`). Every piece becomes a branch with one commit per step: the foundation on top
of the current commit, every slice on top of the foundation. The commits are written with
`git fast-import` straight from the plan, on a scratch ref it drops at the end of its
stream; then one `git update-ref` transaction creates every branch, all or none, each only
if no branch of that name exists (one that appeared while the run planned is never
touched: the run refuses). The working tree, the index and HEAD are not touched, so a
failure, Ctrl-C or SIGTERM only has to delete the branches the run created, each while it
still points at the commit the run made (and a SIGKILL leaves a journal that `migrate-ws
--abort` reads to delete them). Each piece
gets its own description (its owners as reviewers, its counts, its follow-ups, the
foundation it depends on), and `--open-pr` opens the foundation's PR first and then every
slice's against it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import review
from .. import steps as step_registry
from ..findings import Finding, Severity
from ..model import Plan
from ..pr import CommitRecord, Slice, render
from ..report import plural
from ..slicing import Owners, Piece, Split, SplitBy, SplitError, split
from ..exit_codes import ExitCode, Failed, Refused, UsageError
from .base import applied_exit_code, branch_taken, check_command
from .git_applier import GitApplier
from .github import gh_pr_create
from .outcome import FOLLOW_UPS_JSON, FOLLOW_UPS_MD, PR_BODY_NAME, FileChange, Outcome, PlannedStep, describe_error
from .signals import Terminated, ignore_further_signals
from .git import SPLIT_SCRATCH_REF, BranchExists, GitError


@dataclass
class Branch:
    piece: Piece
    name: str
    parent: str  # a commit sha, or a fast-import mark (":N")
    commits: list[CommitRecord] = field(default_factory=list)
    description: Path | None = None

    @property
    def tip(self) -> str | None:
        return self.commits[-1].sha if self.commits else None


class SplitApplier(GitApplier):
    """`--apply --split-by`: a foundation branch and one branch per slice, written by fast-import."""

    mode = "git"
    writes_working_tree = False  # fast-import writes the commits: read-only files are no obstacle
    nothing_done = "; no branch was created"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.split_by = SplitBy.parse(self.options.split_by or "")
        self.split: Split | None = None
        self.branches: list[Branch] = []
        self.created: dict[str, str] = {}  # branch -> the commit this run created it at
        self.creating: dict[str, str] = {}  # the same, asked of `git update-ref` (which may have been stopped)

    def prepare(self) -> None:
        if self.options.test_cmd:
            raise UsageError("--test-cmd runs on a checked-out branch; --split-by checks none out (run the tests "
                             "on each branch, or apply without --split-by)")
        super().prepare()

    def arrange(self, plan: Plan) -> None:
        super().arrange(plan)
        assert self.repo is not None and self.branch is not None
        prefix = self.prefix
        files = sorted({change.path for step in self.steps for change in step.changes})
        owners = Owners(self.top) if self.split_by.kind == "owners" else None
        if owners is not None and owners.source is None:
            self.ui.note("no CODEOWNERS file (.github/, the root or docs/): every file goes to the unowned slice")
        foundation_steps = {step.name for step in step_registry.all_steps() if step.foundation}
        self.split = split(plan, files, self.split_by, foundation_steps,
                           owners.of if owners is not None else (lambda path: []), prefix, self.options.max_files)
        parent = self.base.sha if self.base is not None else ""
        for piece in self.split.pieces:
            name = f"{self.branch}-{piece.name}"
            if not self.repo.valid_branch_name(name):
                raise UsageError(f"--split-by: {name!r} is not a valid branch name")
            conflict = self.repo.ref_conflict(name)
            if conflict is not None:
                raise Refused(f"branch {name} clashes with the existing branch {conflict}; choose another name with "
                              "--branch (nothing was changed)")
            self.branches.append(Branch(piece, name, parent))
        foundation = self.branches[0] if self.branches and self.branches[0].piece.foundation else None
        for branch in self.branches:
            if foundation is not None and branch is not foundation:
                branch.parent = "foundation"

    # ----- writing the branches ------------------------------------------------------------------
    def transaction(self) -> Outcome:
        assert self.repo is not None and self.plan is not None
        self.writing = True
        try:
            self.recovery.save_originals([], None, self.repo.git_path("index"))  # recovery
            self.recovery.importing([branch.name for branch in self.branches])  # recovery
            marks = self.fast_import()
            for branch in self.branches:
                for commit in branch.commits:
                    commit.sha = marks.get(commit.sha or "", commit.sha)
            self.creating = {branch.name: branch.tip for branch in self.branches if branch.tip}
            self.repo.create_branches(self.creating, self.recovery.creation_message)  # all or none, none that exists
            self.created = dict(self.creating)
            self.recovery.imported({branch.name: branch.tip for branch in self.branches})  # recovery
            self.describe_pieces()
            commits = [commit for branch in self.branches for commit in branch.commits]
            pr_path = self.branches[0].description if self.branches else None
            outcome = Outcome("applied", applied_exit_code(self.plan, []), commits, None, pr_path)
        except KeyboardInterrupt as exc:
            problems = self.rollback()
            ignore_further_signals()
            what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
            return self.restored(Outcome("interrupted", ExitCode.INTERRUPTED, error=what), problems)
        except BranchExists as exc:
            problems = self.rollback()
            if problems:
                return self.restored(Outcome("failed", ExitCode.FAILED, error=branch_taken(exc)), problems)
            raise Refused(branch_taken(exc)) from None
        except (Failed, GitError, OSError) as exc:
            problems = self.rollback()
            return self.restored(Outcome("failed", ExitCode.FAILED, error=describe_error(exc)), problems)
        except Exception as exc:  # a defect in migrate-ws: still delete what was made
            problems = self.rollback()
            return self.restored(Outcome("failed", ExitCode.INTERNAL,
                                         error=f"internal error: {type(exc).__name__}: {exc}"), problems)
        self.journal.discard()
        self.recovery.finished()  # recovery
        return outcome

    def fast_import(self) -> dict[str, str]:
        """Write every branch's commits in one `git fast-import` run; return mark -> commit sha."""
        assert self.repo is not None
        identity = {kind: self.repo.run("var", f"GIT_{kind}_IDENT").strip() for kind in ("AUTHOR", "COMMITTER")}
        stream = bytearray(b"feature done\n")
        mark = 0
        foundation_tip: str | None = None
        steps_by_path = {change.path: [] for step in self.steps for change in step.changes}
        for step in self.steps:
            for change in step.changes:
                steps_by_path[change.path].append((step, change))
        for branch in self.branches:
            files = set(branch.piece.files)
            parent = foundation_tip if branch.parent == "foundation" else branch.parent
            for step in self.steps:
                changes = [change for change in step.changes if change.path in files]
                if not changes:
                    continue
                mark += 1
                record = CommitRecord(step.name, step.title, self.piece_sites(step, changes),
                                      [change.repo_path for change in changes], sha=f":{mark}")
                subject, body = record.message()
                message = f"{subject}\n\n{body}\n".encode("utf-8")
                stream += f"commit {SPLIT_SCRATCH_REF}\nmark :{mark}\n".encode("utf-8")
                stream += f"author {identity['AUTHOR']}\ncommitter {identity['COMMITTER']}\n".encode("utf-8")
                stream += f"data {len(message)}\n".encode("utf-8") + message
                stream += f"from {parent}\n".encode("utf-8")
                for change in changes:
                    stream += self.file_command(change)
                parent = f":{mark}"
                branch.commits.append(record)
            if branch.piece.foundation:
                foundation_tip = parent
        # the scratch ref is dropped (never written): the branches are created afterwards, together
        stream += f"reset {SPLIT_SCRATCH_REF}\nfrom {'0' * len(self.base.sha if self.base else '')}\n\n".encode()
        stream += b"done\n"
        with tempfile.TemporaryDirectory(prefix="migrate-ws-import-") as folder:
            marks_file = os.path.join(folder, "marks")
            try:
                self.repo.run("fast-import", "--quiet", "--done", f"--export-marks={marks_file}", stdin=bytes(stream))
            except GitError as exc:
                raise Failed(f"git fast-import could not write the branches: {exc}") from None
            marks: dict[str, str] = {}
            with open(marks_file, encoding="utf-8") as handle:
                for line in handle:
                    key, _, sha = line.strip().partition(" ")
                    marks[key] = sha
        return marks

    def piece_sites(self, step: PlannedStep, changes: list[FileChange]) -> int:
        """The step's sites in these files, counted as everywhere else (editing.sites_by_step)."""
        from ..editing import sites_by_step

        assert self.plan is not None
        results = {r.path: r for r in self.plan.changed_files}
        return sum(sites_by_step(results[c.path].edits, self.plan.steps).get(step.name, 0) for c in changes)

    def file_command(self, change: FileChange) -> bytes:
        return self.file_state(change).fast_import_command()

    def undo(self) -> list[str]:
        assert self.repo is not None
        problems: list[str] = []
        if self.creating and not self.created:
            # interrupted while `git update-ref` ran: what it created has this run's reflog message
            self.created = {name: tip for name, tip in self.creating.items()
                            if self.repo.creation_message(name) == self.recovery.creation_message}
        for name, tip in reversed(list(self.created.items())):
            try:
                if not self.repo.delete_branch(name, tip):
                    self.ui.note(f"branch {name} was kept: it no longer points at {tip[:10]}, the commit this run "
                                 "made")
                del self.created[name]
            except Exception as exc:  # noqa: BLE001 - every problem is listed
                problems.append(f"cannot delete the branch {name} ({exc})")
        self.repo.run_status("update-ref", "-d", SPLIT_SCRATCH_REF)  # fast-import stopped in its stream
        problems.extend(self.journal.restore())
        return problems

    def restored_state(self) -> str:
        return "the repository was restored (no branch was kept; HEAD, the index and the files were not touched)"

    # ----- descriptions and the summary -----------------------------------------------------------
    def describe_pieces(self) -> None:
        assert self.plan is not None and self.split is not None
        folder = self.pr_body_path()
        if folder is None:
            return
        folder = folder.parent if folder.suffix else folder
        foundation = self.branches[0].name if self.branches and self.branches[0].piece.foundation else None
        findings = review.reported(self.plan, self.excluded)
        for branch in self.branches:
            files = set(branch.piece.files)
            own = [f for f in findings if f.path in files] if not branch.piece.foundation else \
                [f for f in findings if f.path in files or not self.in_some_slice(f)]
            target = folder / branch.piece.name
            shown = target.relative_to(self.top).as_posix() if target.is_relative_to(self.top) else str(target)
            text = render(
                plan=self.plan, commits=branch.commits, branch=branch.name,
                base=foundation if branch.parent == "foundation" else (self.base.describe() if self.base else None),
                check_command=check_command(self.config, self.root, self.top, self.options.legacy_policy),
                test_command=None, test_run=None, findings=own,
                full_list=f"`{FOLLOW_UPS_MD}` and `{FOLLOW_UPS_JSON}`, written next to this description (`{shown}`)",
                part=Slice(branch.piece.name, branch.piece.owners,
                           foundation if branch.parent == "foundation" else None, branch.piece.files),
            )
            branch.description = target / "PR_DESCRIPTION.md"
            for path, content in ((branch.description, text),
                                  (target / FOLLOW_UPS_MD, review.followups_markdown(own, f"{self.plan.heading} "
                                                                                      f"({branch.piece.name})")),
                                  (target / FOLLOW_UPS_JSON, review.followups_json(own))):
                try:
                    self.journal.write(path, content.encode("utf-8"))
                except OSError as exc:
                    raise Failed(f"cannot write {path}: {exc.strerror or exc}") from None

    def in_some_slice(self, finding: Finding) -> bool:
        return any(finding.path in set(branch.piece.files) for branch in self.branches if not branch.piece.foundation)

    def pr_body_path(self) -> Path | None:
        assert self.repo is not None
        if self.options.pr_body is not None:
            return Path(os.path.abspath(self.options.pr_body))
        return self.repo.git_path(PR_BODY_NAME).parent / "split"

    def document(self, outcome: Outcome) -> dict:
        document = super().document(outcome)
        kept = outcome.status == "applied"
        document["branch"] = None
        document["branches"] = [
            {"name": branch.name, "slice": branch.piece.name, "foundation": branch.piece.foundation,
             "based_on": "foundation" if branch.parent == "foundation" else "base", "owners": branch.piece.owners,
             "files": branch.piece.files, "commits": [{"sha": c.sha, "step": c.step, "sites": c.sites} for c in branch.commits],
             "description": str(branch.description) if branch.description else None}
            for branch in self.branches] if kept else []
        return document

    def print_summary(self, outcome: Outcome) -> None:
        ui = self.ui
        assert self.plan is not None and self.base is not None
        files = sum(len(branch.piece.files) for branch in self.branches)
        ui.line(f"migrate-ws: applied as {len(self.branches)} branch{'es' if len(self.branches) != 1 else ''} (from {self.base.describe()} at "
                f"{self.base.sha[:10]}): {plural(files, 'file')} changed; HEAD and the working tree are unchanged.")
        findings = review.reported(self.plan, self.excluded)
        rows = [("slice", "branch", "owners", "files", "sites", "follow-ups")]
        for branch in self.branches:
            paths = set(branch.piece.files)
            rows.append((branch.piece.name, branch.name, " ".join(branch.piece.owners) or "-",
                         str(len(branch.piece.files)), str(sum(c.sites for c in branch.commits)),
                         str(sum(1 for f in findings if f.path in paths and f.severity is Severity.WARNING))))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            ui.line("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        assert self.split is not None
        if self.split.moved:
            ui.line(f"The foundation holds {plural(len(self.split.moved), 'file')} every slice depends on "
                    "(foundation steps, and files other slices' rewrites follow).")
        folder = self.pr_body_path()
        if folder is not None:
            ui.line(f"Descriptions: {folder}/<slice>/PR_DESCRIPTION.md")
        self.print_next_steps()

    def print_next_steps(self) -> None:
        if not self.branches:
            return
        self.ui.line(f"Merge {self.branches[0].name} first; every other branch is based on it. Push them all with: "
                     f"git push origin " + " ".join(shlex.quote(b.name) for b in self.branches))
        self.print_untracked()

    def open_pr(self, body: Path) -> None:
        """The foundation's PR first, then every slice's against it, owners as reviewers."""
        ui = self.ui
        gh = shutil.which("gh")
        commands = []
        foundation = self.branches[0].name if self.branches and self.branches[0].piece.foundation else None
        for branch in self.branches:
            command = ["gh", "pr", "create", "--title", f"{self.plan_title()} ({branch.piece.name})",
                       "--body-file", str(branch.description), "--head", branch.name]
            if branch.parent == "foundation" and foundation:
                command += ["--base", foundation]
            for owner in branch.piece.owners:
                command += ["--reviewer", owner.lstrip("@")]
            commands.append(command)
        if gh is None:
            ui.line("--open-pr: gh (the GitHub CLI) is not on PATH, so no PR was opened; push the branches, then run:")
            for command in commands:
                ui.line("  " + " ".join(shlex.quote(part) for part in command))
            return
        for command in commands:
            created = gh_pr_create(ui, gh, command[3:], self.top)
            if created.unrunnable is not None:
                ui.line(f"--open-pr: gh could not be run ({created.unrunnable}); the branches and descriptions are ready")
                return
            if created.failed is not None:
                ui.line(f"--open-pr: gh pr create failed for {command[command.index('--head') + 1]} "
                        f"({created.failed}); the remaining PRs were not opened")
                return
            ui.line(f"PR opened: {created.opened}")
            time.sleep(0)

    def plan_title(self) -> str:
        from ..pr import title

        assert self.plan is not None
        return title(self.plan)


def parse(value: str) -> SplitBy:
    try:
        return SplitBy.parse(value)
    except SplitError as exc:
        raise UsageError(str(exc)) from None
