"""Every before/after and no-op case under fixtures/codemods/, run through the real engine.

Each case runs with the migration's steps up to and including its codemod's step, and must
match exactly, parse, and be left unchanged by a second run. No-op cases must come back
byte-identical; `# expect-followup:` lines name follow-ups the case must report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_ws.model import STEPS
from migrate_ws.testing import assert_codemod, fixture_targets, load_case

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "codemods"
CASES = sorted(p for p in FIXTURES.glob("*/*.py") if p.name.endswith((".before.py", ".noop.py")))


def steps_through(step: str) -> tuple[str, ...]:
    return STEPS[: STEPS.index(step) + 1]


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}")
def test_fixture_case(case: Path) -> None:
    before, after, directives = load_case(case)
    steps = directives.get("steps", [",".join(steps_through(case.parent.name))])[0].split(",")
    path = directives.get("path", ["app/consumer.py"])[0]
    options = set(directives.get("option", []))
    config = None
    if "async-factory" in options:
        from dataclasses import replace

        from migrate_ws.config import load_preset

        preset = load_preset("netra")
        config = replace(preset, factory=replace(preset.factory, is_async=True))
    targets = fixture_targets(config, steps=steps, todo_comments="todo-comments" in options)
    outcome = assert_codemod(before, after, path=path, targets=targets,
                             followups=tuple(directives.get("expect-followup", [])))
    if case.name.endswith(".noop.py"):
        assert not outcome.edits


def test_every_codemod_has_cases_and_noops() -> None:
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        names = [p.name for p in folder.glob("*.py")]
        assert any(n.endswith(".before.py") for n in names), f"{folder.name} has no rewrite case"
        assert any(n.endswith(".noop.py") for n in names), f"{folder.name} has no no-op case"
