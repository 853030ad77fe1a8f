"""The `migrate-ws` command line, run on real repositories written to disk.

Most runs go through `typer.testing.CliRunner` (in process, fast); the ones whose point is
how the command behaves as a real program (piped output, colour, exit status, stderr
without tracebacks, `python -m migrate_ws`) run it as a subprocess. Patches are checked
with the real `git apply`.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import migrate_ws
from migrate_ws.cli import app
from migrate_ws.config import load_config
from migrate_ws.engine import plan as build_plan
from migrate_ws.findings import CODES
from migrate_ws.steps import order

STEPS = order()

from helpers import (
    ALIAS_FILE,
    BROKEN_FILE,
    CANONICAL,
    CRLF_FILE,
    FROM_IMPORT_FILE,
    LATIN1_FILE,
    LEGACY,
    MODULE_OBJECT_FILE,
    MULTILINE_FILE,
    SHOP_CONFIG,
    cli_env,
    git,
    git_init_and_commit,
    make_shop_repo,
    run_cli,
    snapshot,
    write_files,
)

ANSI = "\x1b["
SUMMARY = re.compile(r"^migrate-ws: (\d+) files? would change \((\d+) sites?\), (\d+) manual follow-ups"
                     r"(?:, \d+ notes?)?(?:, \d+ errors? \(--apply refuses\))?, (\d+) files? not processed;")
FOLLOWUP_LINE = re.compile(r"^  (?P<path>[^:\s][^:]*\.py):(?P<line>\d+): (?P<reason>\S.*)$")
# Colour hints a developer's shell may carry; the tests decide about colour themselves.
CLEAN_ENV = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}

CONSUMERS = [FROM_IMPORT_FILE, ALIAS_FILE, MODULE_OBJECT_FILE, MULTILINE_FILE, CRLF_FILE, LATIN1_FILE]


def invoke(*args: str | Path):
    """Run the command in process; stdout and stderr stay separate."""
    return CliRunner().invoke(app, [str(a) for a in args], env=CLEAN_ENV, catch_exceptions=False)


def expected_rewrites(root: Path, preset: str | None = None) -> dict[str, bytes]:
    """The bytes the engine's plan would write, by path, for the configuration the CLI would load."""
    result = build_plan(root, load_config(root, None, preset), jobs=1)
    return {r.path: r.rewritten for r in result.changed_files}


def git_apply(root: Path, patch_file: Path, check: bool = False) -> subprocess.CompletedProcess:
    args = ["git", "apply", *(["--check"] if check else []), str(patch_file)]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, errors="replace", timeout=60)


