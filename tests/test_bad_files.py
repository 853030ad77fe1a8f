"""Bad input never stops a run, is reported with one line, and is never written.

Each case puts one bad file next to a good legacy file in a real repository: the good file
is still rewritten, the bad one keeps its exact bytes, and the exit code is the documented one.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate_ws.cli import app
from migrate_ws.config import load_preset
from migrate_ws.engine import plan
from migrate_ws.model import FileStatus

LEGACY = "from netra_backend.app.websocket_core.manager import WebSocketManager\n"
CANONICAL = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"


def make_repo(root: Path) -> Path:
    files = {
        "netra_backend/__init__.py": "",
        "netra_backend/app/__init__.py": "",
        "netra_backend/app/websocket_core/__init__.py": "",
        "netra_backend/app/websocket_core/unified_manager.py": "class _UnifiedWebSocketManagerImplementation:\n    pass\n",
        "netra_backend/app/websocket_core/websocket_manager.py": (
            "from .unified_manager import _UnifiedWebSocketManagerImplementation\n\n"
            "WebSocketManager = _UnifiedWebSocketManagerImplementation\n"
            "UnifiedWebSocketManager = _UnifiedWebSocketManagerImplementation\n"
            "WebSocketConnectionManager = _UnifiedWebSocketManagerImplementation\n\n\n"
            "def get_websocket_manager(user_context=None):\n    return WebSocketManager()\n"
        ),
        "netra_backend/app/websocket_core/manager.py": "from .websocket_manager import *\n",
        "app/good.py": LEGACY + "KIND = WebSocketManager\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run(root: Path, *args: str):
    return CliRunner().invoke(app, [*args, "-C", str(root), "-j", "1"])


def assert_good_rewritten(root: Path) -> None:
    result = plan(root, load_preset("netra"), jobs=1)
    good = [r for r in result.files if r.path == "app/good.py"][0]
    assert good.status is FileStatus.CHANGED and good.rewritten.decode().startswith(CANONICAL)


def check_bad(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    root = make_repo(tmp_path)
    bad = root / "app" / name
    bad.write_bytes(data)
    result = run(root, "--dry-run", "--no-color")
    assert result.exit_code == 1, result.output  # the good file is still pending
    line = next(line for line in result.output.splitlines() if f"app/{name}" in line and "not processed" in line)
    assert reason in line
    assert "Traceback" not in result.output
    assert_good_rewritten(root)
    assert bad.read_bytes() == data
    (root / "app" / "good.py").unlink()
    only_bad = run(root, "--check", "--no-color")
    assert only_bad.exit_code == 3, only_bad.output  # nothing pending, a file not processed


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="PEP 701 f-strings parse on 3.12+")
def test_fstring_valid_only_on_newer_python(tmp_path: Path) -> None:
    check_bad(tmp_path, "newer.py", (LEGACY + 'x = {"k": 1}\ny = f"{x["k"]}"\n').encode(), "valid only on a newer Python")


def test_genuine_syntax_error(tmp_path: Path) -> None:
    check_bad(tmp_path, "broken.py", (LEGACY + "def f(:\n    pass\n").encode(), "does not parse")


def test_except_without_body(tmp_path: Path) -> None:
    check_bad(tmp_path, "nobody.py", (LEGACY + "try:\n    pass\nexcept Exception:\n").encode(), "does not parse")


def test_undecodable_bytes(tmp_path: Path) -> None:
    check_bad(tmp_path, "binary.py", LEGACY.encode() + b"X = '\xff\xfe'\n", "cannot decode")


def rewrite_of(tmp_path: Path, name: str, data: bytes) -> bytes:
    root = make_repo(tmp_path)
    (root / "app" / name).write_bytes(data)
    result = plan(root, load_preset("netra"), jobs=1, verify=True)
    (found,) = [r for r in result.files if r.path == f"app/{name}"]
    assert found.status is FileStatus.CHANGED, found.reason
    return found.rewritten


def test_latin1_with_coding_cookie_stays_latin1(tmp_path: Path) -> None:
    data = b"# -*- coding: latin-1 -*-\n" + LEGACY.encode() + "NAME = 'caf\xe9'\n".encode("latin-1")
    out = rewrite_of(tmp_path, "latin.py", data)
    assert out == data.replace(LEGACY.encode(), CANONICAL.encode())
    assert "caf\xe9".encode("latin-1") in out


def test_bom_is_kept(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + LEGACY.encode() + b"X = WebSocketManager\n"
    assert rewrite_of(tmp_path, "bom.py", data) == data.replace(LEGACY.encode(), CANONICAL.encode())


def test_crlf_and_mixed_line_endings_are_kept(tmp_path: Path) -> None:
    data = LEGACY.replace("\n", "\r\n").encode() + b"X = 1\nY = WebSocketManager\r\nZ = 2\r"
    expected = data.replace(LEGACY.replace("\n", "\r\n").encode(), CANONICAL.replace("\n", "\r\n").encode())
    assert rewrite_of(tmp_path, "crlf.py", data) == expected


def test_tabs_no_trailing_newline(tmp_path: Path) -> None:
    data = b"def f():\n\t" + LEGACY.strip().encode() + b"\n\treturn WebSocketManager"
    assert rewrite_of(tmp_path, "tabs.py", data) == b"def f():\n\t" + CANONICAL.strip().encode() + b"\n\treturn WebSocketManager"


def test_empty_file_is_fine(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "app" / "empty.py").write_bytes(b"")
    result = plan(root, load_preset("netra"), jobs=1)
    assert "app/empty.py" not in {r.path for r in result.changed_files + result.skipped_files}
    assert_good_rewritten(root)


def test_five_megabyte_file(tmp_path: Path) -> None:
    filler = "".join(f"def function_{n}(value):\n    return value + {n}\n\n\n" for n in range(120_000))
    data = (filler + LEGACY + "KIND = WebSocketManager\n").encode()
    assert len(data) > 5_000_000
    out = rewrite_of(tmp_path, "huge.py", data)
    assert out == data.replace(LEGACY.encode(), CANONICAL.encode())


def test_symlinks_are_reported_and_not_followed(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    outside = tmp_path / "outside.py"
    outside.write_text(LEGACY, encoding="utf-8")
    os.symlink(outside, root / "app" / "to_outside.py")
    os.symlink(root / "app" / "good.py", root / "app" / "to_inside.py")
    result = run(root, "--dry-run", "--no-color")
    assert result.exit_code == 1
    assert "app/to_outside.py:0: MW905 symlink to a file outside the repository: not followed" in result.output
    assert "app/to_inside.py:0: MW905 symlink to a file inside the repository: not followed" in result.output
    assert "a/app/to_outside.py" not in result.output
    assert outside.read_text(encoding="utf-8") == LEGACY


def test_read_only_file_is_planned_but_apply_in_place_leaves_it_and_applies_the_rest(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    other = root / "app" / "other.py"
    other.write_text(LEGACY, encoding="utf-8")
    good = root / "app" / "good.py"
    os.chmod(good, stat.S_IRUSR | stat.S_IRGRP)
    try:
        assert run(root, "--dry-run").exit_code == 1
        before = {p: p.read_bytes() for p in (good, other)}
        result = run(root, "--apply", "--no-git")
        assert result.exit_code == 3, result.output  # applied, but not every file could be written
        assert "app/good.py:0: MW907 not processed: read-only file; left unchanged" in result.output
        assert good.read_bytes() == before[good]
        assert other.read_bytes() != before[other]
    finally:
        os.chmod(good, stat.S_IRUSR | stat.S_IWUSR)


@pytest.mark.parametrize("fault", ["changed", "deleted"])
def test_file_changed_between_planning_and_writing(tmp_path: Path, monkeypatch, fault: str) -> None:
    from migrate_ws.applying import base as apply_command

    root = make_repo(tmp_path)
    good = root / "app" / "good.py"
    other = root / "app" / "other.py"
    other.write_text(LEGACY, encoding="utf-8")
    real_plan = apply_command.build_plan

    def plan_then_edit(*args, **kwargs):
        migration = real_plan(*args, **kwargs)
        if fault == "changed":
            good.write_text(LEGACY + "KIND = WebSocketManager\n# edited meanwhile\n", encoding="utf-8")
        else:
            good.unlink()
        return migration

    monkeypatch.setattr(apply_command, "build_plan", plan_then_edit)
    untouched = other.read_bytes()
    result = run(root, "--apply", "--no-git")
    assert result.exit_code == 4, result.output
    assert "changed on disk after the migration was planned" in result.output
    assert other.read_bytes() == untouched
    if fault == "changed":
        assert good.read_text(encoding="utf-8").endswith("# edited meanwhile\n")
    else:
        assert not good.exists()


def test_missing_canonical_module_is_a_one_line_usage_error(tmp_path: Path) -> None:
    root = tmp_path
    (root / "pyproject.toml").write_text(
        '[tool.migrate-ws]\ncanonical-module = "shop.nowhere"\n'
        '[tool.migrate-ws.legacy-modules]\n"shop.old" = ["Client"]\n', encoding="utf-8")
    (root / "a.py").write_text("from shop.old import Client\n", encoding="utf-8")
    result = run(root, "--dry-run")
    assert result.exit_code == 2
    assert "canonical-module: shop.nowhere is not in the repository" in result.output
    assert "Traceback" not in result.output
