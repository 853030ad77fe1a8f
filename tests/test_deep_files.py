"""A file too deeply nested or too large to analyse is a finding, never the end of the run.

Each case puts one such file, with a legacy import, into a real git repository in the netra
layout and runs the real `migrate-ws` process: every command reports the file as not
processed (MW908 too-deeply-nested, MW909 too-large, or MW901 where Python itself calls it a
syntax error) with one line, leaves its bytes alone, and migrates the rest. With `-j 2` the
files are planned in worker processes (there are enough files for a pool), with `-j 1` in the
process itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import LEGACY_FILE, NOTIFIER, branches, git, git_init_and_commit, make_repo, run_cli

LEGACY_IMPORT = "from netra_backend.app.websocket_core.manager import WebSocketManager\n"
DEEP = "netra_backend/app/services/generated_table.py"

# a left-leaning chain of 3,000 additions: deeper than the AST construction of Python 3.11
# follows (RecursionError in ast.parse)
OPERATOR_CHAIN = LEGACY_IMPORT + "TOTAL = " + "+".join(["1"] * 3000) + "\nKIND = WebSocketManager\n"
PARSER_REASON = "too deeply nested for the running Python's parser (RecursionError)"


def deep_repo(tmp_path: Path, source: str | bytes, fillers: int = 70) -> Path:
    root = make_repo(tmp_path / "repo", broken=False, use_git=False)
    (root / DEEP).write_bytes(source.encode("utf-8") if isinstance(source, str) else source)
    for number in range(fillers):  # enough files for -j 2 to plan them in a pool of worker processes
        (root / f"netra_backend/app/services/plain_{number}.py").write_text(f"VALUE = {number}\n", encoding="utf-8")
    git_init_and_commit(root, "Legacy layout")
    return root


def finding_line(output: str, code: str) -> str:
    lines = [line.strip() for line in output.splitlines() if DEEP in line and code in line]
    assert lines, output
    return lines[0]


@pytest.mark.parametrize("command, jobs", [(command, jobs) for command in ("--check", "--dry-run", "--fix", "--apply")
                                           for jobs in ("1", "2")] + [("audit", "")])
def test_a_file_too_deep_to_parse_is_reported_and_the_rest_is_migrated(tmp_path: Path, command: str,
                                                                         jobs: str) -> None:
    root = deep_repo(tmp_path, OPERATOR_CHAIN)
    original = (root / DEEP).read_bytes()
    notifier = (root / NOTIFIER).read_bytes()
    args = ["audit"] if command == "audit" else [command, "-j", jobs, "--no-cache", "--follow-ups", "all"]
    if command == "--apply":
        args += ["--branch", "migrated"]

    result = run_cli([*args, "-C", root], cwd=root)

    output = result.stdout + result.stderr
    assert "internal error" not in output and "Traceback" not in output, output
    assert finding_line(output, "MW908") == f"{DEEP}:0: MW908 not processed: {PARSER_REASON}"
    assert (root / DEEP).read_bytes() == original
    if command in ("--check", "--dry-run", "audit"):
        assert result.returncode == 1, output  # the rest is still pending (audit: violations)
        assert (root / NOTIFIER).read_bytes() == notifier
    if command == "--dry-run":
        assert f"+++ b/{NOTIFIER}" in output and f"b/{DEEP}" not in output
    if command == "--fix":
        assert result.returncode == 1, output  # files were rewritten
        assert b"websocket_core.websocket_manager import" in (root / NOTIFIER).read_bytes()
    if command == "--apply":
        assert result.returncode == 0, output
        assert "migrated" in branches(root)
        assert "websocket_core.websocket_manager import" in git(root, "show", f"migrated:{NOTIFIER}")
        assert git(root, "show", f"migrated:{DEEP}").encode() == original


@pytest.mark.parametrize("source, code, reason", [
    # CPython's parser runs out of its own stack and says so with MemoryError
    (LEGACY_IMPORT + "y = " + "-" * 100_000 + "1\n", "MW908",
     "too deeply nested or too large for the running Python's parser (MemoryError)"),
    # parses, but the analysis (and the checks) walk the tree recursively
    (LEGACY_IMPORT + "y = WebSocketManager + " + "+".join(["1"] * 2500) + "\n", "MW908",
     "too deeply nested for migrate-ws's analysis (RecursionError)"),
    # a syntax error for Python; asking LibCST whether a newer Python parses it overflowed its stack
    (LEGACY_IMPORT + "y = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n", "MW901",
     "does not parse: too many nested parentheses (line 2)"),
    # a syntax error after a 30,000-term chain: LibCST took minutes, or crashed, to say no
    (LEGACY_IMPORT + "y = " + "+".join(["1"] * 30_000) + "\ndef broken(:\n    pass\n", "MW901",
     "does not parse: invalid syntax (line 3)"),
    (LEGACY_IMPORT + "y = x" + ".a" * 30_000 + "\ndef broken(:\n    pass\n", "MW901", "does not parse:"),
], ids=["unary-run", "analysis-chain", "brackets", "chain-then-error", "attribute-chain-then-error"])
def test_every_shape_of_deep_file_is_one_line_and_the_rest_runs(tmp_path: Path, source, code: str,
                                                               reason: str) -> None:
    root = deep_repo(tmp_path, source, fillers=0)
    original = (root / DEEP).read_bytes()

    checked = run_cli(["--check", "-j", "1", "--no-cache", "--follow-ups", "all", "-C", root], cwd=root, timeout=60)

    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output  # the other files' pending change
    assert "internal error" not in output and "Traceback" not in output, output
    line = finding_line(output, code)
    assert line.startswith(f"{DEEP}:") and f"{code} not processed: {reason}" in line, line
    assert f"{NOTIFIER}:3: MW800" in checked.stdout
    assert (root / DEEP).read_bytes() == original


def test_a_file_over_max_file_size_is_not_parsed(tmp_path: Path) -> None:
    # 17 MB with a legacy import: parsing that much generated code would take some 2 GB of memory
    generated = LEGACY_IMPORT + "KIND = WebSocketManager\n" + ("# " + "x" * 1022 + "\n") * 17_000
    assert len(generated) > 16 * 1024 * 1024
    root = deep_repo(tmp_path, generated, fillers=0)

    result = run_cli(["--check", "-j", "1", "--no-cache", "--json", "-C", root], cwd=root)
    audited = run_cli(["audit", "--json", "-C", root], cwd=root)

    report = json.loads(result.stdout)
    (skipped,) = [entry for entry in report["skipped"] if entry["path"] == DEEP]
    assert skipped["code"] == "MW909"
    assert skipped["reason"] == f"too large to analyse ({len(generated):,} bytes; max-file-size is 16,777,216)"
    assert NOTIFIER in {entry["path"] for entry in report["files"]}
    (unseen,) = json.loads(audited.stdout)["not_processed"]
    assert (unseen["path"], unseen["code"]) == (DEEP, "MW909")


def test_max_file_size_is_configurable_and_checked(tmp_path: Path) -> None:
    root = deep_repo(tmp_path, LEGACY_IMPORT + "KIND = WebSocketManager\n" + "# padding\n" * 200, fillers=0)
    pyproject = root / "pyproject.toml"

    pyproject.write_text('[tool.migrate-ws]\npreset = "netra"\nmax-file-size = 1000\n', encoding="utf-8")
    small = run_cli(["--check", "-j", "1", "--no-cache", "--follow-ups", "all", "-C", root], cwd=root)
    pyproject.write_text('[tool.migrate-ws]\npreset = "netra"\nmax-file-size = "1 MB"\n', encoding="utf-8")
    invalid = run_cli(["--check", "-C", root], cwd=root)

    assert finding_line(small.stdout, "MW909").startswith(f"{DEEP}:0: MW909 not processed: too large to analyse (")
    assert f"{NOTIFIER}:3: MW800" in small.stdout  # smaller files are planned as always
    assert invalid.returncode == 2
    assert invalid.stderr.strip().splitlines()[-1] == (
        "migrate-ws: error: tool.migrate-ws.max-file-size: expected a positive number of bytes, got '1 MB'")


def test_an_audit_with_only_a_deep_file_left_says_so(tmp_path: Path) -> None:
    root = deep_repo(tmp_path, OPERATOR_CHAIN, fillers=0)
    assert run_cli(["--apply", "--branch", "migrated", "-C", root], cwd=root).returncode == 0

    result = run_cli(["audit", "-C", root], cwd=root)

    assert result.returncode == 3, result.stdout + result.stderr  # no violation seen, but not everything was seen
    assert "Files not processed (1); the checks above did not see them:" in result.stdout
    assert f"{DEEP}:0: MW908 not processed: {PARSER_REASON}" in result.stdout


def test_a_legacy_module_too_deep_to_parse_stays_and_the_rest_is_migrated(tmp_path: Path) -> None:
    root = deep_repo(tmp_path, "VALUE = 1\n", fillers=0)
    legacy = root / LEGACY_FILE
    legacy.write_text(legacy.read_text(encoding="utf-8") + "TABLE = " + "+".join(["1"] * 3000) + "\n")
    git(root, "commit", "-q", "-am", "a generated table in the legacy module")
    original = legacy.read_bytes()

    checked = run_cli(["--check", "--no-cache", "--follow-ups", "all", "-C", root], cwd=root)
    audited = run_cli(["audit", "-C", root], cwd=root)
    applied = run_cli(["--apply", "--branch", "migrated", "-C", root], cwd=root)

    for result in (checked, audited, applied):
        assert "internal error" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert f"{LEGACY_FILE}:0: MW603 legacy module netra_backend.app.websocket_core.manager stays: it defines code " \
           f"{PARSER_REASON} (line 0)" in checked.stdout
    assert f"{LEGACY_FILE}:0: MW908 not processed: {PARSER_REASON}" in audited.stdout
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert legacy.read_bytes() == original
    assert "websocket_core.websocket_manager import" in git(root, "show", f"migrated:{NOTIFIER}")
