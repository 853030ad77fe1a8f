"""File names as long as the file system allows: 240 ASCII characters, 255 bytes of UTF-8.

Every write is atomic (a temporary file next to the target, then a rename), and the temporary
file's name must fit the 255-byte limit whatever the target's name is: `--apply` and `--fix`
run on real files with such names, a killed `--apply` leaves the shortened temporary file
that `--abort` must still recognise, and the writer makes names of every length up to the limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import (BRANCH, assert_exactly_as_before, git, make_repo, run_cli, settled, sigkill, start_killable_apply,
                     temp_files, wait_for, write_files)
import migrate_ws.writer as writer

LEGACY_CONSUMER = "from netra_backend.app.websocket_core.manager import WebSocketManager\n\nKIND = WebSocketManager\n"
CANONICAL_IMPORT = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
# "aaa/" sorts first: the long names are the first files the imports step writes
ASCII_240 = "aaa/" + "a" * 237 + ".py"  # a 240-character name
UTF8_255 = "aaa/" + "é" * 126 + ".py"  # 126 two-byte characters and ".py": 255 bytes
LONG_NAMES = (ASCII_240, UTF8_255)


def long_named_repo(tmp_path: Path, use_git: bool = True) -> Path:
    assert len(Path(ASCII_240).name) == 240 and len(Path(UTF8_255).name.encode("utf-8")) == 255
    root = make_repo(tmp_path / "repo", broken=False, use_git=False)
    write_files(root, {name: LEGACY_CONSUMER for name in LONG_NAMES})
    if use_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "Test User")
        git(root, "config", "user.email", "test.user@example.com")
        git(root, "config", "core.quotePath", "false")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Legacy layout")
    return root


def test_apply_writes_files_with_the_longest_names(tmp_path: Path) -> None:
    root = long_named_repo(tmp_path)
    # the PR description goes wherever --pr-body says, under a name as long as allowed
    description = tmp_path / "descriptions" / ("d" * 252 + ".md")
    description.parent.mkdir()

    result = run_cli(["--apply", "--branch", "migrated", "--pr-body", description, "-C", root], cwd=root)

    assert result.returncode == 0, result.stdout + result.stderr
    for name in LONG_NAMES:
        assert (root / name).read_text(encoding="utf-8").startswith(CANONICAL_IMPORT)
        assert git(root, "show", f"migrated:{name}").startswith(CANONICAL_IMPORT)
    assert description.read_text(encoding="utf-8").startswith("# migrate-ws:")
    assert git(root, "status", "--porcelain") == ""
    assert temp_files(root) == [] and not list(description.parent.glob("*.tmp"))


def test_fix_writes_files_with_the_longest_names(tmp_path: Path) -> None:
    root = long_named_repo(tmp_path, use_git=False)

    result = run_cli(["--fix", "-C", root], cwd=root)

    assert result.returncode == 1, result.stdout + result.stderr  # files were rewritten
    for name in LONG_NAMES:
        assert (root / name).read_text(encoding="utf-8").startswith(CANONICAL_IMPORT)
    assert temp_files(root) == []


@pytest.mark.parametrize("write", [2, 3], ids=["240-characters", "255-bytes"])
def test_a_kill_while_writing_a_long_named_file_then_abort(tmp_path: Path, write: int) -> None:
    root = long_named_repo(tmp_path)
    before = settled(root)
    # the first write is the canonical step's; the next two are the long-named files
    proc = start_killable_apply(root, [], tmp_path, pause=f"write:{write}")
    wait_for(tmp_path / "paused", proc)
    pid = proc.pid
    sigkill(proc)
    (leftover,) = temp_files(root)
    name = Path(leftover).name
    assert name.endswith(f".{pid}-{write - 1}.migrate-ws.tmp") and len(name.encode()) <= 255
    assert Path(LONG_NAMES[write - 2]).name.startswith(name[1:20])  # named after its target, shortened

    done = run_cli(["--abort"], cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    assert_exactly_as_before(root, before)
    assert temp_files(root) == []
    assert BRANCH not in git(root, "branch", "--list")


@pytest.mark.parametrize("character", ["a", "é", "€", "😀"])
def test_temporary_names_fit_for_every_target_name_length(tmp_path: Path, character: str) -> None:
    width = len(character.encode("utf-8"))
    for length in [1, 50, 100, *range(120, 256)]:  # the temporary name's suffix is about 30 bytes
        count, rest = divmod(length, width)
        name = character * count + "x" * rest
        assert len(name.encode("utf-8")) == length
        target = tmp_path / name
        unsynced: set[str] = set()  # what is synced does not matter here, and syncing each costs time
        writer.atomic_write(target, b"first\n", sync=False, directories=unsynced)
        writer.atomic_write(target, b"second\n", sync=False, directories=unsynced)  # its temporary name again
        assert target.read_bytes() == b"second\n"
        target.unlink()
    assert os.listdir(tmp_path) == []


def test_a_shortened_temporary_name_is_still_recognised_as_this_tool_s(tmp_path: Path) -> None:
    long_name = "é" * 126 + ".py"
    temp = Path(writer.temp_path_for(str(tmp_path / long_name))).name
    assert len(temp.encode()) <= 255 and temp.startswith(".é") and temp.endswith(writer.TEMP_SUFFIX)

    assert writer.temp_file_pid(temp) == os.getpid()  # what --abort and a later run look for
