"""The user's 17 seed tests fail on the legacy app and pass after `migrate-ws --apply`.

A copy of fixtures/legacy_app is made a git repository; the seed plan
(tests/acceptance/seed_plan) runs against it in a subprocess (once, for both tests), then
the real command migrates it (netra preset, the default), then the seed plan runs again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import git_init_and_commit

REPO = Path(__file__).resolve().parents[2]
LEGACY_APP = REPO / "fixtures" / "legacy_app"
SEED_PLAN = Path(__file__).resolve().parent / "seed_plan"

# Each seed test and the reason it must fail for on the legacy app.
EXPECTED_FAILURES = {
    "test_multiple_websocket_manager_implementations_detected": "Multiple WebSocket manager classes found",
    "test_websocket_manager_import_path_fragmentation": "Multiple import paths for WebSocket managers",
    "test_websocket_manager_alias_consistency": "Aliases point to different implementations",
    "test_websocket_manager_factory_pattern_violations": "Multiple factory patterns and singleton usage",
    "test_websocket_manager_circular_import_detection": "Circular imports detected",
    "test_websocket_manager_factory_consistency": "Different factory methods create different manager types",
    "test_websocket_manager_user_isolation_enforcement": "Shared state between users (singleton contamination)",
    "test_websocket_manager_factory_thread_safety": "Race conditions in factory creation",
    "test_websocket_manager_factory_memory_isolation": "Memory shared between user contexts",
    "test_websocket_manager_user_data_isolation": "User data leaks between manager instances",
    "test_websocket_manager_concurrent_operation_isolation": "Concurrent operations share state",
    "test_websocket_manager_memory_boundary_enforcement": "Shared memory allows cross-user access",
    "test_websocket_manager_thread_local_isolation": "Thread-local data leaks between users",
    "test_websocket_manager_compliance_boundary_validation": "Compliance data leaks between different levels",
    "test_golden_path_event_sequence_integrity": "missing or out-of-order events",
    "test_concurrent_user_event_isolation": "Events leak between users due to shared manager state",
    "test_websocket_manager_recovery_after_failure": "Failures cascade and prevent recovery",
}

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "migrate-ws acceptance",
    "GIT_AUTHOR_EMAIL": "acceptance@example.invalid",
    "GIT_COMMITTER_NAME": "migrate-ws acceptance",
    "GIT_COMMITTER_EMAIL": "acceptance@example.invalid",
}


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_IDENTITY)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep the app's work tree clean
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _legacy_repository(root: Path) -> Path:
    app = root / "app"
    shutil.copytree(LEGACY_APP, app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git_init_and_commit(app, "Legacy app")
    return app


def _run_seed_plan(app: Path, report: Path) -> dict[str, tuple[str, str]]:
    """Runs the 17 tests against `app`; returns name -> (outcome, failure text)."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(SEED_PLAN), "-p", "no:cacheprovider", "-q",
         f"--junitxml={report}"],
        cwd=REPO, env=_env(MIGRATE_WS_APP_ROOT=str(app)), capture_output=True, text=True, timeout=300,
    )
    assert report.is_file(), f"the seed plan did not run:\n{completed.stdout}\n{completed.stderr}"
    results = {}
    for case in ET.parse(report).iter("testcase"):
        problem = next((case.find(tag) for tag in ("failure", "error", "skipped") if case.find(tag) is not None), None)
        if problem is None:
            results[case.get("name")] = ("passed", "")
        else:
            text = f"{problem.get('message', '')}\n{problem.text or ''}"
            results[case.get("name")] = ({"failure": "failed"}.get(problem.tag, problem.tag), text)
    return results


def _check_legacy_failures(results: dict[str, tuple[str, str]]) -> None:
    assert set(results) == set(EXPECTED_FAILURES), (
        f"expected the 17 seed tests, got missing={sorted(set(EXPECTED_FAILURES) - set(results))} "
        f"extra={sorted(set(results) - set(EXPECTED_FAILURES))}"
    )
    wrong = {
        name: (outcome, text[:300])
        for name, (outcome, text) in results.items()
        if outcome != "failed" or EXPECTED_FAILURES[name] not in text
    }
    assert not wrong, f"seed tests that did not fail for their reason on the legacy app: {wrong}"


@pytest.fixture(scope="module")
def legacy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[str, str]]]:
    """The legacy app and the seed plan's results on it: run once (it takes seconds), shared
    by the test that checks them and the test that migrates the app."""
    root = tmp_path_factory.mktemp("seed-plan")
    app = _legacy_repository(root)
    return app, _run_seed_plan(app, root / "before.xml")


def test_seed_plan_fails_on_legacy_app(legacy_run):
    _, before = legacy_run
    _check_legacy_failures(before)


def test_seed_plan_passes_after_migration(legacy_run, tmp_path):
    app, before = legacy_run
    _check_legacy_failures(before)

    migrated = subprocess.run(
        [sys.executable, "-m", "migrate_ws", "--apply"],
        cwd=app, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert migrated.returncode == 0, (
        f"migrate-ws --apply exited {migrated.returncode}:\n{migrated.stdout}\n{migrated.stderr}"
    )

    after = _run_seed_plan(app, tmp_path / "after.xml")
    assert set(after) == set(EXPECTED_FAILURES), f"seed tests collected after migration: {sorted(after)}"
    not_passing = {name: (outcome, text[:500]) for name, (outcome, text) in after.items() if outcome != "passed"}
    assert not not_passing, f"seed tests still failing after migrate-ws --apply: {not_passing}"
