"""The background blob store of `--apply`: each step's blobs are in the object database before its
commit, and stopping it early leaves the repository's object store clean (no temporary pack, no
crash report)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from helpers import git, git_init_and_commit, write_files
from migrate_ws.cli.git import Repository


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def has_object(root: Path, sha: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", sha], cwd=root).returncode == 0


def leftovers(root: Path) -> list[str]:
    git_dir = root / ".git"
    return sorted(p.name for p in [*git_dir.glob("fast_import_crash_*"), *(git_dir / "objects" / "pack").glob("tmp_*")])


def test_each_group_is_stored_before_its_wait_returns(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.py": "x = 1\n"})
    git_init_and_commit(tmp_path)
    groups = [[b"first = 1\n", b"second = 2\n"], [b"third = 3\n" * 1000]]
    repo = Repository(tmp_path)
    try:
        for contents in groups:
            assert not any(has_object(tmp_path, blob_id(data)) for data in contents)
        store = repo.store_blobs(groups)
        assert store is not None
        for number, contents in enumerate(groups):
            store.wait(number)
            assert all(has_object(tmp_path, blob_id(data)) for data in contents)
        store.stop()
        assert store.process.returncode == 0
        assert leftovers(tmp_path) == []
        assert git(tmp_path, "fsck", "--no-dangling").returncode == 0
    finally:
        repo.close()


def test_stopping_early_ends_fast_import_cleanly(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.py": "x = 1\n"})
    git_init_and_commit(tmp_path)
    big = [[bytes([65 + n % 26]) * 200_000 + str(n).encode() for n in range(400)]]
    repo = Repository(tmp_path)
    try:
        store = repo.store_blobs(big)
        assert store is not None
        store.stop()  # long before the 80 MB are through
        assert store.process.returncode == 0  # the end of its input, not a signal
        store.wait(0)  # returns: nobody waits on a stopped store
        assert leftovers(tmp_path) == []
        assert git(tmp_path, "fsck", "--no-dangling").returncode == 0
    finally:
        repo.close()
