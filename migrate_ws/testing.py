"""Helpers for testing codemods on source strings, in the spirit of LibCST's `assertCodemod`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .config import Config, load_preset
from .model import Targets
from .engine import SourceOutcome, transform_source
from .model import STEPS

DIRECTIVE = re.compile(r"^# (path|expect-followup|steps|option): (.+)$", re.MULTILINE)


def fixture_targets(config: Config | None = None, steps=STEPS, collapse_allowed: bool = True,
                    todo_comments: bool = False) -> Targets:
    """Targets as the engine builds them, for a canonical module known only from the configuration."""
    config = config or load_preset("netra")
    definition = {config.canonical_module} | {m for m, legacy in config.legacy_modules.items() if legacy.retire}
    if config.implementation_module:
        definition.add(config.implementation_module)
    return Targets(
        config=config,
        steps=frozenset(steps),
        canonical_exports=frozenset(config.canonical_exports),
        collapse_allowed=collapse_allowed,
        definition_modules=frozenset(definition),
        api_modules=frozenset(m for m, legacy in config.legacy_modules.items() if not legacy.retire),
        todo_comments=todo_comments,
    )


def run_codemod(before: str, path: str = "app/consumer.py", targets: Targets | None = None) -> SourceOutcome:
    return transform_source(before, path, targets or fixture_targets())


def assert_codemod(before: str, after: str, path: str = "app/consumer.py", targets: Targets | None = None,
                   findings: tuple[str, ...] = ()) -> SourceOutcome:
    """The rewrite of `before` is exactly `after`, parses, and a second run changes nothing."""
    targets = targets or fixture_targets()
    outcome = run_codemod(before, path, targets)
    assert outcome.error is None, outcome.error
    if outcome.text != after:
        import difflib

        diff = "".join(difflib.unified_diff(after.splitlines(True), outcome.text.splitlines(True), "expected", "actual"))
        raise AssertionError(f"rewrite differs from the expected output:\n{diff}")
    ast.parse(outcome.text)
    from .safety import check

    check(before, outcome.text, outcome.edits)
    again = run_codemod(outcome.text, path, targets)
    assert again.text == outcome.text, "a second run changed the output again"
    reasons = [f"{f.line}: {f.code} {f.message}" for f in outcome.findings]
    for expected in findings:
        assert any(expected in reason for reason in reasons), f"missing follow-up {expected!r} in {reasons}"
    return outcome


def load_case(before_file: Path) -> tuple[str, str, dict[str, list[str]]]:
    """A fixture case: `<name>.before.py` with `<name>.after.py`, or `<name>.noop.py` (output == input)."""
    before = before_file.read_text(encoding="utf-8")
    if before_file.name.endswith(".noop.py"):
        after = before
    else:
        after = before_file.with_name(before_file.name.replace(".before.py", ".after.py")).read_text(encoding="utf-8")
    directives: dict[str, list[str]] = {}
    for key, value in DIRECTIVE.findall(before):
        directives.setdefault(key, []).append(value.strip())
    return before, after, directives
