"""One transform per module, each an `XxxCommand` with a DESCRIPTION, run in step order.

A command reads the shared `FileContext` (bindings, uses, configuration), queues import
changes through it and adds edits and follow-ups; it never raises for a file it cannot
handle: what it cannot rewrite safely becomes a follow-up with the reason.
"""

from __future__ import annotations

from .base import Command
from .canonical import RebindCanonicalCommand
from .imports import MoveImportsCommand
from .aliases import CollapseAliasesCommand
from .factory import FactoryCallsCommand
from .strings import StringReferencesCommand

COMMANDS: tuple[type[Command], ...] = (
    RebindCanonicalCommand,
    MoveImportsCommand,
    CollapseAliasesCommand,
    FactoryCallsCommand,
    StringReferencesCommand,
)


def register(command: type[Command]) -> type[Command]:
    """Add a command to the pipeline (kept in step order)."""
    global COMMANDS
    from ..model import STEPS

    COMMANDS = tuple(sorted({*COMMANDS, command}, key=lambda c: STEPS.index(c.STEP)))
    return command


__all__ = ["COMMANDS", "Command", "register"]
