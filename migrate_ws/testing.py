"""Helpers for testing steps on source strings, in the spirit of LibCST's `assertCodemod`.

A step's examples (its examples folder) are `<case>.before.py` with `<case>.after.py`, or
`<case>.noop.py` whose output must equal its input. Directives in a case's comments:
`# path: pkg/module.py`, `# steps: imports,aliases`, `# option: todo-comments`,
`# expect-followup: 12 MW301` (a finding of that code at that line; text after the code must
be part of its message; with `# option: exact-findings`, every finding reported must be one
of these). The configuration a case runs with is the nearest `migrate-ws.toml` in its folder
or above, so a subfolder of a step's examples can show the step under another configuration.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from .config import Config, ConfigError, _from_table, _read_toml, _tool_table
from .editing import state_after, steps_touching
from .findings import Finding
from .model import Targets
from .steps import order
from .transform import SourceOutcome, transform_source

DIRECTIVE = re.compile(r"^# (path|expect-followup|steps|option): (.+)$", re.MULTILINE)
_EXPECTED = re.compile(r"^(\d+) ([A-Z]+\d+)(?: (.+))?$")
CONFIG_NAME = "migrate-ws.toml"


@dataclass(frozen=True)
class Expected:
    """An `# expect-followup: LINE CODE [text]` directive: a finding of that code at that line (whose message
    contains the text, when one is given)."""

    line: int
    code: str
    text: str = ""

    @classmethod
    def parse(cls, directive: str) -> "Expected":
        match = _EXPECTED.match(directive.strip())
        if match is None:
            raise ValueError(f"expect-followup: expected `LINE CODE [message text]`, got {directive!r}")
        return cls(int(match.group(1)), match.group(2), match.group(3) or "")

    def matches(self, finding: Finding) -> bool:
        return finding.line == self.line and finding.code == self.code and self.text in finding.message

    def __str__(self) -> str:
        return f"{self.line} {self.code}" + (f" {self.text}" if self.text else "")


def case_config(case: Path) -> Config:
    """The configuration of the nearest `migrate-ws.toml` above a case."""
    for folder in [case.parent, *case.parent.parents]:
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            table = _tool_table(_read_toml(candidate, str(candidate)))
            if table is None:
                raise ConfigError(f"{candidate}: no [tool.migrate-ws] table")
            return _from_table(table, source=str(candidate))
    raise ConfigError(f"no {CONFIG_NAME} in {case.parent} or above")


def fixture_targets(config: Config, steps: Iterable[str] | None = None, collapse_allowed: bool = True,
                    todo_comments: bool = False) -> Targets:
    """Targets as the engine builds them, for a canonical module known only from the configuration."""
    definition = {config.canonical_module} | {m for m, legacy in config.legacy_modules.items() if legacy.retire}
    if config.implementation_module:
        definition.add(config.implementation_module)
    return Targets(
        config=config,
        steps=frozenset(order() if steps is None else steps),
        canonical_exports=frozenset(config.canonical_exports),
        collapse_allowed=collapse_allowed,
        definition_modules=frozenset(definition),
        api_modules=frozenset(m for m, legacy in config.legacy_modules.items() if not legacy.retire),
        todo_comments=todo_comments,
    )


def run_codemod(before: str, path: str, targets: Targets) -> SourceOutcome:
    return transform_source(before, path, targets)


def assert_codemod(before: str, after: str, path: str, targets: Targets, findings: Iterable[str | Expected] = (),
                   exact: bool = False) -> SourceOutcome:
    """The rewrite of `before` is exactly `after`, parses, passes the safety check, and a second run
    changes nothing; every expected finding (`LINE CODE [text]`) is reported, and with `exact` nothing else."""
    outcome = run_codemod(before, path, targets)
    assert outcome.error is None, outcome.error
    if outcome.text != after:
        import difflib

        diff = "".join(difflib.unified_diff(after.splitlines(True), outcome.text.splitlines(True), "expected", "actual"))
        raise AssertionError(f"rewrite differs from the expected output:\n{diff}")
    ast.parse(outcome.text)
    from .editing import effective
    from .safety import check

    check(before, outcome.text, effective(outcome.edits, order()))
    again = run_codemod(outcome.text, path, targets)
    assert again.text == outcome.text, "a second run changed the output again"
    expected = [item if isinstance(item, Expected) else Expected.parse(item) for item in findings]
    reported = [f"{f.line}: {f.code} {f.message}" for f in outcome.findings]
    for item in expected:
        assert any(item.matches(f) for f in outcome.findings), f"missing follow-up {str(item)!r} in {reported}"
    if exact:  # the expected follow-ups are all of them: nothing else is reported
        extra = [f"{f.line}: {f.code} {f.message}" for f in outcome.findings if not any(e.matches(f) for e in expected)]
        assert not extra, f"unexpected follow-ups: {extra}"
    return outcome


def load_case(before_file: Path) -> tuple[str, str, dict[str, list[str]]]:
    """A case: `<name>.before.py` with `<name>.after.py`, or `<name>.noop.py` (output == input)."""
    before = before_file.read_text(encoding="utf-8")
    if before_file.name.endswith(".noop.py"):
        after = before
    else:
        after = before_file.with_name(before_file.name.replace(".before.py", ".after.py")).read_text(encoding="utf-8")
    directives: dict[str, list[str]] = {}
    for key, value in DIRECTIVE.findall(before):
        directives.setdefault(key, []).append(value.strip())
    return before, after, directives


@dataclass(frozen=True)
class Case:
    """One of a step's examples, read: its texts, its directives, and what it runs with."""

    before: str
    after: str
    directives: dict[str, list[str]]
    path: str  # the path the engine sees (`# path:`)
    options: set[str]
    targets: Targets  # with the steps it runs: up to and including its step, or those `# steps:` names


def read_case(step: str, case: Path) -> Case:
    """A case as the engine runs it: with the steps up to and including `step` (or those its
    `# steps:` directive names), under the nearest configuration and its `# option:` lines."""
    before, after, directives = load_case(case)
    names = order()
    steps = directives.get("steps", [",".join(names[: names.index(step) + 1])])[0].split(",")
    options = set(directives.get("option", []))
    config = case_config(case)
    if "async-factory" in options:
        config = replace(config, factory=replace(config.factory, is_async=True))
    targets = fixture_targets(config, steps=steps, todo_comments="todo-comments" in options)
    return Case(before, after, directives, directives.get("path", ["app/consumer.py"])[0], options, targets)


def check_case(step: str, case: Path) -> SourceOutcome:
    """Run one of a step's examples as the engine would, with the steps up to and including `step` (or those
    its `# steps:` directive names), and check it: `assert_codemod` with its expected follow-ups, no edit for a
    no-op case, and every state `--apply` commits (after each step) parses."""
    read = read_case(step, case)
    outcome = assert_codemod(read.before, read.after, path=read.path, targets=read.targets,
                             findings=read.directives.get("expect-followup", []), exact="exact-findings" in read.options)
    if case.name.endswith(".noop.py"):
        assert not outcome.edits, f"a no-op case has edits: {outcome.edits}"
    for name in steps_touching(outcome.edits, order()):
        ast.parse(state_after(read.before, outcome.edits, order(), name), filename=f"{case.name} after {name}")
    return outcome


def cases(folder: Path) -> list[Path]:
    """The cases of a step's fixture folder and of its subfolders (a subfolder may hold a `migrate-ws.toml` of
    its own: its cases run with that configuration)."""
    return sorted(p for p in folder.rglob("*.py") if p.name.endswith((".before.py", ".noop.py")))
