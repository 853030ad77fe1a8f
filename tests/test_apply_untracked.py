"""Untracked files and `--apply`: those the migration does not write (a `__pycache__` a test run
left, a scratch note) are let be, as `git switch` lets them be, and listed as a note; one the
migration would write refuses the run, by name. Through the real command, in a real repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import FROM_IMPORT_FILE, make_legacy_repo, run_cli

PYC = b"\x6f\x0d\x0d\x0a\x00\x00\x00\x00compiled"


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git_out(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, timeout=60).stdout


def leave_untracked(repo: Path) -> None:
    (repo / "__pycache__").mkdir()
    (repo / "__pycache__" / "x.pyc").write_bytes(PYC)
    (repo / "notes.txt").write_text("scratch\n")


def test_untracked_files_the_migration_does_not_write_are_let_be_and_noted(tmp_path: Path) -> None:
    repo = make_legacy_repo(tmp_path / "repo")
    leave_untracked(repo)

    result = run_cli(["--apply", "--branch", "migrated"], cwd=repo)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "commit or stash" not in result.stderr
    note = [line for line in result.stdout.splitlines() if line.startswith("Note: 2 untracked files left alone")]
    assert note and "__pycache__/x.pyc" in note[0] and "notes.txt" in note[0], result.stdout
    assert (repo / "__pycache__" / "x.pyc").read_bytes() == PYC
    assert (repo / "notes.txt").read_text() == "scratch\n"
    assert git_out(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "migrated"
    committed = set(git_out(repo, "diff", "--name-only", "main", "migrated").split())
    assert FROM_IMPORT_FILE in committed and not committed & {"__pycache__/x.pyc", "notes.txt"}
    assert sorted(git_out(repo, "ls-files", "--others", "--exclude-standard").split()) == \
        ["__pycache__/x.pyc", "notes.txt"]


def test_the_json_document_lists_the_untracked_files(tmp_path: Path) -> None:
    repo = make_legacy_repo(tmp_path / "repo")
    leave_untracked(repo)

    result = run_cli(["--apply", "--json", "--branch", "migrated"], cwd=repo)

    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "applied"
    assert document["untracked"] == ["__pycache__/x.pyc", "notes.txt"]
    assert (repo / "notes.txt").read_text() == "scratch\n"


def test_an_untracked_file_the_migration_would_write_refuses_by_name(tmp_path: Path) -> None:
    repo = make_legacy_repo(tmp_path / "repo")
    git_out(repo, "rm", "-q", "--cached", FROM_IMPORT_FILE)
    git_out(repo, "commit", "-q", "-m", "stop tracking the notifier")
    before = (repo / FROM_IMPORT_FILE).read_bytes()
    (repo / "notes.txt").write_text("scratch\n")

    result = run_cli(["--apply", "--branch", "migrated"], cwd=repo)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"would write 1 untracked file ({FROM_IMPORT_FILE})" in result.stderr
    assert "notes.txt" not in result.stderr and result.stderr.count("\n") <= 2, result.stderr
    assert (repo / FROM_IMPORT_FILE).read_bytes() == before
    assert git_out(repo, "branch", "--list", "migrated") == ""
    assert not (repo / ".git" / "migrate-ws" / "apply-journal").exists()
