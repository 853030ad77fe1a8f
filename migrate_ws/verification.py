"""The engine's own checks of a rewrite, in the spirit of black's: before it is shown or written.

- every rewrite shown (`--dry-run`) must parse: the statements the edits touched are parsed
  on their own (`changed_regions_parse`), which proves the whole file parses;
- before `--apply` writes, the file's state after every step must parse, the whole final
  file must parse, a second run over it must plan nothing, and its AST must be the
  original's with exactly the declared edits applied (`safety.check`).

A rewrite that fails any of these is reported as rejected and never written.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .editing import effective, splice, steps_touching
from .model import Edit
from .source import parse_source

NEWER_SYNTAX_LIMIT = 256 * 1024
NEWER_PYTHON_ONLY = "valid only on a newer Python"


@dataclass(frozen=True)
class ParseFailure:
    """Where and why a file does not parse (a SyntaxError, as data that crosses processes)."""

    message: str
    line: int

    @classmethod
    def of(cls, error: SyntaxError) -> "ParseFailure":
        return cls(error.msg or "invalid syntax", error.lineno or 0)

    @property
    def reason(self) -> str:
        """One line, before anyone asked whether a newer Python would accept the file."""
        return f"does not parse: {self.message} ({self.where})"

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line else "unknown line"


def newer_python_reason(text: str, failure: ParseFailure) -> str | None:
    """The reason to give when only a newer Python parses `text` (None: no Python parses it).

    LibCST's grammar follows newer Python releases. It is loaded here only, by the main
    process while the workers go on (see worker.run_files), so that a run that meets no such
    file never loads it."""
    import sys

    newer = False
    if failure.message.startswith(_EVERY_PYTHON_REFUSES):
        return None
    if len(text) <= NEWER_SYNTAX_LIMIT and _within_libcst_reach(text):
        try:
            import libcst

            libcst.parse_module(text)
            newer = True
        except Exception:
            newer = False
    elif failure.message.startswith("f-string"):
        newer = True  # PEP 701 lifted most f-string restrictions in Python 3.12
    if not newer:
        return None
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"does not parse on Python {version}: {failure.message} ({failure.where}); {NEWER_PYTHON_ONLY}"


# limits of CPython's tokenizer (MAXLEVEL, MAXINDENT) that newer releases keep: no Python parses such a file
_EVERY_PYTHON_REFUSES = ("too many nested parentheses", "too many levels of indentation")
MAX_BRACKET_DEPTH = 200
# LibCST's parser recurses natively: its time grows with the square of a chain's length
# (measured: 1,000 chained operators 0.3-0.8 s, 3,000 4-10 s, 10,000 over 20 s) and a deep
# enough chain overflows the C stack and kills the process. A file with a longer statement is
# not asked about and stays "does not parse" (MW901), whatever a newer Python would say.
MAX_CHAINED_OPERATORS = 2000


def _within_libcst_reach(text: str) -> bool:
    """Whether LibCST can be asked about `text` safely: no bracket nesting deeper than any Python
    accepts, and no statement with more operators than LibCST handles in a second (commas and
    colons do not nest, so a large literal table is fine)."""
    import io
    import tokenize

    depth = operators = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP:
                if token.string in "([{":
                    depth += 1
                    if depth > MAX_BRACKET_DEPTH:
                        return False
                elif token.string in ")]}":
                    depth = max(0, depth - 1)
                if token.string not in (",", ":", ";"):
                    operators += 1
                    if operators > MAX_CHAINED_OPERATORS:
                        return False
            elif token.type == tokenize.NEWLINE:
                operators = 0
    except (SyntaxError, tokenize.TokenError):
        pass  # what was read so far is within reach; LibCST's own tokenizer stops where this one did
    return True


_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _innermost_statement(tree: ast.Module, index, start: int, end: int) -> ast.stmt | None:
    """The innermost statement whose lines contain [start, end), following only the path to it."""
    found = None
    start_line, end_line = index.line_of(start), index.line_of(end)
    statements: list = list(tree.body)
    while statements:
        inner: list = []
        for node in statements:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            if first > start_line or node.end_lineno < end_line:
                continue  # its lines cannot contain the span (a necessary condition, in whole lines)
            node_start = index.offset(first, 0)
            node_end = index.offset(node.end_lineno, node.end_col_offset)
            if node_start <= start and end <= node_end:
                if isinstance(node, ast.stmt):
                    found = node
                for field in _BODY_FIELDS:
                    for child in getattr(node, field, None) or []:
                        inner.extend(child.body if isinstance(child, ast.excepthandler) or type(child).__name__ == "match_case"
                                     else [child])
                break
        statements = inner
    return found


def changed_regions_parse(text: str, tree: ast.Module, edits: list[Edit], new_text: str, index=None) -> str | None:
    """Check that the statements the edits touched still parse; None when they do.

    Each touched statement's lines (innermost statement, in its own block) are parsed on
    their own after removing the block's indentation, and must keep that indentation.
    Text outside them is byte-identical to a file that parsed, and each region closes its
    own brackets and strings, so this proves the whole file parses without a second full
    parse. Anything it cannot localise is checked by parsing the whole file.
    """
    import textwrap

    from .source import LineIndex

    index = index or LineIndex(text)
    regions: list[list[int]] = []
    for edit in sorted(edits, key=lambda e: e.start):
        if _TOKEN.fullmatch(edit.text) and _TOKEN.fullmatch(text[edit.start:edit.end]):
            continue  # a name or dotted path replacing a name or dotted path: cannot break the syntax
        statement = _innermost_statement(tree, index, edit.start, edit.end)
        if statement is None:
            start, end = edit.start, edit.end
        else:
            first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
            start = index.starts[first - 1]
            end = index.offset(statement.end_lineno, statement.end_col_offset)
        line_start = index.starts[index.line_of(min(start, edit.start)) - 1]
        last_line = index.line_of(max(end, edit.end) - 1 if max(end, edit.end) > 0 else 0)
        line_end = index.starts[last_line - 1] + len(index.line_text(last_line))
        if regions and line_start < regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], line_end)
        else:
            regions.append([line_start, line_end])
    ordered = sorted(edits, key=lambda e: e.start)
    for start, end in regions:
        delta_before = sum(len(e.text) - (e.end - e.start) for e in ordered if e.end <= start and e.start < start)
        delta_inside = sum(len(e.text) - (e.end - e.start) for e in ordered if start <= e.start and e.end <= end)
        region = new_text[start + delta_before:end + delta_before + delta_inside]
        first_line = text[start:index.starts[index.line_of(start) - 1] + len(index.line_text(index.line_of(start)))]
        indentation = first_line[: len(first_line) - len(first_line.lstrip(" \t"))]
        dedented = textwrap.dedent(region)
        # what dedent took off: the first non-blank line's indentation before and after
        before, after = _first_indentation(region), _first_indentation(dedented)
        kept_margin = before[: len(before) - len(after)] if dedented.strip() else indentation
        if not region.strip():
            continue
        if kept_margin != indentation or "\f" in region or "\t" in indentation:
            return _whole_file_problem(new_text)
        try:
            parse_source(dedented, "<region>")
        except SyntaxError:
            return _whole_file_problem(new_text)
    return None


def _first_indentation(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line[: len(line) - len(line.lstrip(" \t"))]
    return ""


def _whole_file_problem(new_text: str) -> str | None:
    try:
        parse_source(new_text, "<rewrite>")
    except SyntaxError as exc:
        return f"{exc.msg}, line {exc.lineno}"
    return None


@dataclass
class SecondRun:
    """What planning the rewritten file again found; `parsed`: the whole file was parsed to find it."""

    edits: list[Edit]
    parsed: bool


def verify_rewrite(text: str, tree: ast.Module, edits: list[Edit], final: str, order: Sequence[str],
                   full: bool, index=None, second_run: Callable[[str], SecondRun] | None = None) -> str | None:
    """Why the rewrite of `text` must not be shown or written, or None when it passes.

    Without `full` (a dry-run) only the final state's touched statements are parsed (which
    proves the whole file parses, see `changed_regions_parse`). With `full` (what `--apply`
    writes): the state after each step must parse too, `second_run(final)` must return no
    edits, and the safety check must hold.
    """
    final_edits = effective(edits, order)
    if not full:
        problem = changed_regions_parse(text, tree, final_edits, final, index)
        return None if problem is None else f"the rewrite does not parse ({problem})"
    touching = steps_touching(edits, order)
    for step in touching[:-1]:
        step_edits = effective(edits, order, step)
        problem = changed_regions_parse(text, tree, step_edits, splice(text, step_edits), index)
        if problem is not None:
            return f"the state after the {step} step does not parse ({problem})"
    again = None
    if second_run is not None:
        try:
            again = second_run(final)
        except SyntaxError as exc:
            return f"the rewrite does not parse ({exc.msg}, line {exc.lineno})"
    if again is None or not again.parsed:  # a second run that parsed the whole file proved it parses
        problem = changed_regions_parse(text, tree, final_edits, final, index)
        if problem is not None:
            return f"the rewrite does not parse ({problem})"
    if again is not None and again.edits:
        return f"a second run would change line {again.edits[0].line} again"
    from . import safety

    try:
        safety.check(text, final, final_edits, tree, index)
    except (safety.UnsafeRewrite, SyntaxError) as exc:
        return f"safety check failed: {exc}"
    return None
