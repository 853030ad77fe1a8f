"""The result cache: a second run reuses what the first concluded, and is never wrong for it.

Every test compares a plan made with the cache against one made without it: the cache may
only change how much work is done (files parsed), never the outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migrate_ws.config import load_config
from migrate_ws.engine import plan as build_plan
from migrate_ws.report import to_json

from helpers import ALIAS_FILE, BROKEN_FILE, FROM_IMPORT_FILE, LEGACY, cli_env, run_cli


def make_plan(root: Path, cache: Path | None, **options):
    return build_plan(root, load_config(root, None, None), jobs=1, cache_directory=cache, **options)


def outcome(result_plan) -> dict:
    """Everything a plan says, except how much work it took."""
    document = json.loads(to_json(result_plan))
    del document["summary"]["parsed"], document["summary"]["cached"]
    return document


def migrate(root: Path) -> None:
    """Write the planned change, as --apply would (without git)."""
    for result in make_plan(root, None).changed_files:
        (root / result.path).write_bytes(result.rewritten)


def cache_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("results-*.json")) if directory.is_dir() else []


def test_a_second_run_parses_only_the_files_that_change(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = make_plan(legacy_repo, None)
    first = make_plan(legacy_repo, cache)
    second = make_plan(legacy_repo, cache)
    assert outcome(first) == outcome(second) == outcome(fresh)
    assert first.cached == 0 and first.parsed == fresh.parsed
    # files that change are rendered again on every run; the rest comes from the cache (a retiring
    # legacy module is not parsed as a file: its shim is planned from the repository)
    rewritten = [r for r in fresh.changed_files if any(e.step != "legacy-modules" for e in r.edits)]
    assert second.parsed == len(rewritten) < fresh.parsed
    assert second.cached == fresh.scanned - len(rewritten)


def test_a_migrated_tree_is_not_parsed_again(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    migrate(legacy_repo)
    fresh = make_plan(legacy_repo, None)
    assert not fresh.changed_files and fresh.all_findings, "the example keeps some follow-ups after the migration"
    first = make_plan(legacy_repo, cache)
    second = make_plan(legacy_repo, cache)
    assert outcome(first) == outcome(second) == outcome(fresh)
    assert second.parsed == 0 and second.cached == fresh.scanned


def test_an_edited_file_is_planned_again(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    migrate(legacy_repo)
    make_plan(legacy_repo, cache)
    target = legacy_repo / FROM_IMPORT_FILE
    target.write_text(target.read_text(encoding="utf-8") + f"\nfrom {LEGACY} import WebSocketManager as Late\n",
                      encoding="utf-8")
    after_edit = make_plan(legacy_repo, cache)
    assert outcome(after_edit) == outcome(make_plan(legacy_repo, None))
    assert [r.path for r in after_edit.changed_files] == [FROM_IMPORT_FILE]


def test_an_edit_that_keeps_size_and_mtime_is_still_seen_through_a_new_mtime(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    migrate(legacy_repo)
    make_plan(legacy_repo, cache)
    target = legacy_repo / ALIAS_FILE
    text = target.read_bytes()
    # same length, different meaning: a canonical import turned back into a legacy one
    changed = text.replace(b"websocket_manager import", b"manager import          ", 1)
    assert len(changed) == len(text) and changed != text
    info = target.stat()
    target.write_bytes(changed)
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert outcome(make_plan(legacy_repo, cache)) == outcome(make_plan(legacy_repo, None))


def test_a_touched_file_with_the_same_bytes_is_recognised_by_its_digest(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    migrate(legacy_repo)
    make_plan(legacy_repo, cache)
    # a fresh clone: every modification time differs, every byte is the same
    for path in legacy_repo.rglob("*.py"):
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    again = make_plan(legacy_repo, cache)
    assert again.parsed == 0
    assert outcome(again) == outcome(make_plan(legacy_repo, None))


def test_an_unparseable_file_is_reported_again_from_the_cache(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = make_plan(legacy_repo, cache)
    second = make_plan(legacy_repo, cache)
    reasons = {r.path: (r.reason, r.line) for r in first.skipped_files}
    assert BROKEN_FILE in reasons
    assert {r.path: (r.reason, r.line) for r in second.skipped_files} == reasons


def test_other_steps_or_options_use_other_results(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    make_plan(legacy_repo, cache)
    for options in ({"steps": ("imports",)}, {"todo_comments": True}):
        assert outcome(make_plan(legacy_repo, cache, **options)) == outcome(make_plan(legacy_repo, None, **options))
    assert len(cache_files(cache)) == 3


def test_a_changed_configuration_uses_other_results(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    make_plan(legacy_repo, cache)
    # the same preset, but the consumers of one directory are excluded from now on
    (legacy_repo / "pyproject.toml").write_text(
        '[tool.migrate-ws]\npreset = "netra"\nexclude = ["netra_backend/app/routes/**"]\n', encoding="utf-8")
    with_cache = make_plan(legacy_repo, cache)
    assert outcome(with_cache) == outcome(make_plan(legacy_repo, None))
    assert ALIAS_FILE not in {r.path for r in with_cache.files}


@pytest.mark.parametrize("damage", ["garbage", "wrong shape", "wrong entries"])
def test_a_damaged_cache_is_ignored(legacy_repo: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    make_plan(legacy_repo, cache)
    [file] = cache_files(cache)
    file.write_text({"garbage": "{not json", "wrong shape": "[1, 2, 3]",
                     "wrong entries": '{"format": 1, "files": [1, 2]}'}[damage], encoding="utf-8")
    assert outcome(make_plan(legacy_repo, cache)) == outcome(make_plan(legacy_repo, None))


def test_a_cache_directory_that_cannot_be_written_only_costs_time(legacy_repo: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be", encoding="utf-8")
    assert outcome(make_plan(legacy_repo, blocked / "cache")) == outcome(make_plan(legacy_repo, None))


def test_results_of_a_file_that_is_gone_are_dropped(legacy_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    make_plan(legacy_repo, cache)
    [file] = cache_files(cache)
    before = set(json.loads(file.read_text(encoding="utf-8"))["files"])
    gone = "netra_backend/app/routes/__init__.py"
    assert gone in before
    (legacy_repo / gone).unlink()
    make_plan(legacy_repo, cache)
    assert set(json.loads(file.read_text(encoding="utf-8"))["files"]) == before - {gone}


def test_the_cache_key_does_not_depend_on_the_process(legacy_repo: Path, tmp_path: Path) -> None:
    """Sets are hashed differently in every Python process: the key must not follow them."""
    cache = tmp_path / "cache"
    for seed in ("1", "2"):
        env = {**cli_env(), "PYTHONHASHSEED": seed, "MIGRATE_WS_CACHE_DIR": str(cache)}
        completed = subprocess.run([sys.executable, "-m", "migrate_ws", "--check", "-j", "1"], cwd=legacy_repo,
                                   env=env, capture_output=True, text=True, timeout=60)
        assert completed.returncode == 1, completed.stderr
    assert len(cache_files(cache)) == 1


def test_the_command_line_reuses_results_and_says_so(legacy_repo: Path, private_result_cache: Path) -> None:
    first = run_cli(["--check"], cwd=legacy_repo)
    second = run_cli(["--check"], cwd=legacy_repo)
    assert first.returncode == second.returncode == 1
    assert "reused from the cache" not in first.stdout
    assert "results reused from the cache" in second.stdout
    assert cache_files(private_result_cache)


def test_no_cache_neither_reads_nor_writes(legacy_repo: Path, private_result_cache: Path) -> None:
    result = run_cli(["--check", "--no-cache"], cwd=legacy_repo)
    assert result.returncode == 1
    assert not cache_files(private_result_cache)
