"""`# migrate-ws: keep` comments: statements, codes, whole files, unused ones, and the cache."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import PACKAGE, assert_valid_sarif, check_code_scanning_properties, make_legacy_repo, snapshot, write_files
from static_imports import new_unresolved_imports
from migrate_ws.cli import app
from migrate_ws.config import load_config
from migrate_ws.engine import plan as build_plan
from migrate_ws.model import FileStatus
from migrate_ws.suppressions import read_directives

LEGACY = "netra_backend.app.websocket_core.manager"
CANONICAL = "netra_backend.app.websocket_core.websocket_manager"
CLEAN_ENV = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
S = "netra_backend/app/services"

FILES = {
    # a test of the legacy layout keeps its import, and so its uses
    f"{S}/kept_import.py": (
        f"from {LEGACY} import UnifiedWebSocketManager  # migrate-ws: keep\n"
        f"from {LEGACY} import get_websocket_manager\n\n\n"
        "def legacy_type():\n    return UnifiedWebSocketManager\n\n\n"
        "def current(user_context):\n    return get_websocket_manager(user_context)\n"),
    # a kept use of a name the change renames: its import is kept too (MW803)
    f"{S}/kept_use.py": (
        f"from {LEGACY} import UnifiedWebSocketManager\n\n\n"
        "def a():\n    return UnifiedWebSocketManager  # migrate-ws: keep\n\n\n"
        "def b():\n    return UnifiedWebSocketManager\n"),
    # a kept use of a name that only moves: only that statement stays
    f"{S}/kept_call.py": (
        f"from {LEGACY} import get_websocket_manager\n\n\n"
        "def a(user_context):\n    return get_websocket_manager()  # migrate-ws: keep\n\n\n"
        "def b(user_context):\n    return get_websocket_manager()\n"),
    # codes: only that finding is silenced; the import is still migrated
    f"{S}/coded.py": (
        f"from {LEGACY} import WebSocketManager\n\n\n"
        "def f():\n    return WebSocketManager()  # migrate-ws: keep[MW301]\n\n\n"
        "def g():\n    return WebSocketManager()\n"),
    # a compatibility module
    f"{S}/compat.py": f'"""Compatibility layer."""\n# migrate-ws: keep-file\nfrom {LEGACY} import WebSocketManager\n',
    # a multi-line import kept on its last line; a patch decorator kept, the other one rewritten
    f"{S}/multi.py": (
        f"from {LEGACY} import (\n    WebSocketManager,\n)  # migrate-ws: keep\n"
        "from unittest.mock import patch\n\n\n"
        f"@patch(\"{LEGACY}.WebSocketManager\")  # migrate-ws: keep\n"
        f"@patch(\"{LEGACY}.get_websocket_manager\")\n"
        "def test(a, b):\n    return WebSocketManager\n"),
    # comments that match nothing, or cannot be read; text that only looks like one
    f"{S}/unused.py": (
        '"""Not a directive: # migrate-ws: keep"""\n'
        "import os  # migrate-ws: keep\n"
        "# migrate-ws: keep\n"
        "x = 1  # migrate-ws: keep[MW101, MW999]\n"
        "y = 2  # migrate-ws: kept\n"),
    f"{S}/unused_code.py": (
        f"from {LEGACY} import WebSocketManager  # migrate-ws: keep[MW101]\n"),
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_legacy_repo(tmp_path / "repo", git=False)
    write_files(root, FILES)
    return root


def plan_of(root: Path, **options):
    return build_plan(root, load_config(root, None, None), jobs=1, **options)


def by_path(result) -> dict:
    return {r.path: r for r in result.files}


def findings_of(result, path: str) -> list[tuple[str, int]]:
    return sorted((f.code, f.line) for f in result.all_findings if f.path == path)


def text_after(result, root: Path, path: str) -> str:
    entry = by_path(result).get(path)
    data = entry.rewritten if entry is not None and entry.changed else (root / path).read_bytes()
    return data.decode("utf-8")


