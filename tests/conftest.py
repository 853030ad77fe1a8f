"""Shared fixtures for the command-line tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import make_legacy_repo  # noqa: E402


@pytest.fixture
def legacy_repo(tmp_path: Path) -> Path:
    """A committed git repository in the netra layout whose consumers still use legacy imports."""
    return make_legacy_repo(tmp_path / "repo")
