"""`migrate-ws --apply` when things go wrong: the repository must end up exactly as it was.

Failures are real: a rename that fails with ENOSPC half way, a read-only file, a git hook
that rejects a commit, git missing from PATH, and SIGINT/SIGTERM sent to a real
`migrate-ws` process while a git hook or the user's test command is running. The pauses
come from the repository itself (a pre-commit hook, a `--test-cmd`), never from hooks in
the product. After each, status, HEAD, symbolic ref, branches, index and the bytes and
mode of every file are compared with the state before the run.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from helpers import (LEGACY_FILE, NOTIFIER, assert_restored, branches, cli_env, files_of, git, interrupt, invoke,
                     make_repo, pausing_script, repo_state, run_cli, start_cli, wait_for)
import migrate_ws.writer as writer


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def fail_nth_replace(monkeypatch, n: int, code: int = errno.ENOSPC) -> list[tuple[str, str]]:
    """Make the writer's n-th `os.replace` fail with `code`; the others work."""
    real = os.replace
    calls: list[tuple[str, str]] = []

    def replace(src, dst, *args, **kwargs):
        calls.append((os.fspath(src), os.fspath(dst)))
        if len(calls) == n:
            raise OSError(code, os.strerror(code))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(writer.os, "replace", replace)
    return calls


# ----- failures during the writes ------------------------------------------------------------

def test_a_write_failing_half_way_restores_the_repository(repo: Path, monkeypatch) -> None:
    before = repo_state(repo)
    calls = fail_nth_replace(monkeypatch, 2)

    result = invoke(["--apply", "-C", repo, "--branch", "full-disk"])

    assert result.exit_code == 4, result.output
    assert "No space left on device" in result.stderr
    assert "the repository was restored" in result.stderr
    assert len(calls) >= 3, "nothing was restored through the writer"
    assert_restored(repo, before)
    assert "full-disk" not in branches(repo)


def test_a_write_failing_half_way_with_dirty_changes_keeps_them(repo: Path, monkeypatch) -> None:
    (repo / "README.md").write_text("# backend\n\nunstaged\n")
    (repo / "netra_backend/__init__.py").write_text("# staged\n")
    git(repo, "add", "netra_backend/__init__.py")
    (repo / "notes.txt").write_bytes(b"untracked\r\n\x00binary")
    before = repo_state(repo)
    fail_nth_replace(monkeypatch, 3)

    result = invoke(["--apply", "-C", repo, "--allow-dirty"])

    assert result.exit_code == 4, result.output
    assert_restored(repo, before)


def test_a_file_made_read_only_after_the_check_restores_the_repository(repo: Path, monkeypatch) -> None:
    # read-only files are found before the branch is created and left out (test_apply_unwritable.py);
    # one that becomes read-only after that check still stops the write, and everything is put back
    import migrate_ws.applying.unwritable as unwritable

    monkeypatch.setattr(unwritable, "problem", lambda full: None)  # as if the check ran before the chmod
    os.chmod(repo / NOTIFIER, 0o444)  # git does not track write bits: the tree is still clean
    before = repo_state(repo)

    result = invoke(["--apply", "-C", repo, "--branch", "ro"])

    assert result.exit_code == 4, result.output
    assert f"cannot write {NOTIFIER}: the file is read-only" in result.stderr
    assert_restored(repo, before)
    assert files_of(repo)[NOTIFIER][1] == 0o444


def test_a_hook_rejecting_a_commit_restores_the_repository(repo: Path, tmp_path: Path) -> None:
    count = tmp_path / "commits"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f'#!/bin/sh\necho x >> "{count}"\n'
                    f'if [ "$(wc -l < "{count}")" -ge 3 ]; then echo "lint: rejected" >&2; exit 1; fi\n')
    hook.chmod(0o755)
    before = repo_state(repo)

    result = invoke(["--apply", "-C", repo, "--branch", "hooked"])

    assert result.exit_code == 4, result.output
    assert "git could not commit the aliases step" in result.stderr and "lint: rejected" in result.stderr
    assert_restored(repo, before)