def legacy_imports(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == LEGACY:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found.extend(a.name for a in node.names if a.name == LEGACY)
    return found


# ----- --dry-run ------------------------------------------------------------------------------

def test_dry_run_groups_the_follow_ups_by_code(legacy_repo: Path) -> None:
    result = invoke("--dry-run", "--root", legacy_repo)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    summary_at = next(i for i, line in enumerate(lines) if SUMMARY.match(line))
    header_at = next(i for i, line in enumerate(lines) if line.startswith("Findings by kind ("))
    assert summary_at < header_at
    total = int(re.search(r"\((\d+);", lines[header_at]).group(1))
    flat = invoke("--dry-run", "--root", legacy_repo, "--follow-ups", "all").stdout.splitlines()
    listed = flat[next(i for i, line in enumerate(flat) if line.startswith("Findings (")) + 1:]
    assert total == len(listed)
    groups = [re.match(r"^  (MW\d{3}) ([a-z-]+) \((error|warning|info)\): (\d+) in ", line) for line in lines[header_at + 1:]]
    groups = [g for g in groups if g]
    assert sum(int(g.group(4)) for g in groups) == total
    assert len({g.group(1) for g in groups}) == len(groups), "one group per code"
    counts = {g.group(1): int(g.group(4)) for g in groups}
    assert counts == {code: sum(1 for line in listed if f": {code} " in line) for code in counts}
    assert "MW901" in counts  # the file that does not parse is among them


def test_dry_run_prints_diff_then_summary_then_findings(legacy_repo: Path) -> None:
    before = snapshot(legacy_repo)
    result = invoke("--dry-run", "--root", legacy_repo, "--follow-ups", "all")

    assert result.exit_code == 1, result.output
    out = result.stdout
    lines = out.splitlines()
    # the diff: the legacy import goes, the canonical path comes
    assert f"diff --git a/{FROM_IMPORT_FILE} b/{FROM_IMPORT_FILE}" in out
    assert f"-from {LEGACY} import WebSocketManager, get_websocket_manager" in lines
    assert f"+from {CANONICAL} import WebSocketManager, get_websocket_manager" in lines
    for path in CONSUMERS:
        assert f"--- a/{path}" in lines and f"+++ b/{path}" in lines, f"{path} missing from the diff"
    assert BROKEN_FILE not in "".join(line for line in lines if line.startswith(("diff ", "--- ", "+++ ")))

    # then the summary, then the follow-up list
    last_diff_line = max(i for i, line in enumerate(lines) if line.startswith(("@@", "+", "-", " ")) and not line.startswith("  "))
    summary_at = next(i for i, line in enumerate(lines) if SUMMARY.match(line))
    header_at = next(i for i, line in enumerate(lines) if line.startswith("Findings ("))
    assert last_diff_line < summary_at < header_at
    changed, edits, _findings, not_processed = map(int, SUMMARY.match(lines[summary_at]).groups())
    assert changed >= len(CONSUMERS) and edits >= changed and not_processed == 1

    findings = lines[header_at + 1:]
    assert findings, "the follow-up list is empty"
    assert int(re.search(r"\((\d+);", lines[header_at]).group(1)) == len(findings)
    for line in findings:
        assert FOLLOWUP_LINE.match(line), f"not `path:line: reason`: {line!r}"
    broken = [line for line in findings if BROKEN_FILE in line]
    assert len(broken) == 1
    assert "not processed" in broken[0] and "does not parse" in broken[0]

    assert result.stderr.startswith("migrate-ws: no configuration found; using the built-in netra preset")
    assert result.stderr.count("\n") == 1
    assert snapshot(legacy_repo) == before, "--dry-run wrote to the repository"
    assert git(legacy_repo, "status", "--porcelain") == ""


def test_dry_run_is_the_default_mode(legacy_repo: Path) -> None:
    explicit = invoke("--dry-run", "--root", legacy_repo, "--no-cache")
    default = invoke("--root", legacy_repo, "--no-cache")
    assert default.exit_code == explicit.exit_code == 1
    assert default.stdout == explicit.stdout


def test_dry_run_diff_covers_each_import_shape(legacy_repo: Path) -> None:
    out = invoke("--dry-run", "--root", legacy_repo).stdout
    lines = out.splitlines()
    # an `as` alias keeps its local name
    assert f"-from {LEGACY} import WebSocketConnectionManager as ConnectionManager" in lines
    assert any(line.startswith(f"+from {CANONICAL} import ") and line.endswith(" as ConnectionManager") for line in lines)
    # a module-object import
    assert f"-import {LEGACY} as legacy_manager" in lines
    assert f"+import {CANONICAL} as legacy_manager" in lines
    # the multi-line parenthesized import keeps its unrelated name where it was
    assert "-    WebSocketManager," in lines
    assert "+    heartbeat_interval," not in lines and "-    heartbeat_interval," not in lines
    assert f"+from {CANONICAL} import WebSocketManager" in lines
    # the latin-1 file is shown decoded, the CRLF file line by line
    assert "+from netra_backend.app.websocket_core.websocket_manager import WebSocketManager" in lines
    assert ' """Résumé des connexions (latin-1 encoded)."""' in lines
    crlf_section = out.split(f"diff --git a/{CRLF_FILE}")[1].split("diff --git")[0]
    assert f"\n+from {CANONICAL} import get_websocket_manager" in crlf_section


# ----- colour -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["--dry-run", "--check"])
def test_piped_output_has_no_escape_codes(legacy_repo: Path, mode: str) -> None:
    result = run_cli([mode, "--follow-ups", "all"], cwd=legacy_repo)
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip()
    assert ANSI not in result.stdout
    assert ANSI not in result.stderr
    # long lines are not wrapped to a terminal width: each follow-up stays on one line
    lines = result.stdout.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("Findings ("))
    assert lines[header_at + 1:] and all(FOLLOWUP_LINE.match(line) for line in lines[header_at + 1:]), lines


