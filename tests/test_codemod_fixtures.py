"""Every step's examples (before/after and no-op cases, migrate_ws/codemods/examples/), run through the real engine.

Each case runs with the migration's steps up to and including its codemod's step, and must
match exactly, parse, and be left unchanged by a second run. No-op cases must come back
byte-identical; `# expect-followup: LINE CODE` lines name follow-ups the case must report
(`migrate_ws.testing.check_case`).
"""

from __future__ import annotations

import pytest

from migrate_ws.config import load_preset
from migrate_ws.steps import all_steps, get, order
from migrate_ws.testing import case_config, cases, check_case, fixture_targets, load_case, run_codemod

NETRA = load_preset("netra")
CASES = [(step.name, case) for step in all_steps() if step.examples is not None for case in cases(step.examples)]


def steps_through(step: str) -> tuple[str, ...]:
    names = order()
    return names[: names.index(step) + 1]


def case_id(item) -> str:
    step, case = item
    folder = case.parent.relative_to(get(step).examples).as_posix()
    return f"{step}/{'' if folder == '.' else folder + '/'}{case.name.split('.')[0]}"


@pytest.mark.parametrize("item", CASES, ids=case_id)
def test_fixture_case(item) -> None:
    step, case = item
    check_case(step, case)


def test_every_step_has_cases_and_noops() -> None:
    for step in all_steps():
        if not step.per_file:
            continue
        assert step.examples is not None, f"step {step.name} has no examples"
        names = [p.name for p in step.examples.glob("*.py")]
        assert any(n.endswith(".before.py") for n in names), f"{step.name} has no rewrite case"
        assert any(n.endswith(".noop.py") for n in names), f"{step.name} has no no-op case"


@pytest.mark.parametrize("item", CASES, ids=case_id)
def test_prefilter_lets_every_case_with_work_through(item) -> None:
    """A file the engine would change or report must never be skipped by the text prefilter."""
    from migrate_ws.prefilter import Prefilter

    _, case = item
    before, _, directives = load_case(case)
    path = directives.get("path", ["app/consumer.py"])[0]
    config = case_config(case)
    outcome = run_codemod(before, path, fixture_targets(config))
    if outcome.edits or outcome.findings:
        assert Prefilter(config)(before.encode(), path)


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
    prefilter = Prefilter(NETRA)
    assert not prefilter(migrated.encode(), "app/handlers.py")
    assert prefilter(migrated.replace("get_websocket_manager(user_context)", "get_websocket_manager()").encode(), "app/x.py")
    assert prefilter(migrated.replace("WebSocketManager)", "UnifiedWebSocketManager)").encode(), "app/x.py")
    assert prefilter(b"from netra_backend.app.websocket_core import (\n    events,\n    WebSocketManager,\n)\n", "app/x.py")
    assert prefilter(b"from . import manager as m\n", "netra_backend/app/websocket_core/x.py")
    assert prefilter(b'sys.modules["netra_backend.app.websocket_core.manager"] = None\n', "tests/t.py")


def test_prefilter_sees_deep_relative_imports_and_unbound_names() -> None:
    from migrate_ws.prefilter import Prefilter

    prefilter = Prefilter(NETRA)
    assert prefilter(b"from ...websocket_core.manager import WebSocketManager\n", "netra_backend/app/x/y.py")
    assert prefilter(b"def f(m: WebSocketManager) -> None:\n    pass\n", "tests/t.py")
    assert prefilter(b"def f(websocket_manager: WebSocketManager) -> None:\n    pass\n", "tests/t.py")
