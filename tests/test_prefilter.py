"""The byte prefilter: fast, and never rules out a file the migration would change or report.

Its cheap per-occurrence tests (whole words, an `import` nearby, a relative dotted name
after `from`) must be necessary conditions of the exact patterns; these cases pin each one.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_strategies import legacy_modules
from migrate_ws.prefilter import Prefilter
from migrate_ws.config import load_preset
from migrate_ws.testing import fixture_targets, run_codemod

PREFILTER = Prefilter(fixture_targets(load_preset("netra")).config)
CONSUMER = "netra_backend/app/services/consumer.py"
CANONICAL_IMPORT = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"

MUST_PASS = {
    "relative from the package": "from .manager import WebSocketManager\n",
    "relative from a parent": "from ..websocket_core.manager import WebSocketManager\n",
    "relative module object": "from . import manager\n",
    "relative module object aliased": "from . import manager as legacy\n",
    "relative list with the module": "from . import events, manager\n",
    "relative parenthesised list with comments": "from . import (\n    events,  # the bus\n    # legacy, going away\n    manager,\n)\n",
    "relative multi-line name list": "from ..websocket_core.manager import (\n    # comment\n    WebSocketManager,\n)\n",
    "relative with tabs": "from\t.manager\timport\tWebSocketManager\n",
    "relative with CRLF": "from .manager import (\r\n    WebSocketManager,\r\n)\r\n",
    "relative after a semicolon": "x = 1; from .manager import WebSocketManager\n",
    "relative in an indented block": "def f():\n    if True:\n        from .manager import WebSocketManager\n",
    "relative with continuation": "from .manager \\\n    import WebSocketManager\n",
    "relative retired module": "from .manager import something_else\n",
    "absolute": "from netra_backend.app.websocket_core.manager import WebSocketManager\n",
    "absolute module object": "import netra_backend.app.websocket_core.manager as m\n",
    "absolute parent import": "from netra_backend.app.websocket_core import manager\n",
    "absolute attribute": "x = netra_backend.app.websocket_core.manager.WebSocketManager\n",
    "module path in a string": 'patch("netra_backend.app.websocket_core.manager")\n',
    "legacy alias": "x = UnifiedWebSocketManager\n",
    "deprecated factory": "m = create_websocket_manager(ctx)\n",
    "canonical spelling without a canonical import": "def f(m: WebSocketManager) -> None:\n    pass\n",
    "canonical factory without a context": CANONICAL_IMPORT.replace("WebSocketManager", "get_websocket_manager")
    + "m = get_websocket_manager()\n",
    "canonical class instantiated": CANONICAL_IMPORT + "m = WebSocketManager()\n",
    "canonical import only in a docstring": '"""from netra_backend.app.websocket_core.websocket_manager import WebSocketManager"""\n'
    "def f(m: WebSocketManager) -> None:\n    pass\n",
    "canonical import only in a comment": "# from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
    "def f(m: WebSocketManager) -> None:\n    pass\n",
}

MAY_SKIP = {
    "attribute named manager": "self.manager.send(message)\nreturn self.manager\n",
    "variable named manager": "manager = object()\nmanager.run()\n",
    "websocket_manager variable in migrated code": CANONICAL_IMPORT + "websocket_manager = WebSocketManager\n",
    "migrated code": CANONICAL_IMPORT.replace("WebSocketManager", "WebSocketManager, get_websocket_manager")
    + "def f(user_context):\n    return get_websocket_manager(user_context)\n",
    "canonical import in a parenthesised list": "from netra_backend.app.websocket_core.websocket_manager import (\n"
    "    WebSocketManager,\n)\nx: WebSocketManager\n",
    "from another package's manager": "from other.manager import Something\n",
    "nothing at all": "print('hello')\n",
}


INSIDE = "netra_backend/app/websocket_core/consumer.py"  # where `.manager` is the legacy module


@pytest.mark.parametrize("name", sorted(MUST_PASS))
def test_lets_through(name: str) -> None:
    # a relative import names a legacy module from inside its package (elsewhere, another module)
    path = INSIDE if name.startswith("relative") else CONSUMER
    if name.startswith("relative"):
        outcome = run_codemod(MUST_PASS[name], path, fixture_targets(load_preset("netra")))
        assert outcome.edits or outcome.findings, "the example is meant to need a change there"
    assert PREFILTER(MUST_PASS[name].encode(), path)


@pytest.mark.parametrize("name", sorted(MAY_SKIP))
def test_skips_what_cannot_need_a_change(name: str) -> None:
    text = MAY_SKIP[name]
    outcome = run_codemod(text, CONSUMER, fixture_targets(load_preset("netra")))
    assert not outcome.edits and not outcome.findings, "the example is meant to need nothing"
    assert not PREFILTER(text.encode(), CONSUMER)


def test_every_spelling_is_found_through_an_anchor() -> None:
    assert PREFILTER.needles_by_anchor
    for anchor, needles in PREFILTER.needles_by_anchor.items():
        for needle, offset in needles:
            assert needle[offset:offset + len(anchor)] == anchor


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(legacy_modules(), st.sampled_from([CONSUMER, INSIDE, "netra_backend/tests/test_consumer.py",
                                          "tests/unit/test_consumer.py", "consumer.py"]))
def test_a_generated_module_with_work_is_never_skipped(generated, path: str) -> None:
    """Inside the legacy modules' package, outside it (no relative import can reach them), and
    at the root (in no package)."""
    outcome = run_codemod(generated.text, path, fixture_targets(load_preset("netra")))
    if outcome.edits or outcome.findings:
        assert PREFILTER(generated.text.encode(), path)


OUTSIDE = "tests/unit/test_handlers.py"  # not in the legacy modules' top-level package


@pytest.mark.parametrize("text", [
    "from netra_backend.app.websocket_core import manager\n",
    "from netra_backend.app.websocket_core import (\n    events,\n    unified_manager as um,\n)\n",
    "from netra_backend.app import websocket_core\n",
    "from netra_backend.app.websocket_core.manager import WebSocketManager\n",
])
def test_outside_the_legacy_packages_absolute_imports_still_pass(text: str) -> None:
    assert PREFILTER(text.encode(), OUTSIDE)


@pytest.mark.parametrize("text", [
    "from .manager import Helper\n",
    "from . import manager\n",
    "from ..unified_init import setup\n",
])
def test_outside_the_legacy_packages_a_relative_import_cannot_name_a_legacy_module(text: str) -> None:
    """It resolves inside the file's own package: the engine plans nothing, so the prefilter
    may skip the file without looking for the legacy modules' last parts at all."""
    outcome = run_codemod(text, OUTSIDE, fixture_targets(load_preset("netra")))
    assert not outcome.edits and not outcome.findings
    assert not PREFILTER(text.encode(), OUTSIDE)
    assert PREFILTER(text.encode(), "netra_backend/app/websocket_core/x.py") or "unified_init" in text
    assert PREFILTER(text.encode(), "root_module.py") or "unified_init" in text