def test_color_option_forces_colour_on_a_pipe(legacy_repo: Path) -> None:
    result = run_cli(["--dry-run", "--color"], cwd=legacy_repo)
    assert result.returncode == 1, result.stderr
    assert ANSI in result.stdout


def test_no_color_option_and_no_color_variable(legacy_repo: Path) -> None:
    forced_off = invoke("--dry-run", "--no-color", "--root", legacy_repo)
    assert forced_off.exit_code == 1 and ANSI not in forced_off.stdout
    from_env = CliRunner().invoke(app, ["--dry-run", "--root", str(legacy_repo)], env={**CLEAN_ENV, "NO_COLOR": "1"})
    assert from_env.exit_code == 1 and ANSI not in from_env.stdout


# ----- --check ----------------------------------------------------------------------------------

def test_check_prints_summary_without_diff(legacy_repo: Path) -> None:
    result = invoke("--check", "--root", legacy_repo)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert not any(line.startswith(("diff --git", "--- a/", "+++ b/", "@@")) for line in lines)
    assert not any(line.startswith(("+from", "-from", "+import", "-import")) for line in lines)
    assert any(SUMMARY.match(line) for line in lines)
    assert any(BROKEN_FILE in line and "not processed" in line for line in lines)


def test_check_on_a_repository_without_legacy_references(tmp_path: Path) -> None:
    root = tmp_path / "clean"
    write_files(root, {
        "app/__init__.py": "",
        "app/main.py": 'def main():\n    websocket_manager = None\n    return websocket_manager\n',
    })
    git_init_and_commit(root)
    result = run_cli(["--check", "--preset", "netra"], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 1, result.stdout
    assert result.stdout.startswith("migrate-ws: nothing to migrate")
    assert result.stderr == ""


def test_no_configuration_and_no_preset_module_is_a_usage_error(tmp_path: Path) -> None:
    root = tmp_path / "other"
    write_files(root, {"app/__init__.py": "", "app/main.py": "X = 1\n"})
    result = run_cli(["--check"], cwd=root)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--preset NAME" in result.stderr and "[tool.migrate-ws]" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_detected_preset_is_announced_on_stderr(legacy_repo: Path) -> None:
    result = run_cli(["--check"], cwd=legacy_repo)
    assert result.returncode == 1
    assert "using the built-in netra preset, because its canonical module" in result.stderr
    explicit = run_cli(["--check", "--preset", "netra"], cwd=legacy_repo)
    assert explicit.stderr == ""


def test_check_with_only_an_unparseable_file_exits_3(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    write_files(root, {"app/broken.py": f"from {LEGACY} import WebSocketManager\n\ndef f(:\n    pass\n"})
    result = invoke("--check", "--root", root, "--preset", "netra")
    assert result.exit_code == 3, result.stdout
    assert any("app/broken.py" in line and "not processed" in line for line in result.stdout.splitlines())


# ----- --json -----------------------------------------------------------------------------------

def test_json_report(legacy_repo: Path) -> None:
    result = invoke("--json", "--root", legacy_repo)
    assert result.exit_code == 1
    assert ANSI not in result.stdout
    document = json.loads(result.stdout)

    summary = document["summary"]
    assert summary["changed"] >= len(CONSUMERS)
    assert summary["skipped"] == 1
    assert summary["findings"] == len(document["findings"])
    assert set(summary["sites"]) == set(STEPS)
    assert [step["name"] for step in document["steps"]] == list(STEPS)

    files = {entry["path"]: entry for entry in document["files"]}
    for path in CONSUMERS:
        entry = files[path]
        assert entry["status"] == "changed"
        assert entry["edits"], path
        for edit in entry["edits"]:
            assert edit["step"] in STEPS
            assert isinstance(edit["line"], int) and edit["line"] >= 1
    assert {(e["step"], e["line"]) for e in files[FROM_IMPORT_FILE]["edits"]} == {("imports", 3)}
    assert ("aliases", 3) in {(e["step"], e["line"]) for e in files[ALIAS_FILE]["edits"]}
    per_file = [entry["sites"] for entry in document["files"]]
    assert {step: sum(sites.get(step, 0) for sites in per_file) for step in STEPS} == summary["sites"]
    assert files[BROKEN_FILE]["status"] == "skipped"

    assert document["findings"]
    for finding in document["findings"]:
        assert {"code", "name", "severity", "path", "line", "column", "message"} <= set(finding)
        assert isinstance(finding["line"], int) and finding["message"] and finding["code"] in CODES
    assert document["skipped"] == [{"path": BROKEN_FILE, "code": "MW901", "reason": files[BROKEN_FILE]["reason"]}]
    assert "does not parse" in document["skipped"][0]["reason"]


# ----- --diff-output ------------------------------------------------------------------------

def test_diff_output_patch_applies_and_matches_the_plan(legacy_repo: Path, tmp_path: Path) -> None:
    expected = expected_rewrites(legacy_repo)
    assert set(CONSUMERS) <= set(expected)
    before = snapshot(legacy_repo)
    patch_file = tmp_path / "migration.patch"

    result = run_cli(["--dry-run", "--diff-output", patch_file], cwd=legacy_repo)
    assert result.returncode == 1, result.stderr
    assert patch_file.is_file()
    assert snapshot(legacy_repo) == before

    checked = git_apply(legacy_repo, patch_file, check=True)
    assert checked.returncode == 0, checked.stderr
    applied = git_apply(legacy_repo, patch_file)
    assert applied.returncode == 0, applied.stderr

    after = snapshot(legacy_repo)
    for path, content in before.items():
        assert after[path] == expected.get(path, content), f"{path} differs from the planned rewrite"
    assert set(after) == set(before)
    # the special encodings survive byte for byte
    crlf = after[CRLF_FILE]
    assert crlf.count(b"\r\n") == crlf.count(b"\n") and CANONICAL.encode() in crlf
    latin1 = after[LATIN1_FILE]
    assert "Olá, café".encode("latin-1") in latin1 and CANONICAL.encode() in latin1
    assert after[BROKEN_FILE] == before[BROKEN_FILE]

    recheck = run_cli(["--check"], cwd=legacy_repo)
    assert recheck.returncode in (0, 3), recheck.stdout
    assert SUMMARY.match(recheck.stdout.splitlines()[0]).group(1) == "0"


def test_migrated_repository_imports_without_the_legacy_modules(legacy_repo: Path, tmp_path: Path) -> None:
    patch_file = tmp_path / "migration.patch"
    assert invoke("--check", "--diff-output", patch_file, "--root", legacy_repo).exit_code == 1
    assert git_apply(legacy_repo, patch_file).returncode == 0

    for path in CONSUMERS:
        source = (legacy_repo / path).read_bytes()
        assert not legacy_imports(ast.parse(source)), f"{path} still imports {LEGACY}"
    tree = ast.parse((legacy_repo / MULTILINE_FILE).read_text())
    package_names = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                     and n.module == "netra_backend.app.websocket_core" for a in n.names]
    assert package_names == ["heartbeat_interval"]

    # importing the migrated consumers no longer touches the deprecated module, and every
    # manager name they bind is the one implementation
    modules = [p[:-3].replace("/", ".") for p in CONSUMERS]
    script = "\n".join([
        "import importlib",
        "from netra_backend.app.websocket_core.unified_manager import _UnifiedWebSocketManagerImplementation as impl",
        f"mods = {{name: importlib.import_module(name) for name in {modules!r}}}",
        f"assert mods[{ALIAS_FILE[:-3].replace('/', '.')!r}].ConnectionManager is impl",
        f"assert mods[{MULTILINE_FILE[:-3].replace('/', '.')!r}].WebSocketManager is impl",
        f"assert mods[{MODULE_OBJECT_FILE[:-3].replace('/', '.')!r}].manager_type() is impl",
        "print('ok')",
    ])
    run = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", script], cwd=legacy_repo,
                         capture_output=True, text=True, timeout=60, env=cli_env())
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_second_run_on_the_output_changes_nothing(legacy_repo: Path, tmp_path: Path) -> None:
    first_patch = tmp_path / "first.patch"
    first = invoke("--dry-run", "--diff-output", first_patch, "--root", legacy_repo)
    assert first.exit_code == 1
    assert git_apply(legacy_repo, first_patch).returncode == 0
    migrated = snapshot(legacy_repo)

    second_patch = tmp_path / "second.patch"
    second = invoke("--dry-run", "--diff-output", second_patch, "--root", legacy_repo)
    assert second.exit_code in (0, 3), second.stdout
    assert "diff --git" not in second.stdout
    assert not any(line.startswith(("+", "-", "@@")) for line in second.stdout.splitlines())
    assert second_patch.read_bytes() == b""
    assert snapshot(legacy_repo) == migrated


