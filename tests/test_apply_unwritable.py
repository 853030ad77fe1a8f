"""`--apply` with files it cannot write: read-only files, directories without write permission.

They are found before the branch is created, left unchanged and reported with a one-line
reason; the rest of the migration is applied, and the run exits 3 ("applied, but some files
were not processed"). Each test runs the real command as a process, and checks that the
file is untouched (bytes and mode), named on stderr, in the summary, the PR description
and `--json`, that every other file holds what `--dry-run` planned, and that the working
tree is clean.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from helpers import (BROKEN, LEGACY_FILE, NOTIFIER, ROUTE, RUNNER, TOOL, branches, commits_on, dry_run_result, files_of,
                     git, make_repo, pr_body, run_cli, tree_of)

READ_ONLY = "read-only file; left unchanged"
DIRECTORY = "directory not writable; left unchanged"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def committed_files(repo: Path, branch: str) -> set[str]:
    return {path for commit in commits_on(repo, branch) for path in commit["files"]}


def test_a_read_only_file_is_left_unchanged_and_the_rest_is_applied(repo: Path, tmp_path: Path) -> None:
    expected = dry_run_result(repo, tmp_path)
    os.chmod(repo / NOTIFIER, 0o444)  # git does not track write bits: the tree is still clean
    original = files_of(repo)
    assert git(repo, "status", "--porcelain") == ""

    done = run_cli(["--apply", "--branch", "ro"], cwd=repo)

    assert done.returncode == 3, done.stdout + done.stderr
    assert f"migrate-ws: not writing {NOTIFIER}: read-only file\n" in done.stderr
    assert f"{NOTIFIER}:0: MW907 not processed: {READ_ONLY}" in done.stdout
    assert files_of(repo)[NOTIFIER] == original[NOTIFIER] == (original[NOTIFIER][0], 0o444)
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/ro"

    # every other file holds exactly what the dry-run planned (the legacy module: its shim)
    tree = tree_of(repo, "ro")
    assert tree[NOTIFIER] == original[NOTIFIER][0]
    assert NOTIFIER not in committed_files(repo, "ro")
    for path, data in expected.items():
        if path not in (NOTIFIER, LEGACY_FILE):
            assert tree[path] == data, path
    assert tree[LEGACY_FILE].startswith(b'"""Deprecated')
    assert {RUNNER, ROUTE, TOOL} <= committed_files(repo, "ro")
    assert tree[BROKEN] == original[BROKEN][0]
    assert len(commits_on(repo, "ro")) == 5

    body = pr_body(repo)
    assert f"`{NOTIFIER}:0: MW907 not processed: {READ_ONLY}`" in body
    assert "| Files not processed | 2 |" in body  # the file that does not parse, and this one


def test_json_lists_the_read_only_file_and_its_reason(repo: Path) -> None:
    os.chmod(repo / RUNNER, 0o400)

    done = run_cli(["--apply", "--json", "--branch", "ro"], cwd=repo)

    assert done.returncode == 3, done.stderr
    document = json.loads(done.stdout)
    assert document["status"] == "applied" and document["exit_code"] == 3
    assert {"path": RUNNER, "code": "MW907", "reason": READ_ONLY} in document["not_processed"]
    assert all(RUNNER not in step["files"] for step in document["steps"])
    assert stat.S_IMODE((repo / RUNNER).stat().st_mode) == 0o400


def test_a_directory_without_write_permission(repo: Path, tmp_path: Path) -> None:
    routes = repo / ROUTE
    original = routes.read_bytes()
    os.chmod(routes.parent, 0o555)
    try:
        done = run_cli(["--apply", "--branch", "ro-dir"], cwd=repo)
    finally:
        os.chmod(routes.parent, 0o755)

    assert done.returncode == 3, done.stdout + done.stderr
    assert f"migrate-ws: not writing {ROUTE}: directory not writable" in done.stderr
    assert f"{ROUTE}:0: MW907 not processed: {DIRECTORY}" in done.stdout
    assert routes.read_bytes() == original
    assert ROUTE not in committed_files(repo, "ro-dir") and NOTIFIER in committed_files(repo, "ro-dir")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_legacy_module_is_not_deleted_while_a_read_only_file_imports_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", broken=False)
    os.chmod(repo / NOTIFIER, 0o444)

    done = run_cli(["--apply", "--branch", "del", "--legacy-modules", "delete"], cwd=repo)

    assert done.returncode == 3, done.stdout + done.stderr
    assert f"not deleting the legacy module {LEGACY_FILE}" in done.stderr
    assert (repo / LEGACY_FILE).exists() and LEGACY_FILE in tree_of(repo, "del")
    assert b"websocket_core.manager import" in (repo / NOTIFIER).read_bytes()  # still importable
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_when_every_file_to_change_is_read_only_no_branch_is_created(repo: Path) -> None:
    for path in git(repo, "ls-files").splitlines():
        os.chmod(repo / path, stat.S_IMODE((repo / path).stat().st_mode) & ~0o222)  # keeps the executable bit
    before = files_of(repo)

    done = run_cli(["--apply", "--branch", "none"], cwd=repo)

    assert done.returncode == 3, done.stdout + done.stderr
    assert "nothing to apply" in done.stdout
    assert branches(repo) == ["main"] and files_of(repo) == before


def test_no_git_applies_the_rest_and_leaves_the_read_only_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    os.chmod(root / NOTIFIER, 0o444)
    original = files_of(root)

    done = run_cli(["--apply", "--no-git"], cwd=root)

    assert done.returncode == 3, done.stdout + done.stderr
    assert f"not writing {NOTIFIER}: read-only file" in done.stderr
    now = files_of(root)
    assert now[NOTIFIER] == original[NOTIFIER]
    assert now[RUNNER] != original[RUNNER]


def test_a_file_that_does_not_parse_still_exits_0(repo: Path) -> None:
    """Code 3 is about files --apply could not write, not about the follow-ups it lists."""
    done = run_cli(["--apply", "--branch", "fine"], cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{BROKEN}:6: MW901 not processed" in done.stdout
