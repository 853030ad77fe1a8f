"""The interface the appliers report through (the command line implements it on the terminal)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager

if TYPE_CHECKING:
    from ..findings import Finding
    from ..model import Plan


class UI:
    """What an applier reports through: lines of the report, notes and errors, the JSON document,
    progress, the output of `--test-cmd`, and the user's review (`--interactive`). The appliers
    never print; the terminal implementation is the command line's (`cli/apply_command.py`)."""

    as_json = False

    def line(self, text: str = "") -> None:
        """A line of the human-readable report."""
        raise NotImplementedError

    def note(self, text: str) -> None:
        raise NotImplementedError

    def error(self, text: str) -> None:
        raise NotImplementedError

    def json(self, document: dict) -> None:
        raise NotImplementedError

    def working(self, message: str) -> ContextManager[None]:
        """Shown while a long step (planning) runs."""
        return nullcontext()

    def shows_test_output(self) -> bool:
        """Whether the output of `--test-cmd` is shown as it runs (its end is kept either way)."""
        return False

    def test_output(self, line: str) -> None:
        pass

    def review(self, plan: Plan, root: Path, files: list[str], changed: set[str]) -> list[Finding]:
        """`--interactive`: the files the user rejects, as findings (MW705)."""
        raise NotImplementedError