# ----- usage and configuration errors -----------------------------------------------------------

INVALID_TOML = '[tool.migrate-ws\ncanonical-module = "shop.payments.client"\n'
WRONG_TYPE = SHOP_CONFIG.replace('include = ["shop/**/*.py"]', 'include = "shop/**/*.py"')
NO_CANONICAL = '[project]\nname = "netra"\n\n[tool.migrate-ws]\n[tool.migrate-ws.legacy-modules."netra_backend.app.websocket_core.manager"]\nnames = ["WebSocketManager"]\n'
assert WRONG_TYPE != SHOP_CONFIG

ERROR_CASES = {
    # name: (arguments ({config} is the config file), config file content, pyproject content, text in the error)
    "unknown-preset": (["--preset", "nope"], None, None, "nope"),
    "missing-config": (["--config", "{missing}"], None, None, "file not found"),
    "invalid-toml": (["--config", "{config}"], INVALID_TOML, None, "invalid TOML"),
    "wrong-type": (["--config", "{config}"], WRONG_TYPE, None, "tool.migrate-ws.include"),
    "pyproject-without-canonical-module": ([], None, NO_CANONICAL, "tool.migrate-ws.canonical-module"),
    "missing-root": (["--root", "{missing}"], None, None, "no such directory"),
    "dry-run-and-check": (["--dry-run", "--check"], None, None, "--dry-run"),
}


