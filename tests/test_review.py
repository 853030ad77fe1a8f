"""What reviewers read at monorepo scale: grouped follow-ups and PR descriptions GitHub accepts."""

from __future__ import annotations

import json
import random

from migrate_ws import review
from migrate_ws.findings import CODES, Finding, Severity
from migrate_ws.model import Edit, FileResult, FileStatus, Plan
from migrate_ws.pr import MAX_DESCRIPTION, CommitRecord, TestRun, render
from migrate_ws.report import to_json
from migrate_ws.steps import order

STEPS = order()
DIRECTORIES = ["netra_backend", "tests", "scripts", "auth_service", "shared", "dev_launcher"]


def big_plan(files: int = 3000, findings: int = 8000, seed: int = 7) -> tuple[Plan, list[CommitRecord]]:
    rng = random.Random(seed)
    codes = [code for code in CODES if CODES[code].severity is not Severity.ERROR]
    plan = Plan(root="/repo", config_source="preset netra", steps=STEPS, heading="move imports of a to b",
                titles={step: f"Step {step}" for step in STEPS})
    paths = [f"{rng.choice(DIRECTORIES)}/pkg{n % 97}/module_with_a_rather_long_name_{n}.py" for n in range(files)]
    for path in paths:
        plan.files.append(FileResult(path, FileStatus.CHANGED, b"x = 1\n", b"x = 2\n",
                                     edits=[Edit(4, 5, "2", "imports", 1, "x")]))
    for n in range(findings):
        path = rng.choice(paths)
        plan.findings.append(Finding(rng.choice(codes), path, rng.randint(1, 900),
                                     f"something at site {n} that needs a person, described in a full sentence"))
    commits = [CommitRecord(step, f"Step {step}", files, paths, sha="a" * 40) for step in STEPS]
    plan.importers_before = {"pkg.legacy": 812, "pkg.canonical": 10}
    plan.importers_after = {"pkg.legacy": 7, "pkg.canonical": 815}
    plan.import_moves = {("pkg.legacy", "pkg.canonical"): 805}
    return plan, commits


def describe(plan: Plan, commits: list[CommitRecord], **extra) -> str:
    return render(plan=plan, commits=commits, branch="migrate-ws/big", base="main", check_command="migrate-ws --check",
                  test_command="pytest -q", test_run=TestRun("pytest -q", 0, 12.5, ["x" * 2000] * 30),
                  full_list="`FOLLOW_UPS.md` and `follow-ups.json`", **extra)


def test_a_description_of_thousands_of_follow_ups_fits_what_github_accepts() -> None:
    plan, commits = big_plan()
    text = describe(plan, commits)
    assert len(text) <= MAX_DESCRIPTION < 65_536
    # what is always there: the summary, the step table, every code with its count, how to verify, the tests
    assert "## Summary" in text and "| Files changed | 3000 |" in text
    assert text.count("| Step ") >= len(STEPS)
    findings = review.reported(plan)
    for item in review.group(findings):
        assert f"| {item.code.code} | {item.code.name} | {item.code.severity.value} | {item.count} |" in text
    assert "## How to verify" in text and "## Test run" in text
    assert "`FOLLOW_UPS.md` and `follow-ups.json`" in text
    # and then, while room remained: the picture, examples, the files
    assert "```mermaid" in text and '-- "805 files" -->' in text
    assert "## Examples" in text
    assert "- ... and " in text and "more (`git diff --stat`" in text


def test_the_description_degrades_in_order_when_room_runs_out() -> None:
    plan, commits = big_plan(files=200, findings=400)
    roomy = describe(plan, commits, limit=MAX_DESCRIPTION)
    assert "## Files changed" in roomy and "## Examples" in roomy
    tight = describe(plan, commits, limit=len(roomy) - 8000)
    assert len(tight) <= len(roomy) - 8000
    assert "## Summary" in tight and "## Steps" in tight and "Follow-ups by kind" in tight
    assert "## Examples" in tight
    assert tight.count("\n- `") < roomy.count("\n- `")


def test_grouping_counts_every_finding_once_per_code_and_directory() -> None:
    plan, _ = big_plan(files=300, findings=1000)
    findings = review.reported(plan)
    groups = review.group(findings)
    assert sum(g.count for g in groups) == len(findings)
    for item in groups:
        assert sum(count for _, count in item.directories()) == item.count
        examples = item.examples()
        assert len(examples) == min(3, item.count)
        assert len({review.top_directory(f.path) for f in examples}) == min(len(item.directories()), len(examples))
    severities = [review.SEVERITY_ORDER[g.code.severity] for g in groups]
    assert severities == sorted(severities)


def test_the_complete_lists_hold_every_finding() -> None:
    plan, _ = big_plan(files=100, findings=500)
    findings = review.reported(plan)
    markdown = review.followups_markdown(findings, plan.heading)
    document = json.loads(review.followups_json(findings))
    assert document["count"] == len(findings) == len(document["findings"])
    assert markdown.count("\n- `") == len(findings)
    assert sum(g["count"] for g in document["groups"]) == len(findings)


def test_notes_are_counted_and_listed_apart_from_the_follow_ups() -> None:
    """The summary and the description count the follow-ups a reviewer must clear (warnings) on their
    own; notes (MW405 text, MW307 fallbacks, ...) are shown in a section of their own."""
    plan = Plan(root="/repo", config_source="preset netra", steps=STEPS, heading="move imports of a to b",
                titles={step: f"Step {step}" for step in STEPS})
    plan.files.append(FileResult("app/a.py", FileStatus.CHANGED, b"x = 1\n", b"x = 2\n",
                                 edits=[Edit(4, 5, "2", "imports", 1, "x")]))
    plan.findings += [Finding("MW301", "app/a.py", 3, "no context"), Finding("MW404", "tests/t.py", 4, "a module path"),
                      Finding("MW405", "app/a.py", 5, "text"), Finding("MW405", "app/b.py", 6, "text"),
                      Finding("MW109", "app/b.py", 1, "kept import"), Finding("MW307", "tests/t.py", 9, "fallback")]
    commits = [CommitRecord("imports", "Step imports", 1, ["app/a.py"], sha="a" * 40)]
    text = describe(plan, commits)
    assert "| Manual follow-ups | 2 |" in text and "| Notes | 4 |" in text
    follow_ups = text.split("## Follow-ups by kind (2)", 1)[1].split("## Notes by kind (4)", 1)
    assert "| MW301 |" in follow_ups[0] and "| MW404 |" in follow_ups[0] and "| MW405 |" not in follow_ups[0]
    notes = follow_ups[1].split("##", 1)[0]
    assert "| MW405 | legacy-path-in-text | info | 2 |" in notes and "| MW109 |" in notes and "| MW307 |" in notes
    assert "| MW301 |" not in notes
    lines = review.summary_lines(review.reported(plan))
    assert lines[0].startswith("Findings by kind (6; 2 manual follow-ups, 4 notes;")
    notes_at = lines.index("  Notes (information: nothing to do for the migration):")
    assert all(not line.startswith(("  MW301", "  MW404")) for line in lines[notes_at:])
    assert all(not line.startswith(("  MW405", "  MW307", "  MW109")) for line in lines[:notes_at])
    document = json.loads(to_json(plan))
    assert (document["summary"]["warnings"], document["summary"]["notes"]) == (2, 4)