@pytest.mark.parametrize("path, relative_import", [
    ("netra_backend/app/services/consumer.py", "from ..websocket_core.manager import WebSocketManagerMode"),
    ("netra_backend/app/services/consumer.py", "from ..websocket_core import (\n    events,\n    manager,\n)"),
    ("netra_backend/app/services/consumer.py", "from ..websocket_core.unified_manager import (\n    WebSocketManagerMode,\n)"),
    ("netra_backend/tests/test_consumer.py", "from ..app.websocket_core.manager import WebSocketManagerMode"),
    ("netra_backend/tests/deep/test_consumer.py", "from ...app.websocket_core import manager as legacy"),
])
def test_above_the_legacy_module_s_package_a_relative_import_spells_its_parent(path: str, relative_import: str) -> None:
    """Where `.manager` would be another module, a relative import of the legacy module spells
    its parent package too: found through the parent's last part, which costs no scan of its own.
    (The canonical import beside it keeps the canonical spellings from letting the file through.)"""
    text = f"{CANONICAL_IMPORT}{relative_import}\n\nmode = WebSocketManagerMode\n"
    outcome = run_codemod(text, path, fixture_targets(load_preset("netra")))
    assert outcome.edits or outcome.findings, "the example is meant to need a change there"
    assert PREFILTER(text.encode(), path)
    assert PREFILTER._scope_for(path).needles.anchors == [b"ocket"]
