"""The safety check before a write, in the spirit of black's: the AST must match the declared edits.

The original module's AST, with every declared edit applied to it (a renamed name, a
moved import statement, a replaced call, an inserted or removed statement), must equal
the rewritten module's AST. An edit that the plan did not declare, or one spliced at the
wrong place, makes the two differ, and the file is not written.
"""

from __future__ import annotations

import ast
import textwrap

from .model import Edit
from .source import LineIndex, parse_source


class UnsafeRewrite(Exception):
    """The rewrite does not match its declared edits."""


_parse = parse_source


def _statements(text: str, indentation: str) -> list[ast.stmt]:
    """Parse an edit's replacement text (first line already at `indentation`) as statements."""
    code = indentation + text
    return _parse(textwrap.dedent(code)).body if code.strip() else []


class _Locator:
    """The nodes of a tree by their text span, for the nodes that overlap an edit.

    Every question asked of it is about an edit's span (the node at it, the node containing
    it, the statements inside it), so the subtree of a node that overlaps no edit is not
    walked: most of a large class or function is never visited."""

    def __init__(self, text: str, tree: ast.Module, edits: list[Edit]) -> None:
        self.text = text
        self.index = LineIndex(text)
        self.spans: dict[tuple[int, int], list[tuple[ast.AST, ast.AST, str, int | None]]] = {}
        self.statement_lists: list[tuple[list, ast.AST, str]] = []
        self._edits = sorted((edit.start, edit.end) for edit in edits)
        self._walk(tree)

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.index.offset(node.lineno, node.col_offset), self.index.offset(node.end_lineno, node.end_col_offset))

    def _overlaps(self, start: int, end: int) -> bool:
        return any(edit_start <= end and start <= edit_end for edit_start, edit_end in self._edits)

    def _walk(self, tree: ast.AST) -> None:
        pending: list[ast.AST] = [tree]
        while pending:
            parent = pending.pop()
            for field, value in ast.iter_fields(parent):
                if isinstance(value, list):
                    if value and all(isinstance(v, ast.stmt) for v in value):
                        self.statement_lists.append((value, parent, field))
                    for position, child in enumerate(value):
                        self._visit(child, parent, field, position, pending)
                else:
                    self._visit(value, parent, field, None, pending)

    def _visit(self, child, parent: ast.AST, field: str, position: int | None, pending: list[ast.AST]) -> None:
        if isinstance(child, (ast.expr, ast.stmt)):
            span = self.span(child)
            decorators = getattr(child, "decorator_list", None)
            start = min(span[0], *(self.span(d)[0] for d in decorators)) if decorators else span[0]
            if not self._overlaps(start, span[1]):  # the decorators come before the node's own span
                return
            self.spans.setdefault(span, []).append((child, parent, field, position))
            pending.append(child)
        elif isinstance(child, ast.AST):  # arguments, keywords, handlers, comprehensions, ...: no span of their own here
            pending.append(child)

    def at(self, start: int, end: int) -> list[tuple[ast.AST, ast.AST, str, int | None]]:
        return self.spans.get((start, end), [])

    def containing(self, start: int, end: int, kind: type) -> tuple[ast.AST, int, int] | None:
        best = None
        for (s, e), entries in self.spans.items():
            if s <= start and end <= e:
                for node, *_ in entries:
                    if isinstance(node, kind) and (best is None or e - s < best[2] - best[1]):
                        best = (node, s, e)
        return best


def _replace(parent: ast.AST, field: str, position: int | None, new) -> None:
    if position is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[position] = new


def expected_tree(original: str, edits: list[Edit]) -> ast.Module:
    """The original's AST with each declared edit applied; raises UnsafeRewrite for an edit it cannot place."""
    tree = _parse(original)
    locator = _Locator(original, tree, edits)
    removals: list[tuple[list, ast.stmt]] = []
    expansions: list[tuple[list, ast.stmt, list[ast.stmt]]] = []
    insertions: list[tuple[int, list[ast.stmt]]] = []
    for edit in edits:
        if edit.start == edit.end:
            stripped = edit.text.strip()
            if stripped.startswith("#") and "\n" not in stripped:
                continue  # a comment line: no AST effect
            insertions.append((edit.start, _statements(edit.text.lstrip("\r\n"), "")))
            continue
        if not _apply_one(original, locator, edit, removals, expansions):
            raise UnsafeRewrite(f"line {edit.line}: the edit '{edit.description}' does not match a node of the original")
    for body, statement in removals:
        body[:] = [s for s in body if s is not statement]
    for body, statement, replacement in expansions:
        at = next(i for i, s in enumerate(body) if s is statement)
        body[at:at + 1] = replacement
    for offset, statements in insertions:
        _insert(locator, offset, statements)
    return tree


