"""The test suite's own shape: shared code lives in helpers.py and conftest.py.

A test module that imports another one runs that module's import-time code and fixtures
in a place nobody reads, and ties the two so that moving a test breaks an unrelated one;
five private `git()` helpers had drifted into three return types.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.rglob("test_*.py"))
TEST_MODULE_NAMES = {path.stem for path in TEST_MODULES}
# Helpers every test module shares; a module of its own must not define its own copy.
SHARED_HELPERS = {"git"}


def imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) for every import, at any depth (imports inside functions too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.append((node.lineno, base))
            if not node.module:  # `from . import test_x`
                found.extend((node.lineno, "." * node.level + alias.name) for alias in node.names)
    return found


def imports_a_test_module(module: str) -> bool:
    return any(part.startswith("test_") and part in TEST_MODULE_NAMES for part in module.lstrip(".").split("."))


def test_the_suite_is_found() -> None:
    assert len(TEST_MODULES) > 40 and Path(__file__).resolve() in TEST_MODULES
    assert any(path.parent != TESTS for path in TEST_MODULES), "tests/acceptance/ is not searched"


@pytest.mark.parametrize("path", TEST_MODULES, ids=lambda path: path.relative_to(TESTS).as_posix())
def test_no_test_module_imports_another(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    wrong = [f"line {line}: {module}" for line, module in imported_modules(tree) if imports_a_test_module(module)]
    assert not wrong, f"{path.name} imports test modules (move what it needs to helpers.py or conftest.py): {wrong}"


@pytest.mark.parametrize("path", TEST_MODULES, ids=lambda path: path.relative_to(TESTS).as_posix())
def test_no_test_module_defines_its_own_shared_helper(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    defined = [f"line {node.lineno}: def {node.name}" for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.lstrip("_") in SHARED_HELPERS]
    assert not defined, f"{path.name} defines its own copy of a helper in helpers.py: {defined}"


@pytest.mark.parametrize("source, expected", [
    ("from test_apply import git\n", ["test_apply"]),
    ("import test_apply\n", ["test_apply"]),
    ("def f():\n    from test_split import example_app\n", ["test_split"]),
    ("from .test_apply import git\n", [".test_apply"]),
    ("from . import test_apply\n", [".test_apply"]),
    ("from tests.test_apply import git\n", ["tests.test_apply"]),
    ("from helpers import git\nimport static_imports\nfrom ._app import load_app\n", []),
])
def test_the_import_check_sees_every_form(source: str, expected: list[str]) -> None:
    found = [module for _, module in imported_modules(ast.parse(source)) if imports_a_test_module(module)]
    assert found == expected
