"""B) Integration tests: factory pattern consistency (Issue #1182).

Every way the application obtains a WebSocket manager (the route, the agent runner, the
agent bridge, the server) must produce the same manager type, one new manager per user,
safely from many threads, with no memory shared between users.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from ._app import app_root, bound_user, describe, history_of, load_app, run, user_context

APP_ROOT = app_root()


def test_websocket_manager_factory_consistency():
    app = load_app()
    context = user_context("factory-consistency", tier="enterprise")

    async def obtain_async():
        return {
            "routes.websocket_route.open_session": await app.route.open_session(context),
            "agents.agent_runner.AgentRunner.for_user": (await app.runner.AgentRunner.for_user(context)).websocket_manager,
        }

    managers = run(obtain_async())
    managers["routes.websocket_route.notification_manager"] = app.route.notification_manager(context)
    managers["services.agent_bridge.AgentWebSocketBridge"] = app.bridge.AgentWebSocketBridge(context).websocket_manager
    managers["services.agent_bridge.worker_thread_manager"] = app.bridge.worker_thread_manager(context)
    managers["server.check_manager_wiring"] = app.server.check_manager_wiring()

    canonical = app.canonical.WebSocketManager
    types = {path: type(manager) for path, manager in managers.items()}
    consistent = len(set(types.values())) == 1 and all(t is canonical for t in types.values())
    assert consistent, (
        f"Different factory methods create different manager types "
        f"({len(set(types.values()))} types; canonical WebSocketManager is {describe(canonical)}): "
        + "; ".join(f"{path} -> {describe(t)}" for path, t in types.items())
    )


def test_websocket_manager_user_isolation_enforcement():
    app = load_app()
    contexts = [user_context(f"isolation-user-{i}", tier="enterprise") for i in range(5)]

    async def scenario():
        managers = await asyncio.gather(*(app.route.open_session(c) for c in contexts))
        await asyncio.gather(*(
            manager.emit_event("agent_started", {"user_id": c.user_id, "input": f"private note of {c.user_id}"})
            for manager, c in zip(managers, contexts)
        ))
        return managers

    managers = run(scenario())
    problems = []
    distinct = len({id(m) for m in managers})
    if distinct != len(contexts):
        problems.append(f"{len(contexts)} users share {distinct} manager instance(s)")
    for manager, context in zip(managers, contexts):
        if bound_user(manager) != context.user_id:
            problems.append(f"manager of {context.user_id} is bound to {bound_user(manager)!r}")
        foreign = sorted({e["data"].get("user_id") for e in history_of(manager)} - {context.user_id})
        if foreign:
            problems.append(f"manager of {context.user_id} holds events of {foreign}")
    assert not problems, "Shared state between users (singleton contamination): " + "; ".join(problems)


def test_websocket_manager_factory_thread_safety():
    app = load_app()
    workers, waves = 16, 2
    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for wave in range(waves):
            contexts = [user_context(f"thread-user-{wave}-{i}") for i in range(workers)]
            start = threading.Barrier(workers)

            def obtain(context, start=start):
                start.wait(timeout=5)  # all threads call the factory at the same moment
                return context, app.bridge.worker_thread_manager(context)

            results.extend(pool.map(obtain, contexts, timeout=15))
    problems = []
    distinct = len({id(manager) for _, manager in results})
    if distinct != len(results):
        problems.append(f"{len(results)} concurrent calls returned {distinct} distinct manager(s)")
    wrong = [(c.user_id, bound_user(m)) for c, m in results if bound_user(m) != c.user_id]
    if wrong:
        problems.append(f"{len(wrong)} threads got a manager bound to another user, e.g. "
                        + ", ".join(f"{u} got {b!r}" for u, b in wrong[:3]))
    assert not problems, "Race conditions in factory creation: " + "; ".join(problems)


def test_websocket_manager_factory_memory_isolation():
    app = load_app()
    patient = user_context("memory-patient", tier="healthcare")
    other = user_context("memory-other", tier="free")
    bridge_patient = app.bridge.AgentWebSocketBridge(patient)
    bridge_other = app.bridge.AgentWebSocketBridge(other)
    secret = "patient MRN-4471 diagnosis"
    run(bridge_patient.notify("agent_thinking", {"thought": secret}))

    mine, theirs = bridge_patient.websocket_manager, bridge_other.websocket_manager
    problems = []
    if mine is theirs:
        problems.append("both users were given the same manager")
    leaked = [e for e in history_of(theirs) if secret in json.dumps(e)]
    if leaked:
        problems.append(f"{other.user_id}'s manager holds {patient.user_id}'s data: {leaked[0]['data']}")
    for attribute in ("message_history", "_connections", "_pending"):
        if getattr(mine, attribute, None) is not None and getattr(mine, attribute) is getattr(theirs, attribute, None):
            problems.append(f"'{attribute}' is one object for both users")
    assert not problems, "Memory shared between user contexts: " + "; ".join(problems)
