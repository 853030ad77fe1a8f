"""The AST safety check rejects a rewrite that does anything its declared edits do not."""

from __future__ import annotations

import pytest

from migrate_ws import transform
from migrate_ws.editing import effective
from migrate_ws.config import load_preset
from migrate_ws.engine import plan
from migrate_ws.model import FileStatus
from migrate_ws.safety import UnsafeRewrite, check
from migrate_ws.steps import order
from migrate_ws.testing import fixture_targets, run_codemod

BEFORE = """from netra_backend.app.websocket_core.manager import UnifiedWebSocketManager


def make(x):
    return isinstance(x, UnifiedWebSocketManager) and x.limit > 10
"""


def final_edits(outcome):
    return effective(outcome.edits, order())


def test_declared_edits_pass() -> None:
    outcome = run_codemod(BEFORE, "app/consumer.py", fixture_targets(load_preset("netra")))
    assert outcome.edits
    check(BEFORE, outcome.text, final_edits(outcome))


def test_an_undeclared_change_is_rejected() -> None:
    outcome = run_codemod(BEFORE, "app/consumer.py", fixture_targets(load_preset("netra")))
    tampered = outcome.text.replace("x.limit > 10", "x.limit > 11")
    with pytest.raises(UnsafeRewrite):
        check(BEFORE, tampered, final_edits(outcome))


def test_an_edit_spliced_at_the_wrong_place_is_rejected() -> None:
    outcome = run_codemod(BEFORE, "app/consumer.py", fixture_targets(load_preset("netra")))
    tampered = outcome.text.replace("isinstance(x, WebSocketManager)", "isinstance(WebSocketManager, x)")
    with pytest.raises(UnsafeRewrite):
        check(BEFORE, tampered, final_edits(outcome))


def test_engine_never_writes_a_rewrite_that_fails_the_check(tmp_path, monkeypatch) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "consumer.py").write_text(BEFORE, encoding="utf-8")
    real = transform.splice

    def corrupting(text, edits):
        return real(text, edits).replace("> 10", "> 99")

    monkeypatch.setattr(transform, "splice", corrupting)
    result = plan(tmp_path, load_preset("netra"), jobs=1, verify=True)
    (file_result,) = [r for r in result.files if r.path == "app/consumer.py"]
    assert file_result.status is FileStatus.FAILED
    assert "safety check failed" in file_result.reason
    assert (tmp_path / "app" / "consumer.py").read_text(encoding="utf-8") == BEFORE


def test_dry_run_region_check_catches_a_rewrite_that_does_not_parse() -> None:
    import ast

    from migrate_ws.editing import splice
    from migrate_ws.model import Edit
    from migrate_ws.verification import changed_regions_parse

    text = "import os\n\n\ndef f():\n    return os.sep\n\n\nX = 1\n"
    tree = ast.parse(text)
    start = text.index("os.sep")
    broken = [Edit(start, start + 2, "(os", "aliases", 5, "broken")]
    new_text = splice(text, broken)
    assert changed_regions_parse(text, tree, broken, new_text) is not None
    fine = [Edit(start, start + 2, "os ", "aliases", 5, "fine")]
    new_text = splice(text, fine)
    assert changed_regions_parse(text, tree, fine, new_text) is None


def test_region_check_covers_decorators() -> None:
    from migrate_ws.testing import fixture_targets, run_codemod

    before = ('from unittest.mock import patch\n\n\n@patch("netra_backend.app.websocket_core.manager.WebSocketManager")\n'
              'def test_it(mock):\n    pass\n')
    import ast

    from migrate_ws.verification import changed_regions_parse

    outcome = run_codemod(before, "app/consumer.py", fixture_targets(load_preset("netra")))
    assert outcome.edits
    assert changed_regions_parse(before, ast.parse(before), final_edits(outcome), outcome.text) is None


