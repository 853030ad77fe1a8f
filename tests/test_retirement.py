"""Retiring a legacy module: its shim keeps every name it provided, as the very same object.

The shims are imported for real (in a subprocess, next to the original module) and every
module-level name is compared by identity: manager names must be the canonical module's
objects, every other name the object the original module bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migrate_ws.config import parse_config
from migrate_ws.retirement import plan_retirement

CANONICAL = '''\
"""The canonical module."""


class _Implementation:
    pass


Manager = _Implementation
LegacyManager = _Implementation


def get_manager(context=None):
    return _Implementation()


def _serialize(message):
    return str(message)
'''

HEARTBEAT = '''\
class Heartbeat:
    interval = 30
'''

# Every way a legacy module binds names that are not manager names.
LEGACY = '''\
"""Old home of the manager."""
import sys
import warnings

from pkg.canonical import LegacyManager, _serialize, get_manager
from pkg.heartbeat import Heartbeat
from pkg import heartbeat as heartbeat_module

try:
    from pkg.protocols import ManagerProtocol  # not installed here: the fallback runs
except ImportError:
    ManagerProtocol = None

try:
    from pkg.heartbeat import Heartbeat as FastHeartbeat
except ImportError:  # pragma: no cover
    FastHeartbeat = None

if sys.version_info >= (3, 0):
    from pkg.heartbeat import Heartbeat as ModernHeartbeat
else:  # pragma: no cover
    ModernHeartbeat = None

Manager = LegacyManager
HeartbeatManager = Heartbeat
__version__ = "1.0"

__all__ = ["Manager", "LegacyManager", "get_manager", "Heartbeat", "HeartbeatManager", "ManagerProtocol",
           "_serialize"]

warnings.warn("pkg.legacy is deprecated", DeprecationWarning, stacklevel=2)
'''


def config(drop: list[str] | None = None, names: list[str] | None = None):
    table = {
        "canonical-module": "pkg.canonical",
        "aliases": {"LegacyManager": "Manager"},
        "legacy-modules": {"pkg.legacy": {"names": names or ["Manager", "LegacyManager", "get_manager"],
                                          **({"drop": drop} if drop else {})}},
    }
    return parse_config(table, source="test")


EXPORTS = frozenset({"Manager", "LegacyManager", "get_manager", "_serialize", "_Implementation"})


def write_package(root: Path, legacy: str) -> None:
    package = root / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "canonical.py").write_text(CANONICAL)
    (package / "heartbeat.py").write_text(HEARTBEAT)
    (package / "legacy.py").write_text(legacy)


COMPARE = '''
import importlib, json, sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
old = importlib.import_module("pkg.legacy")
shim = importlib.import_module("pkg.legacy_shim")
canonical = importlib.import_module("pkg.canonical")
names = sorted(n for n in vars(old) if not (n.startswith("__") and n.endswith("__")) or n in ("__all__", "__version__"))
report = {}
for name in names:
    if not hasattr(shim, name):
        report[name] = "missing"
    elif name == "__all__":
        report[name] = "same" if list(getattr(shim, name)) == list(getattr(old, name)) else "different"
    else:
        a, b = getattr(shim, name), getattr(old, name)
        constant = isinstance(a, (str, int, float, bool, type(None))) and type(a) is type(b) and a == b
        report[name] = "same" if a is b or constant else "different"
report["@canonical"] = {n: getattr(shim, n) is getattr(canonical, t) for n, t in json.loads(sys.argv[2]).items()}
print(json.dumps(report))
'''


def compare(root: Path, provided: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", COMPARE, str(root), json.dumps(provided)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_shim_keeps_every_name_as_the_same_object(tmp_path: Path) -> None:
    write_package(tmp_path, LEGACY)
    retirement = plan_retirement(config(), "pkg.legacy", LEGACY, EXPORTS)
    assert retirement.shimmed, retirement.own_definitions
    (tmp_path / "pkg" / "legacy_shim.py").write_text(retirement.shim)

    report = compare(tmp_path, retirement.provided)
    canonical = report.pop("@canonical")
    assert canonical == {"Manager": True, "LegacyManager": True, "get_manager": True}
    assert {name: state for name, state in report.items() if state != "same"} == {}
    for name in ("Heartbeat", "HeartbeatManager", "ManagerProtocol", "FastHeartbeat", "ModernHeartbeat",
                 "_serialize", "heartbeat_module", "sys", "__all__", "__version__", "warnings"):
        assert name in report
    assert "DeprecationWarning" in retirement.shim and "pkg.canonical" in retirement.shim


def test_the_shim_warns_once_on_import(tmp_path: Path) -> None:
    write_package(tmp_path, LEGACY)
    retirement = plan_retirement(config(), "pkg.legacy", LEGACY, EXPORTS)
    (tmp_path / "pkg" / "legacy.py").write_text(retirement.shim)
    probe = ("import sys, warnings; sys.path.insert(0, sys.argv[1]);\n"
             "with warnings.catch_warnings(record=True) as caught:\n"
             "    warnings.simplefilter('always'); import pkg.legacy\n"
             "print(sorted({str(w.message) for w in caught if w.category is DeprecationWarning}))")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['pkg.legacy is deprecated; import from pkg.canonical']"


def test_a_module_that_defines_code_of_its_own_stays() -> None:
    legacy = LEGACY + textwrap.dedent('''
        _instance = None


        def helper():
            return Heartbeat()


        class Adapter:
            pass
        ''')
    retirement = plan_retirement(config(), "pkg.legacy", legacy, EXPORTS)
    assert not retirement.shimmed
    described = [d.description for d in retirement.own_definitions]
    assert described == ["module state _instance", "function helper", "class Adapter"]


def test_dropped_names_are_left_out_and_leave_all(tmp_path: Path) -> None:
    legacy = LEGACY.replace('__version__ = "1.0"', '__version__ = "1.0"\n_instance = None\n\n\ndef instance():\n'
                            '    return _instance\n').replace('"_serialize"]', '"_serialize", "instance"]')
    assert not plan_retirement(config(), "pkg.legacy", legacy, EXPORTS).shimmed
    retirement = plan_retirement(config(drop=["_instance", "instance"]), "pkg.legacy", legacy, EXPORTS)
    assert retirement.shimmed and retirement.dropped == ["_instance", "instance"]
    write_package(tmp_path, legacy)
    (tmp_path / "pkg" / "legacy_shim.py").write_text(retirement.shim)
    report = compare(tmp_path, retirement.provided)
    report.pop("@canonical")
    assert report.pop("_instance") == "missing" and report.pop("instance") == "missing"
    assert report.pop("__all__") == "different"
    assert set(report.values()) == {"same"}
    assert '"instance"' not in retirement.shim


def test_an_alias_of_a_dropped_name_keeps_the_module() -> None:
    legacy = "_instance = None\ncurrent = _instance\n"
    retirement = plan_retirement(config(drop=["_instance"]), "pkg.legacy", legacy, EXPORTS)
    assert not retirement.shimmed
    assert "current = _instance, which `drop` leaves out" in retirement.own_definitions[0].description


@pytest.mark.parametrize("legacy, expected_kept", [
    # a statement sharing its line with another: only the manager name's binding goes
    ("from pkg.heartbeat import Heartbeat; Manager = Heartbeat\n", "from pkg.heartbeat import Heartbeat"),
    # a multi-line import keeps its comments for the names that stay
    ("from pkg.canonical import (\n    get_manager,  # the factory\n    _serialize,  # kept\n)\n", "_serialize,  # kept"),
])
def test_shim_layout_cases(legacy: str, expected_kept: str) -> None:
    retirement = plan_retirement(config(), "pkg.legacy", legacy, EXPORTS)
    assert retirement.shimmed, retirement.own_definitions
    assert expected_kept in retirement.shim
    compile(retirement.shim, "shim", "exec")


def test_line_endings_and_coding_cookie_are_kept() -> None:
    legacy = "# -*- coding: latin-1 -*-\r\nfrom pkg.heartbeat import Heartbeat\r\nManager = Heartbeat\r\n"
    retirement = plan_retirement(config(), "pkg.legacy", legacy, EXPORTS)
    assert retirement.shim.startswith("# -*- coding: latin-1 -*-\r\n")
    assert "\n" not in retirement.shim.replace("\r\n", "")


def test_a_star_import_keeps_the_module() -> None:
    retirement = plan_retirement(config(), "pkg.legacy", "from pkg.heartbeat import *\n", EXPORTS)
    assert not retirement.shimmed
    assert "star import" in retirement.own_definitions[0].description


DOCUMENTED = '''\
"""Compatibility layer: the old home of the manager, for code outside this repository.

