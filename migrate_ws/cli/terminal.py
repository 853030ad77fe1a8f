"""Where output goes: rich on a terminal (colour, progress, spinner), plain lines on a pipe.

`--check` in a pre-commit hook or CI job prints a few lines to a pipe; importing rich for
that would be a sixth of its run time once the result cache has done its work, so rich is
only imported when a stream is a terminal or colour is asked for.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Optional, TextIO

# Variables by which rich decides that a stream is a terminal although it is not a TTY.
_TERMINAL_HINTS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


class PlainConsole:
    """The part of rich's Console the commands use, writing plain text to a pipe or file."""

    is_terminal = False
    no_color = True

    def __init__(self, stderr: bool = False) -> None:
        self.stderr = stderr

    @property
    def file(self) -> TextIO:
        # looked up on every write: test runners replace sys.stdout and sys.stderr
        return sys.stderr if self.stderr else sys.stdout

    def print(self, *objects: Any, highlight: Optional[bool] = None, **_: Any) -> None:
        self.file.write(" ".join(str(o) for o in objects) + "\n")

    def status(self, *_: Any, **__: Any) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()


def _wants_rich(stream: TextIO, color: Optional[bool]) -> bool:
    if color:
        return True
    if any(os.environ.get(name) for name in _TERMINAL_HINTS):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_consoles(color: Optional[bool]) -> tuple[Any, Any]:
    """(stdout, stderr) consoles; `color` True forces colour, False or NO_COLOR turns it off."""
    no_color = color is False or (color is None and "NO_COLOR" in os.environ)
    force = True if color else None

    def console(stderr: bool) -> Any:
        if not _wants_rich(sys.stderr if stderr else sys.stdout, color):
            return PlainConsole(stderr)
        from rich.console import Console

        return Console(stderr=stderr, no_color=no_color, force_terminal=force, highlight=False, soft_wrap=True)

    return console(False), console(True)


def say(console: Any, text: str) -> None:
    """Print one line as it is (no markup, no highlighting)."""
    if isinstance(console, PlainConsole):
        console.print(text)
        return
    from rich.text import Text

    console.print(Text(text), highlight=False)
