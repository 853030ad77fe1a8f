"""What counts as a legacy path: a legacy package names only itself and its configured names.

The rule (`migrate_ws/legacy_paths.py`) is shared by the strings step, the imports step, the
audit and the check that the audit's import sites are migrated or reported; these tests pin
it, and pin that the canonical module (below the legacy package `websocket_core`) is never
reported as legacy, whatever shape names it.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from migrate_ws.config import load_preset, parse_config
from migrate_ws.legacy_paths import LegacyPaths, packages_in
from migrate_ws.testing import fixture_targets, run_codemod

NETRA = load_preset("netra")
PKG = "netra_backend.app.websocket_core"
CANONICAL = f"{PKG}.websocket_manager"


@pytest.fixture(scope="module")
def paths() -> LegacyPaths:
    return LegacyPaths(NETRA)


@pytest.mark.parametrize("dotted, legacy", [
    (PKG, PKG),
    (f"{PKG}.WebSocketManager", PKG),  # one of the package's configured names
    (f"{PKG}.get_websocket_manager_factory", PKG),
    (f"{PKG}.handlers", None),  # another module below the package
    (f"{PKG}.handlers.create_websocket_manager", None),
    (f"{PKG}.ssot_validation_enhancer", None),
    (CANONICAL, None),
    (f"{CANONICAL}.get_websocket_manager", None),
    (f"{CANONICAL}.UnifiedWebSocketManager", None),
    (f"{PKG}.manager", f"{PKG}.manager"),  # a plain legacy module: anything after it goes through it
    (f"{PKG}.manager._serialize_message_safely", f"{PKG}.manager"),
    (f"{PKG}.unified_manager.WebSocketConnection", f"{PKG}.unified_manager"),
    ("netra_backend.app", None),
    ("other.netra_backend.app.websocket_core", None),
])
def test_a_legacy_package_goes_through_itself_only_by_its_configured_names(paths: LegacyPaths, dotted: str,
                                                                            legacy: str | None) -> None:
    assert paths.legacy_module_of(dotted) == legacy


@pytest.mark.parametrize("text, mentioned", [
    (f"from {CANONICAL} import get_websocket_manager", []),
    (f"from {PKG}.handlers import route_message", []),
    (f"from {PKG} import handlers, heartbeat", []),  # the package, for other modules below it
    (f"from {PKG} import (handlers, WebSocketManager)", [PKG]),
    (f"import {PKG}", [PKG]),
    (f"see {PKG} for the event envelopes", []),  # a package that stays, named as itself: still true afterwards
    (f"{PKG}.manager is deprecated", [f"{PKG}.manager"]),  # a module that is retired
    (f"from {PKG}.unified_manager import WebSocketConnection", [f"{PKG}.unified_manager"]),
    (f"{PKG}.unified_manager holds the implementation", []),  # a module that stays, named as itself
    (f"{PKG}.unified_manager._serialize_message_safely", []),  # not one of its configured names
    (f"{PKG}.unified_manager.UnifiedWebSocketManager", [f"{PKG}.unified_manager"]),
    (f"use {CANONICAL}.get_websocket_manager(ctx), not {PKG}.websocket_manager_factory.create_websocket_manager()",
     [f"{PKG}.websocket_manager_factory"]),
])
def test_mentions_in_free_text(paths: LegacyPaths, text: str, mentioned: list[str]) -> None:
    assert [mention.module for mention in paths.mentions(text)] == mentioned


def test_packages_come_from_the_repository_and_the_configuration(tmp_path: Path) -> None:
    config = parse_config({"canonical-module": "shop.client",
                           "legacy-modules": {"shop.legacy": ["Client"], "shop.compat": ["Client"]}}, source="test")
    (tmp_path / "shop" / "legacy").mkdir(parents=True)
    (tmp_path / "shop" / "legacy" / "__init__.py").write_text("from shop.client import Client\n")
    (tmp_path / "shop" / "compat.py").write_text("from shop.client import Client\n")
    assert packages_in(tmp_path, config) == {"shop.legacy"}
    assert LegacyPaths(config, packages_in(tmp_path, config)).legacy_module_of("shop.legacy.helpers") is None
    assert LegacyPaths(config, packages_in(tmp_path, config)).legacy_module_of("shop.compat.helpers") == "shop.compat"
    # the netra preset's package is one because the canonical module lies below it
    assert LegacyPaths(NETRA).is_package(PKG)


# Every shape a string or an import can take, naming the canonical module or another module below the
# legacy package: none of them is a legacy reference, so a file made of them has nothing to report.
NOT_LEGACY = [CANONICAL, f"{CANONICAL}.get_websocket_manager", f"{CANONICAL}.WebSocketManager", f"{PKG}.handlers",
              f"{PKG}.handlers.route_message", f"{PKG}.ssot_validation_enhancer"]
STRING_SHAPES = [
    'VALUE = "{path}"',
    'MODULES = ["{path}", "json"]',
    'TEXT = "the module {path} sends events"',
    'IMPORT_LINE = "from {path} import X"',
    'EXAMPLE = f"import {path} as {{name}}"',
    'DOC = """Example:\n    import {path}\n"""',
    'def f():\n    return importlib.import_module("{path}")',
    'def f():\n    sys.modules.pop("{path}", None)',
    'def f():\n    exec("import {path}")',
    'def f():\n    with patch("{path}"):\n        pass',
    'def test_f():\n    assert "{path}" in sys.modules',
    'def test_f():\n    assert "from {path} import" in source',
    'def f():\n    raise ImportError("{path} is the one to use")',
]


def test_the_canonical_module_is_never_reported_as_legacy() -> None:
    header = "import importlib\nimport sys\nfrom unittest.mock import patch\n\nname = 'x'\nsource = ''\n\n"
    body = "\n\n".join(shape.format(path=path) for path, shape in itertools.product(NOT_LEGACY, STRING_SHAPES))
    imports = "\n".join([f"import {CANONICAL}", f"import {CANONICAL} as canonical", f"from {PKG} import websocket_manager",
                         f"from {PKG} import handlers as package_handlers", f"import {PKG}.handlers"])
    source = header + imports + "\n\n" + body + "\n"
    outcome = run_codemod(source, "tests/test_everything.py", fixture_targets(NETRA))
    assert outcome.findings == []
    assert outcome.text == source


def test_on_a_generated_corpus_no_string_below_the_package_is_reported(tmp_path: Path) -> None:
    """The corpus carries strings naming the canonical module and other modules below the legacy package
    (templates, patch scripts, module lists, messages): a line that names nothing legacy (checked here by
    a pattern of its own, not by the rule under test) has no string finding."""
    import json
    import re
    import sys

    from helpers import run_cli

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import make_corpus
    finally:
        sys.path.pop(0)
    root = tmp_path / "corpus"
    manifest = make_corpus.generate(str(root), 1000, 4)
    assert manifest["shapes"]["string_below_package"] >= 10
    legacy_modules = "|".join(m.rsplit(".", 1)[1] for m in NETRA.legacy_modules if m != PKG)
    package_names = "|".join(NETRA.legacy_modules[PKG].names)
    names_legacy = re.compile(rf"{re.escape(PKG)}(?:\.(?:{legacy_modules}|{package_names})\b|(?![\w.]))")
    below = re.compile(rf"{re.escape(PKG)}\.\w")
    done = run_cli(["--dry-run", "--json", "--no-cache", "--preset", "netra", "-j", "2"], cwd=root, timeout=300)
    findings = json.loads(done.stdout)["findings"]
    string_codes = {"MW108", "MW402", "MW403", "MW404", "MW405"}
    checked = 0
    for path in sorted({f["path"] for f in findings} | set(manifest["legacy"])):
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        reported = {f["line"] for f in findings if f["path"] == path and f["code"] in string_codes}
        for number, line in enumerate(lines, 1):
            if below.search(line) and not names_legacy.search(line) and ('"' in line or "'" in line):
                checked += 1
                assert number not in reported, f"{path}:{number}: {line.strip()}"
    assert checked >= 10