def test_directives_are_comments_only() -> None:
    found = read_directives(FILES[f"{S}/unused.py"])
    assert [(d.line, d.codes, d.trailing) for d in found] == [
        (2, None, True), (3, None, False), (4, frozenset({"MW101"}), True), (5, None, True)]
    assert found[2].unknown == ["MW999"] and found[3].unknown


def test_a_kept_import_and_its_uses_stay_and_are_not_reported(repo: Path) -> None:
    result = plan_of(repo)
    path = f"{S}/kept_import.py"
    after = text_after(result, repo, path)
    assert after.splitlines()[0] == FILES[path].splitlines()[0]
    assert "return UnifiedWebSocketManager\n" in after
    assert f"from {CANONICAL} import get_websocket_manager" in after  # the rest of the file is migrated
    assert findings_of(result, path) == []
    kept = by_path(result)[path].suppressed
    assert [(s.line, s.code) for s in kept] == [(1, "MW800"), (6, "MW800")]


def test_a_kept_use_of_a_renamed_name_keeps_its_import(repo: Path) -> None:
    result = plan_of(repo)
    path = f"{S}/kept_use.py"
    assert not by_path(result)[path].changed
    assert findings_of(result, path) == [("MW803", 1)]
    assert {s.line for s in by_path(result)[path].suppressed} == {1, 5, 9}


def test_a_kept_use_of_a_moved_name_keeps_only_that_statement(repo: Path) -> None:
    result = plan_of(repo)
    path = f"{S}/kept_call.py"
    after = text_after(result, repo, path)
    assert after.startswith(f"from {CANONICAL} import get_websocket_manager\n")
    assert "    return get_websocket_manager()  # migrate-ws: keep\n" in after
    assert "    return get_websocket_manager(user_context)\n" in after
    assert [(s.line, s.code) for s in by_path(result)[path].suppressed] == [(5, "MW800")]
    assert findings_of(result, path) == []


def test_codes_silence_only_those_findings(repo: Path) -> None:
    result = plan_of(repo)
    path = f"{S}/coded.py"
    after = text_after(result, repo, path)
    assert after.startswith(f"from {CANONICAL} import WebSocketManager\n")
    assert findings_of(result, path) == [("MW301", 9)]
    assert [(s.line, s.code) for s in by_path(result)[path].suppressed] == [(5, "MW301")]


def test_keep_file_keeps_the_whole_file_and_reports_nothing(repo: Path) -> None:
    result = plan_of(repo)
    path = f"{S}/compat.py"
    assert not by_path(result)[path].changed and findings_of(result, path) == []
    assert [(s.line, s.code) for s in by_path(result)[path].suppressed] == [(3, "MW800")]


def test_a_kept_multi_line_import_and_a_kept_decorator(repo: Path) -> None:
    result = plan_of(repo)
    path = f"{S}/multi.py"
    after = text_after(result, repo, path)
    assert after.startswith(f"from {LEGACY} import (\n    WebSocketManager,\n)  # migrate-ws: keep\n")
    assert f'@patch("{LEGACY}.WebSocketManager")  # migrate-ws: keep\n' in after
    assert f'@patch("{CANONICAL}.get_websocket_manager")\n' in after


def test_unused_and_unreadable_comments_are_reported(repo: Path) -> None:
    result = plan_of(repo)
    assert findings_of(result, f"{S}/unused.py") == [("MW801", 2), ("MW801", 3), ("MW802", 4), ("MW802", 5)]
    assert findings_of(result, f"{S}/unused_code.py") == [("MW801", 1)]
    message = next(f.message for f in result.all_findings if f.path == f"{S}/unused_code.py")
    assert "MW101" in message
    # the import under the unused keep[MW101] is migrated: codes never keep a statement
    assert by_path(result)[f"{S}/unused_code.py"].changed


def test_a_legacy_module_with_keep_file_is_not_retired(repo: Path) -> None:
    legacy = repo / PACKAGE / "manager.py"
    legacy.write_text("# migrate-ws: keep-file\n" + legacy.read_text())
    result = plan_of(repo)
    entry = by_path(result)[f"{PACKAGE}/manager.py"]
    assert not entry.changed and entry.suppressed
    assert findings_of(result, f"{PACKAGE}/manager.py") == []