def test_no_git_write_failure_restores_every_file(tmp_path: Path, monkeypatch) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    before = files_of(root)
    fail_nth_replace(monkeypatch, 4)

    result = invoke(["--apply", "--no-git", "-C", root])

    assert result.exit_code == 4, result.output
    assert "every file was restored" in result.stderr
    assert files_of(root) == before


def test_no_git_failing_tests_with_rollback_restore_every_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    before = files_of(root)
    result = invoke(["--apply", "--no-git", "-C", root, "--test-cmd", "exit 2", "--rollback-on-fail"])
    assert result.exit_code == 4, result.output
    assert files_of(root) == before


def test_detached_head_is_restored_after_a_rollback(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    before = repo_state(repo)
    assert before["symbolic_ref"] is None

    result = invoke(["--apply", "-C", repo, "--branch", "d", "--test-cmd", "exit 1", "--rollback-on-fail"])

    assert result.exit_code == 4, result.output
    assert_restored(repo, before)


# ----- git missing -----------------------------------------------------------------------------

def python_only_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has python but no git (and no shell tools)."""
    folder = tmp_path / "python-only"
    folder.mkdir()
    (folder / "python").symlink_to(sys.executable)
    env = cli_env(PATH=str(folder))
    # the interpreter is reached through a bare symlink: give it this environment's packages
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def test_git_missing_gives_one_line_and_changes_nothing(repo: Path, tmp_path: Path) -> None:
    before = repo_state(repo)
    env = python_only_path(tmp_path)

    done = run_cli(["--apply"], cwd=repo, env=env)

    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("migrate-ws: error: git is not available") and "--no-git" in lines[0]
    assert_restored(repo, before)


def test_no_git_works_without_git_installed(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", use_git=False)
    done = run_cli(["--apply", "--no-git"], cwd=root, env=python_only_path(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / LEGACY_FILE).read_bytes().startswith(b'"""Deprecated')


# ----- interrupted from outside ----------------------------------------------------------------

def assert_gone(pid_file: Path) -> None:
    pid = int(pid_file.read_text().split()[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    pytest.fail(f"process {pid} started for the apply is still running")


def test_sigint_during_a_commit_restores_the_repository(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "in-hook"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f'#!/bin/sh\nif [ ! -e "{marker}" ]; then exec /bin/sh -c \'{pausing_script(marker)}\'; fi\n')
    hook.chmod(0o755)
    before = repo_state(repo)

    proc = start_cli(["--apply", "--branch", "interrupted"], cwd=repo)
    wait_for(marker, proc)
    assert "interrupted" in branches(repo), "the pause should come after the branch was created"
    code, out, err = interrupt(proc, signal.SIGINT)

    assert code == 130, out + err
    assert "interrupted; the repository was restored" in err
    assert_gone(Path(f"{marker}.pid"))
    assert_restored(repo, before)


def test_sigint_during_the_test_command_restores_the_repository(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "in-tests"
    existing = tmp_path / "pr.md"  # an older description at the --pr-body path stays as it was
    existing.write_text("an older description\n")
    before = repo_state(repo)

    proc = start_cli(["--apply", "--branch", "testing", "--pr-body", str(existing),
                      "--test-cmd", pausing_script(marker)], cwd=repo)
    wait_for(marker, proc)
    assert len(git(repo, "log", "--format=%H", "main..testing").split()) == 5
    code, out, err = interrupt(proc, signal.SIGINT)

    assert code == 130, out + err
    assert "interrupted; the repository was restored" in err
    assert_gone(Path(f"{marker}.pid"))
    assert_restored(repo, before)
    assert existing.read_text() == "an older description\n"


def test_sigterm_then_sigint_during_the_test_command_restore_the_repository(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "in-tests"
    git(repo, "checkout", "-q", "--detach")
    (repo / "README.md").write_text("# backend\n\nunstaged\n")
    before = repo_state(repo)

    proc = start_cli(["--apply", "--allow-dirty", "--test-cmd", pausing_script(marker)], cwd=repo)
    wait_for(marker, proc)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)  # a second signal while the repository is being restored must not stop that
    code, out, err = interrupt(proc, signal.SIGINT)

    assert code == 130, out + err
    assert "terminated (SIGTERM)" in err or "interrupted" in err  # the second signal may cut the message short
    assert_gone(Path(f"{marker}.pid"))
    assert_restored(repo, before)


# ----- the journal itself --------------------------------------------------------------------

def test_journal_restores_writes_deletions_and_new_files(tmp_path: Path) -> None:
    kept = tmp_path / "kept.py"
    kept.write_bytes(b"original\r\n")
    kept.chmod(0o640)
    gone = tmp_path / "gone.py"
    gone.write_bytes(b"legacy\n")
    journal = writer.Journal()

    journal.write(kept, b"rewritten\n")
    journal.write(kept, b"rewritten twice\n")
    journal.delete(gone)
    journal.write(tmp_path / "new" / "dir" / "made.md", b"new\n")
    assert kept.read_bytes() == b"rewritten twice\n" and oct(kept.stat().st_mode & 0o777) == oct(0o640)
    assert not gone.exists()

    assert journal.restore() == []
    assert kept.read_bytes() == b"original\r\n" and kept.stat().st_mode & 0o777 == 0o640
    assert gone.read_bytes() == b"legacy\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.py", "kept.py"]


def test_a_failed_atomic_write_leaves_the_target_and_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "target.py"
    target.write_bytes(b"before\n")
    fail_nth_replace(monkeypatch, 1)
    journal = writer.Journal()

    with pytest.raises(OSError) as caught:
        journal.write(target, b"after\n")

    assert caught.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"before\n"
    assert [p.name for p in tmp_path.iterdir()] == ["target.py"]
    assert journal.restore() == []
    assert target.read_bytes() == b"before\n"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_journal_writes_keep_the_owner(tmp_path: Path) -> None:
    target = tmp_path / "owned.py"
    target.write_bytes(b"x = 1\n")
    os.chown(target, 4321, 4321)
    journal = writer.Journal()
    journal.write(target, b"x = 2\n")
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4321)
    assert journal.restore() == []
    assert (target.stat().st_uid, target.stat().st_gid, target.read_bytes()) == (4321, 4321, b"x = 1\n")


def test_deferred_sync_syncs_each_durable_file_once_at_flush(tmp_path: Path, monkeypatch) -> None:
    """`--apply` (whose recovery journal holds the originals) syncs a file once, at the end of the
    step that writes it last; a state a later step replaces is never synced."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else str(fd)
        synced.append(os.path.basename(path))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    files = [tmp_path / f"m{number}.py" for number in range(20)]
    for file in files:
        file.write_bytes(b"old\n")
    journal = writer.Journal(deferred_sync=True)
    for file in files:
        journal.write(file, b"step one\n", durable=False)
    assert synced == []
    for file in files[:10]:
        journal.write(file, b"step two\n")
    journal.flush()
    if os.path.exists("/proc/self/fd"):
        assert sorted(name for name in synced if name.endswith(".py")) == sorted(f.name for f in files[:10])
    assert [f.read_bytes() for f in files] == [b"step two\n"] * 10 + [b"step one\n"] * 10
    assert journal.restore() == []
    assert all(f.read_bytes() == b"old\n" for f in files)


def test_the_journal_knows_what_it_wrote_and_keeps_the_original_it_was_given(tmp_path: Path) -> None:
    """--apply reads each file once: the bytes it checked against the plan become the recorded
    original, and a later step compares with what the journal last wrote, not with a new read."""
    path = tmp_path / "a.py"
    path.write_bytes(b"old\n")
    journal = writer.Journal()
    assert journal.last_written(path) == (False, None)
    journal.remember(path, b"old\n")
    journal.write(path, b"new\n")
    assert journal.last_written(path) == (True, b"new\n")
    journal.delete(path)
    assert journal.last_written(path) == (True, None)
    assert journal.restore() == []
    assert path.read_bytes() == b"old\n"
    assert journal.last_written(path) == (False, None)
