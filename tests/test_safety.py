"""The AST safety check rejects a rewrite that does anything its declared edits do not."""

from __future__ import annotations

import pytest

from migrate_ws import engine
from migrate_ws.config import load_preset
from migrate_ws.engine import plan
from migrate_ws.model import FileStatus
from migrate_ws.safety import UnsafeRewrite, check
from migrate_ws.testing import run_codemod

BEFORE = """from netra_backend.app.websocket_core.manager import UnifiedWebSocketManager


def make(x):
    return isinstance(x, UnifiedWebSocketManager) and x.limit > 10
"""


def test_declared_edits_pass() -> None:
    outcome = run_codemod(BEFORE)
    assert outcome.edits
    check(BEFORE, outcome.text, outcome.edits)


def test_an_undeclared_change_is_rejected() -> None:
    outcome = run_codemod(BEFORE)
    tampered = outcome.text.replace("x.limit > 10", "x.limit > 11")
    with pytest.raises(UnsafeRewrite):
        check(BEFORE, tampered, outcome.edits)


def test_an_edit_spliced_at_the_wrong_place_is_rejected() -> None:
    outcome = run_codemod(BEFORE)
    tampered = outcome.text.replace("isinstance(x, WebSocketManager)", "isinstance(WebSocketManager, x)")
    with pytest.raises(UnsafeRewrite):
        check(BEFORE, tampered, outcome.edits)


def test_engine_never_writes_a_rewrite_that_fails_the_check(tmp_path, monkeypatch) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "consumer.py").write_text(BEFORE, encoding="utf-8")
    real = engine.apply_edits

    def corrupting(text, edits):
        new_text, error = real(text, edits)
        return new_text.replace("> 10", "> 99"), error

    monkeypatch.setattr(engine, "apply_edits", corrupting)
    result = plan(tmp_path, load_preset("netra"), jobs=1, check_idempotence=True)
    (file_result,) = [r for r in result.files if r.path == "app/consumer.py"]
    assert file_result.status is FileStatus.FAILED
    assert "safety check failed" in file_result.reason
    assert (tmp_path / "app" / "consumer.py").read_text(encoding="utf-8") == BEFORE


def test_dry_run_region_check_catches_a_rewrite_that_does_not_parse() -> None:
    import ast

    from migrate_ws.engine import apply_edits, changed_regions_parse
    from migrate_ws.model import Edit

    text = "import os\n\n\ndef f():\n    return os.sep\n\n\nX = 1\n"
    tree = ast.parse(text)
    start = text.index("os.sep")
    broken = [Edit(start, start + 2, "(os", "aliases", 5, "broken")]
    new_text, _ = apply_edits(text, list(broken))
    assert changed_regions_parse(text, tree, broken, new_text) is not None
    fine = [Edit(start, start + 2, "os ", "aliases", 5, "fine")]
    new_text, _ = apply_edits(text, list(fine))
    assert changed_regions_parse(text, tree, fine, new_text) is None


def test_region_check_covers_decorators() -> None:
    from migrate_ws.testing import run_codemod

    before = ('from unittest.mock import patch\n\n\n@patch("netra_backend.app.websocket_core.manager.WebSocketManager")\n'
              'def test_it(mock):\n    pass\n')
    import ast

    from migrate_ws.engine import changed_regions_parse

    outcome = run_codemod(before)
    assert outcome.edits
    assert changed_regions_parse(before, ast.parse(before), outcome.edits, outcome.text) is None
