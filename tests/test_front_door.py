"""The command line as a new user meets it: one line for every usage error, counts in good
English, `-C` before `audit`, grouped `--help`, and a migration without aliases or a factory
that does not speak of them. Every test runs the real command on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import git_init_and_commit, make_legacy_repo, run_cli, write_files

# a generic migration: a top-level legacy module moving to a dotted standard-library module,
# with only the three keys a migration needs (no aliases, no factory; the module stays)
GENERIC_CONFIG = '''\
[tool.migrate-ws]
canonical-module = "unittest.mock"
canonical-exports = ["patch", "Mock"]

[tool.migrate-ws.legacy-modules."mock"]
names = ["patch", "Mock"]
retire = false
'''


def generic_repo(root: Path, git: bool = True) -> Path:
    write_files(root, {
        "pyproject.toml": GENERIC_CONFIG,
        "mock.py": "from unittest.mock import Mock, patch\n",
        "tests/t.py": 'from mock import patch\n\np = patch("os.getcwd")\n',
        "clean.py": "x = 1\n",
    })
    if git:
        git_init_and_commit(root)
    return root


# ----- one line for every usage error ---------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["--output-format", "bogus"], "--output-format: 'bogus' is not one of 'text', 'json', 'github', 'sarif'"),
    (["--bogus"], "no such option: --bogus"),
    (["--dry-rn"], "no such option: --dry-rn (did you mean --dry-run?)"),
    (["--jobs"], "--jobs needs a value"),
    (["--jobs", "x"], "--jobs: 'x' is not a whole number"),
    (["--jobs", "0"], "--jobs: 0 is less than 1"),
    (["--legacy-modules", "bogus"], "--legacy-modules: 'bogus' is not one of"),
    (["--check", "--apply"], "--dry-run, --check, --fix, --apply and --abort: choose one"),
    (["--color=yes"], "option '--color' does not take a value"),
    (["audit", "--bogus"], "audit: no such option: --bogus"),
    (["audit", "--root"], "audit: --root needs a value"),
    (["audit", "extra"], "audit: got unexpected extra argument"),
    (["--check", "audit"], "--check does not apply to audit"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_a_usage_error_is_one_line_with_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    root = generic_repo(tmp_path / "repo", git=False)
    result = run_cli(args, cwd=root)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("migrate-ws: error: ") and says in lines[0], lines[0]
    assert "Usage:" not in result.stderr and "Possible options" not in result.stderr


# ----- -C before the subcommand ---------------------------------------------------------------------

def test_root_before_audit_is_the_audited_repository(tmp_path: Path) -> None:
    root = generic_repo(tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # no configuration here: auditing it would be a usage error
    for args in (["-C", str(root), "audit"], ["--root", str(root), "--json", "audit"]):
        result = run_cli(args, cwd=elsewhere)
        assert result.returncode == 1, result.stderr
        assert "tests/t.py:1: mock" in result.stdout
    # the subcommand's own -C wins over the one before it
    result = run_cli(["-C", str(elsewhere), "audit", "-C", str(root)], cwd=elsewhere)
    assert result.returncode == 1 and "tests/t.py:1: mock" in result.stdout, result.stderr


# ----- counts in good English -----------------------------------------------------------------------

def test_counts_of_one_are_singular(tmp_path: Path) -> None:
    root = generic_repo(tmp_path / "repo")
    check = run_cli(["--check"], cwd=root)
    assert check.returncode == 1, check.stderr
    assert "1 file would change (1 site)" in check.stdout and "0 files not processed" in check.stdout
    assert "1 files" not in check.stdout
    audit = run_cli(["audit"], cwd=root)
    assert "imported from 1 module path (1 legacy)" in audit.stdout, audit.stdout
    one = run_cli(["--check", "clean.py"], cwd=root)
    assert one.returncode == 0 and "(1 file scanned, " in one.stdout, one.stdout
    again = run_cli(["--check", "clean.py"], cwd=root)
    assert "1 result reused from the cache" in again.stdout, again.stdout
    fix = run_cli(["--fix", "clean.py"], cwd=root)
    assert fix.returncode == 0 and "nothing to fix (1 file scanned)" in fix.stdout, fix.stdout
    dry = run_cli(["--dry-run", "--follow-ups", "all"], cwd=root)
    assert "1 files" not in dry.stdout, dry.stdout


# ----- start-up ------------------------------------------------------------------------------------

def test_the_journal_shortcut_looks_where_the_journal_is(tmp_path: Path) -> None:
    """A --check skips importing the recovery code when the git directory holds no journal: the
    place it looks must be the journal's own."""
    from migrate_ws.applying.journal import journal_directory
    from migrate_ws.cli.abort_command import _may_hold_a_journal

    root = generic_repo(tmp_path / "repo")
    git_dir = root / ".git"
    assert not _may_hold_a_journal(root) and not _may_hold_a_journal(root / "tests")
    journal_directory(git_dir).mkdir(parents=True)
    assert _may_hold_a_journal(root / "tests")


