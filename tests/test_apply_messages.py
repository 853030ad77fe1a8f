"""What `--apply` says and passes on: branch names git would read as another branch, a disk that
fills up while the files are synced, the phase an interrupted run stopped in, and the arguments
`gh pr create` gets. Real repositories and real processes (a fake `gh` on PATH records its argv).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import (assert_restored, cli_env, example_app, git, invoke, make_repo, repo_state, run_cli, sigkill,
                     start_killable_apply, wait_for)
import migrate_ws.writer as writer


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    git(root, "branch", "previous")
    git(root, "checkout", "-q", "previous")
    git(root, "checkout", "-q", "main")  # @{-1} is now "previous"
    return root


@pytest.mark.parametrize("name", ["@{-1}", "@{-1}-migrated", "@"])
def test_a_branch_name_git_reads_as_another_branch_is_refused_at_validation(repo: Path, name: str) -> None:
    before = repo_state(repo)

    result = run_cli(["--apply", "--branch", name], cwd=repo)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == f"migrate-ws: error: --branch {name!r}: not a valid branch name"
    assert_restored(repo, before)


def test_a_disk_full_while_syncing_names_the_file_and_restores(repo: Path, monkeypatch) -> None:
    before = repo_state(repo)
    real_fsync = os.fsync
    failed: list[str] = []

    def fsync(fd: int) -> None:
        # the file system takes the writes into its cache and finds it is full when they are synced
        target = os.readlink(f"/proc/self/fd/{fd}")
        if target.endswith(".py") and "/.git/" not in target and not failed:
            failed.append(target)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(writer.os, "fsync", fsync)

    result = invoke(["--apply", "-C", repo, "--branch", "full-disk"])

    assert result.exit_code == 4, result.output
    (line,) = [line for line in result.stderr.splitlines() if "No space left on device" in line]
    assert failed and line.startswith(f"migrate-ws: error: cannot write {Path(failed[0]).relative_to(repo)}: "
                                      "No space left on device; the repository was restored")
    assert_restored(repo, before)


def test_an_apply_killed_after_a_commit_says_after_not_while(repo: Path, tmp_path: Path) -> None:
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:canonical")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)

    again = run_cli(["--apply", "--branch", "again"], cwd=repo)
    done = run_cli(["--abort"], cwd=repo)

    assert again.returncode == 1
    assert "was interrupted after committing the canonical step; run `migrate-ws --abort`" in again.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert "aborted the --apply interrupted after committing the canonical step (" in done.stdout
    assert "while after" not in again.stderr + done.stdout


def fake_gh(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """PATH with a `gh` that records each argv as a JSON line and answers like `gh pr create`."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    log = tmp_path / "gh-argv.jsonl"
    script = folder / "gh"
    script.write_text(f"#!{sys.executable}\nimport json, sys\n"
                      f"with open({str(log)!r}, 'a') as out:\n    out.write(json.dumps(sys.argv[1:]) + '\\n')\n"
                      "print('https://github.example/org/repo/pull/7')\n")
    script.chmod(0o755)
    return cli_env(PATH=f"{folder}{os.pathsep}{os.environ['PATH']}"), log


def test_gh_gets_each_reviewer_as_its_own_argument(tmp_path: Path) -> None:
    root = example_app(tmp_path / "app")
    env, log = fake_gh(tmp_path)

    done = subprocess.run([sys.executable, "-m", "migrate_ws", "--apply", "--split-by", "owners", "--branch", "mig",
                           "--open-pr"], cwd=root, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stdout + done.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls and all(call[:2] == ["pr", "create"] for call in calls)
    reviewers = []
    for call in calls:
        assert not any(argument.startswith("--reviewer=") for argument in call)
        reviewers += [call[i + 1] for i, argument in enumerate(call) if argument == "--reviewer"]
        title = call[call.index("--title") + 1]
        assert title.startswith("migrate-ws: ") and call[call.index("--head") + 1].startswith("mig-")
    assert "netra/agents" in reviewers and not any(r.startswith(("@", "-")) for r in reviewers)
    assert done.stdout.count("PR opened: https://github.example/org/repo/pull/7") == len(calls)
