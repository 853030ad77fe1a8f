"""The hooks of `.pre-commit-hooks.yaml`, run by the real `pre-commit` tool.

`pre-commit try-repo` installs this project into a hook environment of its own (a
virtualenv, `pip install` of the repository, as any user of the hook gets it) and runs a
hook over the files staged in a temporary git repository: a migrated tree in the netra
layout where one staged file brings a legacy import back. The check hook must fail and
name that file; the fixing hook must rewrite it (and fail, since it changed a file); after
staging the fix, the check passes.

The hook repository is a snapshot of this work tree (tracked and untracked files, what
`git ls-files` lists), committed once, so one hook environment serves every run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FROM_IMPORT_FILE, git, git_init_and_commit, make_legacy_repo

REPO = Path(__file__).resolve().parent.parent
LEGACY_IMPORT = "from netra_backend.app.websocket_core.manager import WebSocketManager\n"
NEWCOMER = "netra_backend/app/services/newcomer.py"
CLEAN = "netra_backend/app/services/clean.py"

pytestmark = pytest.mark.slow


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=timeout)


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    pytest.importorskip("pre_commit")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip("the project is not a git work tree")
    target = tmp_path_factory.mktemp("hook-repository") / "migrate-ws"
    for name in listed.stdout.decode("utf-8", "surrogateescape").split("\0"):
        source = REPO / name
        if name and source.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    assert (target / ".pre-commit-hooks.yaml").is_file()
    git_init_and_commit(target, "hook snapshot")
    return target, git(target, "rev-parse", "HEAD").strip()


@pytest.fixture
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.getbasetemp() / "pre-commit-home")  # one environment per session
    env["PRE_COMMIT_COLOR"] = "never"
    return env


def migrated_repository(path: Path) -> Path:
    """A committed netra-layout tree that migrate-ws has already migrated."""
    make_legacy_repo(path, git=False)
    subprocess.run([sys.executable, "-m", "migrate_ws", "--fix", "--no-cache"], cwd=path, capture_output=True,
                   timeout=120)
    assert b"websocket_core.manager import" not in (path / FROM_IMPORT_FILE).read_bytes()
    git_init_and_commit(path, "migrated")
    return path


def try_repo(hooks: tuple[Path, str], hook: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    repository, rev = hooks
    return run([sys.executable, "-m", "pre_commit", "try-repo", str(repository), hook, "--ref", rev], cwd, env)


def test_the_check_hook_fails_on_a_staged_legacy_import_and_the_fix_hook_rewrites_it(
        tmp_path: Path, hook_repository: tuple[Path, str], hook_env: dict[str, str]) -> None:
    repo = migrated_repository(tmp_path / "app")
    (repo / NEWCOMER).write_text(LEGACY_IMPORT + "\n\ndef is_manager(x):\n    return isinstance(x, WebSocketManager)\n")
    (repo / CLEAN).write_text("def nothing():\n    return None\n")
    git(repo, "add", NEWCOMER, CLEAN)

    check = try_repo(hook_repository, "migrate-ws", repo, hook_env)
    output = check.stdout + check.stderr
    assert check.returncode != 0, output
    assert "Failed" in output and "hook id: migrate-ws" in output
    assert f"{NEWCOMER}:1: MW800 imports:" in output
    assert CLEAN not in output.replace("files scanned", "")  # only the staged file with the import is named
    assert "2 files scanned" in output  # pre-commit passed the staged Python files, not the whole tree

    fix = try_repo(hook_repository, "migrate-ws-fix", repo, hook_env)
    output = fix.stdout + fix.stderr
    assert fix.returncode != 0, output  # files were modified by the hook
    assert "fixed 1 file in place" in output and NEWCOMER in output
    fixed = (repo / NEWCOMER).read_text()
    assert fixed.startswith("from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n")
    assert git(repo, "diff", "--name-only").split() == [NEWCOMER]  # in the work tree only, not staged
    assert git(repo, "log", "--oneline").count("\n") == 1  # no commit, no branch

    git(repo, "add", NEWCOMER)
    again = try_repo(hook_repository, "migrate-ws", repo, hook_env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout
