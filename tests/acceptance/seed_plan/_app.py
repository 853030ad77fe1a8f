"""Access to the application under test for the user's seed tests.

The application is found through MIGRATE_WS_APP_ROOT (a directory holding the
`netra_backend` package). When it is not set, every seed-plan module is skipped at
collection, so a plain `pytest tests/` does not count these tests as passing.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import types
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

APP_ROOT_ENV = "MIGRATE_WS_APP_ROOT"
CORE = "netra_backend.app.websocket_core"
GOLDEN_PATH = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")

# Every network wait is bounded by these.
CONNECT_TIMEOUT = 3.0
EVENT_TIMEOUT = 3.0


def app_root() -> Path:
    """The application root, put first on sys.path; skips the calling module when unset."""
    root = os.environ.get(APP_ROOT_ENV)
    if not root:
        pytest.skip(f"{APP_ROOT_ENV} is not set: no application to run the seed plan against",
                    allow_module_level=True)
    path = Path(root).resolve()
    if not (path / "netra_backend").is_dir():
        raise RuntimeError(f"{APP_ROOT_ENV}={root} does not contain a netra_backend package")
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    return path


def load_app() -> types.SimpleNamespace:
    """The application modules the tests exercise, imported on first use."""
    return types.SimpleNamespace(
        context=importlib.import_module("netra_backend.app.services.user_execution_context"),
        route=importlib.import_module("netra_backend.app.routes.websocket_route"),
        bridge=importlib.import_module("netra_backend.app.services.agent_bridge"),
        runner=importlib.import_module("netra_backend.app.agents.agent_runner"),
        server=importlib.import_module("netra_backend.app.server"),
        canonical=importlib.import_module(f"{CORE}.websocket_manager"),
    )


def user_context(user_id: str, tier: str = "free") -> Any:
    module = importlib.import_module("netra_backend.app.services.user_execution_context")
    return module.UserExecutionContext.for_user(user_id, tier=tier)


def describe(obj: Any) -> str:
    target = obj if isinstance(obj, type) else type(obj)
    return f"{target.__module__}.{target.__qualname__}"


def bound_user(manager: Any) -> Any:
    return getattr(getattr(manager, "user_context", None), "user_id", None)


def history_of(manager: Any) -> list[dict]:
    return list(getattr(manager, "message_history", []))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- the real server and real clients -------------------------------------------------


@asynccontextmanager
async def running_server():
    """Starts the application's server on 127.0.0.1 (any free port); yields the port."""
    server_module = importlib.import_module("netra_backend.app.server")
    server, port = await server_module.serve("127.0.0.1", 0)
    try:
        yield port
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5.0)


async def connect_user(port: int, user_id: str, tier: str = "free") -> Any:
    """A real WebSocket client, authenticated as `user_id`."""
    from websockets.asyncio.client import connect

    websocket = await connect(f"ws://127.0.0.1:{port}", open_timeout=CONNECT_TIMEOUT,
                              close_timeout=1, ping_interval=None)
    await websocket.send(json.dumps({"type": "auth", "user_id": user_id, "tier": tier}))
    reply = json.loads(await asyncio.wait_for(websocket.recv(), CONNECT_TIMEOUT))
    if reply.get("type") != "auth_ok":
        raise RuntimeError(f"authentication of {user_id} failed: {reply}")
    return websocket


async def send_and_collect(websocket: Any, request_id: str, text: str,
                           timeout: float = EVENT_TIMEOUT) -> tuple[list[dict], str]:
    """Send one user message and collect the events received until this request's
    agent_completed arrives. Returns the events and how collection ended:
    "completed", "timeout" or "closed (...)"."""
    from websockets.exceptions import ConnectionClosed

    events: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        await websocket.send(json.dumps({"type": "user_message", "text": text, "request_id": request_id}))
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return events, "timeout"
            try:
                frame = json.loads(await asyncio.wait_for(websocket.recv(), remaining))
            except asyncio.TimeoutError:
                return events, "timeout"
            if frame.get("type") in ("auth_ok", "pong"):
                continue
            events.append(frame)
            data = frame.get("data") or {}
            if frame.get("type") == "agent_completed" and data.get("request_id") == request_id:
                return events, "completed"
    except ConnectionClosed as exc:
        return events, f"closed ({exc})"


async def close_all(clients: list[Any]) -> None:
    for websocket in clients:
        try:
            await asyncio.wait_for(websocket.close(), 2.0)
        except Exception:  # already closed by the server or the network
            pass


async def golden_path_round(users: list[tuple[str, str, str]]) -> dict[str, tuple[list[dict], str]]:
    """Connects every (user_id, tier, text) user one after the other, then all send their
    message at once; returns, per user, the events received and how collection ended."""
    async with running_server() as port:
        clients = []
        try:
            for user_id, tier, _ in users:
                clients.append(await connect_user(port, user_id, tier))
            results = await asyncio.gather(*(
                send_and_collect(client, f"req-{user_id}", text)
                for client, (user_id, _, text) in zip(clients, users)
            ))
        finally:
            await close_all(clients)
    return {user_id: result for (user_id, _, _), result in zip(users, results)}


def event_summary(events: list[dict]) -> list[str]:
    return [f"{e.get('type')}@{(e.get('data') or {}).get('user_id')}" for e in events]
