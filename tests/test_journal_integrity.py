"""A damaged crash journal: `--abort` names the damage in one line, exits 4 and changes nothing.

A real `--apply` is killed (SIGKILL) after committing its imports step, as a power cut
would; then one of the journal's files is damaged the way a disk or a file system damages
files (truncated, a flipped byte, an index that no longer describes the saved copies).
`--abort` must validate the whole journal before it touches anything: the repository and
the journal stay exactly as they were, and `--apply`, `--fix` and `--check` say the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import (assert_exactly_as_before, assert_restored, cli_env, git, make_repo, repo_state, run_cli, settled,
                     sigkill, start_killable_apply, wait_for)

JOURNAL = Path(".git") / "migrate-ws" / "apply-journal"


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def drop_an_entry(path: Path) -> None:
    """originals.json, still valid JSON, without the entry of one file the run was writing."""
    entries = json.loads(path.read_text())
    path.write_text(json.dumps(entries[1:]))


DAMAGE = {
    # file, what is done to it, what --abort names
    "a truncated originals file": ("originals.bin", truncate, r"originals.bin is truncated \(\d+ of \d+ bytes\)"),
    "a flipped byte in an original": ("originals.bin", flip_a_byte,
                                      r"originals.bin is damaged \(the saved copy of \S+ does not match its checksum\)"),
    "a truncated state file": ("state.json", truncate, r"state.json is truncated \(\d+ of \d+ bytes\)"),
    "a flipped byte in the state file": ("state.json", flip_a_byte,
                                         r"state.json is damaged \((its checksum does not match|its header line .*)\)"),
    "a truncated originals index": ("originals.json", truncate, r"originals.json is truncated \(\d+ of \d+ bytes\)"),
    "a broken originals index": ("originals.json", drop_an_entry,
                                 r"originals.json is (truncated|damaged) \(.*\)"),
    "a flipped byte in the saved index": ("index", flip_a_byte,
                                          r"index is damaged \(its checksum does not match\)"),
    "a missing originals file": ("originals.bin", lambda path: path.unlink(), r"originals.bin is missing"),
}


def journal_bytes(repo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((repo / JOURNAL).iterdir())}


def killed_and_damaged(tmp_path: Path, damage: str) -> Path:
    """A repository whose --apply was killed after its imports step, with that damage to its journal."""
    repo = make_repo(tmp_path / "repo")
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:imports")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)
    name, harm, _ = DAMAGE[damage]
    harm(repo / JOURNAL / name)
    return repo


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_abort_refuses_a_damaged_journal_and_changes_nothing(tmp_path: Path, damage: str) -> None:
    repo = killed_and_damaged(tmp_path, damage)
    during = repo_state(repo)
    journal = journal_bytes(repo)

    done = run_cli(["--abort"], cwd=repo)

    assert done.returncode == 4, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("migrate-ws: error: the journal of the interrupted --apply is damaged: ")
    assert re.search(DAMAGE[damage][2], lines[0]), lines[0]
    assert f"nothing was changed and the journal is kept in {repo / JOURNAL}" in lines[0]
    assert "restore the repository by hand" in lines[0]
    assert_restored(repo, during)  # the killed run's stale lock included
    assert journal_bytes(repo) == journal
    assert git_head_is_the_migration_branch(repo)


def test_apply_fix_and_check_name_a_damaged_journal_too(tmp_path: Path) -> None:
    repo = killed_and_damaged(tmp_path, "a truncated originals file")
    during = repo_state(repo)
    journal = journal_bytes(repo)
    line = run_cli(["--abort"], cwd=repo).stderr.strip()

    for args in (["--apply", "--branch", "other"], ["--fix"]):
        again = run_cli(args, cwd=repo)
        assert again.returncode == 1, again.stdout + again.stderr
        assert again.stderr.splitlines()[-1] == line
    check = run_cli(["--check"], cwd=repo, env=cli_env())
    assert "warning: the journal of the interrupted --apply is damaged: originals.bin is truncated" in check.stderr
    during["git_leftovers"].remove("migrate-ws/apply.lock")  # the killed run's: taken over as stale, released
    assert_restored(repo, during)
    assert journal_bytes(repo) == journal


def git_head_is_the_migration_branch(repo: Path) -> bool:
    return git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/killed"


def test_an_undamaged_journal_still_restores_everything(tmp_path: Path) -> None:
    """The control: the same kill, no damage, --abort restores the repository exactly."""
    repo = make_repo(tmp_path / "repo")
    before = settled(repo)
    proc = start_killable_apply(repo, [], tmp_path, pause="committed:imports")
    wait_for(tmp_path / "paused", proc)
    sigkill(proc)

    done = run_cli(["--abort"], cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert_exactly_as_before(repo, before)
