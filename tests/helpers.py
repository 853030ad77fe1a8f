"""Building small repositories in the netra layout and running the real `migrate-ws` command.

`make_legacy_repo` writes a repository shaped like the user's monorepo: the
`netra_backend.app.websocket_core` package (canonical `websocket_manager`, the
implementation in `unified_manager`, the legacy `manager` shim) and a few consumers that
still import the managers through legacy paths, in the shapes the migration must handle.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

PACKAGE = "netra_backend/app/websocket_core"
CANONICAL = "netra_backend.app.websocket_core.websocket_manager"
LEGACY = "netra_backend.app.websocket_core.manager"

# Paths (relative to the repository root) of the consumers with a special shape.
CRLF_FILE = "netra_backend/app/services/crlf_consumer.py"
LATIN1_FILE = "netra_backend/app/services/latin1_consumer.py"
BROKEN_FILE = "netra_backend/app/services/broken_consumer.py"
FROM_IMPORT_FILE = "netra_backend/app/services/notifier.py"
ALIAS_FILE = "netra_backend/app/routes/ws_route.py"
MODULE_OBJECT_FILE = "netra_backend/app/agents/dispatcher.py"
MULTILINE_FILE = "netra_backend/app/agents/heartbeat.py"

PACKAGE_INIT = '''\
"""WebSocket core: connection handling and the user-scoped manager factory."""

from .websocket_manager import WebSocketManager, get_websocket_manager

HEARTBEAT_INTERVAL = 30


def heartbeat_interval() -> int:
    return HEARTBEAT_INTERVAL


__all__ = ["WebSocketManager", "get_websocket_manager", "HEARTBEAT_INTERVAL", "heartbeat_interval"]
'''

CANONICAL_MODULE = '''\
"""The single source of truth for WebSocket managers.

Obtain a manager with `get_websocket_manager(user_context)`.
"""

import warnings

from netra_backend.app.websocket_core.unified_manager import (
    WebSocketConnection,
    WebSocketManagerMode,
    _UnifiedWebSocketManagerImplementation,
)


class WebSocketManager:
    """Placeholder that points callers to the user-scoped factory."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("use get_websocket_manager(user_context) to obtain a WebSocket manager")


UnifiedWebSocketManager = _UnifiedWebSocketManagerImplementation
WebSocketConnectionManager = _UnifiedWebSocketManagerImplementation


def get_websocket_manager(user_context=None):
    """Return a manager scoped to `user_context`."""
    return _UnifiedWebSocketManagerImplementation(user_context=user_context)


def create_websocket_manager(user_context=None):
    """Deprecated: use get_websocket_manager(user_context)."""
    warnings.warn(
        "create_websocket_manager is deprecated; use get_websocket_manager",
        DeprecationWarning,
        stacklevel=2,
    )
    return get_websocket_manager(user_context)


__all__ = [
    "WebSocketManager",
    "WebSocketManagerMode",
    "WebSocketConnection",
    "UnifiedWebSocketManager",
    "WebSocketConnectionManager",
    "get_websocket_manager",
    "create_websocket_manager",
]
'''

UNIFIED_MODULE = '''\
"""The WebSocket manager implementation."""

import enum


class WebSocketManagerMode(enum.Enum):
    UNIFIED = "unified"
    ISOLATED = "isolated"


class WebSocketConnection:
    def __init__(self, websocket, user_id):
        self.websocket = websocket
        self.user_id = user_id


class _UnifiedWebSocketManagerImplementation:
    def __init__(self, user_context=None, mode=WebSocketManagerMode.UNIFIED):
        self.user_context = user_context
        self.mode = mode
        self.connections = {}

    async def send_to_user(self, user_id, message):
        for connection in self.connections.get(user_id, []):
            await connection.websocket.send_json(message)
'''

LEGACY_MODULE = '''\
"""Deprecated: import from netra_backend.app.websocket_core.websocket_manager."""

import warnings

from netra_backend.app.websocket_core.websocket_manager import (
    UnifiedWebSocketManager,
    WebSocketConnectionManager,
    get_websocket_manager,
)

WebSocketManager = UnifiedWebSocketManager

warnings.warn(
    "netra_backend.app.websocket_core.manager is deprecated; "
    "import from netra_backend.app.websocket_core.websocket_manager",
    DeprecationWarning,
    stacklevel=2,
)
'''

FROM_IMPORT_CONSUMER = '''\
"""Sends notifications to connected users."""

from netra_backend.app.websocket_core.manager import WebSocketManager, get_websocket_manager


async def notify(user_context, message):
    manager: WebSocketManager = get_websocket_manager(user_context)
    await manager.send_to_user(user_context.user_id, message)


def is_manager(candidate) -> bool:
    return isinstance(candidate, WebSocketManager)
'''

ALIAS_CONSUMER = '''\
"""The WebSocket route."""

from netra_backend.app.websocket_core.manager import WebSocketConnectionManager as ConnectionManager


def describe(manager: ConnectionManager) -> str:
    return type(manager).__name__


def accepts(candidate) -> bool:
    return isinstance(candidate, ConnectionManager)
'''

MODULE_OBJECT_CONSUMER = '''\
"""Dispatches agent events over WebSocket."""

import netra_backend.app.websocket_core.manager as legacy_manager


def manager_for(user_context):
    return legacy_manager.get_websocket_manager(user_context)


def manager_type():
    return legacy_manager.WebSocketManager
