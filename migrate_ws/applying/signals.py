"""Signals while applying: SIGTERM interrupts like Ctrl-C (so the run restores what it wrote),
and neither interrupts the restore itself."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""



def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While applying, SIGTERM interrupts like Ctrl-C, so the repository is restored."""
    if not _in_main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """SIGINT and SIGTERM are noted, not raised, while the repository is being restored."""
    received: list[int] = []
    if not _in_main_thread():
        yield received
        return

    def note(signum, frame):
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def ignore_further_signals() -> None:
    if _in_main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def uninterruptible(action: Callable[[], list[str]]) -> list[str]:
    """Run `action` (idempotent) to completion even when signals arrive; retry if one got through."""
    while True:
        try:
            with signals_deferred():
                return action()
        except KeyboardInterrupt:
            continue
