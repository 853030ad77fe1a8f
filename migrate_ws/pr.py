"""The pull-request description `--apply` writes (markdown), built from plain values.

It says what each step did, groups the follow-ups by finding code (the complete list goes to
files of its own, next to it), shows the import paths before and after, how to verify the
change and, when the user's tests ran, their result; it never exceeds what GitHub accepts for
a pull-request body. Strings only: no printing, no git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from . import review
from .findings import Finding, Severity
from .report import plural
from .model import Plan
from .quoting import display_path

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
        body = "\n".join([f"Step: {self.step}", "", "Files:", *[f"- {display_path(path)}" for path in self.files]])
        return subject, body


@dataclass
class TestRun:
    __test__ = False  # a record of the user's test command, not a test
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
    """Every finding as `path:line: CODE message`, the files not processed among them."""
    return [finding.render() for finding in review.reported(plan, excluded)]


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


def _kinds_table(groups: Sequence[review.FindingGroup]) -> list[str]:
    lines = ["| Code | Kind | Severity | Count | Where | What to do |", "|---|---|---|---:|---|---|"]
    for item in groups:
        code = item.code
        lines.append(f"| {code.code} | {code.name} | {code.severity.value} | {item.count} | "
                     f"{_cell(review.directories_text(item))} | {_cell(code.fix)} |")
    return lines + [""]


MAX_DESCRIPTION = 60_000  # characters; GitHub refuses a pull-request body over 65,536


@dataclass
class Slice:
    """The part of a split change one description is about."""

    name: str
    owners: list[str]
    foundation: str | None  # the branch this slice is based on (None: this is the foundation)
    files: list[str]


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
    findings: Sequence[Finding] | None = None,
    full_list: str | None = None,
    part: Slice | None = None,
    limit: int = MAX_DESCRIPTION,
) -> str:
    """The PR description, at most `limit` characters whatever the size of the change.

    Always: the heading, the summary and the step table, the findings grouped by code, how to
    verify, and the test run. Then, while room remains: the diagram of the import paths, the
    examples of each finding code, and the list of files changed. `findings` defaults to every
    finding of the plan; `full_list` says where the complete list was written.
    """
    reported = list(findings) if findings is not None else review.reported(plan, excluded)
    groups = review.group(reported)
    changed = sorted({path for commit in commits for path in commit.files})
    sites = sum(commit.sites for commit in commits)
    not_processed = sum(1 for f in reported if f.message.startswith("not processed: "))
    error_count = sum(1 for f in reported if f.severity is Severity.ERROR)
    errors = [f"| Errors | {error_count} |"] if error_count else []

    head: list[str] = [f"# {title(plan)}" + (f" ({part.name})" if part is not None else ""), ""]
    head += [f"The change was made by `migrate-ws` ({_code(_shown_source(plan))}), one commit per step, so each "
             "commit can be reviewed on its own.", ""]
    if part is not None:
        if part.foundation:
            head += [f"This is one slice of a change split for review: it is based on the foundation branch "
                     f"{_code(part.foundation)}, which must be merged first.", ""]
        else:
            head += ["This is the foundation of a change split for review: merge it before the slices based on it.", ""]
        if part.owners:
            head += ["Owners (reviewers): " + ", ".join(_code(owner) for owner in part.owners) + ".", ""]
    if branch:
        head += [f"Branch {_code(branch)}" + (f", based on {_code(base)}." if base else "."), ""]

    summary = ["## Summary", "", "| | |", "|---|---:|",
               f"| Files changed | {len(changed)} |",
               f"| Sites rewritten | {sites} |",
               (f"| Commits | {len([c for c in commits if c.sha])} |" if branch else f"| Steps applied | {len(commits)} |"),
               f"| Manual follow-ups | {sum(1 for f in reported if f.severity is Severity.WARNING)} |",
               f"| Notes | {sum(1 for f in reported if f.severity is Severity.INFO)} |",
               f"| Files not processed | {not_processed} |",
               *errors,
               f"| Files scanned | {plan.scanned} |",
               # no legacy module retires (all `retire = false`): there is no policy to speak of
               f"| Legacy modules | {plan.legacy_policy if 'legacy-modules' in plan.steps else 'kept (none retires)'} |"]
    if test_run is not None:
        summary.append(f"| Tests | {'passed' if test_run.passed else 'FAILED'} |")
    summary.append("")

    steps = ["## Steps", "", "| # | Step | What it does | Sites | Files | Commit |", "|---:|---|---|---:|---:|---|"]
    recorded = {commit.step: commit for commit in commits}
    for number, step in enumerate(plan.steps, 1):
        title_text = _cell(plan.titles.get(step, step))
        commit = recorded.get(step)
        if commit is None:
            steps.append(f"| {number} | {step} | {title_text} | 0 | 0 | (nothing to change) |")
            continue
        sha = _code(commit.sha[:10]) if commit.sha else "(no git)"
        steps.append(f"| {number} | {step} | {title_text} | {commit.sites} | {len(commit.files)} | {sha} |")
    steps.append("")

    follow_up_groups = [item for item in groups if item.code.severity is not Severity.INFO]
    note_groups = [item for item in groups if item.code.severity is Severity.INFO]
    kinds = [f"## Follow-ups by kind ({sum(item.count for item in follow_up_groups)})", ""]
    if follow_up_groups:
        kinds += ["Each of these needs a person; nothing here was changed silently.", ""]
    if groups and full_list:
        kinds += [f"The complete list, every site with its file and line: {full_list}.", ""]
    kinds += _kinds_table(follow_up_groups) if follow_up_groups else ["None.", ""]
    if note_groups:
        kinds += [f"## Notes by kind ({sum(item.count for item in note_groups)})", "",
                  "Information only: nothing to do for the migration.", ""]
        kinds += _kinds_table(note_groups)

    verify = ["## How to verify", "", "Nothing should be left to migrate (follow-ups are listed again):", ""]
    verify += _block([check_command])
    verify.append("")
    if test_command:
        verify += ["Run the tests:", ""] + _block([test_command]) + [""]
    else:
        verify += ["Then run the project's tests.", ""]

    tests: list[str] = []
    if test_run is not None:
        verdict = "passed" if test_run.passed else "FAILED"
        detail = test_run.error or f"exit code {test_run.exit_code}"
        tests += ["## Test run", "", f"{_code(test_run.command)} {verdict} ({detail}, {test_run.seconds:.1f} s)"
                  + (" on this branch." if branch else "."), ""]
        if test_run.output_tail:
            tests += [f"Last {len(test_run.output_tail)} lines of output:", ""]
            tail = [line[:400] for line in test_run.output_tail]
            while len(tail) > 1 and sum(len(line) + 1 for line in tail) > 6000:
                tail.pop(0)  # the end of the output says the most
            tests += _block(tail)
            tests.append("")

    required = head + summary + steps + kinds + verify + tests
    room = limit - len("\n".join(required)) - 400  # what the optional parts may take (with their notes)

    diagram: list[str] = []
    picture = review.mermaid(plan) if part is None else []
    if picture and len("\n".join(picture)) + 40 < room:
        diagram = ["## Import paths before and after", "", *picture, ""]
        room -= len("\n".join(diagram)) + 1

    examples: list[str] = []
    if groups and room > 200:
        examples = ["## Examples", ""]
        room -= 20
        shown = 0
        for item in groups:
            header = f"**{item.code.code} {item.code.name}** ({item.count}):"
            lines = [f"- {_code(f.render())}" for f in item.examples()]
            size = len(header) + sum(len(line) + 1 for line in lines) + 2
            if size > room:
                break
            examples += [header, *lines, ""]
            room -= size
            shown += 1
        if shown < len(groups):
            examples += [f"(examples of {len(groups) - shown} more kinds are in the complete list)", ""]
        if shown == 0:
            examples = []

    files: list[str] = []
    if changed and room > 100:
        files = ["## Files changed", ""]
        room -= 20
        for position, path in enumerate(changed):
            line = f"- {_code(display_path(path))}"
            if len(line) + 1 > room - 80:
                files.append(f"- ... and {len(changed) - position} more (`git diff --stat` on the branch lists them)")
                break
            files.append(line)
            room -= len(line) + 1
        files.append("")

    out = head + summary + steps + diagram + kinds + examples + verify + files + tests
    return "\n".join(out).rstrip("\n") + "\n"
