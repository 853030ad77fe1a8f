"""The binding check: no name the code uses may be left unbound by the change.

Every changed file is checked with pyflakes before and after the change. pyflakes is an
independent judge: it does not share the engine's scope analysis (which cannot check
itself, as black's AST check does not use black's formatter), it is small, and it reads
code as Python binds names. A name it reports as undefined after the change (an undefined
name, a local used before it is assigned, an `__all__` entry nothing binds, or a name only
a star import could provide) more often than before rejects the file's change. Names are
compared with their counts, not by line, because the change moves lines; a use the change
renamed (`LegacyClient` -> `Client`) counts under the name the original
spelled there, so a use that was already unbound before is not new because it was renamed.

The engine rejects such a file (`BINDING_LOST`, MW704): it is left as it is and listed;
what relies on it is left out too (`leaving_out.py`); the rest of the change goes on.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from .model import Edit

# what each pyflakes message says of its name (the name is message_args[0])
_KINDS = {
    "UndefinedName": "undefined",
    "UndefinedLocal": "used before assignment",
    "UndefinedExport": "listed in __all__ but unbound",
    "ImportStarUsage": "undefined unless a star import provides it",
}


@dataclass(frozen=True)
class UndefinedUse:
    """A name pyflakes reports as not bound where it is used."""

    name: str
    line: int
    column: int  # as ast gives it: UTF-8 bytes from the start of the line
    kind: str


@dataclass(frozen=True)
class LostBinding:
    """A use of a name that the change would leave unbound."""

    name: str
    line: int  # in the original file (where the file, left unchanged, has it)
    rewritten_line: int  # in the rewrite that was rejected
    kind: str


def undefined_uses(tree: ast.Module, filename: str) -> list[UndefinedUse]:
    """What pyflakes reports as unbound in the module `tree` (parsed from the file `filename`:
    pyflakes knows `__path__` only in a package's `__init__.py`)."""
    from pyflakes import checker

    found = []
    flakes = checker.Checker(tree, filename=filename, withDoctest=False)
    try:
        for message in flakes.messages:
            kind = _KINDS.get(type(message).__name__)
            if kind is not None and message.message_args:
                found.append(UndefinedUse(str(message.message_args[0]), message.lineno, getattr(message, "col", 0) or 0,
                                          kind))
    finally:
        _release(flakes, tree)
    return found


def _release(flakes, tree: ast.Module) -> None:
    """Break the reference cycles pyflakes leaves (its scopes, and before pyflakes 4 a parent
    link on every node): the workers run with the cyclic garbage collector off."""
    for scope in getattr(flakes, "deadScopes", ()):
        scope.clear()
    for scope in getattr(flakes, "scopeStack", ()):
        scope.clear()
    flakes.__dict__.clear()
    body = tree.body
    if body and hasattr(body[0], "_pyflakes_parent"):
        for node in ast.walk(tree):
            node.__dict__.pop("_pyflakes_parent", None)
            node.__dict__.pop("_pyflakes_depth", None)


def lost_bindings(before_text: str, before: ast.Module, after_text: str, filename: str, edits: Sequence[Edit],
                  after: ast.Module | None = None, index=None) -> list[LostBinding]:
    """The uses of names that are unbound after the change and were not before: `before` is the
    tree of `before_text` (the original), `after_text` the original with the final `edits`
    applied (`after` its tree, when already parsed; `index` the original's LineIndex, when at
    hand). Raises SyntaxError when `after_text` does not parse.

    pyflakes runs on the original only when the rewrite has unbound names at all: most files
    have none, and then nothing can have been lost."""
    from .source import LineIndex, parse_source

    if after is None:
        after = parse_source(after_text, filename)
    now = undefined_uses(after, filename)
    if not now:
        return []
    before_uses = undefined_uses(before, filename)
    places = _Places(edits, index or LineIndex(before_text), LineIndex(after_text))
    # each unbound use of the rewrite, with where it is in the original and the name the original spelled there
    found = [(use, *places.original(use)) for use in now]
    was = Counter(use.name for use in before_uses)
    grown = {name for name, count in Counter(spelled for _, _, spelled in found).items() if count > was[name]}
    if not grown:
        return []
    lost = []
    for name in sorted(grown):
        uses = [(use, line) for use, line, spelled in found if spelled == name]
        # the uses on a line that had none before are the new ones (as far as lines tell: a use may move)
        earlier = Counter(use.line for use in before_uses if use.name == name)
        new = []
        for use, line in uses:
            if earlier[line]:
                earlier[line] -= 1
            else:
                new.append(LostBinding(use.name, line, use.line, use.kind))
        use, line = uses[0]
        lost.extend(new or [LostBinding(use.name, line, use.line, use.kind)])
    return sorted(lost, key=lambda item: (item.line, item.name))


@dataclass(frozen=True)
class Rejection:
    """Why a file's change is rejected (MW704): the reason names each name and line."""

    reason: str
    line: int
    lost: tuple[LostBinding, ...] = ()


def check(before_text: str, before: ast.Module, after_text: str, filename: str, edits: Sequence[Edit],
          after: ast.Module | None = None, index=None) -> Rejection | None:
    """`lost_bindings`, as the rejection of the file's change (None: nothing is lost). A check that
    cannot run (pyflakes fails on the file) rejects the change too: what is not checked is not written."""
    try:
        lost = lost_bindings(before_text, before, after_text, filename, edits, after, index)
    except RecursionError:
        return Rejection("the binding check could not run (the code nests too deeply for pyflakes); left unchanged", 1)
    except SyntaxError as exc:
        return Rejection(f"the binding check could not parse the rewrite ({exc.msg}, line {exc.lineno}); "
                         "left unchanged", 1)
    except Exception as exc:  # pyflakes failing on a file must not stop the run
        return Rejection(f"the binding check could not run (pyflakes: {type(exc).__name__}: {exc}); left unchanged", 1)
    if not lost:
        return None
    return Rejection(describe(lost), lost[0].line, tuple(lost))


def rejection(filename: str, original: bytes, rewritten: bytes, edits: Sequence[Edit]) -> Rejection | None:
    """`check` of a file's change given as bytes (a repository-level step's file). An original that
    does not parse counts as having no unbound names."""
    from .source import SourceText, UndecodableSource, parse_source

    try:
        before_text = SourceText.decode(original).text
        after_text = SourceText.decode(rewritten).text
    except UndecodableSource as exc:
        return Rejection(f"the binding check could not decode the file ({exc}); left unchanged", 1)
    try:
        before = parse_source(before_text, filename)
    except (SyntaxError, ValueError):
        before = ast.Module(body=[], type_ignores=[])
    return check(before_text, before, after_text, filename, edits)


def describe(lost: Sequence[LostBinding]) -> str:
    """One line naming every name the change would leave unbound, and where."""
    lines_of: dict[tuple[str, str], list[int]] = {}
    for item in lost:
        lines_of.setdefault((item.name, item.kind), []).append(item.line)
    parts = []
    for (name, kind), lines in lines_of.items():
        lines = sorted(set(lines))
        where = f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines))
        parts.append(f"`{name}` would be {kind} at {where}")
    return "the change would leave a name unbound (pyflakes): " + "; ".join(parts) + "; left unchanged"


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")