Plugins written before the move import `Manager` from here.
"""
from pkg.canonical import LegacyManager, get_manager

Manager = LegacyManager
'''


@pytest.mark.parametrize("legacy, docstring", [
    (DOCUMENTED, "Compatibility layer: the old home of the manager, for code outside this repository.\n\n"
                 "Plugins written before the move import `Manager` from here."),
    ("r'''Raw \\\\d docstring, one line'''\nfrom pkg.canonical import get_manager\n", "Raw \\\\d docstring, one line"),
    ("'Single-quoted.\\tEscaped.'\nfrom pkg.canonical import get_manager\n", "Single-quoted.\tEscaped."),
])
def test_the_shim_keeps_the_module_docstring_with_the_notice_added(tmp_path: Path, legacy: str,
                                                                   docstring: str) -> None:
    """A test that asserts what the compatibility module is (from its docstring) still passes after
    the module is shimmed; the deprecation notice is the docstring's last paragraph."""
    retirement = plan_retirement(config(), "pkg.legacy", legacy, EXPORTS)
    assert retirement.shimmed, retirement.own_definitions
    write_package(tmp_path, retirement.shim)
    probe = ("import sys, warnings; sys.path.insert(0, sys.argv[1]); warnings.simplefilter('ignore')\n"
             "import pkg.legacy; print(repr(pkg.legacy.__doc__))")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    kept = eval(done.stdout)  # the repr of a str
    assert kept.startswith(docstring + "\n\nDeprecated: import from pkg.canonical instead.\n\n"
                                       "This module is kept only so that existing imports keep working")
    # planned again on the shim (a second run), the shim comes out the same: the notice is not added twice
    assert plan_retirement(config(), "pkg.legacy", retirement.shim, EXPORTS).shim == retirement.shim


def test_a_module_without_a_docstring_gets_the_notice_as_its_docstring() -> None:
    retirement = plan_retirement(config(), "pkg.legacy", "from pkg.canonical import get_manager\n", EXPORTS)
    assert retirement.shim.startswith('"""Deprecated: import from pkg.canonical instead.\n\nThis module is kept only')
    assert plan_retirement(config(), "pkg.legacy", retirement.shim, EXPORTS).shim == retirement.shim
