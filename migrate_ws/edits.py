"""Edits on a file's original text, and the file's state after any step.

Every edit belongs to one step. A span can have several edits, one per step that shaped it
(an import statement moved by one step and renamed by the next); the state after step k is
the original text with the effective edits of the steps up to k: of the versions of one
statement (edits of one `group`) the latest step's counts; where other edits overlap, the one
whose span contains the other wins (a removed statement takes what was inside it with it),
and for the same span the later step wins. So `--dry-run` shows the state after the
last step, and `--apply` commits the state after each step, from the same edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] of the original with `text`, as part of `step`."""

    start: int
    end: int
    text: str
    step: str
    line: int
    description: str
    # edits with the same group (>= 0) are versions of one statement, one per step that shaped
    # it: the latest step's version is the statement, whatever the spans
    group: int = -1


class OverlappingEdits(ValueError):
    """Two edits overlap without one containing the other: the plan is inconsistent."""


def effective(edits: Iterable[Edit], order: Sequence[str], upto: str | None = None) -> list[Edit]:
    """The edits that make up the state after step `upto` (after every step when None), in text order."""
    rank = {step: position for position, step in enumerate(order)}
    limit = rank[upto] if upto is not None else len(order)
    chosen = [e for e in edits if rank.get(e.step, len(order)) <= limit]
    latest: dict[int, Edit] = {}
    for edit in chosen:
        if edit.group >= 0:
            current = latest.get(edit.group)
            if current is None or rank.get(edit.step, len(order)) > rank.get(current.step, len(order)):
                latest[edit.group] = edit
    if latest:
        chosen = [e for e in chosen if e.group < 0 or latest[e.group] is e]
    # outer spans first; for the same span, the later step first
    chosen.sort(key=lambda e: (e.start, -(e.end - e.start), -rank.get(e.step, len(order))))
    kept: list[Edit] = []
    for edit in chosen:
        if kept and edit.start < kept[-1].end:
            outer = kept[-1]
            if outer.start <= edit.start and edit.end <= outer.end and outer.end > outer.start:
                continue  # inside a span a step replaced as a whole
            raise OverlappingEdits(f"overlapping edits at line {edit.line} ({outer.description} / {edit.description})")
        if kept and edit.start == edit.end == kept[-1].start == kept[-1].end and edit.text == kept[-1].text:
            continue
        kept.append(edit)
    return kept


def splice(text: str, edits: Sequence[Edit]) -> str:
    """`text` with non-overlapping `edits` (in text order) applied."""
    pieces: list[str] = []
    position = 0
    for edit in edits:
        pieces.append(text[position:edit.start])
        pieces.append(edit.text)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def steps_touching(edits: Iterable[Edit], order: Sequence[str]) -> list[str]:
    """The steps that have edits in this file, in step order."""
    present = {e.step for e in edits}
    return [step for step in order if step in present]


def sites_by_step(edits: Sequence[Edit], order: Sequence[str]) -> dict[str, int]:
    """How many sites each step rewrote: its edits that are part of the state after that step.

    An edit a later step supersedes still counts for its own step (the step did rewrite it);
    the same way everywhere: the dry-run summary, `--json`, commit messages, the PR description.
    """
    counts: dict[str, int] = {}
    for step in steps_touching(edits, order):
        counts[step] = sum(1 for e in effective(edits, order, step) if e.step == step)
    return counts
