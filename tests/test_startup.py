"""What a pre-commit hook's run loads: a `--check` of a few files the result cache answers
starts without the parts only a file to analyse or a change to write needs.

Timing is measured by `benchmarks/run.py --startup-only`, never here: these tests check the
modules a real process loaded, which is what the time follows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import MOCK_CONFIG, cli_env, git_init_and_commit

# loaded only when a file is analysed, a change is checked or written, or a pattern is matched
NOT_AT_START = ("migrate_ws.file_pipeline", "migrate_ws.transform", "migrate_ws.context", "migrate_ws.flow",
                "migrate_ws.import_statements", "migrate_ws.codemods.factory_scope", "migrate_ws.binding_check",
                "migrate_ws.verification", "migrate_ws.applying", "migrate_ws.writer",
                "libcst", "pyflakes", "git", "rich", "pathspec")

PROBE = """\
import sys
from migrate_ws.cli import app
sys.argv = ["migrate-ws", "--check", *sys.argv[1:]]
try:
    app()
except SystemExit as done:
    code = done.code
sys.stderr.write("exit %s\\n" % code)
sys.stderr.write("loaded: %s\\n" % " ".join(sorted(sys.modules)))
"""


def _check(root: Path, cache: Path, *paths: str) -> tuple[int, set[str], str]:
    completed = subprocess.run([sys.executable, "-c", PROBE, *paths], cwd=root, capture_output=True, text=True,
                               env=cli_env(MIGRATE_WS_CACHE_DIR=str(cache)), timeout=120)
    lines = completed.stderr.splitlines()
    exit_line = next(line for line in lines if line.startswith("exit "))
    loaded = next(line for line in lines if line.startswith("loaded: "))[len("loaded: "):].split()
    return int(exit_line.split()[1]), set(loaded), completed.stdout


@pytest.fixture()
def hook_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "toolkit").mkdir(parents=True)
    (root / "pyproject.toml").write_text(MOCK_CONFIG)
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "toolkit" / "__init__.py").write_text("")
    (root / "toolkit" / "clean.py").write_text("import json\n\nprint(json.dumps(1))\n")
    (root / "toolkit" / "consumer.py").write_text("from mock import patch\n\npatch('x')\n")
    git_init_and_commit(root)
    return root


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(name for name in loaded for part in NOT_AT_START if name == part or name.startswith(part + "."))


def test_a_check_the_cache_answers_loads_no_analysis_and_no_pattern_library(hook_repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, loaded, _ = _check(hook_repo, cache, "toolkit/clean.py")
    assert first == 0
    assert "migrate_ws.file_pipeline" in loaded  # the first run analyses the file (and fills the cache)
    again, loaded, out = _check(hook_repo, cache, "toolkit/clean.py")
    assert again == 0, out
    assert "1 result reused from the cache" in out
    assert _heavy(loaded) == []


def test_a_file_with_work_still_gets_the_whole_pipeline(hook_repo: Path, tmp_path: Path) -> None:
    """The same run with a file that imports a legacy module: analysed, walked, reported."""
    cache = tmp_path / "cache"
    for _ in range(2):  # cache cold, then warm: the answer is the same
        code, loaded, out = _check(hook_repo, cache, "toolkit/consumer.py")
        assert code == 1, out
        assert "1 file would change" in out, out
        assert "pathspec" in loaded  # the repository is walked (with its .gitignore) for the import check
