"""Fast whole-word search for a set of identifiers.

Python's `re` is slow on an alternation of many words (it tries every alternative at
every position: ~15 MB/s). Searching for a few short literal anchors with `bytes.find`
runs at memory speed, and the word pattern then only runs on a small window around each
anchor. Every word contains one of the anchors, so nothing is missed.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

ANCHOR_LENGTH = 6


def choose_anchors(words: Iterable[str], length: int = ANCHOR_LENGTH, shortest: int | None = None) -> list[str]:
    """A small set of substrings such that every word contains at least one (greedy set cover).

    Anchors are `length` characters long, or down to `shortest` where a shorter one covers
    more words: each anchor costs one scan of the text, so `older` (both `FolderCache` and
    `folder_cache`) is worth more than two 8-character anchors.
    """
    shortest = length if shortest is None else min(shortest, length)
    remaining = set(words)
    anchors: list[str] = []
    while remaining:
        counts: dict[str, int] = {}
        for word in remaining:
            pieces = set()
            for size in range(min(shortest, len(word)), min(length, len(word)) + 1):
                pieces.update(word[i:i + size] for i in range(len(word) - size + 1))
            for piece in pieces:
                counts[piece] = counts.get(piece, 0) + 1
        best = max(counts, key=lambda piece: (counts[piece], len(piece), piece))
        anchors.append(best)
        remaining = {word for word in remaining if best not in word}
    return sorted(anchors)


def word_pattern(words: Iterable[str]) -> str:
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    return r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, ordered)) + r")(?![A-Za-z0-9_])"


class WordFinder:
    """Finds whole-word occurrences of `words` in a str, anchored on short literals."""

    def __init__(self, words: Iterable[str]) -> None:
        words = sorted({w for w in words if w})
        self.words = words
        self.window = max((len(w) for w in words), default=0)
        self.anchors = choose_anchors(words)
        self.pattern = re.compile(word_pattern(words) if words else r"(?!x)x")

    def _windows(self, data: str) -> Iterator[tuple[int, int]]:
        window = self.window
        for anchor in self.anchors:
            position = data.find(anchor)
            while position != -1:
                yield max(0, position - window), position + len(anchor) + window
                position = data.find(anchor, position + 1)

    def _whole(self, data: str, match: re.Match) -> bool:
        # the window's end looks like the end of the text to the pattern: check the real next character
        end = match.end()
        return end >= len(data) or not data[end:end + 1].isalnum() and data[end:end + 1] != "_"

    def starts(self, data: str) -> set[int]:
        """Offsets of every whole-word occurrence."""
        found: set[int] = set()
        for start, end in self._windows(data):
            for match in self.pattern.finditer(data, start, end):
                if self._whole(data, match):
                    found.add(match.start())
        return found


class AnchoredNeedles:
    """Byte strings found through a few short anchors, each searched once with bytes.find."""

    def __init__(self, needles: set[bytes]) -> None:
        needles = {n for n in needles if n}
        # longer anchors are found faster (bytes.find skips further), but every anchor is a scan
        self.anchors = [a.encode() for a in choose_anchors({n.decode() for n in needles}, length=8, shortest=5)]
        self.needles_by_anchor: dict[bytes, list[tuple[bytes, int]]] = {a: [] for a in self.anchors}
        for needle in sorted(needles):
            anchor = next(a for a in self.anchors if a in needle)
            self.needles_by_anchor[anchor].append((needle, needle.index(anchor)))

    def occurrences(self, data: bytes) -> dict[bytes, list[int]]:
        """Start offsets of every needle in `data` (empty when none occurs)."""
        found: dict[bytes, list[int]] = {}
        for anchor in self.anchors:
            position = data.find(anchor)
            if position == -1:
                continue
            needles = self.needles_by_anchor[anchor]
            while position != -1:
                for needle, offset in needles:
                    start = position - offset
                    if start >= 0 and data.startswith(needle, start):
                        found.setdefault(needle, []).append(start)
                position = data.find(anchor, position + 1)
        return found

    def any_in(self, data: bytes) -> bool:
        """Whether any needle occurs in `data`."""
        for anchor in self.anchors:
            position = data.find(anchor)
            needles = self.needles_by_anchor[anchor]
            while position != -1:
                for needle, offset in needles:
                    start = position - offset
                    if start >= 0 and data.startswith(needle, start):
                        return True
                position = data.find(anchor, position + 1)
        return False
