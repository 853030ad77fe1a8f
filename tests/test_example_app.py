"""The example app's own tests (fixtures/legacy_app/tests) use every shape the factory step now
rewrites or leaves: they pass on the legacy layout and after the real `migrate-ws --apply`, which
takes its context fallback from the app's pyproject.toml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import git_init_and_commit

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "fixtures" / "legacy_app"
IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def env() -> dict[str, str]:
    values = {**os.environ, **IDENTITY, "PYTHONDONTWRITEBYTECODE": "1"}
    values["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), values.get("PYTHONPATH")]))
    return values


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True, timeout=300)


def app_tests(app: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], app)


def test_the_apps_tests_pass_before_and_after_the_migration(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git_init_and_commit(app, "Legacy app")
    before = app_tests(app)
    assert before.returncode == 0, before.stdout + before.stderr

    dry_run = run([sys.executable, "-m", "migrate_ws", "--dry-run", "--json"], app)
    findings = {(f["path"], f["code"]): f["message"] for f in json.loads(dry_run.stdout)["findings"]}
    assert "create_test_user_context()" in findings[("tests/test_system_notices.py", "MW307")]
    assert "returned" in findings[("tests/test_system_notices.py", "MW303")]  # the fixture's factory object escapes
    assert "`_ssot_authorization_token`" in findings[("tests/test_system_notices.py", "MW302")]
    # production code does not match the fallback's pattern: its site stays a follow-up
    assert ("netra_backend/app/services/admin_tools.py", "MW301") in findings
    assert not any(path == "tests/test_manager_contexts.py" for path, _ in findings)

    applied = run([sys.executable, "-m", "migrate_ws", "--apply"], app)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    contexts = (app / "tests" / "test_manager_contexts.py").read_text()
    assert "return get_websocket_manager(ctx)" in contexts  # an annotated parameter
    assert "return get_websocket_manager(self._context)" in contexts  # set once in __init__
    assert "factory" not in contexts.split("def isolated_manager", 1)[1].split("def ", 1)[0].replace(
        "get_websocket_manager(user_context)", "")  # the factory object is gone
    assert "get_websocket_manager(mode=WebSocketManagerMode.EMERGENCY, user_context=ctx)" in contexts
    notices = (app / "tests" / "test_system_notices.py").read_text()
    assert "import WebSocketManagerFactory, get_websocket_manager, create_test_user_context\n" in notices
    assert "manager = get_websocket_manager(create_test_user_context())" in notices
    after = app_tests(app)
    assert after.returncode == 0, after.stdout + after.stderr


def test_the_apps_strings_are_reported_by_what_they_are(tmp_path: Path) -> None:
    """Templates naming the canonical module below the legacy package report nothing; hints and messages
    quoting the old paths are notes; the list of compatibility modules a test imports is a follow-up."""
    app = tmp_path / "app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dry_run = run([sys.executable, "-m", "migrate_ws", "--dry-run", "--json"], app)
    document = json.loads(dry_run.stdout)
    stubs = "netra_backend/app/services/event_handler_stubs.py"
    compatibility = "tests/test_compatibility_modules.py"
    found = {(f["path"], f["line"]): f["code"] for f in document["findings"] if f["path"] in (stubs, compatibility)}
    lines = {path: (app / path).read_text().splitlines() for path in (stubs, compatibility)}

    def line_of(path: str, text: str) -> int:
        return next(number for number, line in enumerate(lines[path], 1) if text in line)

    assert found == {
        (stubs, line_of(stubs, '("from netra_backend.app.websocket_core.manager import')): "MW405",
        (stubs, line_of(stubs, '("from netra_backend.app.websocket_core.websocket_manager_factory import')): "MW405",
        (stubs, line_of(stubs, 'raise LookupError("netra_backend.app.websocket_core.manager is retired')): "MW405",
        (compatibility, line_of(compatibility, '"netra_backend.app.websocket_core.manager",')): "MW404",
        (compatibility, line_of(compatibility, '"netra_backend.app.websocket_core.websocket_manager_factory",')): "MW404",
        (compatibility, line_of(compatibility, 'assert import_hint("from netra_backend')): "MW405",
    }
    # notes are counted apart from the follow-ups a reviewer must clear
    summary = document["summary"]
    assert summary["warnings"] == sum(1 for f in document["findings"] if f["severity"] == "warning")
    assert summary["notes"] == sum(1 for f in document["findings"] if f["severity"] == "info")
