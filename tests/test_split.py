"""`--apply --split-by`: a foundation and one branch per owner or directory, exactly the unsplit change.

Checked on the example app (its CODEOWNERS has a few teams) and on a generated monorepo:
the union of the pieces' changes is the change an unsplit `--apply` makes, no file is in two
pieces, every slice branch (on top of the foundation) holds its own files exactly as planned
and a second run plans nothing for them, every description stays under what GitHub accepts,
and a failure, Ctrl-C or SIGKILL leaves no branch behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import (WAIT, assert_restored, cli_env, default_sigint, example_app, git, git_init_and_commit, repo_state,
                     run_cli, wait_for)
from migrate_ws.applying.journal import read_state

REPO = Path(__file__).resolve().parent.parent
LIMIT = 60_000


def branch_list(root: Path) -> list[str]:
    return sorted(git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split())


def changes(root: Path, old: str, new: str) -> dict[str, str]:
    """path -> the blob (or None when deleted) each path has at `new`, for the paths that differ from `old`."""
    names = git(root, "diff", "--name-only", "--no-renames", old, new).split()
    result = {}
    for name in names:
        listed = git(root, "ls-tree", new, "--", name).split()
        result[name] = listed[2] if listed else None
    return result


def split_and_unsplit(tmp_path: Path, make, args: list[str]) -> tuple[Path, Path, dict]:
    split_root = make(tmp_path / "split")
    whole_root = tmp_path / "whole"
    shutil.copytree(split_root, whole_root)
    done = run_cli(["--apply", "--branch", "whole", "--preset", "netra"], cwd=whole_root)
    assert done.returncode == 0, done.stdout + done.stderr
    result = run_cli(["--apply", "--json", "--branch", "mig", "--preset", "netra", *args], cwd=split_root)
    assert result.returncode == 0, result.stdout + result.stderr
    return split_root, whole_root, json.loads(result.stdout)


def check_split(split_root: Path, whole_root: Path, document: dict) -> None:
    branches = document["branches"]
    assert branches and branches[0]["foundation"] and branches[0]["name"] == "mig-foundation"
    base = git(split_root, "rev-parse", "HEAD").strip()
    # HEAD, the index and the working tree were not touched
    assert git(split_root, "status", "--porcelain") == ""
    assert git(split_root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    union: dict[str, str] = {}
    seen: set[str] = set()
    foundation = branches[0]["name"]
    for branch in branches:
        start = base if branch["foundation"] else foundation
        if not branch["foundation"]:
            assert git(split_root, "merge-base", foundation, branch["name"]).strip() == \
                git(split_root, "rev-parse", foundation).strip(), "a slice is not based on the foundation"
        piece = changes(split_root, start, branch["name"])
        assert set(piece) == set(branch["files"]), branch["name"]
        assert not seen & set(piece), "a file is in two pieces"
        seen |= set(piece)
        union.update(piece)
        description = Path(branch["description"]).read_text(encoding="utf-8")
        assert len(description) <= LIMIT
        assert (Path(branch["description"]).parent / "FOLLOW_UPS.md").is_file()
        if not branch["foundation"]:
            assert f"`{foundation}`" in description
        for owner in branch["owners"]:
            assert owner in description
    whole = changes(whole_root, git(whole_root, "rev-parse", "main").strip(), "whole")
    assert union == whole, "the pieces together are not the unsplit change"


def test_split_by_owners_on_the_example_app(tmp_path: Path) -> None:
    split_root, whole_root, document = split_and_unsplit(tmp_path, example_app, ["--split-by", "owners"])
    check_split(split_root, whole_root, document)
    names = [b["slice"] for b in document["branches"]]
    assert names[0] == "foundation" and "netra-agents" in names
    agents = next(b for b in document["branches"] if b["slice"] == "netra-agents")
    assert agents["owners"] == ["@netra/agents"]
    assert all(f.startswith("netra_backend/app/agents/") for f in agents["files"])
    # on each slice branch, its own files are migrated: a second run plans nothing for them
    for branch in document["branches"][1:]:
        worktree = tmp_path / f"wt-{branch['slice']}"
        git(split_root, "worktree", "add", "-q", str(worktree), branch["name"])
        report = json.loads(run_cli(["--json", "--preset", "netra"], cwd=worktree).stdout)
        pending = {f["path"] for f in report["files"] if f["status"] == "changed"}
        assert not pending & set(branch["files"]), branch["name"]
        assert not [f for f in report["findings"] if f["code"] == "MW701"]


def test_split_by_directory_with_max_files(tmp_path: Path) -> None:
    split_root, whole_root, document = split_and_unsplit(
        tmp_path, example_app, ["--split-by", "directory:3", "--max-files", "1"])
    check_split(split_root, whole_root, document)
    assert all(len(b["files"]) <= 1 for b in document["branches"] if not b["foundation"])
    assert {b["slice"] for b in document["branches"]} >= {"netra_backend-app-services-1", "netra_backend-app-services-2"}


@pytest.mark.slow
def test_split_by_owners_on_a_generated_monorepo(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)

    def corpus(root: Path) -> Path:
        assert make_corpus.main([str(root), "--files", "600"]) == 0
        git_init_and_commit(root)
        return root

    split_root, whole_root, document = split_and_unsplit(tmp_path, corpus, ["--split-by", "owners", "-j", "2"])
    check_split(split_root, whole_root, document)
    assert len(document["branches"]) >= 4


def test_open_pr_without_gh_prints_the_commands_foundation_first(tmp_path: Path, monkeypatch) -> None:
    root = example_app(tmp_path / "app")
    bare = tmp_path / "bin"
    bare.mkdir()
    os.symlink(shutil.which("git"), bare / "git")
    env = cli_env(PATH=str(bare))
    done = subprocess.run([sys.executable, "-m", "migrate_ws", "--apply", "--split-by", "owners", "--branch", "mig",
                           "--open-pr"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    commands = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("gh pr create")]
    assert len(commands) > 1 and "--head mig-foundation" in commands[0] and "--base" not in commands[0]
    for command in commands[1:]:
        assert "--base mig-foundation" in command
    assert any("--reviewer netra/agents" in command for command in commands)


def test_a_failing_fast_import_leaves_no_branch(tmp_path: Path) -> None:
    root = example_app(tmp_path / "app")
    before = repo_state(root)
    real_git = shutil.which("git")
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = fast-import ] && {{ "{real_git}" "$@" >/dev/null 2>&1; '
                       f'echo "fatal: disk quota exceeded" >&2; exit 128; }}; done\nexec "{real_git}" "$@"\n')
    wrapper.chmod(0o755)
    env = cli_env(PATH=f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "migrate_ws", "--apply", "--split-by", "owners", "--branch", "mig"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the repository was restored" in done.stderr
    assert branch_list(root) == ["main"], "a branch fast-import made before failing was kept"
    assert_restored(root, before)


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_interrupted_split_leaves_no_branch(tmp_path: Path, how: str) -> None:
    root = example_app(tmp_path / "app")
    before = repo_state(root)
    marker = tmp_path / "paused"
    proc = subprocess.Popen([sys.executable, "-m", "migrate_ws", "--apply", "--split-by", "owners", "--branch", "mig"],
                            cwd=root, env=cli_env(MIGRATE_WS_TEST_PAUSE="imported",
                                                  MIGRATE_WS_TEST_PAUSE_MARKER=str(marker)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    wait_for(marker, proc)
    assert len(branch_list(root)) > 2, "fast-import had not made the branches yet"
    if how == "sigint":
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT)
        assert proc.returncode == 130, out + err
        assert "the repository was restored" in err
    else:
        proc.kill()
        proc.communicate(timeout=WAIT)
        # the journal names the fast-import that wrote the branches; killed in the middle of its
        # input it would have left a crash report, which --abort removes
        journal = read_state(root / ".git" / "migrate-ws" / "apply-journal")
        (root / ".git" / f"fast_import_crash_{journal['fast_import']['pid']}").write_text("fatal: EOF\n")
        refused = run_cli(["--apply", "--split-by", "owners", "--branch", "again"], cwd=root)
        assert refused.returncode == 1 and "--abort" in refused.stderr
        aborted = run_cli(["--abort"], cwd=root)
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
        assert "branch mig-foundation deleted" in aborted.stdout + aborted.stderr
    assert branch_list(root) == ["main"]
    assert_restored(root, before)
    assert not (root / ".git" / "migrate-ws" / "apply-journal").exists()


def test_split_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    root = example_app(tmp_path / "app")
    assert run_cli(["--apply", "--split-by", "teams"], cwd=root).returncode == 2
    assert run_cli(["--apply", "--split-by", "directory:0"], cwd=root).returncode == 2
    assert run_cli(["--apply", "--max-files", "3"], cwd=root).returncode == 2
    assert run_cli(["--check", "--split-by", "owners"], cwd=root).returncode == 2
    test_cmd = run_cli(["--apply", "--split-by", "owners", "--test-cmd", "true"], cwd=root)
    assert test_cmd.returncode == 2 and "--test-cmd" in test_cmd.stderr
    assert branch_list(root) == ["main"]


def test_the_slice_table_counts_follow_ups_not_notes(tmp_path: Path) -> None:
    root = example_app(tmp_path / "app")
    dry = json.loads(run_cli(["--dry-run", "--json", "--preset", "netra"], cwd=root).stdout)
    warnings: dict[str, int] = {}
    for finding in dry["findings"]:
        if finding["severity"] == "warning":
            warnings[finding["path"]] = warnings.get(finding["path"], 0) + 1
    assert any(f["severity"] == "info" for f in dry["findings"])  # notes there are, on files that change
    done = run_cli(["--apply", "--branch", "mig", "--preset", "netra", "--split-by", "owners"], cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["slice", "branch"])
    rows = [line.split() for line in lines[header + 1:] if line.startswith("  ") and "mig-" in line]
    assert rows
    for row in rows:
        name, branch, follow_ups = row[0], row[1], int(row[-1])
        start = "main" if name == "foundation" else "mig-foundation"
        files = git(root, "diff", "--name-only", "--no-renames", start, branch).split()
        assert follow_ups == sum(warnings.get(path, 0) for path in files), (name, files)