def error_case_arguments(case: str, repo: Path, tmp_path: Path) -> list[str]:
    arguments, config, pyproject, _ = ERROR_CASES[case]
    config_file = tmp_path / "migrate-ws.toml"
    if config is not None:
        config_file.write_text(config, encoding="utf-8")
    if pyproject is not None:
        (repo / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    missing = tmp_path / "does-not-exist"
    return [a.format(config=config_file, missing=missing) for a in arguments]


def assert_one_line_error(code: int, stdout: str, stderr: str, expected: str) -> None:
    assert code == 2, stdout + stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("migrate-ws: error: ")
    assert expected in lines[0]


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_usage_and_configuration_errors_in_process(case: str, legacy_repo: Path, tmp_path: Path) -> None:
    arguments = error_case_arguments(case, legacy_repo, tmp_path)
    if "--root" not in arguments:
        arguments += ["--root", str(legacy_repo)]
    result = invoke(*arguments)
    assert_one_line_error(result.exit_code, result.stdout, result.stderr, ERROR_CASES[case][3])


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_usage_and_configuration_errors_as_a_program(case: str, legacy_repo: Path, tmp_path: Path) -> None:
    result = run_cli(error_case_arguments(case, legacy_repo, tmp_path), cwd=legacy_repo)
    assert_one_line_error(result.returncode, result.stdout, result.stderr, ERROR_CASES[case][3])


def test_unknown_option_is_a_usage_error(legacy_repo: Path) -> None:
    result = run_cli(["--no-such-option"], cwd=legacy_repo)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "rror" in line]
    assert len(errors) == 1 and "--no-such-option" in errors[0], result.stderr


