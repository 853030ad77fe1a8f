"""D) End-to-end tests: the golden-path events (Issue #1182).

Real server on 127.0.0.1, real WebSocket clients. Every user message must produce
agent_started -> agent_thinking -> tool_executing -> tool_completed -> agent_completed,
delivered to that user only, and a dropped connection must not affect anyone else.
"""

from __future__ import annotations

import asyncio

from ._app import (
    GOLDEN_PATH,
    app_root,
    close_all,
    connect_user,
    event_summary,
    golden_path_round,
    run,
    running_server,
    send_and_collect,
)

APP_ROOT = app_root()


def _sequence(events: list[dict]) -> list[tuple[str, str | None]]:
    return [(e.get("type"), (e.get("data") or {}).get("request_id")) for e in events]


def test_golden_path_event_sequence_integrity():
    users = [(f"sequence-user-{i}", "enterprise", f"summarise report {i}") for i in range(3)]
    results = run(golden_path_round(users))
    problems = []
    for user_id, _, _ in users:
        events, outcome = results[user_id]
        expected = [(event_type, f"req-{user_id}") for event_type in GOLDEN_PATH]
        if _sequence(events) != expected:
            problems.append(f"{user_id} ({outcome}) received {event_summary(events)}")
    assert not problems, (
        "Race conditions caused missing or out-of-order events; expected exactly "
        f"{' -> '.join(GOLDEN_PATH)} per user: " + "; ".join(problems)
    )


def test_concurrent_user_event_isolation():
    users = [(f"concurrent-user-{i}", "enterprise", f"private question {i}") for i in range(3)]
    results = run(golden_path_round(users))
    problems = []
    for user_id, _, _ in users:
        events, outcome = results[user_id]
        foreign = [e for e in events if (e.get("data") or {}).get("user_id") != user_id]
        if foreign:
            problems.append(f"{user_id} received {len(foreign)} events of other users: {event_summary(foreign)[:5]}")
        if outcome != "completed":
            problems.append(f"{user_id} did not receive its own agent_completed ({outcome})")
    assert not problems, "Events leak between users due to shared manager state: " + "; ".join(problems)


def test_websocket_manager_recovery_after_failure():
    async def scenario():
        outcomes = []
        async with running_server() as port:
            dropped = await connect_user(port, "recovery-dropped")
            survivor = await connect_user(port, "recovery-survivor")
            clients = [dropped, survivor]
            try:
                dropped.transport.abort()  # the network drops one user's connection
                await asyncio.sleep(0.3)
                for attempt in range(2):
                    request = f"req-survivor-{attempt}"
                    events, outcome = await send_and_collect(survivor, request, "are you still there?")
                    outcomes.append(("recovery-survivor", request, events, outcome))
                newcomer = await connect_user(port, "recovery-newcomer")
                clients.append(newcomer)
                events, outcome = await send_and_collect(newcomer, "req-newcomer", "hello")
                outcomes.append(("recovery-newcomer", "req-newcomer", events, outcome))
            finally:
                await close_all(clients)
        return outcomes

    problems = []
    for user_id, request, events, outcome in run(scenario()):
        if _sequence(events) != [(event_type, request) for event_type in GOLDEN_PATH]:
            problems.append(f"{user_id} {request}: {outcome}, received {event_summary(events)}")
    assert not problems, (
        "Failures cascade and prevent recovery: after one user's connection dropped, "
        + "; ".join(problems)
    )
