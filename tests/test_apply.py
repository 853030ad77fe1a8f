"""`migrate-ws --apply` on real git repositories: branch, step commits, PR description, refusals.

Each test builds a small repository in the netra layout in `tmp_path` with the git command
line, runs the real command (in a subprocess, or in-process through typer's CliRunner
where that is enough), and compares the repository before and after: status, HEAD,
branches, index and the bytes and mode of every file.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from helpers import (APPLY_REPO_FILES, BROKEN, CANONICAL_FILE, LEGACY_FILE, NOTIFIER, TOOL, assert_restored, branches,
                     commits_on, dry_run_result, files_of, git, invoke, make_repo, pr_body, repo_state, run_cli,
                     tree_of, write_files)

STEP_ORDER = ["canonical", "imports", "aliases", "factory", "strings", "legacy-modules"]
SUBJECT = re.compile(r"^migrate-ws: (?P<title>.+) \((?P<sites>\d+) sites? in (?P<files>\d+) files?\)$")

# Imports every consumer: what a user's test command might check after the migration.
IMPORT_ALL = "import netra_backend.app.services.notifier, netra_backend.app.routes.ws_route, " \
             "netra_backend.app.agents.runner, netra_backend.app.agents.legacy_singleton"


# ----- building repositories -----------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("hermetic_git")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


# ----- running the command -----------------------------------------------------------------

def python_cmd(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -B -c {shlex.quote(code)}"


def default_branch_names() -> set[str]:
    today = date.today()
    return {f"migrate-ws/netra-{day:%Y%m%d}" for day in (today, today + timedelta(days=1))}


# ----- the happy path ------------------------------------------------------------------------

def test_apply_commits_each_step_on_a_new_branch(repo: Path, tmp_path: Path) -> None:
    expected = dry_run_result(repo, tmp_path)
    findings = json.loads(invoke(["--dry-run", "--json", "-C", repo]).stdout)["findings"]
    main_before = git(repo, "rev-parse", "main").strip()
    original = files_of(repo)

    done = run_cli(["--apply"], cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    new = [b for b in branches(repo) if b != "main"]
    assert len(new) == 1 and new[0] in default_branch_names()
    branch = new[0]
    assert git(repo, "symbolic-ref", "HEAD").strip() == f"refs/heads/{branch}"
    assert git(repo, "rev-parse", "main").strip() == main_before, "the original branch moved"
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""

    # one commit per step that changes something, in the migration's order, with counts
    commits = commits_on(repo, branch)
    steps = []
    for commit in commits:
        match = SUBJECT.match(commit["subject"])
        assert match, commit["subject"]
        assert commit["files"], f"empty commit: {commit['subject']}"
        assert int(match["files"]) == len(commit["files"])
        assert int(match["sites"]) >= 1
        step = re.search(r"^Step: (\S+)$", commit["body"], re.M).group(1)
        steps.append(step)
        for path in commit["files"]:
            assert f"- {path}" in commit["body"]
    assert steps == ["canonical", "imports", "aliases", "factory", "legacy-modules"]
    assert steps == sorted(steps, key=STEP_ORDER.index)
    assert commits[0]["files"] == [CANONICAL_FILE]
    assert commits[-1]["files"] == [LEGACY_FILE]

    # the branch holds exactly what --dry-run showed, the legacy module's shim included
    tree = tree_of(repo, branch)
    assert tree == expected
    shim = tree[LEGACY_FILE]
    assert shim.startswith(b'"""Deprecated') and b"warnings.warn(" in shim
    assert tree[BROKEN] == original[BROKEN][0], "a file that does not parse was written"
    # the working tree is the branch, modes kept
    now = files_of(repo)
    assert {p: d for p, (d, _) in now.items()} == expected
    assert {p: m for p, (_, m) in now.items()} == {p: m for p, (_, m) in original.items()}
    assert now[TOOL][1] == 0o755

    # the summary names every commit and where the PR description is
    for commit in commits:
        assert commit["sha"][:10] in done.stdout
    assert str(repo / ".git" / "migrate-ws" / "PR_DESCRIPTION.md") in done.stdout
    assert re.search(rf"{re.escape(BROKEN)}:\d+: MW901 not processed", done.stdout)

    # the PR description: table, per-step counts, every follow-up, how to verify
    body = pr_body(repo)
    assert "| Files changed | 7 |" in body
    assert f"| Commits | {len(commits)} |" in body
    for commit in commits:
        match = SUBJECT.match(commit["subject"])
        row = next(line for line in body.splitlines() if f"`{commit['sha'][:10]}`" in line)
        assert f"| {match['sites']} | {match['files']} |" in row
    assert "| 5 | strings |" in body and "(nothing to change)" in body
    # the description groups them by code; the complete list is written next to it
    complete = (repo / ".git" / "migrate-ws" / "FOLLOW_UPS.md").read_text(encoding="utf-8")
    listed = json.loads((repo / ".git" / "migrate-ws" / "follow-ups.json").read_text(encoding="utf-8"))
    assert findings, "the dry run reported no follow-up: nothing below is checked"
    for item in findings:
        assert f"| {item['code']} | {item['name']} |" in body
        assert f"- `{item['path']}:{item['line']}` {item['message']}" in complete
        assert {k: item[k] for k in ("code", "path", "line", "message")} in \
            [{k: f[k] for k in ("code", "path", "line", "message")} for f in listed["findings"]]
    assert "FOLLOW_UPS.md" in body and "follow-ups.json" in body
    assert re.search(rf"{re.escape(BROKEN)}:\d+` not processed: does not parse", complete)
    assert "cannot provide" in complete  # the shim's follow-ups from the legacy-module step
    assert "```mermaid" in body and "-- \"" in body  # the import paths before and after
    assert "\nmigrate-ws --check\n" in body  # the repository's pyproject.toml holds the configuration
    assert "MW504" in body  # the canonical module's aliases were different objects