def test_wrong_typed_key_in_pyproject_names_the_key(legacy_repo: Path) -> None:
    write_files(legacy_repo, {"pyproject.toml": WRONG_TYPE.replace("payments", "netra", 1)})
    result = invoke("--root", legacy_repo)
    assert_one_line_error(result.exit_code, result.stdout, result.stderr, "tool.migrate-ws.include")


# ----- configuration for another codebase -------------------------------------------------------

def assert_payments_rewrite(out: str) -> None:
    lines = out.splitlines()
    assert "-from shop.legacy.payments import PaymentClient" in lines
    assert "+from shop.payments.client import PaymentClient" in lines
    assert "-from shop.legacy.payments import LegacyPaymentClient as Client" in lines
    assert "+from shop.payments.client import PaymentClient as Client" in lines
    # the legacy module's shim is part of the diff too: the dry-run is the whole change
    assert "diff --git a/shop/legacy/payments.py b/shop/legacy/payments.py" in lines
    # the module's own docstring stays, with the deprecation notice added to it
    assert "+Deprecated: import from shop.payments.client instead." in lines


def test_config_file_is_honoured(tmp_path: Path) -> None:
    root = make_shop_repo(tmp_path / "shop")
    config_file = tmp_path / "payments.toml"
    config_file.write_text(SHOP_CONFIG, encoding="utf-8")

    # the built-in preset knows nothing about this codebase
    untouched = invoke("--dry-run", "--root", root, "--preset", "netra")
    assert untouched.exit_code == 0, untouched.stdout
    assert "nothing to migrate" in untouched.stdout
    assert invoke("--dry-run", "--root", root).exit_code == 2

    result = invoke("--dry-run", "--config", config_file, "--root", root)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert_payments_rewrite(result.stdout)

    report = json.loads(invoke("--json", "--config", config_file, "--root", root).stdout)
    assert report["config"] == str(config_file)
    assert [f["path"] for f in report["files"] if f["status"] == "changed"] == ["shop/checkout/cart.py",
                                                                                "shop/legacy/payments.py"]


def test_config_file_takes_precedence_over_pyproject(tmp_path: Path) -> None:
    root = make_shop_repo(tmp_path / "shop")
    write_files(root, {"pyproject.toml": NO_CANONICAL})
    config_file = tmp_path / "payments.toml"
    config_file.write_text(SHOP_CONFIG, encoding="utf-8")
    result = invoke("--dry-run", "--config", config_file, "--root", root)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert_payments_rewrite(result.stdout)


def test_pyproject_table_can_start_from_the_preset(legacy_repo: Path) -> None:
    write_files(legacy_repo, {"pyproject.toml": (
        '[tool.migrate-ws]\npreset = "netra"\nexclude = ["netra_backend/app/routes/**"]\n'
    )})
    result = invoke("--json", "--root", legacy_repo)
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["config"] == str(legacy_repo / "pyproject.toml")
    changed = {f["path"] for f in document["files"] if f["status"] == "changed"}
    assert ALIAS_FILE not in changed
    assert FROM_IMPORT_FILE in changed