class _Places:
    """Positions in the rewrite back to the original, through the edits: text outside every
    replacement is where it was; text inside one maps into the text it replaced (to the line
    that reads the same, as in a whole-file rewrite), and a name there was spelled as the
    replaced text's first name (a renamed name, a rewritten dotted path)."""

    def __init__(self, edits: Sequence[Edit], original, rewrite) -> None:
        self.edits = sorted(edits, key=lambda e: e.start)
        self.original_index, self.rewrite_index = original, rewrite
        self.original_text = "".join(original.lines)

    def original(self, use: UndefinedUse) -> tuple[int, str]:
        """The original's line for `use`, and the name the original spelled there."""
        offset = self.rewrite_index.offset(use.line, use.column) if self.rewrite_index.lines else 0
        shift = 0  # the rewrite's offsets minus the original's, before the next edit
        for edit in self.edits:
            new_start = edit.start + shift
            if offset < new_start:
                break
            if offset < new_start + len(edit.text):
                replaced = self.original_text[edit.start:edit.end].strip()
                spelled = replaced.split(".")[0].strip() if _DOTTED_NAME.fullmatch(replaced) else use.name
                return self._line_within(edit, use.line, offset - new_start), spelled
            shift += len(edit.text) - (edit.end - edit.start)
        return self.original_index.line_of(offset - shift), use.name

    def _line_within(self, edit: Edit, rewrite_line: int, into: int) -> int:
        """The original's line for a line of an edit's replacement: the replaced text's line that
        reads the same (the nearest one), else as many lines into the replaced text, at most its last."""
        first = self.original_index.line_of(edit.start)
        last = self.original_index.line_of(max(edit.end - 1, edit.start))
        counted = min(first + edit.text.count("\n", 0, into), last)
        wanted = self.rewrite_index.line_text(rewrite_line).strip()
        same = [line for line in range(first, last + 1) if self.original_index.line_text(line).strip() == wanted]
        return min(same, key=lambda line: abs(line - counted)) if wanted and same else counted
