"""Applying twice is applying once, on a generated netra-shaped monorepo.

The fixtures and the fuzz tests check a second run file by file; this checks it across the
repository, where one file's rewrite depends on what another step does to another module
(the canonical module's names rebound to the implementation, a re-export followed to its
source): after `--apply`, `--check` finds nothing to change, and nothing was rejected.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers import run_cli

REPO = Path(__file__).resolve().parent.parent


def generated(root: Path, files: int) -> Path:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    assert make_corpus.main([str(root), "--files", str(files)]) == 0
    return root


def test_a_second_run_after_apply_changes_nothing(tmp_path: Path) -> None:
    root = generated(tmp_path / "corpus", 2000)
    applied = run_cli(["--apply", "--no-git", "--no-cache", "--preset", "netra", "-j", "2", "--json"], cwd=root,
                      timeout=300)
    assert applied.returncode in (0, 3), applied.stderr[-2000:]
    document = json.loads(applied.stdout)
    assert document["status"] == "applied"
    assert len({path for step in document["steps"] for path in step["files"]}) > 100
    rejected = [f for f in document["findings"] + document["not_processed"] if f["code"] == "MW703"]
    assert rejected == []
    again = run_cli(["--check", "--no-cache", "--preset", "netra", "-j", "2", "--json"], cwd=root, timeout=300)
    assert json.loads(again.stdout)["summary"]["changed"] == 0, again.stdout[:3000]
