"""Rewrites keep every binding: the rewritten code runs as before, and no name becomes undefined.

- The generic `mock` -> `unittest.mock` fixture cases are executed before and after the rewrite, in
  a subprocess, against a stand-in top-level `mock` module and a `testkit` package: every function
  of each case returns the same result (and raises nothing) on both sides.
- The issue's reproduction runs through the real command line: `--fix` on a project configured in
  its `pyproject.toml`, then the rewritten script itself.
- Every fixture case of every step, run through the engine, is compared with pyflakes: the
  rewritten module has no undefined name (or name used before assignment, or `__all__` entry
  without a binding) that the original did not have.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_cli
from migrate_ws.steps import all_steps, get
from migrate_ws.testing import cases, read_case, run_codemod

MOCK_CASES = get("imports").examples / "mock_to_unittest_mock"
ALL_CASES = [(step.name, case) for step in all_steps() if step.examples is not None for case in cases(step.examples)]

# What the legacy side imports, standing in for the `mock` backport and a project's own helper package.
STAND_INS = {
    "mock.py": "from unittest.mock import ANY, MagicMock, Mock, call, patch, seal, sentinel\n",
    "mockcompat.py": "from unittest.mock import Mock, patch\n",
    "testkit/__init__.py": 'from . import helpers\n\nVERSION = "1"\n',
    "testkit/mocking.py": "from unittest.mock import Mock, patch\n",
    "testkit/helpers.py": "def describe(value):\n    return type(value).__name__\n\n\ndef install(module):\n"
                          "    return module.__name__\n",
}

# Imports a module from a file and calls each function it defines that needs no argument, in name order;
# prints one JSON line per function: its result's repr, or the exception it raised.
DRIVER = """
import importlib.util, inspect, json, sys
spec = importlib.util.spec_from_file_location("case_module", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for name, function in sorted(inspect.getmembers(module, inspect.isfunction)):
    if function.__module__ != "case_module":
        continue
    if any(p.default is p.empty for p in inspect.signature(function).parameters.values()):
        continue
    try:
        outcome = repr(function())
    except Exception as error:
        outcome = "raised " + type(error).__name__ + ": " + str(error)
    print(json.dumps([name, outcome]))
"""


def case_id(item) -> str:
    step, case = item
    return f"{step}/{case.relative_to(get(step).examples).as_posix().split('.')[0]}"


def rewrite(step: str, case: Path) -> tuple[str, str]:
    """A case's source and the engine's rewrite of it, run as the fixture runner runs it."""
    read = read_case(step, case)
    before = read.before
    outcome = run_codemod(before, read.path, read.targets)
    assert outcome.error is None, outcome.error
    return before, outcome.text


def run_functions(folder: Path, source: str, name: str) -> list[list[str]]:
    module = folder / f"{name}.py"
    module.write_text(source, encoding="utf-8")
    process = subprocess.run([sys.executable, "-c", DRIVER, str(module)], cwd=folder, capture_output=True, text=True,
                             timeout=60, env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"})
    assert process.returncode == 0, f"{name} failed to run:\n{process.stderr}"
    return [json.loads(line) for line in process.stdout.splitlines()]


@pytest.mark.parametrize("case", [c for c in cases(MOCK_CASES) if c.name.endswith(".before.py")],
                         ids=lambda c: c.name.split(".")[0])
def test_rewritten_mock_case_runs_as_before(case: Path, tmp_path: Path) -> None:
    for relative, text in STAND_INS.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    before, after = rewrite("imports", case)
    assert after != before
    results_before = run_functions(tmp_path, before, "original")
    results_after = run_functions(tmp_path, after, "rewritten")
    assert results_before, "the case defines no function to call"
    assert not [r for r in results_before if r[1].startswith("raised")], results_before
    assert results_after == results_before


def test_the_issue_reproduction_runs_after_fix(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migrate-ws]\ncanonical-module="unittest.mock"\ncanonical-exports=["patch"]\n'
        '[tool.migrate-ws.legacy-modules."mock"]\nnames=["patch"]\n', encoding="utf-8")
    script = tmp_path / "t.py"
    script.write_text('import mock\np = mock.patch("os.getcwd")\n', encoding="utf-8")
    fixed = run_cli(["--fix", "t.py"], cwd=tmp_path)
    assert fixed.returncode == 1, fixed.stderr  # files rewritten
    assert script.read_text(encoding="utf-8") == 'from unittest import mock\np = mock.patch("os.getcwd")\n'
    ran = subprocess.run([sys.executable, "t.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode == 0, ran.stderr


def undefined_names(source: str, filename: str) -> set[tuple[str, str]]:
    """pyflakes' undefined names, names used before assignment and `__all__` entries nothing binds."""
    checker = pytest.importorskip("pyflakes.checker")
    messages = pytest.importorskip("pyflakes.messages")
    kinds = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport)
    found = checker.Checker(ast.parse(source), filename=filename).messages
    return {(type(m).__name__, m.message_args[0]) for m in found if isinstance(m, kinds)}


@pytest.mark.parametrize("item", ALL_CASES, ids=case_id)
def test_no_fixture_rewrite_leaves_a_name_unbound(item) -> None:
    step, case = item
    before, after = rewrite(step, case)
    lost = undefined_names(after, f"{case.name} (rewritten)") - undefined_names(before, case.name)
    assert not lost, f"names the rewrite leaves unbound: {sorted(lost)}"


def test_a_generated_monorepo_has_no_new_undefined_name_after_apply(tmp_path: Path) -> None:
    """The benchmark corpus's generator, with the monorepo's binding shapes (a context assigned after the
    call, a legacy factory imported in a function before the canonical one, `__all__` naming a legacy
    factory, a script creating the manager at module level): every file `--apply` changes is compared with
    pyflakes."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    root = tmp_path / "corpus"
    make_corpus.generate(str(root), files=1000, seed=1)
    originals = {path: path.read_bytes() for path in root.rglob("*.py")}
    applied = run_cli(["--apply", "--no-git", "--no-cache", "--preset", "netra", "-j", "2"], cwd=root, timeout=300)
    assert applied.returncode in (0, 3), applied.stderr[-2000:]
    changed = [path for path, data in originals.items() if path.read_bytes() != data]
    assert len(changed) > 50
    lost = {}
    for path in changed:
        name = str(path.relative_to(root))
        new = undefined_names(path.read_text(encoding="utf-8"), name) - undefined_names(originals[path].decode(), name)
        if new:
            lost[name] = sorted(new)
    assert lost == {}
