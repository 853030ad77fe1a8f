"""A rewrite that makes an import the same as an earlier one drops it only where the earlier one
certainly still binds the name.

The imports step's duplicate cases (migrate_ws/codemods/examples/imports/) are checked beyond
their expected text: the binding check accepts each rewrite (nothing is left unchanged as MW704),
and each module, run before and after the rewrite against stand-in netra modules, computes the
same values (its upper-case module names and what each function without parameters returns).
A real duplicate must still go: the rewrite has fewer imports than the original.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from migrate_ws import binding_check
from migrate_ws.editing import effective
from migrate_ws.steps import get, order
from migrate_ws.testing import read_case, run_codemod

EXAMPLES = get("imports").examples
CASES = ["duplicate_after_other_import_of_root", "duplicate_after_root_rebound", "duplicate_of_another_name",
         "duplicates_merged", "real_duplicates_dropped"]
DROPPING = {"duplicates_merged", "real_duplicates_dropped"}  # the cases whose rewrite removes an import

# The legacy modules re-export the canonical module's objects, as after the migration's first step.
STAND_INS = {
    "netra_backend/__init__.py": "",
    "netra_backend/app/__init__.py": "",
    "netra_backend/app/services/__init__.py": "",
    "netra_backend/app/services/notifier.py": "NOTICE = 'notice'\n",
    "netra_backend/app/websocket_core/__init__.py": "",
    "netra_backend/app/websocket_core/websocket_manager.py":
        "class WebSocketManager:\n    pass\n\n\nUnifiedWebSocketManager = WebSocketManager\n\n\n"
        "def get_websocket_manager(user_context=None):\n    return WebSocketManager()\n",
    "netra_backend/app/websocket_core/manager.py":
        "from .websocket_manager import UnifiedWebSocketManager, WebSocketManager, get_websocket_manager\n",
    "netra_backend/app/websocket_core/unified_manager.py":
        "from .websocket_manager import UnifiedWebSocketManager, WebSocketManager, get_websocket_manager\n",
}

# Runs a module's file and prints, as JSON, the repr of its upper-case names and of what each of its
# functions without parameters returns (or the exception it raises), without object addresses.
DRIVER = """
import importlib.util, inspect, json, re, sys
spec = importlib.util.spec_from_file_location("case_module", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
found = {name: value for name, value in vars(module).items() if name.isupper()}
for name, function in sorted(inspect.getmembers(module, inspect.isfunction)):
    if function.__module__ == "case_module" and not inspect.signature(function).parameters:
        try:
            found[name] = function()
        except Exception as error:
            found[name] = "raised " + type(error).__name__
print(json.dumps({name: re.sub(" at 0x[0-9a-f]+", "", repr(value)) for name, value in found.items()}, sort_keys=True))
"""


def rewrite(name: str) -> tuple[str, str, object]:
    read = read_case("imports", EXAMPLES / f"{name}.before.py")
    outcome = run_codemod(read.before, read.path, read.targets)
    assert outcome.error is None, outcome.error
    return read.before, outcome.text, outcome


def imports_in(source: str) -> int:
    return sum(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(ast.parse(source)))


@pytest.mark.parametrize("name", CASES)
def test_the_binding_check_accepts_the_rewrite(name: str) -> None:
    before, after, outcome = rewrite(name)
    assert after != before
    rejection = binding_check.check(before, ast.parse(before), after, f"{name}.py", effective(outcome.edits, order()))
    assert rejection is None, rejection.reason


@pytest.mark.parametrize("name", CASES)
def test_only_real_duplicates_are_dropped(name: str) -> None:
    before, after, _ = rewrite(name)
    if name in DROPPING:
        assert imports_in(after) < imports_in(before)
    else:
        assert imports_in(after) == imports_in(before)


def run(folder: Path, source: str, name: str) -> dict[str, str]:
    module = folder / f"{name}.py"
    module.write_text(source, encoding="utf-8")
    process = subprocess.run([sys.executable, "-B", "-c", DRIVER, str(module)], cwd=folder, capture_output=True,
                             text=True, timeout=60, env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"})
    assert process.returncode == 0, f"{name} failed to run:\n{process.stderr}"
    return json.loads(process.stdout)


@pytest.mark.parametrize("name", CASES)
def test_the_rewrite_computes_what_the_original_did(name: str, tmp_path: Path) -> None:
    for relative, text in STAND_INS.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    before, after, _ = rewrite(name)
    assert run(tmp_path, after, "rewritten") == run(tmp_path, before, "original")


def rebound(source: str, name: str = "m") -> bool:
    """`rebound_between` for the first and the last import statement of the first statement list that has
    two, in the frame (module, function or class) whose code that list is."""
    from migrate_ws.flow import BindingFlow

    tree = ast.parse(source)
    pending: list[tuple[ast.AST, ast.AST]] = [(tree, tree)]  # (frame, node)
    while pending:
        frame, node = pending.pop(0)
        block = getattr(node, "body", None)
        if isinstance(block, list):
            found = [s for s in block if isinstance(s, (ast.Import, ast.ImportFrom))]
            if len(found) >= 2:
                return BindingFlow().rebound_between(frame, name, found[0], found[-1])
        for child in ast.iter_child_nodes(node):
            pending.append((child if isinstance(child, (ast.FunctionDef, ast.ClassDef)) else frame, child))
    raise AssertionError("no two imports in one statement list")


@pytest.mark.parametrize("source", [
    "import m\nprint(m)\nimport m\n",
    "import m\ndef f():\n    m = 1\n    return m\nimport m\n",  # a local of another function
    "import m\nclass C:\n    m = 1\nimport m\n",  # a class attribute
    "m = 0\nimport m\nimport m\nm = 1\n",  # before and after, not between
    "if x:\n    import m\n    print(m)\n    import m\nelse:\n    m = None\n",  # the other branch
    "for m in ms:\n    import m\n    import m\n",  # the loop target is bound before either
])
def test_nothing_between_rebinds_the_name(source: str) -> None:
    assert not rebound(source)


@pytest.mark.parametrize("source", [
    "import m\nm = None\nimport m\n",
    "import m\ndel m\nimport m\n",
    "import m; m = 1; import m\n",
    "import m\nfor m in ms:\n    pass\nimport m\n",
    "import m\nif x:\n    m = None\nimport m\n",
    "import m\ntry:\n    pass\nexcept E as m:\n    pass\nimport m\n",
    "import m\nwith c as m:\n    pass\nimport m\n",
    "import m\nprint(m := 1)\nimport m\n",
    "import m\ndef m():\n    pass\nimport m\n",
    "import m\nimport m.sub as m\nimport m\n",
    "import m\nfrom n import *\nimport m\n",
    "import m\nmatch x:\n    case [*m]:\n        pass\nimport m\n",
    "def reset():\n    global m\n    m = None\nimport m\nreset()\nimport m\n",
    "def f():\n    import m\n    def g():\n        nonlocal m\n        m = 1\n    g()\n    import m\n",
])
def test_a_binding_between_or_a_declaration_rebinds_the_name(source: str) -> None:
    assert rebound(source)


def test_a_function_local_rebound_between_its_own_imports() -> None:
    assert rebound("import m\ndef f():\n    import m\n    m = None\n    import m\n    return m\n")
    assert not rebound("def f():\n    import m\n    print(m)\n    import m\n    return m\nm = None\n")
