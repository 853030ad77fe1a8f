"""Splitting one change into independently reviewable pieces (`--apply --split-by`).

A *foundation* holds what everything else depends on: every file a foundation step touches
(the canonical module's rebinding, the legacy modules' shims) and every file another
slice's rewrite follows (a module whose renamed name other files import or patch). Every
other file goes to one slice: by its owners in CODEOWNERS, or by its directory. Each slice
is based on the foundation, so it holds its own files' whole change; no file is in two
pieces. `--max-files` cuts a larger slice into numbered parts.

Pure values in, values out: the CLI turns the pieces into branches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .model import Plan
from .quoting import display_path

CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's order
UNOWNED = "unowned"


class SplitError(ValueError):
    """A `--split-by` value that cannot be used: one line."""


@dataclass(frozen=True)
class SplitBy:
    kind: str  # owners | directory
    depth: int = 1

    @classmethod
    def parse(cls, value: str) -> "SplitBy":
        kind, _, depth = value.partition(":")
        if kind == "owners" and not depth:
            return cls("owners")
        if kind == "directory":
            if not depth:
                return cls("directory", 1)
            if depth.isdigit() and int(depth) >= 1:
                return cls("directory", int(depth))
        raise SplitError(f"--split-by {value!r}: expected owners, directory or directory:DEPTH (DEPTH >= 1)")


@dataclass
class Piece:
    name: str  # used in the branch name
    owners: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    foundation: bool = False


@dataclass
class Split:
    foundation: Piece
    slices: list[Piece]
    moved: dict[str, str] = field(default_factory=dict)  # path -> why it went to the foundation

    @property
    def pieces(self) -> list[Piece]:
        return ([self.foundation] if self.foundation.files else []) + self.slices


class Owners:
    """Who owns a path, from the repository's CODEOWNERS file (the `codeowners` package reads it)."""

    def __init__(self, top: Path) -> None:
        self.source: str | None = None
        self._owners = None
        for location in CODEOWNERS_LOCATIONS:
            path = top / location
            if path.is_file():
                from codeowners import CodeOwners

                self.source = location
                self._owners = CodeOwners(path.read_text(encoding="utf-8", errors="replace"))
                break

    def of(self, path: str) -> list[str]:
        if self._owners is None:
            return []
        return [owner for _, owner in self._owners.of(path)]


def branch_part(text: str) -> str:
    """A piece's name as it can appear in a git branch name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return re.sub(r"\.\.+|-{2,}", "-", cleaned).lower() or "root"


def split(plan: Plan, files: list[str], by: SplitBy, foundation_steps: set[str],
          owners_of: Callable[[str], list[str]], prefix: str = "", max_files: int | None = None) -> Split:
    """The pieces of the change to `files` (paths relative to the root; `prefix` makes them
    relative to the repository top for CODEOWNERS)."""
    results = {r.path: r for r in plan.changed_files if r.path in set(files)}
    foundation = Piece("foundation", foundation=True)
    moved: dict[str, str] = {}
    for path in sorted(results):
        steps = {edit.step for edit in results[path].edits}
        touched = sorted(steps & foundation_steps)
        if touched or results[path].deleted:
            moved[path] = f"changed by the {', '.join(touched) or 'legacy-modules'} step"
    keys: dict[str, tuple[str, tuple[str, ...]]] = {}
    for path in sorted(results):
        if by.kind == "owners":
            owners = tuple(owners_of(prefix + path))
            keys[path] = (" ".join(owners) if owners else UNOWNED, owners)
        else:
            directory = (prefix + path).split("/")[:-1][: by.depth]
            keys[path] = ("/".join(directory) or "(root)", ())
    dependencies = {path: {d for d in plan.dependencies.get(path, set()) if d in results and d != path}
                    for path in results}
    while True:
        pieces = _pieces(keys, moved, max_files)
        where = {path: index for index, piece in enumerate(pieces) for path in piece.files}
        moved_now = False
        # what a file's rewrite follows must be there before it: in the foundation, unless it is in
        # the same piece (and everything a foundation file follows is in the foundation too)
        for path in sorted(dependencies):
            for dependency in sorted(dependencies[path]):
                if dependency in moved:
                    continue
                if path in moved or where.get(dependency) != where.get(path):
                    moved[dependency] = f"{display_path(path)} follows its rewrite"
                    moved_now = True
        if not moved_now:
            break
    foundation.files = sorted(moved)
    return Split(foundation, pieces, moved)


def _pieces(keys: dict[str, tuple[str, tuple[str, ...]]], moved: dict[str, str], max_files: int | None) -> list[Piece]:
    groups: dict[str, Piece] = {}
    for path, (key, owners) in sorted(keys.items()):
        if path in moved:
            continue
        piece = groups.setdefault(key, Piece(branch_part(key.replace("@", "")), list(owners)))
        piece.files.append(path)
    slices: list[Piece] = []
    names: set[str] = {"foundation"}
    for key in sorted(groups):
        piece = groups[key]
        parts = [piece.files] if not max_files else [piece.files[i:i + max_files]
                                                     for i in range(0, len(piece.files), max_files)]
        for number, part in enumerate(parts, 1):
            name = piece.name if len(parts) == 1 else f"{piece.name}-{number}"
            while name in names:
                name += "-x"
            names.add(name)
            slices.append(Piece(name, piece.owners, part))
    return slices
