"""The pull-request description `--apply` writes (markdown), built from plain values.

It lists what each step did, every finding as `path:line: CODE message`, the files that
were not processed, how to verify the change and, when the user's tests ran, their result.
Strings only: no printing, no git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from . import report
from .findings import MODULE_STILL_USED, Finding
from .report import plural
from .model import Plan

OUTPUT_TAIL_LINES = 30


@dataclass
class CommitRecord:
    step: str
    title: str
    sites: int
    files: list[str]
    sha: str | None = None  # None when applied without git

    def message(self) -> tuple[str, str]:
        """The commit's subject line and body."""
        subject = f"migrate-ws: {self.title} ({plural(self.sites, 'site')} in {plural(len(self.files), 'file')})"
        body = "\n".join([f"Step: {self.step}", "", "Files:", *[f"- {path}" for path in self.files]])
        return subject, body


@dataclass
class TestRun:
    command: str
    exit_code: int | None
    seconds: float
    output_tail: list[str] = field(default_factory=list)
    error: str | None = None  # the command could not be started

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and self.error is None

    def to_json(self) -> dict:
        return {
            "command": self.command,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "output_tail": list(self.output_tail),
            "error": self.error,
        }


def followup_lines(plan: Plan, excluded: Sequence[Finding] = ()) -> list[str]:
    """Every finding as `path:line: CODE message`, then the files that were not processed."""
    lines = report.followup_lines(plan)
    lines.extend(finding.render() for finding in excluded)
    return lines


def _shown_source(plan: Plan) -> str:
    """Where the configuration came from, relative to the repository when it is inside it."""
    from pathlib import Path

    try:
        return Path(plan.config_source).relative_to(plan.root).as_posix()
    except ValueError:
        return plan.config_source


def title(plan: Plan) -> str:
    """The PR title: what the change does, from the configuration."""
    return f"migrate-ws: {plan.heading}"


def _code(text: str) -> str:
    """`text` as an inline code span, whatever backticks it contains."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _block(lines: list[str]) -> list[str]:
    longest = 2
    for line in lines:
        stripped = line.lstrip()
        run = len(stripped) - len(stripped.lstrip("`"))
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    return [fence, *lines, fence]


def render(
    *,
    plan: Plan,
    commits: list[CommitRecord],
    branch: str | None,
    base: str | None,
    check_command: str,
    test_command: str | None,
    test_run: TestRun | None,
    excluded: Sequence[Finding] = (),
) -> str:
    followups = followup_lines(plan, list(excluded))
    changed = sorted({path for commit in commits for path in commit.files})
    sites = sum(commit.sites for commit in commits)
    not_processed = len(plan.skipped_files) + len(excluded)
    out: list[str] = [f"# {title(plan)}", ""]
    intro = (f"The change was made by `migrate-ws` ({_code(_shown_source(plan))}), one commit per step, so each "
             "commit can be reviewed on its own.")
    out += [intro, ""]
    if branch:
        out += [f"Branch {_code(branch)}" + (f", based on {_code(base)}." if base else "."), ""]

    out += ["## Summary", "", "| | |", "|---|---:|"]
    out += [
        f"| Files changed | {len(changed)} |",
        f"| Sites rewritten | {sites} |",
        (f"| Commits | {len([c for c in commits if c.sha])} |" if branch else f"| Steps applied | {len(commits)} |"),
        f"| Manual follow-ups | {len(followups)} |",
        f"| Files not processed | {not_processed} |",
        f"| Files scanned | {plan.scanned} |",
        f"| Legacy modules | {plan.legacy_policy} |",
    ]
    if test_run is not None:
        out.append(f"| Tests | {'passed' if test_run.passed else 'FAILED'} |")
    out.append("")

    out += ["## Steps", "", "| # | Step | What it does | Sites | Files | Commit |", "|---:|---|---|---:|---:|---|"]
    recorded = {commit.step: commit for commit in commits}
    for number, step in enumerate(plan.steps, 1):
        title_text = _cell(plan.titles.get(step, step))
        commit = recorded.get(step)
        if commit is None:
            out.append(f"| {number} | {step} | {title_text} | 0 | 0 | (nothing to change) |")
            continue
        sha = _code(commit.sha[:10]) if commit.sha else "(no git)"
        out.append(f"| {number} | {step} | {title_text} | {commit.sites} | {len(commit.files)} | {sha} |")
    out.append("")

    still_used = [f for f in plan.all_findings if f.code == MODULE_STILL_USED.code]
    if still_used:
        out += ["## Legacy modules not deleted", ""]
        out.extend(f"- {_code(f.render())}" for f in still_used)
        out.append("")

    out += [f"## Manual follow-ups ({len(followups)})", ""]
    if followups:
        out += ["Each of these needs a person; nothing here was changed silently.", ""]
        out.extend(f"- {_code(line)}" for line in followups)
    else:
        out.append("None.")
    out.append("")

    out += ["## How to verify", "", "Nothing should be left to migrate (follow-ups are listed again):", ""]
    out += _block([check_command])
    out.append("")
    if test_command:
        out += ["Run the tests:", ""]
        out += _block([test_command])
        out.append("")
    else:
        out += ["Then run the project's tests.", ""]
    if changed:
        out += ["Files changed:", ""]
        out.extend(f"- {_code(path)}" for path in changed)
        out.append("")

    if test_run is not None:
        verdict = "passed" if test_run.passed else "FAILED"
        detail = test_run.error or f"exit code {test_run.exit_code}"
        out += ["## Test run", "", f"{_code(test_run.command)} {verdict} ({detail}, {test_run.seconds:.1f} s)"
                + (" on this branch." if branch else "."), ""]
        if test_run.output_tail:
            out += [f"Last {len(test_run.output_tail)} lines of output:", ""]
            out += _block(test_run.output_tail)
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