'''

MULTILINE_CONSUMER = '''\
"""Heartbeats for open WebSocket connections."""

from netra_backend.app.websocket_core import (
    WebSocketManager,
    heartbeat_interval,
)


def heartbeat_due(manager: WebSocketManager, elapsed: float) -> bool:
    return elapsed >= heartbeat_interval()


def singleton():
    return WebSocketManager()
'''

CRLF_CONSUMER = (
    '"""A consumer written on Windows (CRLF line endings)."""\r\n'
    "\r\n"
    "from netra_backend.app.websocket_core.manager import get_websocket_manager\r\n"
    "\r\n"
    "\r\n"
    "def manager_for(user_context):\r\n"
    "    return get_websocket_manager(user_context)\r\n"
)

LATIN1_CONSUMER = (
    "# -*- coding: latin-1 -*-\n"
    '"""Résumé des connexions (latin-1 encoded)."""\n'
    "\n"
    "from netra_backend.app.websocket_core.manager import WebSocketManager\n"
    "\n"
    'GREETING = "Olá, café"\n'
    "\n"
    "\n"
    "def is_manager(candidate) -> bool:\n"
    "    return isinstance(candidate, WebSocketManager)\n"
).encode("latin-1")

BROKEN_CONSUMER = '''\
"""This file does not parse."""

from netra_backend.app.websocket_core.manager import WebSocketManager


def broken(:
    return WebSocketManager
'''

TEXT_FILES = {
    "netra_backend/__init__.py": "",
    "netra_backend/app/__init__.py": "",
    f"{PACKAGE}/__init__.py": PACKAGE_INIT,
    f"{PACKAGE}/websocket_manager.py": CANONICAL_MODULE,
    f"{PACKAGE}/unified_manager.py": UNIFIED_MODULE,
    f"{PACKAGE}/manager.py": LEGACY_MODULE,
    "netra_backend/app/services/__init__.py": "",
    "netra_backend/app/routes/__init__.py": "",
    "netra_backend/app/agents/__init__.py": "",
    FROM_IMPORT_FILE: FROM_IMPORT_CONSUMER,
    ALIAS_FILE: ALIAS_CONSUMER,
    MODULE_OBJECT_FILE: MODULE_OBJECT_CONSUMER,
    MULTILINE_FILE: MULTILINE_CONSUMER,
    BROKEN_FILE: BROKEN_CONSUMER,
}

BINARY_FILES = {
    CRLF_FILE: CRLF_CONSUMER.encode("ascii"),
    LATIN1_FILE: LATIN1_CONSUMER,
}


# A different codebase: a payments client moved from `shop.legacy.payments` to `shop.payments.client`.
SHOP_CONFIG = """\
[tool.migrate-ws]
name = "payments"
canonical-module = "shop.payments.client"
include = ["shop/**/*.py"]

[tool.migrate-ws.aliases]
LegacyPaymentClient = "PaymentClient"

[tool.migrate-ws.legacy-modules."shop.legacy.payments"]
names = ["PaymentClient", "LegacyPaymentClient"]
"""

SHOP_FILES = {
    "shop/__init__.py": "",
    "shop/payments/__init__.py": "",
    "shop/payments/client.py": (
        "class PaymentClient:\n"
        "    def charge(self, amount):\n"
        "        return amount\n"
    ),
    "shop/legacy/__init__.py": "",
    "shop/legacy/payments.py": (
        '"""Deprecated: use shop.payments.client."""\n'
        "\n"
        "from shop.payments.client import PaymentClient\n"
        "\n"
        "LegacyPaymentClient = PaymentClient\n"
    ),
    "shop/checkout/__init__.py": "",
    "shop/checkout/cart.py": (
        "from shop.legacy.payments import PaymentClient\n"
        "from shop.legacy.payments import LegacyPaymentClient as Client\n"
        "\n"
        "\n"
        "def pay(amount):\n"
        "    return PaymentClient().charge(amount) + Client().charge(0)\n"
    ),
}


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write files byte for byte (no newline translation)."""
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, timeout=60)


def git_init_and_commit(root: Path, message: str = "Initial import") -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test.user@example.com")
    git(root, "config", "core.autocrlf", "false")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def make_legacy_repo(path: Path, git: bool = True) -> Path:
    """Write a small netra-layout repository with legacy imports; commit it when `git` is true."""
    path.mkdir(parents=True, exist_ok=True)
    write_files(path, TEXT_FILES)
    write_files(path, BINARY_FILES)
    if git:
        git_init_and_commit(path)
    return path


def make_shop_repo(path: Path, pyproject: bool = False) -> Path:
    """Write the payments codebase; with `pyproject`, its configuration goes in pyproject.toml."""
    path.mkdir(parents=True, exist_ok=True)
    write_files(path, SHOP_FILES)
    if pyproject:
        write_files(path, {"pyproject.toml": '[project]\nname = "shop"\nversion = "1.0"\n\n' + SHOP_CONFIG})
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (outside .git), by relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def cli_env() -> dict[str, str]:
    """The environment for a real run: no colour hints inherited from the caller's terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("TERM", "xterm-256color")
    return env


def run_cli(args: Sequence[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `python -m migrate_ws ARGS` as a real process with stdout/stderr piped."""
    return subprocess.run(
        [sys.executable, "-m", "migrate_ws", *map(str, args)],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=cli_env(),
        timeout=timeout,
    )
