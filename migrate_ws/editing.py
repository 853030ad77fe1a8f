"""A file's state after any step, from its edits (the edits' own rules are `edits.py`'s)."""

from __future__ import annotations

from typing import Iterable, Sequence

# effective, splice, steps_touching and sites_by_step are the edits' own rules; named here too
# because the apply side reads every state of a file from this module
from .edits import Edit, OverlappingEdits, effective, sites_by_step, splice, steps_touching  # noqa: F401
from .model import FileResult
from .source import SourceText, UndecodableSource


def state_after(text: str, edits: Iterable[Edit], order: Sequence[str], upto: str | None = None) -> str:
    return splice(text, effective(edits, order, upto))


def step_contents(result: FileResult, order: tuple[str, ...]) -> list[tuple[str, bytes | None]]:
    """The file's content after each step that changes it (None: the step deletes it)."""
    touching = steps_touching(result.edits, order)
    if result.deleted:
        return [(step, None) for step in touching[-1:]]
    if len(touching) == 1:
        return [(touching[0], result.rewritten)]
    try:
        source = SourceText.decode(result.original)
    except UndecodableSource:
        return [(touching[-1], result.rewritten)]
    contents = [(step, source.encode(state_after(source.text, result.edits, order, step))) for step in touching[:-1]]
    return contents + [(touching[-1], result.rewritten)]
