"""The background object store of `--apply`: each step's blobs and trees are in the object
database before its commit (so `git commit` finds them), no ref is left behind, and stopping it
early leaves the repository's object store clean (no temporary pack, no crash report)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from helpers import git, git_init_and_commit, repo_state, write_files
from migrate_ws.applying.git import FileState, Repository
from migrate_ws.applying.journal import read_state


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def has_object(root: Path, sha: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", sha], cwd=root).returncode == 0


def leftovers(root: Path) -> list[str]:
    git_dir = root / ".git"
    return sorted(p.name for p in [*git_dir.glob("fast_import_crash_*"), *(git_dir / "objects" / "pack").glob("tmp_*")])


def loose_objects(root: Path) -> set[str]:
    objects = root / ".git" / "objects"
    return {p.parent.name + p.name for p in objects.glob("??/*")}


def test_each_step_s_blobs_and_trees_are_stored_before_its_wait_returns(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.py": "x = 1\n", "pkg/b.py": "y = 2\n", "pkg/c.py": "z = 3\n", "run.sh": "echo\n"})
    (tmp_path / "run.sh").chmod(0o755)
    git_init_and_commit(tmp_path)
    base = git(tmp_path, "rev-parse", "HEAD").strip()
    steps = [[FileState("a.py", b"x = 10\n"), FileState("pkg/b.py", b"y = 20\n")],
             [FileState("pkg/b.py", b"y = 200\n"), FileState("pkg/c.py", None), FileState("run.sh", b"echo 1\n", True)]]
    repo = Repository(tmp_path)
    try:
        store = repo.store_objects(base, steps)
        assert store is not None
        for number, files in enumerate(steps):
            store.wait(number)
            assert all(has_object(tmp_path, blob_id(f.data)) for f in files if f.data is not None)
        store.stop()
        assert store.process.returncode == 0
        assert leftovers(tmp_path) == []
        assert git(tmp_path, "for-each-ref").count("\n") == 1, "only the branch: no scratch ref"
        # the real commits of the two steps write no object but the commits themselves
        for number, files in enumerate(steps):
            for state in files:
                if state.data is None:
                    (tmp_path / state.path).unlink()
                else:
                    (tmp_path / state.path).write_bytes(state.data)
            before = loose_objects(tmp_path)
            git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-q", "--only",
                "-m", f"step {number}", "--", *[f.path for f in files])
            new = loose_objects(tmp_path) - before
            assert new == {git(tmp_path, "rev-parse", "HEAD").strip()}, "its blobs and trees were there"
        git(tmp_path, "fsck", "--no-dangling")  # fails the test unless the repository is sound
    finally:
        repo.close()


def test_stopping_early_ends_fast_import_cleanly(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.py": "x = 1\n"})
    git_init_and_commit(tmp_path)
    base = git(tmp_path, "rev-parse", "HEAD").strip()
    big = [[FileState(f"f{n}.py", bytes([65 + n % 26]) * 200_000 + str(n).encode()) for n in range(400)]]
    repo = Repository(tmp_path)
    try:
        store = repo.store_objects(base, big)
        assert store is not None
        store.stop()  # long before the 80 MB are through
        assert store.process.returncode == 0  # the end of its input, not a signal
        store.wait(0)  # returns: nobody waits on a stopped store
        assert not store.complete  # the input ended inside the step: fast-import wrote its scratch ref,
        assert "refs/migrate-ws/objects" not in git(tmp_path, "for-each-ref")  # which stop deleted
        assert leftovers(tmp_path) == []
        git(tmp_path, "fsck", "--no-dangling")  # fails the test unless the repository is sound
    finally:
        repo.close()


def test_a_kill_in_the_middle_of_the_stream_then_abort_leaves_the_repository_as_it_was(tmp_path: Path) -> None:
    """--apply is killed (SIGKILL) while its background fast-import is in the middle of a file:
    the test seam holds the feeder after the first half of the first file and the main thread
    in its first file write, and the kill comes once both are there. fast-import sees its input
    end inside a `data` command and writes a crash report into the git directory; --abort waits
    for it to end and removes the report (and the scratch ref), and the repository is exactly
    as before."""
    import os
    import signal
    import sys
    import time

    legacy = "from netra_backend.app.websocket_core.manager import WebSocketManager\n"
    files = {f"app/module_{n}.py": legacy + f"VALUE_{n} = WebSocketManager\n" + ("# padding\n" * 2_000)
             for n in range(3)}
    write_files(tmp_path, files)
    git_init_and_commit(tmp_path)
    before = repo_state(tmp_path)
    marker = tmp_path.parent / "paused"
    env = {**os.environ, "MIGRATE_WS_TEST_PAUSE": "fast-import:1,write:1", "MIGRATE_WS_TEST_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-m", "migrate_ws", "--apply", "--preset", "netra", "-j", "1"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the apply did not reach both pauses"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    journal = read_state(tmp_path / ".git" / "migrate-ws" / "apply-journal")
    assert journal is not None and (journal["phase"], journal["step"]) == ("writing", "imports")
    fast_import = journal["fast_import"]["pid"]
    while time.monotonic() < deadline:  # it ends once it has read what was written to it
        try:
            os.kill(fast_import, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    assert leftovers(tmp_path) == [f"fast_import_crash_{fast_import}"], "the kill cut fast-import's input in a file"
    done = subprocess.run([sys.executable, "-m", "migrate_ws", "--abort"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert repo_state(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_a_fast_import_that_fails_leaves_no_crash_report(tmp_path: Path) -> None:
    """Should fast-import fail (here: a base commit that does not exist), the commits store their
    own objects and the store removes the crash report it wrote."""
    write_files(tmp_path, {"a.py": "x = 1\n"})
    git_init_and_commit(tmp_path)
    repo = Repository(tmp_path)
    try:
        store = repo.store_objects("f" * 40, [[FileState("a.py", b"x = 2\n")]])
        assert store is not None
        store.wait(0)  # returns once it has failed
        store.stop()
        assert store.process.returncode not in (0, None)
        assert leftovers(tmp_path) == []
    finally:
        repo.close()