def test_region_check_parses_an_indented_multi_line_region_on_its_own(monkeypatch) -> None:
    """A touched statement of three lines in a function body: dedent takes its indentation off
    each line once, and the region is parsed alone, not the whole file."""
    import ast

    from migrate_ws import verification
    from migrate_ws.editing import splice
    from migrate_ws.model import Edit

    text = "def f():\n    x = call(\n        a.b,\n    )\n    return x\n"
    start = text.index("a.b")
    whole_file_parses: list[str] = []
    real = verification._whole_file_problem
    monkeypatch.setattr(verification, "_whole_file_problem", lambda new: whole_file_parses.append(new) or real(new))
    broken = [Edit(start, start + 3, "(a.b", "imports", 3, "broken")]
    assert verification.changed_regions_parse(text, ast.parse(text), broken, splice(text, broken)) is not None
    whole_file_parses.clear()  # a region that does not parse is parsed whole, for the message
    fine = [Edit(start, start + 3, "a.b or None", "imports", 3, "fine")]
    assert verification.changed_regions_parse(text, ast.parse(text), fine, splice(text, fine)) is None
    assert not whole_file_parses


def test_apply_verification_reports_a_rewrite_that_does_not_parse_and_a_second_run_with_work() -> None:
    """With a second run (what --apply verifies), its whole-file parse stands in for the region
    check; a rewrite that does not parse is still reported as such."""
    import ast

    from migrate_ws.editing import splice
    from migrate_ws.model import Edit
    from migrate_ws.verification import SecondRun, verify_rewrite

    text = "import os\n\n\ndef f():\n    return os.sep\n"
    tree = ast.parse(text)
    start = text.index("os.sep")

    def parsing_second_run(rewritten: str) -> SecondRun:
        ast.parse(rewritten)
        return SecondRun([], parsed=True)

    broken = [Edit(start, start + 2, "(os", "aliases", 5, "broken")]
    problem = verify_rewrite(text, tree, broken, splice(text, broken), ("aliases",), True, second_run=parsing_second_run)
    assert problem is not None and problem.startswith("the rewrite does not parse ('(' was never closed")
    fine = [Edit(start, start + 2, "posix", "aliases", 5, "fine")]
    assert verify_rewrite(text, tree, fine, splice(text, fine), ("aliases",), True, second_run=parsing_second_run) is None
    more = SecondRun([Edit(0, 0, "# x\n", "aliases", 7, "again")], parsed=True)
    problem = verify_rewrite(text, tree, fine, splice(text, fine), ("aliases",), True, second_run=lambda _: more)
    assert problem == "a second run would change line 7 again"
    # a second run the prefilter answered without parsing leaves the region check to catch it
    problem = verify_rewrite(text, tree, broken, splice(text, broken), ("aliases",), True,
                             second_run=lambda _: SecondRun([], parsed=False))
    assert problem is not None and problem.startswith("the rewrite does not parse")


@pytest.mark.parametrize("first, second", [
    ("x = 1", "x = 1"), ("x = 1", "x = True"), ("x = 1", "x = 1.0"), ("x = 1", "x  =  1  # c"),
    ("f(a, b)", "f(a)"), ("f(a, b)", "f(b, a)"), ("import a.b as c", "import a.b as d"),
    ("x: 'A' = 1e999", "x: 'A' = 1e999"), ("x = b'a'", "x = 'a'"), ("x = u'a'", "x = 'a'"),
    ("@d\ndef f(): pass", "def f(): pass"), ("del x", "x"), ("a = b = c", "a = b"),
])
def test_same_tree_answers_as_comparing_dumps(first: str, second: str) -> None:
    import ast

    from migrate_ws.safety import same_tree

    one, other = ast.parse(first), ast.parse(second)
    assert same_tree(one, other) == (ast.dump(one) == ast.dump(other))


def test_the_locator_walks_only_what_overlaps_an_edit() -> None:
    import ast

    from migrate_ws.model import Edit
    from migrate_ws.safety import _Locator

    text = "class A:\n    def f(self):\n        return 1\n\n    @patch('x.y')\n    def g(self):\n        return 2\n"
    start = text.index("x.y")
    locator = _Locator(text, ast.parse(text), [Edit(start, start + 3, "z.y", "strings", 5, "")])
    names = {type(node).__name__ for entries in locator.spans.values() for node, *_ in entries}
    assert "Constant" in names and "Call" in names  # the decorator, found though it precedes g's own span
    assert not any(isinstance(node, ast.Return) for entries in locator.spans.values() for node, *_ in entries)