def test_pyproject_table_is_honoured(tmp_path: Path) -> None:
    root = make_shop_repo(tmp_path / "shop", pyproject=True)
    result = run_cli(["--dry-run"], cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert_payments_rewrite(result.stdout)

    patch_file = tmp_path / "payments.patch"
    assert invoke("--check", "--diff-output", patch_file, "--root", root).exit_code == 1
    git_init_and_commit(root)
    assert git_apply(root, patch_file).returncode == 0
    again = invoke("--check", "--root", root)
    assert again.exit_code == 0, again.stdout


# ----- the program itself -----------------------------------------------------------------------

def test_version(tmp_path: Path) -> None:
    result = run_cli(["--version"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"migrate-ws {migrate_ws.__version__}"
    assert result.stderr == ""


# ----- patches for unusual files ------------------------------------------------------------------

def patch_round_trip(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    """--diff-output on a committed repository of `files` applies, and yields the planned bytes."""
    root = tmp_path / "repo"
    write_files(root, files)
    git_init_and_commit(root)
    expected = expected_rewrites(root, "netra")
    assert set(expected) == set(files), "every file has a legacy import to move"
    patch_file = tmp_path / "change.patch"
    result = invoke("--check", "--preset", "netra", "--diff-output", patch_file, "--root", root)
    assert result.exit_code == 1, result.stdout
    checked = git_apply(root, patch_file, check=True)
    assert checked.returncode == 0, checked.stderr
    assert git_apply(root, patch_file).returncode == 0
    for path, content in expected.items():
        assert (root / path).read_bytes() == content, path


LEGACY_IMPORT = f"from {LEGACY} import WebSocketManager"


def test_patch_for_files_without_final_newline_with_bom_and_mixed_endings(tmp_path: Path) -> None:
    patch_round_trip(tmp_path, {
        "app/no_final_newline.py": f"{LEGACY_IMPORT}\nX = WebSocketManager",
        "app/bom.py": b"\xef\xbb\xbf" + f"{LEGACY_IMPORT}\nX = WebSocketManager\n".encode(),
        "app/mixed.py": f"{LEGACY_IMPORT}\r\nX = 1\nY = WebSocketManager\r\n",
        "app/form_feed.py": f"X = 1\n\x0c\n{LEGACY_IMPORT}\n",
        "scripts/with space.py": f"{LEGACY_IMPORT}\nX = WebSocketManager\n",
    })


def test_patch_for_a_file_with_cr_line_endings(tmp_path: Path) -> None:
    patch_round_trip(tmp_path, {"app/cr_only.py": f"{LEGACY_IMPORT}\rX = WebSocketManager\r"})


def test_patch_for_a_non_ascii_file_name(tmp_path: Path) -> None:
    patch_round_trip(tmp_path, {"app/café.py": f"{LEGACY_IMPORT}\nX = WebSocketManager\n"})


def test_patch_for_a_file_name_outside_latin1(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_files(root, {"app/модуль.py": f"{LEGACY_IMPORT}\nX = WebSocketManager\n"})
    git_init_and_commit(root)
    expected = expected_rewrites(root, "netra")["app/модуль.py"]
    patch_file = tmp_path / "change.patch"
    result = run_cli(["--check", "--preset", "netra", "--diff-output", patch_file], cwd=root)
    assert result.returncode == 1, result.stderr
    assert git_apply(root, patch_file).returncode == 0
    assert (root / "app/модуль.py").read_bytes() == expected


def test_piped_output_does_not_load_rich(legacy_repo: Path) -> None:
    """On a pipe the report is plain text, written without importing rich (start-up time)."""
    # the typer app itself: the entry point (`main`) ends the process at once when the command returns
    probe = ("import sys\n"
             "from migrate_ws.cli import app\n"
             "sys.argv = ['migrate-ws', '--check']\n"
             "try:\n"
             "    app()\n"
             "except SystemExit:\n"
             "    pass\n"
             "sys.stderr.write('rich loaded: %s' % any(m == 'rich' or m.startswith('rich.') for m in sys.modules))\n")
    env = {k: v for k, v in cli_env().items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    completed = subprocess.run([sys.executable, "-c", probe], cwd=legacy_repo, capture_output=True, text=True,
                               env=env, timeout=60)
    assert any(SUMMARY.match(line) for line in completed.stdout.splitlines()), completed.stdout
    assert completed.stderr.endswith("rich loaded: False"), completed.stderr


@pytest.mark.parametrize("setting", [{"color": True}, {"env": "FORCE_COLOR"}, {"env": "TTY_COMPATIBLE"}])
def test_colour_or_a_terminal_hint_selects_rich(setting: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from migrate_ws.cli.terminal import PlainConsole, make_consoles

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    assert all(isinstance(c, PlainConsole) for c in make_consoles(None)), "a pipe gets plain output"
    if "env" in setting:
        monkeypatch.setenv(setting["env"], "1")
    assert all(isinstance(c, Console) for c in make_consoles(setting.get("color")))


def _run_on_a_terminal(root: Path, args: list[str], env: dict[str, str]) -> str:
    """Run the real command with stdout and stderr on a pseudo-terminal; return what it wrote."""
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "migrate_ws", *args], cwd=root, stdin=subprocess.DEVNULL,
                                stdout=follower, stderr=follower, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_a_progress_bar_and_a_pipe_does_not(legacy_repo: Path) -> None:
    env = {**cli_env(), "MIGRATE_WS_PROGRESS_DELAY": "0", "COLUMNS": "100"}
    on_terminal = _run_on_a_terminal(legacy_repo, ["--check", "--no-cache"], env)
    assert "scanning" in on_terminal and "migrate-ws:" in on_terminal
    piped = subprocess.run([sys.executable, "-m", "migrate_ws", "--check", "--no-cache"], cwd=legacy_repo,
                           capture_output=True, text=True, env=env, timeout=60)
    assert "scanning" not in piped.stdout + piped.stderr
    assert ANSI not in piped.stdout + piped.stderr


def test_the_entry_point_exits_with_the_command_s_code_and_all_of_its_output(legacy_repo: Path) -> None:
    """`main` ends the process without tearing down the plan object by object: the exit code is
    the command's, the JSON report is complete, and a message given to sys.exit still reaches stderr."""
    import json

    completed = run_cli(["--dry-run", "--json"], cwd=legacy_repo)
    assert completed.returncode == 1, completed.stderr
    assert json.loads(completed.stdout)["summary"]["changed"] > 0
    assert run_cli(["--no-such-option"], cwd=legacy_repo).returncode == 2
    probe = ("import sys\n"
             "import migrate_ws.cli\n"
             "def command():\n"
             "    sys.stdout.write('x' * 100000)\n"
             "    sys.exit('migrate-ws: a message')\n"
             "module = sys.modules['migrate_ws.cli.app']  # (the package's `app` attribute is the typer app)\n"
             "module.app = command\n"
             "module.main()\n")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1
    assert completed.stdout == "x" * 100000
    assert completed.stderr == "migrate-ws: a message\n"


def test_follow_ups_all_counts_notes_apart_from_manual_follow_ups(legacy_repo: Path) -> None:
    flat = invoke("--dry-run", "--root", legacy_repo, "--follow-ups", "all").stdout.splitlines()
    header = next(line for line in flat if line.startswith("Findings ("))
    match = re.fullmatch(r"Findings \((\d+); (\d+) manual follow-ups?, (\d+) notes?\):", header)
    assert match, header
    total, warnings, notes = map(int, match.groups())
    listed = flat[flat.index(header) + 1:]
    assert total == len(listed) == warnings + notes
    from migrate_ws.findings import CODES, Severity

    informational = [line for line in listed
                     if (code := re.search(r": (MW\d{3}) ", line)) and CODES[code.group(1)].severity is Severity.INFO]
    assert len(informational) == notes