def test_after_apply_a_second_run_has_nothing_left(repo: Path) -> None:
    first = invoke(["--apply", "-C", repo, "--branch", "first"])
    assert first.exit_code == 0, first.output
    head = git(repo, "rev-parse", "HEAD").strip()

    check = invoke(["--check", "-C", repo])
    assert "0 files would change" in check.stdout
    again = invoke(["--apply", "-C", repo, "--branch", "second"])
    assert again.exit_code == 0, again.output
    assert "nothing to apply" in again.stdout
    assert "second" not in branches(repo)
    assert git(repo, "rev-parse", "HEAD").strip() == head


def test_json_report(repo: Path) -> None:
    result = invoke(["--apply", "--json", "-C", repo, "--branch", "feature/ws"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "applied"
    assert document["branch"] == "feature/ws"
    assert document["base"]["ref"] == "refs/heads/main"
    log = [c["sha"] for c in commits_on(repo, "feature/ws")]
    assert [c["sha"] for c in document["commits"]] == log
    assert [c["step"] for c in document["commits"]] == ["canonical", "imports", "aliases", "factory", "legacy-modules"]
    assert [s["name"] for s in document["steps"]] == STEP_ORDER
    strings = next(s for s in document["steps"] if s["name"] == "strings")
    assert strings == {**strings, "applied": False, "sha": None, "files": []}
    assert document["not_processed"] and all(item["code"].startswith("MW9") for item in document["not_processed"])
    assert document["findings"]
    assert all({"code", "path", "line", "message"} <= set(item) for item in document["findings"])
    assert document["pr_body"] == str(repo / ".git" / "migrate-ws" / "PR_DESCRIPTION.md")
    assert Path(document["pr_body"]).is_file()
    assert document["test"] is None


def test_pr_body_option_and_subdirectory_root(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "pr.md"
    result = invoke(["--apply", "-C", repo / "netra_backend", "--branch", "sub", "--pr-body", target])

    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "# migrate-ws" in text
    assert "-C netra_backend" in text  # the check command runs from the top of the repository
    assert not (repo / ".git" / "migrate-ws").exists()
    files = {path for c in commits_on(repo, "sub") for path in c["files"]}
    assert NOTIFIER in files and TOOL not in files  # tools/ is outside --root


# ----- refusals: nothing written ---------------------------------------------------------------

def test_dirty_tree_is_refused(repo: Path) -> None:
    (repo / "README.md").write_text("# backend\n\nwork in progress\n")
    (repo / "notes.txt").write_text("scratch\n")
    before = repo_state(repo)

    result = invoke(["--apply", "-C", repo])

    assert result.exit_code == 1
    assert "uncommitted changes" in result.stderr and "--allow-dirty" in result.stderr
    assert result.stderr.count("\n") == 1
    assert_restored(repo, before)


def test_untracked_file_alone_does_not_make_the_tree_dirty(repo: Path) -> None:
    # git switch lets untracked files be (and git stash would not take them): so does --apply
    (repo / "scratch.py").write_text("x = 1\n")
    result = invoke(["--apply", "-C", repo, "--branch", "untracked"])
    assert result.exit_code == 0, result.output
    assert "untracked file left alone" in result.stdout and "scratch.py" in result.stdout
    assert (repo / "scratch.py").read_text() == "x = 1\n"


def test_allow_dirty_keeps_uncommitted_changes_out_of_the_commits(repo: Path) -> None:
    (repo / "README.md").write_text("# backend\n\nunstaged edit\n")
    (repo / "netra_backend/__init__.py").write_text("# staged edit\n")
    git(repo, "add", "netra_backend/__init__.py")
    (repo / "notes.txt").write_text("untracked\n")
    staged_before = git(repo, "diff", "--cached")
    unstaged_before = git(repo, "diff")

    result = invoke(["--apply", "-C", repo, "--allow-dirty", "--branch", "dirty"])

    assert result.exit_code == 0, result.output
    committed = {path for c in commits_on(repo, "dirty") for path in c["files"]}
    assert not committed & {"README.md", "netra_backend/__init__.py", "notes.txt"}
    assert git(repo, "diff", "--cached") == staged_before
    assert git(repo, "diff") == unstaged_before
    assert (repo / "notes.txt").read_text() == "untracked\n"
    assert git(repo, "show", "dirty:README.md") == APPLY_REPO_FILES["README.md"]
    assert "left as they were, not committed" in result.stdout


def test_allow_dirty_refuses_to_rewrite_a_file_with_uncommitted_changes(repo: Path) -> None:
    with open(repo / NOTIFIER, "a") as handle:
        handle.write("\n# local edit\n")
    before = repo_state(repo)

    result = invoke(["--apply", "-C", repo, "--allow-dirty"])

    assert result.exit_code == 1
    assert NOTIFIER in result.stderr and "uncommitted changes" in result.stderr
    assert_restored(repo, before)


@pytest.mark.parametrize("respect_gitignore", [True, False])
def test_untracked_python_file_is_reported_not_committed(repo: Path, tmp_path: Path, respect_gitignore: bool) -> None:
    (repo / ".gitignore").write_text("generated/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore generated code")
    legacy = "from netra_backend.app.websocket_core.manager import WebSocketManager\n"
    write_files(repo, {"generated/client.py": legacy})
    config = tmp_path / "config.toml"
    config.write_text(f'[tool.migrate-ws]\npreset = "netra"\nrespect-gitignore = {str(respect_gitignore).lower()}\n')

    result = invoke(["--apply", "-C", repo, "--branch", "ignored", "--config", config])

    assert result.exit_code == 0, result.output
    if respect_gitignore:  # the default: a gitignored file is not read at all (as black and ruff)
        assert "generated/client.py" not in result.stdout
    else:  # read and planned, but git does not track it: reported, never committed
        assert "generated/client.py:0: MW906 not processed: not tracked by git" in result.stdout
    assert (repo / "generated/client.py").read_text() == legacy


@pytest.mark.parametrize("name", ["taken", "default"])
def test_existing_branch_is_an_error_not_an_overwrite(repo: Path, name: str) -> None:
    branch = "taken" if name == "taken" else f"migrate-ws/netra-{date.today():%Y%m%d}"
    git(repo, "branch", branch)
    (repo / "x.txt").write_text("x\n")
    git(repo, "add", "x.txt")
    git(repo, "commit", "-q", "-m", "moves main ahead of the branch")
    before = repo_state(repo)

    args = ["--apply", "-C", repo] + (["--branch", branch] if name == "taken" else [])
    result = invoke(args)

    assert result.exit_code == 1
    assert f"branch {branch} already exists" in result.stderr
    assert_restored(repo, before)


def test_invalid_branch_name_is_a_usage_error(repo: Path) -> None:
    before = repo_state(repo)
    result = invoke(["--apply", "-C", repo, "--branch", "bad..name"])
    assert result.exit_code == 2
    assert "not a valid branch name" in result.stderr
    assert_restored(repo, before)


def test_not_a_repository_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    before = files_of(root)

    result = invoke(["--apply", "-C", root])

    assert result.exit_code == 1
    assert "not in a git repository" in result.stderr and "--no-git" in result.stderr
    assert result.stderr.count("\n") == 1
    assert files_of(root) == before


def test_repository_without_commits_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "fresh", use_git=False)
    git(root, "init", "-q", "-b", "main")
    result = invoke(["--apply", "-C", root, "--allow-dirty"])
    assert result.exit_code == 1 and "no commits yet" in result.stderr


def test_merge_in_progress_is_refused(repo: Path) -> None:
    (repo / ".git" / "MERGE_HEAD").write_text(git(repo, "rev-parse", "HEAD"))
    result = invoke(["--apply", "-C", repo])
    assert result.exit_code == 1 and "a merge is in progress" in result.stderr
    assert branches(repo) == ["main"]


def test_missing_identity_is_refused(repo: Path, monkeypatch) -> None:
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    before = repo_state(repo)
    result = invoke(["--apply", "-C", repo])
    assert result.exit_code == 1 and "user.name" in result.stderr
    assert_restored(repo, before)


# ----- without git, detached HEAD ------------------------------------------------------------

def test_no_git_applies_in_place(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    expected = dry_run_result(root, tmp_path)
    modes = {p: m for p, (_, m) in files_of(root).items()}

    result = invoke(["--apply", "--no-git", "-C", root])

    assert result.exit_code == 0, result.output
    now = files_of(root)
    assert {p: d for p, (d, _) in now.items()} == expected  # exactly the dry-run, shim included
    assert now[LEGACY_FILE][0].startswith(b'"""Deprecated')
    assert {p: m for p, (_, m) in now.items()} == modes
    assert "applied in place" in result.stdout
    assert not list(root.rglob("*.tmp")) and not (root / ".git").exists()


def test_no_git_writes_the_pr_description_when_asked(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    target = tmp_path / "pr.md"
    result = invoke(["--apply", "--no-git", "-C", root, "--pr-body", target, "--legacy-modules", "keep"])
    assert result.exit_code == 0, result.output
    assert "| Files changed | 6 |" in target.read_text()


def test_no_git_with_git_only_options_is_a_usage_error(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    before = files_of(root)
    result = invoke(["--apply", "--no-git", "-C", root, "--branch", "x"])
    assert result.exit_code == 2 and "--branch needs git" in result.stderr
    assert files_of(root) == before


def test_detached_head_is_supported(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    base = git(repo, "rev-parse", "HEAD").strip()

    result = invoke(["--apply", "-C", repo, "--branch", "from-detached"])

    assert result.exit_code == 0, result.output
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/from-detached"
    assert git(repo, "merge-base", "from-detached", base).strip() == base
    assert "detached HEAD" in result.stdout
    assert git(repo, "rev-parse", "main").strip() == base


# ----- the user's tests ----------------------------------------------------------------------

def test_test_cmd_passing_is_recorded(repo: Path) -> None:
    command = python_cmd(IMPORT_ALL + "; print('imports ok: 4 modules')")
    result = invoke(["--apply", "-C", repo, "--branch", "tested", "--test-cmd", command])

    assert result.exit_code == 0, result.output
    assert "Tests passed" in result.stdout
    body = pr_body(repo)
    assert "## Test run" in body and "passed (exit code 0" in body
    assert "imports ok: 4 modules" in body
    assert "| Tests | passed |" in body
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_test_cmd_failing_keeps_the_branch_and_records_the_failure(repo: Path) -> None:
    command = "echo collected 3 items; echo 'FAILED test_ws.py::test_one - boom'; exit 3"
    result = invoke(["--apply", "-C", repo, "--branch", "red", "--test-cmd", command])

    assert result.exit_code == 4
    assert "red" in branches(repo)
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/red"
    assert len(commits_on(repo, "red")) == 5
    body = pr_body(repo)
    assert "| Tests | FAILED |" in body and "exit code 3" in body and "test_one - boom" in body
    assert "the branch is kept" in result.stderr


def test_test_cmd_failing_with_rollback_restores_everything(repo: Path) -> None:
    before = repo_state(repo)
    result = invoke(["--apply", "-C", repo, "--branch", "red", "--test-cmd", "echo boom; exit 1",
                     "--rollback-on-fail"])

    assert result.exit_code == 4
    assert "boom" in result.stdout
    assert "the repository was restored" in result.stderr
    assert_restored(repo, before)


def test_test_cmd_runs_at_the_top_of_the_repository_on_the_new_branch(repo: Path) -> None:
    command = python_cmd("import os, subprocess; print('cwd', os.getcwd()); "
                         "print('on', subprocess.check_output(['git', 'symbolic-ref', 'HEAD'], text=True))")
    result = invoke(["--apply", "--json", "-C", repo / "netra_backend", "--branch", "where", "--test-cmd", command])
    assert result.exit_code == 0, result.output
    tail = json.loads(result.stdout)["test"]["output_tail"]
    assert f"cwd {repo}" in tail and "on refs/heads/where" in tail


def test_rollback_on_fail_needs_a_test_command(repo: Path) -> None:
    result = invoke(["--apply", "-C", repo, "--rollback-on-fail"])
    assert result.exit_code == 2 and "--rollback-on-fail needs --test-cmd" in result.stderr
    assert branches(repo) == ["main"]


# ----- opening the PR ------------------------------------------------------------------------

def path_with(tmp_path: Path, tools: dict[str, str]) -> str:
    """A PATH holding only the given tools (name -> real executable or script text)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name, target in tools.items():
        link = folder / name
        if target.startswith("#!"):
            link.write_text(target)
            link.chmod(0o755)
        else:
            link.symlink_to(target)
    return str(folder)


def test_open_pr_without_gh_says_so_plainly(repo: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", path_with(tmp_path, {"git": shutil.which("git")}))
    result = invoke(["--apply", "-C", repo, "--branch", "pr", "--open-pr"])

    assert result.exit_code == 0, result.output
    assert "gh (the GitHub CLI) is not on PATH, so no PR was opened" in result.stdout
    assert "pr" in branches(repo)


def test_open_pr_runs_gh_with_the_description(repo: Path, tmp_path: Path, monkeypatch) -> None:
    record = tmp_path / "gh-args.txt"
    fake_gh = f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\necho https://example.invalid/pr/1\n'
    monkeypatch.setenv("PATH", path_with(tmp_path, {"git": shutil.which("git"), "gh": fake_gh}))

    result = invoke(["--apply", "-C", repo, "--branch", "pr", "--open-pr"])

    assert result.exit_code == 0, result.output
    args = record.read_text().splitlines()
    assert args[:2] == ["pr", "create"]
    assert args[args.index("--body-file") + 1] == str(repo / ".git" / "migrate-ws" / "PR_DESCRIPTION.md")
    assert args[args.index("--head") + 1] == "pr"
    assert "PR opened: https://example.invalid/pr/1" in result.stdout


# ----- legacy modules ----------------------------------------------------------------------------

def test_legacy_delete_is_refused_while_references_remain(repo: Path) -> None:
    result = invoke(["--apply", "-C", repo, "--branch", "del", "--legacy-modules", "delete"])

    assert result.exit_code == 0, result.output
    assert (f"{BROKEN}:3: MW602 still refers to legacy module netra_backend.app.websocket_core.manager, so it was "
            "not deleted: from netra_backend.app.websocket_core.manager import WebSocketManager") in result.stdout
    commits = commits_on(repo, "del")
    assert all(LEGACY_FILE not in c["files"] for c in commits)
    assert git(repo, "show", f"del:{LEGACY_FILE}") == APPLY_REPO_FILES[LEGACY_FILE]
    assert "| MW602 | legacy-module-still-used |" in pr_body(repo)


def test_legacy_delete_when_nothing_refers_to_it(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", broken=False)
    result = invoke(["--apply", "-C", root, "--branch", "del", "--legacy-modules", "delete"])

    assert result.exit_code == 0, result.output
    last = commits_on(root, "del")[-1]
    assert last["subject"] == "migrate-ws: Retire the legacy modules (1 site in 1 file)"
    assert last["files"] == [LEGACY_FILE]
    assert not (root / LEGACY_FILE).exists()
    assert LEGACY_FILE not in tree_of(root, "del")


def test_legacy_keep_leaves_the_modules_and_matches_the_dry_run(repo: Path, tmp_path: Path) -> None:
    expected = dry_run_result(repo, tmp_path, ["--legacy-modules", "keep"])
    result = invoke(["--apply", "-C", repo, "--branch", "keep", "--legacy-modules", "keep"])

    assert result.exit_code == 0, result.output
    commits = commits_on(repo, "keep")
    assert [re.search(r"^Step: (\S+)$", c["body"], re.M).group(1) for c in commits] == \
        ["canonical", "imports", "aliases", "factory"]
    assert tree_of(repo, "keep") == expected


def test_many_files_are_committed_through_stdin(repo: Path, tmp_path: Path, monkeypatch) -> None:
    import migrate_ws.applying.git as git_module

    monkeypatch.setattr(git_module, "PATHS_ON_COMMAND_LINE", 0)  # as if the paths were too long for argv
    expected = dry_run_result(repo, tmp_path, ["--legacy-modules", "keep"])
    result = invoke(["--apply", "-C", repo, "--branch", "stdin", "--legacy-modules", "keep"])

    assert result.exit_code == 0, result.output
    assert tree_of(repo, "stdin") == expected
    assert len(commits_on(repo, "stdin")) == 4
