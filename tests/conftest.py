"""Shared fixtures; shared functions and data are in helpers.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import end_paused_runs, make_legacy_repo  # noqa: E402


@pytest.fixture
def legacy_repo(tmp_path: Path) -> Path:
    """A committed git repository in the netra layout whose consumers still use legacy imports."""
    return make_legacy_repo(tmp_path / "repo")


@pytest.fixture(autouse=True)
def private_result_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own result cache (inherited by the CLI subprocesses it starts), so
    no test reads another's results or writes into the user's cache directory."""
    directory = tmp_path_factory.mktemp("result-cache")
    monkeypatch.setenv("MIGRATE_WS_CACHE_DIR", str(directory))
    return directory


@pytest.fixture(autouse=True)
def no_paused_run_left():
    """A test that fails while a run waits at a pause must not leave that run behind."""
    yield
    end_paused_runs()


@pytest.fixture
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git configuration (hooks paths, signing, identities) leaks in, nor
    a repository or colour setting of the caller's environment; no bytecode is written."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