# ----- a migration without aliases or a factory --------------------------------------------------------

def test_unconfigured_steps_are_not_listed(tmp_path: Path) -> None:
    root = generic_repo(tmp_path / "repo")
    dry = run_cli(["--dry-run"], cwd=root)
    assert dry.returncode == 1, dry.stderr
    for text in (dry.stdout, run_cli(["--dry-run", "--follow-ups", "all"], cwd=root).stdout):
        assert "aliases" not in text and "factory" not in text and "legacy-modules" not in text

    applied = run_cli(["--apply"], cwd=root)
    assert applied.returncode == 0, applied.stderr
    assert "aliases" not in applied.stdout and "factory" not in applied.stdout, applied.stdout
    assert "legacy-modules" not in applied.stdout
    description = (root / ".git" / "migrate-ws" / "PR_DESCRIPTION.md").read_text(encoding="utf-8")
    steps = description.split("## Steps", 1)[1].split("\n## ", 1)[0]
    assert "| imports |" in steps
    assert "aliases" not in steps and "factory" not in steps and "legacy-modules" not in steps
    assert "| Legacy modules | kept (none retires) |" in description
    assert "| Legacy modules | shim |" not in description


def test_audit_of_a_migration_without_aliases_or_factory(tmp_path: Path) -> None:
    root = generic_repo(tmp_path / "repo")
    audit = run_cli(["audit"], cwd=root)
    assert audit.returncode == 1, audit.stderr
    assert "Factory" not in audit.stdout and "factory" not in audit.stdout
    assert "Aliases" not in audit.stdout and "SSOT" not in audit.stdout
    assert "No singletons" in audit.stdout
    assert "SSOT" not in run_cli(["audit", "--help"], cwd=root).stdout


def test_the_netra_preset_still_lists_every_step(tmp_path: Path) -> None:
    root = make_legacy_repo(tmp_path / "repo")
    applied = run_cli(["--apply"], cwd=root)
    assert applied.returncode in (0, 3), applied.stderr
    description = (root / ".git" / "migrate-ws" / "PR_DESCRIPTION.md").read_text(encoding="utf-8")
    for step in ("| aliases |", "| factory |", "| legacy-modules |", "| Legacy modules | shim |"):
        assert step in description
    audit = run_cli(["audit"], cwd=root)
    assert "Factory, no singletons" in audit.stdout and "Aliases are one object" in audit.stdout


# ----- --help -----------------------------------------------------------------------------------------

def test_help_groups_the_options_and_names_the_presets(tmp_path: Path) -> None:
    result = run_cli(["--help"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    sections = ["Modes:", "What to migrate:", "--apply options:", "Output:", "Commands:", "Exit codes:"]
    positions = [text.index(section) for section in sections]
    assert positions == sorted(positions)
    modes = text[positions[0]:positions[1]]
    assert all(option in modes for option in ("--dry-run", "--check", "--fix", "--apply", "--abort"))
    apply_options = text[positions[2]:positions[3]]
    assert "--branch" in apply_options and "--split-by" in apply_options and "--json" not in apply_options
    assert "--output-format" in text[positions[3]:positions[4]]
    assert "Use a built-in preset: netra." in text and "migrate_ws/presets" not in text
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "123", "130"):
        assert f"\n    {code}" in text[positions[5]:]


def test_a_dirty_tree_of_one_path_is_one_path(tmp_path: Path) -> None:
    root = generic_repo(tmp_path / "repo")
    (root / "clean.py").write_text("x = 2\n", encoding="utf-8")  # one tracked file changed
    refused = run_cli(["--apply"], cwd=root)
    assert refused.returncode == 1, refused.stderr
    assert "uncommitted changes (1 path: clean.py)" in refused.stderr, refused.stderr
    allowed = run_cli(["--apply", "--allow-dirty"], cwd=root)
    assert allowed.returncode == 0, allowed.stderr
    assert "uncommitted changes (1 path) were left" in allowed.stdout + allowed.stderr
