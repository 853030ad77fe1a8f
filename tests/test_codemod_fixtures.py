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
                             findings=tuple(directives.get("expect-followup", [])))
    if case.name.endswith(".noop.py"):
        assert not outcome.edits


def test_every_codemod_has_cases_and_noops() -> None:
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        names = [p.name for p in folder.glob("*.py")]
        assert any(n.endswith(".before.py") for n in names), f"{folder.name} has no rewrite case"
        assert any(n.endswith(".noop.py") for n in names), f"{folder.name} has no no-op case"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}")
def test_prefilter_lets_every_case_with_work_through(case: Path) -> None:
    """A file the engine would change or report must never be skipped by the text prefilter."""
    from migrate_ws.prefilter import Prefilter
    from migrate_ws.testing import run_codemod

    before, _, directives = load_case(case)
    path = directives.get("path", ["app/consumer.py"])[0]
    outcome = run_codemod(before, path)
    if outcome.edits or outcome.findings:
        assert Prefilter(fixture_targets().config)(before.encode(), path)


def test_prefilter_skips_migrated_code() -> None:
    from migrate_ws.prefilter import Prefilter

    migrated = (
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager, get_websocket_manager\n"
        "from netra_backend.app.websocket_core import events\n\n"
        "def handle(user_context) -> WebSocketManager:\n"
        "    manager = get_websocket_manager(user_context)\n"
        "    assert isinstance(manager, WebSocketManager)\n"
        "    websocket_manager = manager\n"
        "    return websocket_manager\n"
    )
    prefilter = Prefilter(fixture_targets().config)
    assert not prefilter(migrated.encode(), "app/handlers.py")
    assert prefilter(migrated.replace("get_websocket_manager(user_context)", "get_websocket_manager()").encode(), "app/x.py")
    assert prefilter(migrated.replace("WebSocketManager)", "UnifiedWebSocketManager)").encode(), "app/x.py")
    assert prefilter(b"from netra_backend.app.websocket_core import (\n    events,\n    WebSocketManager,\n)\n", "app/x.py")
    assert prefilter(b"from . import manager as m\n", "netra_backend/app/websocket_core/x.py")
    assert prefilter(b'sys.modules["netra_backend.app.websocket_core.manager"] = None\n', "tests/t.py")


def test_prefilter_sees_deep_relative_imports_and_unbound_names() -> None:
    from migrate_ws.prefilter import Prefilter

    prefilter = Prefilter(fixture_targets().config)
    assert prefilter(b"from ...websocket_core.manager import WebSocketManager\n", "netra_backend/app/x/y.py")
    assert prefilter(b"def f(m: WebSocketManager) -> None:\n    pass\n", "tests/t.py")
    assert prefilter(b"def f(websocket_manager: WebSocketManager) -> None:\n    pass\n", "tests/t.py")
