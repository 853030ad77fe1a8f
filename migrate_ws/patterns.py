"""Gitignore-style patterns, as git reads them (a leaf: no import from the package).

Patterns are translated to regular expressions by `pathspec` (`GitIgnoreSpec`); they are
then asked git's questions, which `pathspec`'s own `match_file` does not answer for a walk:
git does not descend into an ignored directory (so `d2/` then `!d2/keep.py` leaves
`d2/keep.py` ignored), and a directory is matched only by a pattern that matches the
directory itself (so `build/**` then `!build/keep.py` re-includes `build/keep.py`, because
`build/**` matches what is inside `build`, not `build`). Here every pattern gets a file form
and a directory form of its expression; the walk asks the directory form before descending
and prunes what is excluded, and the file form for each file. Two translations of pathspec
1.1 are corrected to git's meaning: a pattern ending in `/**/` and a character class next to
a slash (`_git_form`, `_classes_without_slash`). The configuration checks its patterns here
(`check_pattern`) and discovery walks with them (`Patterns`).
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

__all__ = ["Patterns", "check_pattern"]


_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
_ANY_DIRECTORIES = "^(?:.+/)?"  # pathspec's start of a pattern that has no slash but a trailing one


class _Rule:
    __slots__ = ("file", "directory", "include", "on_name")

    def __init__(self, file, directory, include: bool, on_name: bool) -> None:
        self.file = file  # bound `match`/`search` of the file form
        self.directory = directory  # and of the directory form
        self.include = include  # False for a `!` pattern
        self.on_name = on_name  # asked about the last path component only


class Patterns:
    """Gitignore-style patterns, compiled once.

    `file(path, name)` and `directory(path + "/", name + "/")` (`name`: the last component)
    return True when the last pattern that matches the path itself is an ordinary pattern,
    False when it is a `!` negation, None when no pattern matches it. A pattern that matches
    only a directory above the path does not count: the walk has asked about that directory
    before descending into it.

    pathspec translates each pattern to one expression in which a named group marks the
    slash after a directory match (`foo` becomes `^(?:.+/)?foo(?:(?P<ps_d>/)|$)`, `foo/`
    becomes `^(?:.+/)?foo(?P<ps_d>/)`), and a pattern ending in `/**` becomes a prefix
    without the group (`^build/`). The file form of an expression with the group must reach
    the end of the path (a file is never a directory); the directory form must end at the
    path's final slash, or, for a prefix, leave something of the path after it (`build/**`
    matches `build/sub`, not `build`). A pattern without a slash (other than a trailing one)
    matches the last component at any depth, as in git: it is asked about the name alone,
    which saves matching every such pattern along the whole path.
    """

    __slots__ = ("_any_file", "_any_directory", "_rules", "_negated")

    def __init__(self, lines: Iterable[str], strict: bool = True) -> None:
        lines = [_git_form(line) for line in lines]
        patterns: list = []
        if lines:  # pathspec loads with the first pattern: a run with none (named files, no `exclude`) skips it
            spec = _spec_class()
            if strict:
                patterns = list(spec.from_lines(lines).patterns)
            else:  # a .gitignore file: a line git cannot read is skipped, as git does
                for line in lines:
                    try:
                        patterns.extend(spec.from_lines([line]).patterns)
                    except ValueError:
                        continue
        forms: list[tuple[str, str, int, bool, bool]] = []
        quick_file: _Quick = (set(), [], [])
        quick_directory: _Quick = (set(), [], [])
        for pattern in patterns:
            regex = getattr(pattern, "regex", None)
            if pattern.include is None or regex is None:
                continue  # a comment or a blank line
            source = regex.pattern
            if isinstance(source, bytes):  # pragma: no cover - str lines give str expressions
                source = source.decode("utf-8", "surrogateescape")
            marked = bool(regex.groupindex)
            source = _NAMED_GROUP.sub("(?:", source)
            line = getattr(pattern, "pattern", None)
            if isinstance(line, str) and "[" in line:
                source = _classes_without_slash(source)
            on_name, literal, suffix, directory_only = _shape(line)
            if on_name and source.startswith(_ANY_DIRECTORIES):
                source = "^" + source[len(_ANY_DIRECTORIES):]
            anchor, body = ("^", source[1:]) if source.startswith("^") else ("", source)
            if marked:
                file_form = directory_form = f"{anchor}(?:{body})\\Z"
            else:
                file_form, directory_form = source, f"{anchor}(?:{body})(?=.)"
            forms.append((file_form, directory_form, regex.flags, bool(pattern.include), on_name))
            # the quick test of whether any pattern matches: a literal name is a set lookup, `*X` a suffix
            if literal is not None:
                if not directory_only:
                    quick_file[0].add(literal)
                quick_directory[0].add(literal + "/")
            elif suffix is not None:
                if not directory_only:
                    quick_file[1].append(suffix)
                quick_directory[1].append(suffix + "/")
            else:
                quick_file[2].append((file_form, regex.flags, on_name))
                quick_directory[2].append((directory_form, regex.flags, on_name))
        self._negated = any(not form[3] for form in forms)
        self._rules = [_Rule(_compile(f, flags), _compile(d, flags), include, on_name)
                       for f, d, flags, include, on_name in reversed(forms)]  # the last pattern decides
        self._any_file = (frozenset(quick_file[0]), tuple(quick_file[1]), _combine(quick_file[2]))
        self._any_directory = (frozenset(quick_directory[0]), tuple(quick_directory[1]), _combine(quick_directory[2]))

    def __bool__(self) -> bool:
        return bool(self._rules)

    def file(self, path: str, name: str | None = None) -> bool | None:
        """Whether the patterns match the file `path` (relative, POSIX); None: no pattern does."""
        if name is None:
            name = path[path.rfind("/") + 1:]
        return self._match(path, name, self._any_file, "file")

    def directory(self, path: str, name: str | None = None) -> bool | None:
        """Whether the patterns match the directory `path` (relative, POSIX, ending in "/")."""
        if name is None:
            name = path[path.rfind("/", 0, -1) + 1:]
        return self._match(path, name, self._any_directory, "directory")

    def _match(self, path: str, name: str, candidates: tuple, form: str) -> bool | None:
        """The decision of the last pattern that matches, in the rules' `form` ("file" or
        "directory"); `candidates` rules out most paths before any rule is tried."""
        names, suffixes, matchers = candidates
        if not (name in names or (suffixes and name.endswith(suffixes))):
            for matcher, on_name in matchers:
                if matcher(name if on_name else path) is not None:
                    break
            else:
                return None
        if not self._negated:
            return True
        for rule in self._rules:
            if getattr(rule, form)(name if rule.on_name else path) is not None:
                return rule.include
        return None  # pragma: no cover - the combined expression matched, so one rule does


# whether any pattern may match: literal names (a set), `*X` suffixes, matchers of the others
_Quick = tuple


_WILDCARDS = re.compile(r"[*?\[\\]")


def _shape(line: str | None) -> tuple[bool, str | None, str | None, bool]:
    """(on_name, literal, suffix, directory_only) of a pattern line. `on_name`: no slash but a
    trailing one (or only a leading `**/`, which means the same), so git matches it against
    the last path component; `literal`: such a pattern without wildcards or escapes (the
    name itself); `suffix`: such a pattern that is `*` and then a literal (`*.pyc`)."""
    if not line:
        return False, None, None, False
    text = line.rstrip(" ")
    if text.startswith("!"):
        text = text[1:]
    directory_only = text.endswith("/")
    if directory_only:
        text = text[:-1]
    if text.startswith("**/"):
        text = text[3:]
    if not text or "/" in text:
        return False, None, None, directory_only
    if not _WILDCARDS.search(text):
        return True, text, None, directory_only
    if text.startswith("*") and len(text) > 1 and not _WILDCARDS.search(text[1:]):
        return True, None, text[1:], directory_only
    return True, None, None, directory_only


def _classes_without_slash(source: str) -> str:
    """`source` with every character class kept from matching `/` (git's `[!x]` never matches
    it; pathspec 1.1 compiles it to `[^x]`, which does)."""
    out = []
    index, length = 0, len(source)
    while index < length:
        char = source[index]
        if char == "\\":
            out.append(source[index:index + 2])
            index += 2
        elif char == "[":
            end = index + 1
            if end < length and source[end] == "^":
                end += 1
            if end < length and source[end] == "]":
                end += 1
            while end < length and source[end] != "]":
                end += 2 if source[end] == "\\" else 1
            text = source[index:end + 1]
            out.append(text if text == "[^/]" else "(?!/)" + text)
            index = end + 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _git_form(line: str) -> str:
    """`line`, rewritten where pathspec's translation differs from git's: a pattern ending in
    `/**/` matches the directories inside (git), not the directory itself (pathspec 1.1)."""
    core = line.rstrip(" ")
    if core.endswith("/**/"):
        return core + "*/"
    return line


def _compile(source: str, flags: int):
    if source.startswith("^"):
        return re.compile(source[1:], flags).match
    return re.compile(source, flags).search


def _combine(forms: Sequence[tuple[str, int, bool]]) -> list:
    """A few matchers that together tell whether any form matches: per kind of subject (name
    or path) and flags, the anchored forms as one alternation tried at the start only, the
    others as one searched alternation."""
    groups: dict[tuple[bool, bool, int], list[str]] = {}
    for source, flags, on_name in forms:
        anchored = source.startswith("^")
        groups.setdefault((on_name, anchored, flags), []).append(source[1:] if anchored else source)
    matchers = []
    for (on_name, anchored, flags), sources in groups.items():
        combined = re.compile("|".join(f"(?:{s})" for s in sources), flags)
        matchers.append((combined.match if anchored else combined.search, on_name))
    return matchers


def _spec_class():
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec


def check_pattern(pattern: str) -> str | None:
    """Why `pattern` is not a usable include/exclude pattern, or None when it is."""
    try:
        compiled = _spec_class().from_lines([pattern]).patterns
    except ValueError as exc:
        return f"not a valid gitignore-style pattern ({exc})"
    if not compiled or compiled[0].include is None:
        return "matches nothing as a gitignore-style pattern (a leading # starts a comment: write \\# for a literal #)"
    return None