def test_the_result_cache_keeps_suppressions_and_sees_a_removed_comment(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = plan_of(repo, cache_directory=cache)
    second = plan_of(repo, cache_directory=cache)
    assert second.cached > 0
    assert second.suppressed_count == first.suppressed_count > 0
    assert sorted(f.render() for f in second.all_findings) == sorted(f.render() for f in first.all_findings)
    path = repo / S / "compat.py"
    path.write_text(path.read_text().replace("# migrate-ws: keep-file\n", ""))
    third = plan_of(repo, cache_directory=cache)
    assert by_path(third)[f"{S}/compat.py"].changed


def test_what_is_written_verifies_and_breaks_no_import(repo: Path, tmp_path: Path) -> None:
    result = plan_of(repo, verify=True)
    assert not [r for r in result.files if r.status is FileStatus.FAILED]
    assert not result.errors
    after = tmp_path / "after"
    shutil.copytree(repo, after)
    for entry in result.changed_files:
        (after / entry.path).write_bytes(entry.rewritten)
    for entry in result.changed_files:
        ast.parse(entry.rewritten)
    assert new_unresolved_imports(repo, after) == set()
    # every name a kept line uses is still bound in its file
    for path, text in FILES.items():
        final = text_after(result, repo, path)
        tree = ast.parse(final)
        bound = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        for number, line in enumerate(final.splitlines(), 1):
            if line.rstrip().endswith("# migrate-ws: keep") and "import" not in line and line.startswith(" "):
                for name in ("UnifiedWebSocketManager", "WebSocketManager", "get_websocket_manager"):
                    if re.search(rf"\b{name}\b", line.split("#")[0]):
                        assert name in bound, (path, number, line)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)


def test_the_summary_counts_and_show_suppressed_lists_them(repo: Path) -> None:
    result = invoke("-C", repo, "--check", "--no-cache", f"{S}/kept_import.py", f"{S}/compat.py", "--show-suppressed")
    assert result.exit_code == 1  # kept_import.py's other import is still pending
    assert ", 3 suppressed;" in result.stdout
    assert f"  {S}/compat.py:3: MW800 kept as is: imports:" in result.stdout
    plain = invoke("-C", repo, "--check", "--no-cache", f"{S}/compat.py")
    assert plain.exit_code == 0 and "nothing to migrate" in plain.stdout and "1 suppressed" in plain.stdout
    assert "Suppressed by" not in plain.stdout
    document = json.loads(invoke("-C", repo, "--check", "--no-cache", "--json", f"{S}/compat.py").stdout)
    assert document["summary"]["suppressed"] == 1
    assert document["suppressed"] == [{"path": f"{S}/compat.py", "line": 3, "code": "MW800",
                                       "message": document["suppressed"][0]["message"]}]


def test_ci_formats_show_suppressed_sites_only_when_asked(repo: Path) -> None:
    github = invoke("-C", repo, "--check", "--no-cache", f"{S}/compat.py", "--output-format", "github")
    assert "::" not in github.stdout
    shown = invoke("-C", repo, "--check", "--no-cache", f"{S}/compat.py", "--output-format", "github",
                   "--show-suppressed")
    assert shown.stdout.startswith(f"::notice file={S}/compat.py,line=3,")
    sarif = json.loads(invoke("-C", repo, "--check", "--no-cache", f"{S}/compat.py", "--output-format", "sarif",
                              "--show-suppressed").stdout)
    results = sarif["runs"][0]["results"]
    assert len(results) == 1 and results[0]["suppressions"][0]["kind"] == "inSource"
    check_code_scanning_properties(sarif)
    assert_valid_sarif(sarif)


def test_fix_leaves_kept_statements(repo: Path) -> None:
    before = snapshot(repo)
    result = invoke("-C", repo, "--fix", f"{S}/compat.py", f"{S}/kept_use.py")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert snapshot(repo) == before
