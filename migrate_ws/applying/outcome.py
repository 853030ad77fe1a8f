"""What an apply writes and how it ended, shared by every applier: the options, each step's file
changes, the outcome, the files left out (as findings) and the `--json` document."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from ..findings import Code, Finding
from ..pr import CommitRecord, TestRun

if TYPE_CHECKING:
    from ..model import Plan
    from .git import HeadState

PR_BODY_NAME = "migrate-ws/PR_DESCRIPTION.md"
FOLLOW_UPS_MD = "FOLLOW_UPS.md"
FOLLOW_UPS_JSON = "follow-ups.json"


@dataclass
class Options:
    jobs: Optional[int] = None
    branch: Optional[str] = None
    pr_body: Optional[Path] = None
    allow_dirty: bool = False
    no_git: bool = False
    legacy_policy: str = "shim"
    test_cmd: Optional[str] = None
    rollback_on_fail: bool = False
    open_pr: bool = False
    todo_comments: bool = False
    as_json: bool = False
    follow_ups: str = "summary"  # summary: grouped by code; all: every line
    split_by: Optional[str] = None  # owners | directory[:DEPTH]
    max_files: Optional[int] = None
    interactive: bool = False
    only: Optional[list[str]] = None  # PATH arguments: the change is limited to them (engine.plan's `only`)


@dataclass
class FileChange:
    path: str  # relative to --root (as the engine reports it)
    repo_path: str  # relative to the top of the working tree (as git wants it)
    full: Path
    data: bytes
    deleted: bool
    planned_from: bytes | None = None  # the file's bytes when the migration was planned


@dataclass
class PlannedStep:
    name: str
    title: str
    sites: int
    changes: list[FileChange]


@dataclass
class Outcome:
    status: str  # applied, tests-failed, nothing-to-apply, rolled-back, failed, interrupted
    code: int
    commits: list[CommitRecord] = field(default_factory=list)
    test_run: TestRun | None = None
    pr_body: Path | None = None
    error: str | None = None
    restored: bool | None = None  # None: nothing was written; False: putting it back failed


def json_document(outcome: Outcome, *, mode: str, plan: Plan | None, steps: list[PlannedStep],
                  excluded: list[Finding], branch: str | None, base: HeadState | None,
                  legacy_policy: str, untracked: Sequence[str] = ()) -> dict:
    committed = {c.step: c for c in outcome.commits}
    kept = outcome.status in ("applied", "tests-failed")
    return {
        "status": outcome.status,
        "exit_code": int(outcome.code),
        "mode": mode,
        "branch": branch if mode == "git" and kept else None,
        "base": {"ref": base.ref, "sha": base.sha} if base is not None else None,
        "commits": [
            {"sha": c.sha, "step": c.step, "subject": c.message()[0], "sites": c.sites, "files": c.files}
            for c in outcome.commits
        ] if mode == "git" and kept else [],
        "steps": [
            {"name": s.name, "title": s.title, "sites": s.sites, "files": [c.path for c in s.changes],
             "applied": kept and s.name in committed, "sha": committed[s.name].sha if kept and s.name in committed else None}
            for s in steps
        ],
        "findings": [f.to_json() for f in plan.all_findings] if plan is not None else [],
        "not_processed": ([{"path": r.path, "code": r.code, "reason": r.reason} for r in plan.skipped_files]
                          + [{"path": f.path, "code": f.code, "reason": f.message.removeprefix(NOT_PROCESSED)}
                             for f in excluded]) if plan is not None else [],
        "legacy_modules": legacy_policy,
        "untracked": list(untracked),  # untracked files the run let be (it does not write them)
        "pr_body": str(outcome.pr_body) if outcome.pr_body is not None else None,
        "test": outcome.test_run.to_json() if outcome.test_run is not None else None,
        "error": outcome.error,
    }


NOT_PROCESSED = "not processed: "


def left_out(path: str, reason: str, code: Code) -> Finding:
    """A file `--apply` leaves out (not tracked, not writable), as the finding that reports it."""
    return Finding(code.code, path, 0, f"{NOT_PROCESSED}{reason}")


def left_out_paths(excluded: list[Finding]) -> set[str]:
    return {finding.path for finding in excluded}


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return str(exc)
