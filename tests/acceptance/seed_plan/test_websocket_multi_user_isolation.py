"""C) Integration tests: multi-user isolation (Issue #1182).

Enterprise security: one user's data, operations, memory and compliance-regulated content
must never reach another user. Real server, real clients, real threads; no mocks.
"""

from __future__ import annotations

import asyncio
import enum
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from ._app import app_root, golden_path_round, history_of, load_app, run, user_context

APP_ROOT = app_root()

# One user per customer tier, each with data only they may see.
TIER_USERS = (
    ("healthcare-user", "healthcare", "lab results for patient MRN-2231"),
    ("financial-user", "financial", "Q3 earnings draft before SEC filing"),
    ("government-user", "government", "contract bid for agency RFP-77"),
    ("enterprise-user", "enterprise", "acquisition target shortlist"),
    ("free-tier-user", "free", "weekend hiking plan"),
)


def test_websocket_manager_user_data_isolation():
    results = run(golden_path_round(list(TIER_USERS)))
    secrets = {user_id: text for user_id, _, text in TIER_USERS}
    problems = []
    for user_id, (events, outcome) in results.items():
        payloads = json.dumps(events)
        for owner, secret in secrets.items():
            if owner != user_id and secret in payloads:
                problems.append(f"{user_id} received data of {owner} ({secret!r})")
        if outcome != "completed":
            problems.append(f"{user_id} did not get its own answer ({outcome})")
    assert not problems, "User data leaks between manager instances: " + "; ".join(problems)


def test_websocket_manager_concurrent_operation_isolation():
    app = load_app()
    contexts = [user_context(f"concurrent-{tier}", tier=tier) for _, tier, _ in TIER_USERS]

    async def scenario():
        runners = await asyncio.gather(*(app.runner.AgentRunner.for_user(c) for c in contexts))
        await asyncio.gather(*(
            runner.run(c.for_request(f"req-{c.user_id}"), f"confidential figures of {c.user_id}")
            for runner, c in zip(runners, contexts)
        ))
        return runners

    runners = run(scenario())
    problems = []
    for runner, context in zip(runners, contexts):
        history = history_of(runner.websocket_manager)
        foreign = sorted({e["data"].get("user_id") for e in history} - {context.user_id})
        if foreign:
            problems.append(f"operations of {foreign} are in {context.user_id}'s manager")
        own = [e["type"] for e in history if e["data"].get("user_id") == context.user_id]
        if own != ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]:
            problems.append(f"{context.user_id}'s manager recorded {own}")
    assert not problems, "Concurrent operations share state: " + "; ".join(problems)


def _immutable(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, bytes, enum.Enum))


def test_websocket_manager_memory_boundary_enforcement():
    app = load_app()
    first, second = user_context("boundary-a", tier="government"), user_context("boundary-b", tier="free")
    obtain = {
        "routes.websocket_route.notification_manager": app.route.notification_manager,
        "services.agent_bridge.AgentWebSocketBridge": lambda c: app.bridge.AgentWebSocketBridge(c).websocket_manager,
        "services.agent_bridge.worker_thread_manager": app.bridge.worker_thread_manager,
        "agents.agent_runner.AgentRunner.for_user": lambda c: run(app.runner.AgentRunner.for_user(c)).websocket_manager,
    }
    problems = []
    for path, factory in obtain.items():
        a, b = factory(first), factory(second)
        if a is b:
            problems.append(f"{path}: one manager instance for both users")
            continue
        if vars(a) is vars(b):
            problems.append(f"{path}: one __dict__ for both users")
            continue
        shared = sorted(name for name in set(vars(a)) & set(vars(b))
                        if vars(a)[name] is vars(b)[name] and not _immutable(vars(a)[name]))
        if shared:
            problems.append(f"{path}: attributes {shared} are one object for both users")
    assert not problems, "Shared memory allows cross-user access: " + "; ".join(problems)


def test_websocket_manager_thread_local_isolation():
    app = load_app()
    contexts = [user_context(f"thread-local-{i}", tier="enterprise") for i in range(8)]
    all_written = threading.Barrier(len(contexts))

    def worker(context):
        manager = app.route.notification_manager(context)
        manager.queue_message({"user_id": context.user_id, "body": f"statement for {context.user_id}"})
        all_written.wait(timeout=5)  # every thread has written before any reads
        # Later code in the same thread looks its manager up again.
        again = app.route.notification_manager(context)
        return context, manager.pending_messages() + again.pending_messages()

    with ThreadPoolExecutor(max_workers=len(contexts)) as pool:
        results = list(pool.map(worker, contexts, timeout=15))
    problems = []
    for context, pending in results:
        foreign = sorted({m.get("user_id") for m in pending} - {context.user_id})
        if foreign:
            problems.append(f"thread of {context.user_id} sees messages of {len(foreign)} other users")
    assert not problems, "Thread-local data leaks between users: " + "; ".join(problems)


def test_websocket_manager_compliance_boundary_validation():
    users = [(f"compliance-{tier}", tier, f"{tier} regulated record") for _, tier, _ in TIER_USERS]
    levels = {"healthcare": "HIPAA", "financial": "SOC2", "government": "SEC", "enterprise": "SOC2", "free": "NONE"}
    results = run(golden_path_round(users))
    problems = []
    for user_id, tier, _ in users:
        events, outcome = results[user_id]
        for event in events:
            data = event.get("data") or {}
            if data.get("user_id") != user_id:
                problems.append(f"{user_id} ({levels[tier]}) received {data.get('data_classification')} data "
                                f"of {data.get('user_id')}")
            elif data.get("data_classification") != levels[tier]:
                problems.append(f"{user_id} ({levels[tier]}) got its own data classified "
                                f"{data.get('data_classification')}")
        if outcome != "completed":
            problems.append(f"{user_id} did not get its own answer ({outcome})")
    assert not problems, "Compliance data leaks between different levels: " + "; ".join(problems[:12])
