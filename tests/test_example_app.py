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
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Legacy app"]):
        subprocess.run(["git", *args], cwd=app, env=env(), check=True, capture_output=True)
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
