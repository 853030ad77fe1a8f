"""`--apply` racing with the user's own git work and editor, in one or two working trees.

Real `python -m migrate_ws --apply` processes are held at a point of the run by the test
seam (`MIGRATE_WS_TEST_PAUSE`, `migrate_ws/applying/test_pause.py`); while one waits, the test
does what a busy developer does (creates a branch of that name, runs a second `--apply`
from a second working tree of the same repository, appends a line to a file the run is
rewriting), then lets it go on (`MIGRATE_WS_TEST_RESUME`) or kills it. Other branches are
never touched, no file someone else saved is overwritten, and the rest of the repository
ends exactly as it was.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import (RUNNER, ROUTE, WAIT, assert_restored, branches, commits_on, example_app, git, make_repo,
                     repo_state, run_cli, second_worktree, start_paused_apply, wait_paused)

WORKTREES = ["one working tree", "two working trees"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def resume(proc: subprocess.Popen, tmp_path: Path) -> tuple[int, str, str]:
    (tmp_path / "resume").touch()
    out, err = proc.communicate(timeout=WAIT)
    return proc.returncode, out, err


def without(state: dict, *keys: str) -> dict:
    return {key: value for key, value in state.items() if key not in keys}


# ----- a branch of that name appears while the run plans ------------------------------------------

@pytest.mark.parametrize("where", WORKTREES)
@pytest.mark.parametrize("at", ["a new commit", "HEAD"])
def test_a_branch_created_while_the_apply_plans_is_never_touched(repo: Path, tmp_path: Path, where: str,
                                                                  at: str) -> None:
    """The issue's reproduction: `migrate-ws --apply --branch feature &`, and while it plans,
    `git branch feature $(git commit-tree -p HEAD -m work HEAD^{tree})` (or just `git branch
    feature`), in the same working tree or in another one."""
    run_in = repo if where == "one working tree" else second_worktree(repo)
    before = repo_state(run_in)
    proc = start_paused_apply(run_in, ["--branch", "feature"], "planning", tmp_path)
    wait_paused(proc, tmp_path)
    if at == "HEAD":
        users = git(repo, "rev-parse", "HEAD").strip()
        git(repo, "branch", "feature")
    else:
        users = git(repo, "commit-tree", "-p", "HEAD", "-m", "work", "HEAD^{tree}").strip()
        git(repo, "branch", "feature", users)

    code, out, err = resume(proc, tmp_path)

    assert code == 1, out + err
    assert err == (f"migrate-ws: error: branch feature was created while migrate-ws was planning (it points at "
                   f"{users[:10]}); it was not touched and nothing was changed; choose another name with --branch\n")
    assert git(repo, "rev-parse", "refs/heads/feature").strip() == users, "the user's branch was moved or deleted"
    assert git(repo, "reflog", "show", "--format=%gs", "refs/heads/feature").splitlines()[-1].startswith("branch: ")
    assert_restored(run_in, without(before, "refs", "branch_list"))


def test_a_branch_whose_name_clashes_appears_while_the_apply_plans(repo: Path, tmp_path: Path) -> None:
    before = repo_state(repo)
    proc = start_paused_apply(repo, ["--branch", "feature/ws"], "planning", tmp_path)
    wait_paused(proc, tmp_path)
    git(repo, "branch", "feature")  # refs/heads/feature now stands where refs/heads/feature/ws would go

    code, out, err = resume(proc, tmp_path)

    assert code == 1, out + err
    assert err.startswith("migrate-ws: error: branch feature, whose name clashes with feature/ws, was created while "
                          "migrate-ws was planning") and err.count("\n") == 1
    assert branches(repo) == ["feature", "main"]
    assert_restored(repo, without(before, "refs", "branch_list"))


def test_two_worktrees_cannot_apply_at_once(repo: Path, tmp_path: Path) -> None:
    """The second run would have created `feature` first; the first would then have failed to
    create it and deleted it, while the second went on committing to it. One lock per
    repository: the second run refuses at once and touches nothing."""
    second = second_worktree(repo)
    second_before = repo_state(second)
    first = start_paused_apply(repo, ["--branch", "feature"], "planning", tmp_path)
    wait_paused(first, tmp_path)

    refused = run_cli(["--apply", "--branch", "feature"], cwd=second)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.startswith("migrate-ws: error: another migrate-ws run is in progress in this repository "
                                     f"(pid {first.pid}, started ")
    assert refused.stderr.count("\n") == 1 and refused.stdout == ""
    assert "feature" not in branches(repo)
    assert_restored(second, second_before)

    code, out, err = resume(first, tmp_path)

    assert code == 0, out + err
    assert len(commits_on(repo, "feature")) == 5
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/feature"
    assert_restored(second, without(second_before, "refs", "branch_list"))
    assert not (repo / ".git" / "migrate-ws" / "apply.lock").exists()


# ----- a SIGKILL around the creation of the branch, then --abort -----------------------------------

@pytest.mark.parametrize("reflog", [True, False], ids=["reflog", "no-reflog"])
def test_killed_after_git_created_the_branch_before_the_journal_said_so(repo: Path, tmp_path: Path,
                                                                       reflog: bool) -> None:
    """The branch exists, the journal does not record it: only the branch's reflog, which names the
    run, says whose it is. Without a reflog it is kept (and said so): never a guess."""
    if not reflog:
        git(repo, "config", "core.logAllRefUpdates", "false")
    before = repo_state(repo)
    proc = start_paused_apply(repo, ["--branch", "feature"], "branch-created", tmp_path, resume=False)
    wait_paused(proc, tmp_path)
    proc.kill()
    proc.communicate(timeout=WAIT)
    assert branches(repo) == ["feature", "main"]

    done = run_cli(["--abort"], cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "interrupted while creating the branch feature" in done.stdout
    if reflog:
        assert "branch feature deleted" in done.stdout
        assert_restored(repo, before)
    else:
        assert "branch feature was kept: the interrupted --apply did not create it" in done.stdout
        assert_restored(repo, without(before, "refs", "branch_list"))


@pytest.mark.parametrize("where", WORKTREES)
def test_abort_keeps_a_branch_that_appeared_while_the_killed_run_was_creating_its_own(repo: Path, tmp_path: Path,
                                                                                      where: str) -> None:
    run_in = repo if where == "one working tree" else second_worktree(repo)
    before = repo_state(run_in)
    proc = start_paused_apply(run_in, ["--branch", "feature"], "creating-branch", tmp_path, resume=False)
    wait_paused(proc, tmp_path)
    git(repo, "branch", "feature")  # at the very commit the run would have created it at
    proc.kill()
    proc.communicate(timeout=WAIT)

    done = run_cli(["--abort"], cwd=run_in)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "branch feature was kept: the interrupted --apply did not create it" in done.stdout
    assert "feature" in branches(repo)
    assert_restored(run_in, without(before, "refs", "branch_list"))


# ----- someone else writes a file the run is rewriting ----------------------------------------------

@pytest.mark.parametrize("where", WORKTREES)
def test_a_line_appended_between_two_steps_writes_is_kept(repo: Path, tmp_path: Path, where: str) -> None:
    """runner.py is written by the imports step, then by the factory step. While the run is about
    to write the factory step, an editor appends a line to it: the run stops before overwriting
    it, restores everything else, and the file keeps what the user saved."""
    run_in = repo if where == "one working tree" else second_worktree(repo)
    before = repo_state(run_in)
    proc = start_paused_apply(run_in, ["--branch", "feature"], "writing:factory", tmp_path)
    wait_paused(proc, tmp_path)
    runner = run_in / RUNNER
    assert runner.read_bytes() != before["files"][RUNNER][0], "the imports step has written runner.py"
    with open(runner, "ab") as handle:
        handle.write(b"# saved by the user while migrate-ws ran\n")
    saved = runner.read_bytes()

    code, out, err = resume(proc, tmp_path)

    assert code == 4, out + err
    assert (f"migrate-ws: error: {RUNNER} was changed by another program after migrate-ws wrote it; stopped before "
            "overwriting it; the repository was restored (branch feature removed, ") in err
    assert f"migrate-ws: {RUNNER} was left as another program wrote it during the run" in err
    assert runner.read_bytes() == saved
    assert "feature" not in branches(repo)
    after = repo_state(run_in)
    assert after["files"].pop(RUNNER) == (saved, before["files"][RUNNER][1])
    assert after["status"] == before["status"] + f" M {RUNNER}\n"
    for key in ("head", "symbolic_ref", "refs", "branch_list", "index", "staged", "git_leftovers"):
        assert after[key] == before[key], key
    assert after["files"] == {path: data for path, data in before["files"].items() if path != RUNNER}


def test_a_file_changed_after_its_last_write_is_not_put_back_when_the_run_fails(repo: Path,
                                                                               tmp_path: Path) -> None:
    """ws_route.py is written for the last time by the aliases step; the user edits it; then a hook
    rejects the factory step's commit. The run restores everything else and keeps the user's file."""
    count = tmp_path / "commits"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f'#!/bin/sh\necho x >> "{count}"\n'
                    f'if [ "$(wc -l < "{count}")" -ge 4 ]; then echo "lint: rejected" >&2; exit 1; fi\n')
    hook.chmod(0o755)
    before = repo_state(repo)
    proc = start_paused_apply(repo, ["--branch", "feature"], "writing:factory", tmp_path)
    wait_paused(proc, tmp_path)
    route = repo / ROUTE
    route.write_bytes(route.read_bytes() + b"# the user's note\n")
    saved = route.read_bytes()

    code, out, err = resume(proc, tmp_path)

    assert code == 4, out + err
    assert "git could not commit the factory step" in err
    assert f"migrate-ws: {ROUTE} was left as another program wrote it during the run" in err
    assert route.read_bytes() == saved
    after = repo_state(repo)
    assert after["files"].pop(ROUTE)[0] == saved
    assert after["files"] == {path: data for path, data in before["files"].items() if path != ROUTE}
    for key in ("head", "symbolic_ref", "refs", "branch_list", "index", "staged", "git_leftovers"):
        assert after[key] == before[key], key


def test_a_split_apply_creates_no_branch_when_one_of_its_names_appeared(tmp_path: Path) -> None:
    """`--split-by`: fast-import writes the commits, then one transaction creates every branch, each
    only if it does not exist: one that appeared since the names were checked (here: while
    fast-import was about to run) stops the run, and no branch at all is created (nor the user's
    touched)."""
    root = example_app(tmp_path / "app")
    before = repo_state(root)
    proc = start_paused_apply(root, ["--split-by", "owners", "--branch", "mig"], "importing", tmp_path)
    wait_paused(proc, tmp_path)
    users = git(root, "commit-tree", "-p", "HEAD", "-m", "work", "HEAD^{tree}").strip()
    git(root, "branch", "mig-foundation", users)

    code, out, err = resume(proc, tmp_path)

    assert code == 1, out + err
    assert err.endswith(f"migrate-ws: error: branch mig-foundation was created while migrate-ws was planning (it points "
                        f"at {users[:10]}); it was not touched and nothing was changed; choose another name with "
                        "--branch\n")
    assert branches(root) == ["main", "mig-foundation"]
    assert git(root, "rev-parse", "mig-foundation").strip() == users
    assert_restored(root, without(before, "refs", "branch_list"))
