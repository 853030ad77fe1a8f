"""A context fallback's `expression` is pasted into the code as a call's argument, so the
configuration accepts exactly one expression of a shape that cannot run anything else: a name
or dotted name, or a call of one whose arguments are literals. Anything else is a one-line
configuration error (exit 2), before anything is planned or written."""

from __future__ import annotations

import copy

import pytest

from helpers import branches, git, make_repo, repo_state, run_cli
from migrate_ws.config import ConfigError, parse_config

BYPASS = '__import__("os").system("touch pwned")) (create_test_user_context'
BASE = {
    "canonical-module": "shop.payments.client",
    "legacy-modules": {"shop.legacy": ["PaymentClient"]},
    "factory": {"function": "get_client", "context-parameter": "context", "classes": ["PaymentClient"]},
}


def fallback(expression: str):
    table = copy.deepcopy(BASE)
    table["factory"]["context-fallbacks"] = {"tests/": {"expression": expression, "import": "shop.testing"}}
    return parse_config(table, source="test")


def test_the_bypass_is_refused_by_the_real_command_and_nothing_is_written(tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", broken=False, use_git=False)
    (repo / "pyproject.toml").write_text(
        '[tool.migrate-ws]\npreset = "netra"\n\n[tool.migrate-ws.factory.context-fallbacks]\n'
        f"\"**/tests/**\" = {{ expression = '{BYPASS}', import = \"netra_backend.testing\" }}\n", encoding="utf-8")
    (repo / "netra_backend" / "testing.py").write_text("def create_test_user_context():\n    return None\n")
    # a test with no context in scope: where the fallback's expression would be pasted
    (repo / "tests").mkdir()
    (repo / "tests" / "test_notify.py").write_text(
        "from netra_backend.app.websocket_core.manager import get_websocket_manager\n\n\n"
        "def test_notify():\n    assert get_websocket_manager() is not None\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=Test User", "-c", "user.email=test.user@example.com", "add", "-A")
    git(repo, "-c", "user.name=Test User", "-c", "user.email=test.user@example.com", "commit", "-q", "-m", "legacy")
    before = repo_state(repo)

    for command in (["--apply", "--branch", "migrated"], ["--check"]):
        result = run_cli([*command, "-C", repo], cwd=repo)

        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.splitlines() == [
            f"migrate-ws: error: tool.migrate-ws.factory.context-fallbacks.\"**/tests/**\".expression: {BYPASS!r} "
            "is not a Python expression"]
    assert repo_state(repo) == before and "migrated" not in branches(repo)
    assert not (repo / "pwned").exists()
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("expression", [
    BYPASS,
    '__import__("os").system("x")',
    "os.__class__()",
    "make().__class__",
    "make()()",
    "make().context",
    "make()[0]",
    'make("a" + "b")',
    "make(not True)",
    "make(1) if True else make(2)",
])
def test_anything_but_a_name_or_a_call_with_literal_arguments_is_refused(expression: str) -> None:
    with pytest.raises(ConfigError) as error:
        fallback(expression)

    message = str(error.value)
    assert message.startswith('tool.migrate-ws.factory.context-fallbacks."tests/".expression: ') and "\n" not in message


def test_the_allowed_shapes() -> None:
    allowed = {
        "make_test_context()": "make_test_context",
        "  make_test_context()  ": "make_test_context",
        "TEST_CONTEXT": "TEST_CONTEXT",
        "shop.testing.contexts.for_tests()": "shop",
        "contexts.for_tests('user-1', -1, 2.5, None, True, b'x', user=\"t\", tags=['a', ('b', 1)], extra={'k': {1}})":
            "contexts",
    }
    for expression, name in allowed.items():
        (entry,) = fallback(expression).factory.context_fallbacks
        assert (entry.expression, entry.name) == (expression.strip(), name)
    refused = {
        "make()  # a comment would swallow the rest of the call": "has a comment",
        "make(*args)": "must be one plain expression",
        "make(**{'a': 1})": "must be one plain expression",
        "lambda: make()": "must be one plain expression",
        "(ctx := make())": "must be one plain expression",
        "[make() for _ in range(1)]": "must be one plain expression",
        "__builtins__.make()": "uses __builtins__; names starting with __ are refused",
        "make(), make()": "must be one plain expression",
        'os.system("x")) or (make(': "is not a Python expression",
        "make(context)": "uses 2 names",
    }
    for expression, reason in refused.items():
        with pytest.raises(ConfigError, match=r".*" + reason.replace("(", r"\(")):
            fallback(expression)