def _apply_one(original: str, locator: _Locator, edit: Edit, removals: list, expansions: list) -> bool:
    entries = locator.at(edit.start, edit.end)
    for node, parent, field, position in entries:
        if isinstance(node, ast.Name):
            node.id = edit.text
            return True
        if isinstance(node, ast.expr) and not isinstance(node, ast.Constant):
            _replace(parent, field, position, _parse(edit.text).body[0].value)
            return True
        if isinstance(node, ast.stmt):
            line = locator.index.line_text(node.lineno)
            indentation = line[: len(line) - len(line.lstrip(" \t"))]
            replacement = _statements(edit.text.replace("; ", "\n" + indentation), indentation) \
                if edit.text.strip() else []
            if edit.text.strip() == "pass":  # placed where the statement was: a later edit may look for it there
                _replace(parent, field, position, ast.copy_location(ast.Pass(), node))
            elif len(replacement) == 1 and position is not None:
                getattr(parent, field)[position] = replacement[0]
            elif position is not None:
                expansions.append((getattr(parent, field), node, replacement))
            else:
                return False
            return True
    # an attribute name (`m.Alias`): the span is the attribute's own name at the end of the node
    for (start, end), candidates in locator.spans.items():
        if end == edit.end and start < edit.start:
            for node, *_ in candidates:
                if isinstance(node, ast.Attribute) and edit.end - edit.start == len(node.attr):
                    node.attr = edit.text
                    return True
    # the content of a string literal (patch targets, string annotations, __all__ entries)
    found = locator.containing(edit.start, edit.end, ast.Constant)
    if found is not None and isinstance(found[0].value, str):
        node, start, end = found
        literal = original[start:end]
        content_start = start + 1
        if literal[0] in "\"'" and literal[-1] == literal[0]:
            relative = edit.start - content_start
            value = node.value
            node.value = value[:relative] + edit.text + value[relative + (edit.end - edit.start):]
            return True
    # whole lines removed: every statement inside the span goes
    removed = False
    for statements, parent, field in locator.statement_lists:
        for statement in statements:
            start, end = locator.span(statement)
            if edit.start <= start and end <= edit.end and not edit.text.strip():
                removals.append((statements, statement))
                removed = True
    return removed


def _insert(locator: _Locator, offset: int, statements: list[ast.stmt]) -> None:
    """Insert statements at the top-level position that the text offset falls on."""
    body = None
    for candidate, parent, field in locator.statement_lists:
        if isinstance(parent, ast.Module):
            body = candidate
    if body is None:
        raise UnsafeRewrite("an inserted statement has no place in the module")
    at = len(body)
    for position, statement in enumerate(body):
        if locator.span(statement)[0] >= offset:
            at = position
            break
    body[at:at] = statements


def check(original: str, rewritten: str, edits: list[Edit], tree: ast.Module | None = None,
          index: LineIndex | None = None) -> None:
    """Raise UnsafeRewrite when the rewritten AST is not the original with the declared edits.

    Only the top-level statements the edits touch are compared: the text between them is the
    same in both files (the edits are the only splices), so it parses to the same statements.
    `tree` and `index` are the original's, when the caller has them.
    """
    if not edits:
        if original != rewritten:
            raise UnsafeRewrite("the file changed without any declared edit")
        return
    tree = tree or _parse(original)
    index = index or LineIndex(original)
    bounds = []
    for statement in tree.body:
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        end_line = statement.end_lineno
        bounds.append((index.starts[first - 1], index.starts[end_line - 1] + len(index.line_text(end_line))))
    regions: list[list[int]] = []
    for edit in sorted(edits, key=lambda e: e.start):
        touched = [(a, b) for a, b in bounds if a <= edit.end and edit.start <= b]
        start = min([a for a, _ in touched] + [index.starts[index.line_of(edit.start) - 1]])
        end = max([b for _, b in touched] + [edit.end])
        if regions and start <= regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], end)
        else:
            regions.append([start, end])
    ordered = sorted(edits, key=lambda e: e.start)
    outside = []
    cursor_old = cursor_new = 0
    for start, end in regions:
        before = sum(len(e.text) - (e.end - e.start) for e in ordered if e.start < start)
        inside = [e for e in ordered if start <= e.start and e.end <= end]
        if sum(1 for e in ordered if e.start < end and e.end > start) != len(inside):
            return _check_whole(original, rewritten, edits)
        growth = sum(len(e.text) - (e.end - e.start) for e in inside)
        outside.append((original[cursor_old:start], rewritten[cursor_new:start + before]))
        cursor_old, cursor_new = end, end + before + growth
        shifted = [Edit(e.start - start, e.end - start, e.text, e.step, e.line, e.description, e.group) for e in inside]
        _check_whole(original[start:end], rewritten[start + before:end + before + growth], shifted)
    outside.append((original[cursor_old:], rewritten[cursor_new:]))
    if any(old != new for old, new in outside):
        raise UnsafeRewrite("text outside the declared edits changed")


def _check_whole(original: str, rewritten: str, edits: list[Edit]) -> None:
    if not same_tree(expected_tree(original, edits), _parse(rewritten)):
        raise UnsafeRewrite("the rewritten module's AST differs from the original with the declared edits applied")


def same_tree(first: ast.AST, second: ast.AST) -> bool:
    """`ast.dump(first) == ast.dump(second)` (positions left out), without building the strings.

    Leaves compare by type and value, as their reprs in a dump would (`1`, `1.0` and `True`
    differ); the walk stops at the first difference."""
    pending: list[tuple[object, object]] = [(first, second)]
    while pending:
        one, other = pending.pop()
        if type(one) is not type(other):
            return False
        if isinstance(one, ast.AST):
            pending.extend((getattr(one, name, None), getattr(other, name, None)) for name in one._fields)
        elif isinstance(one, list):
            if len(one) != len(other):  # type: ignore[arg-type]
                return False
            pending.extend(zip(one, other))  # type: ignore[arg-type]
        elif one != other and repr(one) != repr(other):  # NaN is not equal to itself; its repr is
            return False
    return True
