"""Which files a run reads: the file selection of black and ruff.

- `include` and `exclude` (configuration) are gitignore-style patterns, relative to the root;
- `.gitignore` files are respected (each relative to its own directory, deeper files
  override shallower ones, `!` negations work), and so is `.git/info/exclude`, unless the
  configuration says `respect-gitignore = false`;
- `.git` is never entered; symlinks are reported, never followed;
- explicit paths limit the run to those files and directories; `exclude` still applies to
  a file named explicitly (ruff's `--force-exclude`), `.gitignore` and `include` do not.

The patterns themselves, as git reads them, are `patterns.py`'s. tests/test_discovery.py
compares the result with git's own on random trees and ignore files.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from .cache import FileStat
from .findings import SYMLINK, Finding
from .patterns import Patterns

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config

__all__ = ["Discovery", "DiscoveryError", "Patterns", "discover", "discover_with_stats", "FileStat"]


class DiscoveryError(ValueError):
    """A path given to `discover` is outside the root or does not exist (the message is one line)."""


@dataclass
class Discovery:
    """The files selected (root-relative POSIX paths, sorted), their stats when asked for, and notes
    about symlinks."""

    files: list[str]  # sorted relative POSIX paths
    stats: dict[str, FileStat] = field(default_factory=dict)  # path -> (st_mtime_ns, st_size), when asked for
    notes: list[Finding] = field(default_factory=list)  # symlinks not followed, sorted by path


# ----- .gitignore files -----------------------------------------------------------------------

# One .gitignore (or .git/info/exclude) in force: its patterns, and how a path relative to the
# root becomes a path relative to the file's directory (drop `strip` characters, prepend `add`).
_Ignore = tuple[Patterns, int, str]


def _read_ignore_file(path: str) -> Patterns | None:
    try:
        if os.path.islink(path):
            return None  # git does not follow a symlinked .gitignore either
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    text = data.decode("utf-8", "surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    patterns = Patterns((line.rstrip("\r") for line in text.split("\n")), strict=False)
    return patterns if patterns else None


def _git_common_dir(top: str) -> str | None:
    """The directory holding `info/exclude` for the work tree at `top` (a worktree's `.git` is a file)."""
    dot_git = os.path.join(top, ".git")
    if os.path.isdir(dot_git):
        git_dir = dot_git
    else:
        try:
            with open(dot_git, encoding="utf-8", errors="surrogateescape") as handle:
                first = handle.readline().strip()
        except OSError:
            return None
        if not first.startswith("gitdir:"):
            return None
        git_dir = os.path.join(top, first[len("gitdir:"):].strip())
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8", errors="surrogateescape") as handle:
            return os.path.normpath(os.path.join(git_dir, handle.read().strip()))
    except OSError:
        return git_dir


def _ignored(stack: tuple[_Ignore, ...], path: str, name: str, directory: bool) -> bool:
    """Whether the .gitignore files in force ignore `path` (the deepest file that matches decides)."""
    for patterns, strip, add in stack:
        local = add + path[strip:] if strip or add else path
        result = patterns.directory(local, name) if directory else patterns.file(local, name)
        if result is not None:
            return result
    return False


# ----- the walk -------------------------------------------------------------------------------

class _Walk:
    def __init__(self, root: str, config: "Config", stats: bool) -> None:
        self.root = root
        self.config = config
        self._include: Patterns | None = None  # compiled when first asked: a named file never asks
        self.exclude = Patterns(config.exclude)
        self.respect_gitignore = config.respect_gitignore
        self.want_stats = stats
        self.found: set[str] = set()
        self.stats: dict[str, FileStat] = {}
        self.notes: dict[str, Finding] = {}

    @property
    def include(self) -> Patterns:
        if self._include is None:
            self._include = Patterns(self.config.include)
        return self._include

    # the .gitignore files in force at the root: .git/info/exclude and those of the
    # directories between the top of the work tree and the root
    def base_stack(self) -> tuple[_Ignore, ...]:
        if not self.respect_gitignore:
            return ()
        top = self.root
        while not os.path.lexists(os.path.join(top, ".git")):
            parent = os.path.dirname(top)
            if parent == top:
                return ()  # not in a git work tree: only the .gitignore files under the root apply
            top = parent
        below = os.path.relpath(self.root, top)
        parts = [] if below == "." else below.split(os.sep)
        stack: list[_Ignore] = []
        common = _git_common_dir(top)
        if common is not None:
            patterns = _read_ignore_file(os.path.join(common, "info", "exclude"))
            if patterns is not None:
                stack.append((patterns, 0, "".join(part + "/" for part in parts)))
        for depth in range(len(parts)):
            patterns = _read_ignore_file(os.path.join(top, *parts[:depth], ".gitignore"))
            if patterns is not None:
                stack.append((patterns, 0, "".join(part + "/" for part in parts[depth:])))
        stack.reverse()  # deepest first
        return tuple(stack)

    def enter(self, directory: str, prefix: str, stack: tuple[_Ignore, ...], has_ignore_file: bool,
              nested_repository: bool) -> tuple[_Ignore, ...]:
        """The .gitignore files in force inside `directory` (root-relative `prefix`, "" or ending in "/")."""
        if nested_repository:  # another repository's files follow its own ignore files only
            stack = ()
            common = _git_common_dir(directory)
            if common is not None:
                patterns = _read_ignore_file(os.path.join(common, "info", "exclude"))
                if patterns is not None:
                    stack = ((patterns, len(prefix), ""),)
        if has_ignore_file:
            patterns = _read_ignore_file(os.path.join(directory, ".gitignore"))
            if patterns is not None:
                stack = ((patterns, len(prefix), ""),) + stack
        return stack

    def symlink_note(self, relative: str, full: str, is_directory: bool) -> None:
        if is_directory:
            self.notes[relative] = Finding(SYMLINK.code, relative, 0, "symlinked directory: not followed")
            return
        target = os.path.realpath(full)
        where = "outside the repository" if not target.startswith(self.root + os.sep) else "inside the repository"
        self.notes[relative] = Finding(SYMLINK.code, relative, 0, f"symlink to a file {where}: not followed")

    def walk(self, directory: str, prefix: str, stack: tuple[_Ignore, ...], inside: bool) -> None:
        """Every selected file under `directory`, which is itself selected (not excluded, not ignored).

        `inside`: an include pattern matched `directory` or a directory above it, so every
        file below is included."""
        include_file, include_directory = self.include.file, self.include.directory
        exclude_file, exclude_directory = self.exclude.file, self.exclude.directory
        respect_gitignore = self.respect_gitignore
        found, seen, want_stats = self.found, self.stats, self.want_stats
        pending = [(directory, prefix, stack, inside)]
        while pending:
            directory, prefix, stack, inside = pending.pop()
            try:
                with os.scandir(directory) as listing:
                    entries = list(listing)
            except OSError:
                continue
            if respect_gitignore:
                has_ignore_file = nested = False
                for entry in entries:
                    if entry.name == ".gitignore":
                        has_ignore_file = True
                    elif entry.name == ".git" and prefix:
                        nested = True
                if has_ignore_file or nested:
                    stack = self.enter(directory, prefix, stack, has_ignore_file, nested)
            for entry in entries:
                name = entry.name
                if name == ".git":
                    continue
                relative = prefix + name
                try:
                    is_link = entry.is_symlink()
                    is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir or (is_link and os.path.isdir(entry.path)):
                    as_directory, directory_name = relative + "/", name + "/"
                    if exclude_directory(as_directory, directory_name) or (
                            stack and _ignored(stack, as_directory, directory_name, True)):
                        continue
                    if is_link:
                        if inside or include_file(as_directory + "x.py", "x.py"):
                            self.symlink_note(relative, entry.path, True)
                        continue
                    pending.append((entry.path, as_directory, stack,
                                    inside or include_directory(as_directory, directory_name) is True))
                    continue
                if not name.endswith(".py"):
                    continue
                if not (inside or include_file(relative, name)) or exclude_file(relative, name):
                    continue
                if stack and _ignored(stack, relative, name, False):
                    continue
                if is_link:
                    self.symlink_note(relative, entry.path, False)
                    continue
                found.add(relative)
                if want_stats:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    seen[relative] = (info.st_mtime_ns, info.st_size)

    # ----- explicit paths ---------------------------------------------------------------------

    def relative_path(self, given: str | os.PathLike) -> str:
        """`given` (relative to the root, or absolute inside it) as a root-relative POSIX path; "" is the root."""
        text = os.fspath(given)
        full = os.path.normpath(os.path.join(self.root, text))
        relative = _inside(self.root, full)
        if relative is None:
            # the same place reached through a symlinked directory (e.g. /tmp and /private/tmp)
            real = os.path.join(os.path.realpath(os.path.dirname(full)), os.path.basename(full))
            relative = _inside(os.path.realpath(self.root), os.path.normpath(real))
        if relative is None:
            raise DiscoveryError(f"{text}: outside the repository root {self.root}")
        if not os.path.lexists(full):
            raise DiscoveryError(f"{text}: no such file or directory")
        return relative

    def explicit(self, relative: str, base: Callable[[], tuple[_Ignore, ...]]) -> None:
        """Select under one explicitly named path (never "": the root is a full walk)."""
        parts = relative.split("/")
        if ".git" in parts:
            return
        full = os.path.join(self.root, *parts)
        is_link = os.path.islink(full)
        is_directory = os.path.isdir(full)
        # the directories above it: excluded or ignored ones hide it, a symlinked one is not followed;
        # the .gitignore files and `include` matter only for a directory (not for a file named explicitly)
        stack, inside = (base() if is_directory else ()), False
        if self.respect_gitignore and is_directory:
            stack = self.enter(self.root, "", stack, os.path.isfile(os.path.join(self.root, ".gitignore")), False)
        for depth in range(len(parts) - 1):
            above = "/".join(parts[: depth + 1]) + "/"
            above_full = os.path.join(self.root, *parts[: depth + 1])
            if self.exclude.directory(above):
                return
            if is_directory and stack and _ignored(stack, above, parts[depth] + "/", True):
                return
            if os.path.islink(above_full):
                self.symlink_note(above[:-1], above_full, True)
                return
            if not is_directory:
                continue
            inside = inside or self.include.directory(above) is True
            if self.respect_gitignore:
                stack = self.enter(above_full, above, stack, os.path.isfile(os.path.join(above_full, ".gitignore")),
                                   os.path.lexists(os.path.join(above_full, ".git")))
        if is_directory:
            as_directory = relative + "/"
            if self.exclude.directory(as_directory) or (stack and _ignored(stack, as_directory, parts[-1] + "/", True)):
                return
            if is_link:
                self.symlink_note(relative, full, True)
                return
            self.walk(full, as_directory, stack, inside or self.include.directory(as_directory) is True)
            return
        # a file named explicitly: `exclude` applies, `include` and .gitignore do not (ruff's --force-exclude)
        if not relative.endswith(".py") or self.exclude.file(relative):
            return
        if is_link:
            self.symlink_note(relative, full, False)
            return
        self.found.add(relative)
        if self.want_stats:
            try:
                info = os.lstat(full)
            except OSError:
                return
            self.stats[relative] = (info.st_mtime_ns, info.st_size)


def _inside(root: str, full: str) -> str | None:
    if full == root:
        return ""
    if full.startswith(root.rstrip(os.sep) + os.sep):
        return full[len(root.rstrip(os.sep)) + 1:].replace(os.sep, "/")
    return None


def discover(root: Path | str, config: "Config", paths: Sequence[str | os.PathLike] | None = None,
             stats: bool = False) -> Discovery:
    """The Python files under `root` that the configuration selects, or, with `paths`, those of
    them under the given files and directories (see the module docstring).

    `stats` adds each file's (st_mtime_ns, st_size) for the result cache. Raises
    `DiscoveryError` for a path outside the root or one that does not exist.
    """
    root_text = os.path.abspath(os.fspath(root))
    walk = _Walk(root_text, config, stats)
    if paths is None:
        walk.walk(root_text, "", walk.base_stack(), False)
    else:
        targets = [walk.relative_path(given) for given in paths]  # every path is checked before any walk
        if "" in targets:
            walk.walk(root_text, "", walk.base_stack(), False)
        else:
            base = functools.cache(walk.base_stack)  # read once, and only for a named directory
            for relative in sorted(set(targets)):
                walk.explicit(relative, base)
    files = sorted(walk.found)
    return Discovery(files, {path: walk.stats[path] for path in files if path in walk.stats},
                     [walk.notes[path] for path in sorted(walk.notes)])


def discover_with_stats(root: Path, config: "Config",
                        stats: bool = True) -> tuple[list[str], list[Finding], dict[str, FileStat]]:
    """`discover` as the tuple (files, notes, stats)."""
    found = discover(root, config, stats=stats)
    return found.files, found.notes, found.stats
