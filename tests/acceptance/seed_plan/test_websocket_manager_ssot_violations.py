"""A) Unit tests: SSOT import validation (Issue #1182).

Detect multiple WebSocket manager implementations and import fragmentation. Each test
fails while the managers are fragmented and passes once they are consolidated.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import warnings
from pathlib import Path

from ._app import CORE, app_root, describe

APP_ROOT = app_root()

# The dotted names that must all resolve to the one implementation class.
IMPLEMENTATION_PATHS = (
    f"{CORE}.manager.WebSocketManager",
    f"{CORE}.websocket_manager.WebSocketManager",
    f"{CORE}.websocket_manager.UnifiedWebSocketManager",
    f"{CORE}.websocket_manager.WebSocketConnectionManager",
    f"{CORE}.unified_manager._UnifiedWebSocketManagerImplementation",
)

# Legacy manager import paths and the manager names each carries (as in the migration's
# configuration). Other names imported from these modules are unrelated to the managers.
LEGACY_IMPORTS = {
    f"{CORE}.manager": {
        "WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager",
        "WebSocketManagerMode", "WebSocketConnection", "get_websocket_manager",
        "create_websocket_manager", "create_websocket_manager_sync", "WebSocketManagerFactory",
    },
    f"{CORE}.unified_manager": {
        "UnifiedWebSocketManager", "WebSocketManager", "WebSocketConnectionManager",
        "WebSocketManagerMode", "WebSocketConnection", "get_websocket_manager",
    },
    f"{CORE}.websocket_manager_factory": {
        "WebSocketManagerFactory", "create_websocket_manager", "create_websocket_manager_sync",
        "get_websocket_manager_factory", "get_websocket_manager", "IsolatedWebSocketManager",
        "WebSocketManager", "UnifiedWebSocketManager",
    },
    CORE: {
        "WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager",
        "get_websocket_manager", "create_websocket_manager", "create_websocket_manager_sync",
        "WebSocketManagerFactory", "get_websocket_manager_factory",
    },
}
# Modules that exist only for the old paths: importing the module object itself is legacy too.
LEGACY_MODULE_OBJECTS = {f"{CORE}.manager", f"{CORE}.websocket_manager_factory"}
# The canonical module, the implementation and the legacy modules themselves (or their shims).
NOT_SCANNED = {
    f"{CORE}.websocket_manager",
    f"{CORE}.unified_manager",
    f"{CORE}.manager",
    f"{CORE}.websocket_manager_factory",
}


def _resolve(dotted: str):
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def test_multiple_websocket_manager_implementations_detected():
    resolved = {}
    for dotted in IMPLEMENTATION_PATHS:
        try:
            resolved[dotted] = _resolve(dotted)
        except (ImportError, AttributeError):
            continue  # a name that fails to import is not counted
    assert resolved, "None of the WebSocket manager import paths could be imported"
    distinct = {id(obj) for obj in resolved.values()}
    assert len(distinct) == 1, (
        f"Multiple WebSocket manager classes found: {len(distinct)} different objects behind "
        f"{len(resolved)} import paths: "
        + "; ".join(f"{path} -> {describe(obj)} (id {id(obj):#x})" for path, obj in resolved.items())
    )


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(APP_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _legacy_imports(path: Path) -> list[str]:
    """`file:line: import` for every import of a legacy manager path in one source file."""
    module = _module_name(path)
    where = path.relative_to(APP_ROOT)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path.name == "__init__.py")
            for alias in node.names:
                if f"{source}.{alias.name}" in LEGACY_MODULE_OBJECTS:
                    found.append((node.lineno, f"from {source} import {alias.name} (module object)"))
                elif source in LEGACY_IMPORTS and (alias.name == "*" or alias.name in LEGACY_IMPORTS[source]):
                    found.append((node.lineno, f"from {source} import {alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(alias.name == m or alias.name.startswith(m + ".") for m in LEGACY_MODULE_OBJECTS):
                    found.append((node.lineno, f"import {alias.name}"))
    return [f"{where}:{line}: {text}" for line, text in sorted(found)]


def test_websocket_manager_import_path_fragmentation():
    sources = sorted(p for p in APP_ROOT.rglob("*.py") if "__pycache__" not in p.parts)
    assert sources, f"no Python sources under {APP_ROOT}"
    legacy = []
    for path in sources:
        if _module_name(path) not in NOT_SCANNED:
            legacy.extend(_legacy_imports(path))
    assert not legacy, (
        f"Multiple import paths for WebSocket managers: {len(legacy)} imports still use a legacy "
        f"path instead of {CORE}.websocket_manager: " + "; ".join(legacy)
    )


def test_websocket_manager_alias_consistency():
    names = (
        f"{CORE}.websocket_manager.WebSocketManager",
        f"{CORE}.websocket_manager.UnifiedWebSocketManager",
        f"{CORE}.websocket_manager.WebSocketConnectionManager",
        f"{CORE}.manager.WebSocketManager",
    )
    resolved = {}
    for dotted in names:
        try:
            resolved[dotted] = _resolve(dotted)
        except (ImportError, AttributeError) as exc:
            resolved[dotted] = exc
    distinct = {id(obj) for obj in resolved.values()}
    assert len(distinct) == 1 and not any(isinstance(o, Exception) for o in resolved.values()), (
        "Aliases point to different implementations: "
        + "; ".join(f"{path} -> {obj!r}" if isinstance(obj, Exception) else f"{path} -> {describe(obj)}"
                    for path, obj in resolved.items())
    )


SINGLETON_ATTRIBUTES = ("_instance", "_singleton", "getInstance")


def test_websocket_manager_factory_pattern_violations():
    violations = []
    for name in ("websocket_manager", "unified_manager", "manager"):
        module = importlib.import_module(f"{CORE}.{name}")
        for attribute in SINGLETON_ATTRIBUTES:
            if hasattr(module, attribute):
                violations.append(f"{name}.{attribute} (process-wide singleton)")
        getters = sorted(
            attr for attr, value in vars(module).items()
            if inspect.isfunction(value) and all(part in attr.lower() for part in ("get_", "websocket", "manager"))
        )
        if len(getters) > 1:
            violations.append(f"{name} exposes {len(getters)} manager factory functions: {', '.join(getters)}")
    assert not violations, "Multiple factory patterns and singleton usage: " + "; ".join(violations)


def _purge_app_modules() -> None:
    for name in [n for n in sys.modules if n == "netra_backend" or n.startswith("netra_backend.")]:
        del sys.modules[name]


def test_websocket_manager_circular_import_detection():
    saved = {n: m for n, m in sys.modules.items() if n == "netra_backend" or n.startswith("netra_backend.")}
    problems = []
    try:
        for name in ("manager", "websocket_manager", "unified_manager"):
            _purge_app_modules()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    importlib.import_module(f"{CORE}.{name}")
                except ImportError as exc:
                    kind = "circular import" if "circular" in str(exc).lower() else "import failed"
                    problems.append(f"{kind} while importing {name}: {exc}")
            problems.extend(f"importing {name} warned: {w.message}" for w in caught
                            if "circular" in str(w.message).lower())
    finally:
        _purge_app_modules()
        sys.modules.update(saved)
    assert not problems, "Circular imports detected: " + "; ".join(problems)
