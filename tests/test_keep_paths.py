"""PATH arguments (`migrate-ws --check a.py b.py`), `--fix`, and the path-limited plan.

pre-commit passes the staged files to the hook: the check must report exactly what a run
over the whole repository reports for those files, while only those files are changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import (ALIAS_FILE, FROM_IMPORT_FILE, LEGACY, MODULE_OBJECT_FILE, PACKAGE, SHOP_CONFIG, git,
                     make_legacy_repo, make_shop_repo, snapshot, write_files)
from migrate_ws.cli import app
from migrate_ws.config import load_config
from migrate_ws.engine import plan as build_plan

CLEAN_ENV = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
LEGACY_FILE = f"{PACKAGE}/manager.py"


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)


def changed_paths(document: dict) -> list[str]:
    return [f["path"] for f in document["files"] if f["status"] == "changed"]


# ----- the command line ---------------------------------------------------------------------

def test_check_with_paths_reports_only_those_files(legacy_repo: Path) -> None:
    result = invoke("-C", legacy_repo, "--check", "--json", FROM_IMPORT_FILE, ALIAS_FILE)
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert changed_paths(document) == sorted([FROM_IMPORT_FILE, ALIAS_FILE])
    assert document["summary"]["scanned"] == 2
    assert {f["path"] for f in document["findings"]} <= {FROM_IMPORT_FILE, ALIAS_FILE}


def test_a_clean_file_passes_the_check(legacy_repo: Path) -> None:
    result = invoke("-C", legacy_repo, "--check", f"{PACKAGE}/unified_manager.py")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "nothing to migrate (1 file scanned" in result.stdout


def test_options_may_follow_the_paths_and_double_dash_ends_the_options(legacy_repo: Path) -> None:
    first = invoke("-C", legacy_repo, FROM_IMPORT_FILE, "--check", "--json")
    assert first.exit_code == 1 and changed_paths(json.loads(first.stdout)) == [FROM_IMPORT_FILE]
    second = invoke("-C", legacy_repo, "--check", "--json", "--", FROM_IMPORT_FILE)
    assert second.exit_code == 1 and changed_paths(json.loads(second.stdout)) == [FROM_IMPORT_FILE]


def test_a_directory_selects_the_files_under_it(legacy_repo: Path) -> None:
    result = invoke("-C", legacy_repo, "--check", "--json", "netra_backend/app/services")
    assert result.exit_code == 1
    changed = changed_paths(json.loads(result.stdout))
    assert changed and all(path.startswith("netra_backend/app/services/") for path in changed)


def test_the_audit_subcommand_still_works(legacy_repo: Path) -> None:
    result = invoke("audit", "-C", legacy_repo, "--json")
    assert result.exit_code == 1  # the legacy layout has violations
    assert json.loads(result.stdout)["violations"]
    assert invoke("audit", "-C", legacy_repo).exit_code == 1


def test_help_shows_paths_and_the_subcommand() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "[PATH]... | COMMAND [ARGS]..." in result.stdout


@pytest.mark.parametrize("given, message", [
    ("no/such/file.py", "no/such/file.py: no such file or directory"),
    ("../outside.py", "../outside.py: outside the repository root"),
])
def test_a_missing_path_or_one_outside_the_root_is_a_usage_error(legacy_repo: Path, given: str, message: str) -> None:
    (legacy_repo.parent / "outside.py").write_text("x = 1\n")
    for mode in ("--check", "--dry-run", "--fix"):
        result = invoke("-C", legacy_repo, mode, FROM_IMPORT_FILE, given)
        assert result.exit_code == 2, (mode, result.stdout, result.stderr)
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and message in errors[0], result.stderr
    assert git(legacy_repo, "status", "--porcelain") == ""


def test_an_excluded_file_named_explicitly_is_not_checked(tmp_path: Path) -> None:
    """pre-commit names staged files one by one: `exclude` still applies (ruff's --force-exclude)."""
    root = make_shop_repo(tmp_path / "shop")
    (root / "migrate-ws.toml").write_text(SHOP_CONFIG.replace(
        'include = ["shop/**/*.py"]', 'include = ["shop/**/*.py"]\nexclude = ["shop/checkout/"]'))
    result = invoke("-C", root, "--config", root / "migrate-ws.toml", "--check", "shop/checkout/cart.py")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "0 files scanned" in result.stdout


# ----- the plan with paths: exact for the given files ---------------------------------------

REEXPORT_FILES = {  # shop.api.client re-exports a legacy alias; user.py and patched.py follow its rename
    "shop/api/__init__.py": "",
    "shop/api/client.py": "from shop.legacy.payments import LegacyPaymentClient\n\n__all__ = ['LegacyPaymentClient']\n",
    "shop/api/user.py": "from shop.api.client import LegacyPaymentClient\n\n\ndef make():\n    return LegacyPaymentClient()\n",
    "shop/api/patched.py": ("from unittest import mock\n\n\ndef test():\n"
                            "    with mock.patch(\"shop.api.client.LegacyPaymentClient\"):\n        pass\n"),
    "shop/api/kept.py": "from shop.legacy.payments import PaymentClient  # migrate-ws: keep\n",
}


def reexport_repo(tmp_path: Path) -> Path:
    root = make_shop_repo(tmp_path / "shop", pyproject=True)
    write_files(root, REEXPORT_FILES)
    return root


def test_the_plan_of_given_files_equals_the_whole_plan_for_them(tmp_path: Path) -> None:
    """A file whose rewrite follows another module's rename (an import and a patch target)
    gets the same edits when it is given alone: the module it follows is planned too."""
    root = reexport_repo(tmp_path)
    config = load_config(root, None, None)
    whole = build_plan(root, config, jobs=1)
    by_path = {r.path: r for r in whole.files}
    assert by_path["shop/api/user.py"].changed and by_path["shop/api/patched.py"].changed
    assert by_path["shop/api/kept.py"].suppressed
    for path in sorted(by_path):
        alone = build_plan(root, config, jobs=1, only=[path])
        results = {r.path: r for r in alone.files}
        assert set(results) <= {path}, (path, set(results))
        if path in results:
            assert results[path].status == by_path[path].status
            assert results[path].rewritten == by_path[path].rewritten, path
            assert results[path].edits == by_path[path].edits
            assert results[path].findings == by_path[path].findings
            assert results[path].suppressed == by_path[path].suppressed
        else:
            assert not by_path[path].changed and not by_path[path].findings, path
        assert all(f.path == path for f in alone.all_findings)


def test_a_legacy_module_is_retired_only_when_it_is_given(tmp_path: Path) -> None:
    root = reexport_repo(tmp_path)
    config = load_config(root, None, None)
    without = build_plan(root, config, jobs=1, only=["shop/checkout/cart.py"])
    assert [r.path for r in without.changed_files] == ["shop/checkout/cart.py"]
    given = build_plan(root, config, jobs=1, only=["shop/legacy/payments.py"])
    assert [r.path for r in given.changed_files] == ["shop/legacy/payments.py"]
    whole = build_plan(root, config, jobs=1)
    shim = {r.path: r.rewritten for r in whole.changed_files}["shop/legacy/payments.py"]
    assert given.changed_files[0].rewritten == shim


def test_a_path_limited_run_keeps_the_other_cached_results(tmp_path: Path) -> None:
    root = make_legacy_repo(tmp_path / "repo")
    config = load_config(root, None, None)
    cache = tmp_path / "cache"
    build_plan(root, config, jobs=1, cache_directory=cache)
    second = build_plan(root, config, jobs=1, cache_directory=cache)
    build_plan(root, config, jobs=1, cache_directory=cache, only=[FROM_IMPORT_FILE])
    third = build_plan(root, config, jobs=1, cache_directory=cache)
    assert second.cached > 0 and third.cached == second.cached and third.parsed == second.parsed


# ----- --fix --------------------------------------------------------------------------------

def test_fix_rewrites_the_given_files_in_place_and_exits_1(legacy_repo: Path) -> None:
    whole = {r.path: r.rewritten for r in build_plan(legacy_repo, load_config(legacy_repo, None, None),
                                                     jobs=1).changed_files}
    before = snapshot(legacy_repo)
    head = git(legacy_repo, "rev-parse", "HEAD")
    branches = git(legacy_repo, "branch", "--list")
    result = invoke("-C", legacy_repo, "--fix", FROM_IMPORT_FILE, MODULE_OBJECT_FILE)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "fixed 2 files in place" in result.stdout
    after = snapshot(legacy_repo)
    assert {path for path in after if after[path] != before[path]} == {FROM_IMPORT_FILE, MODULE_OBJECT_FILE}
    assert LEGACY.encode() not in after[FROM_IMPORT_FILE]
    # the same bytes the whole plan would write; git is not touched
    assert after[FROM_IMPORT_FILE] == whole[FROM_IMPORT_FILE]
    assert git(legacy_repo, "rev-parse", "HEAD") == head
    assert git(legacy_repo, "branch", "--list") == branches
    assert git(legacy_repo, "diff", "--cached", "--name-only") == ""
    again = invoke("-C", legacy_repo, "--fix", FROM_IMPORT_FILE, MODULE_OBJECT_FILE)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "nothing to fix" in again.stdout


def test_fix_refuses_the_options_of_apply_and_of_ci_output(legacy_repo: Path) -> None:
    for extra in (["--branch", "x"], ["--no-git"], ["--output-format", "sarif"], ["--diff-output", "p.diff"],
                  ["--check"], ["--apply"]):
        result = invoke("-C", legacy_repo, "--fix", *extra, FROM_IMPORT_FILE)
        assert result.exit_code == 2, (extra, result.stdout, result.stderr)
    assert git(legacy_repo, "status", "--porcelain") == ""


def test_apply_with_paths_commits_only_those_files(legacy_repo: Path) -> None:
    result = invoke("-C", legacy_repo, "--apply", "--branch", "migrate-some", FROM_IMPORT_FILE)
    assert result.exit_code == 0, result.stdout + result.stderr
    changed = git(legacy_repo, "diff", "--name-only", "main", "migrate-some").split()
    assert changed == [FROM_IMPORT_FILE]


def test_fix_fails_on_a_file_it_cannot_parse_as_check_does(legacy_repo: Path) -> None:
    from helpers import BROKEN_FILE

    assert invoke("-C", legacy_repo, "--check", BROKEN_FILE).exit_code == 3
    result = invoke("-C", legacy_repo, "--fix", BROKEN_FILE)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "MW901" in result.stdout
