"""Lossless rewriting of single import statements with LibCST.

The engine locates import statements with `ast`; the statement's own source text is then
re-parsed with LibCST so that parentheses, trailing commas and comments inside a
multi-line import survive when names are renamed, moved out or removed. The common shapes
(one line without parentheses; a multi-line import whose source module changes, whose names
are renamed, or whose black-style lines are removed) are rewritten without LibCST, to the
same text: a run that meets only those never loads it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .model import AliasSpec
from .source import LineIndex

if TYPE_CHECKING:
    import libcst as cst

_LIBCST = None


def _libcst():
    """LibCST is imported on first use: most runs only meet one-line imports (half a second saved)."""
    global _LIBCST
    if _LIBCST is None:
        import libcst

        _LIBCST = libcst
    return _LIBCST


def _dotted_node(dotted: str) -> "cst.Name | cst.Attribute":
    cst = _libcst()
    parts = dotted.split(".")
    node: cst.Name | cst.Attribute = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def _spec_of(alias: "cst.ImportAlias") -> AliasSpec:
    asname = alias.asname.name.value if alias.asname is not None else None
    return AliasSpec(_libcst().Module(body=[]).code_for_node(alias.name), asname)


def _with_alias(original: "cst.ImportAlias", spec: AliasSpec) -> "cst.ImportAlias":
    cst = _libcst()
    asname = original.asname
    if spec.asname is None:
        asname = None
    elif asname is not None:
        asname = asname.with_changes(name=cst.Name(spec.asname))
    else:
        asname = cst.AsName(name=cst.Name(spec.asname))
    return original.with_changes(name=_dotted_node(spec.name), asname=asname)


def _has_comment(whitespace) -> bool:
    cst = _libcst()
    return isinstance(whitespace, cst.ParenthesizedWhitespace) and whitespace.first_line.comment is not None


def _fix_commas(aliases: "list[cst.ImportAlias]", original: "list[cst.ImportAlias]", parenthesized: bool) -> "list[cst.ImportAlias]":
    """Commas after a names list lost or gained members, keeping comments and the closing layout."""
    cst = _libcst()
    if not aliases:
        return aliases
    original_last = original[-1]
    trailing = isinstance(original_last.comma, cst.Comma)
    fixed: list[cst.ImportAlias] = []
    for position, alias in enumerate(aliases):
        last = position == len(aliases) - 1
        comma = alias.comma
        if not last and not isinstance(comma, cst.Comma):
            alias = alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        elif last and isinstance(comma, cst.Comma) and alias is not original_last:
            if not parenthesized:
                alias = alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            elif trailing:
                # take over the layout before `)` from the old last name, keep this line's comment
                closing = original_last.comma.whitespace_after
                mine = comma.whitespace_after
                if isinstance(closing, cst.ParenthesizedWhitespace) and isinstance(mine, cst.ParenthesizedWhitespace):
                    closing = closing.with_changes(first_line=mine.first_line)
                alias = alias.with_changes(comma=comma.with_changes(whitespace_after=closing))
            elif not _has_comment(comma.whitespace_after):
                alias = alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            else:
                mine = comma.whitespace_after
                alias = alias.with_changes(comma=comma.with_changes(
                    whitespace_after=mine.with_changes(empty_lines=[], indent=False, last_line=cst.SimpleWhitespace(""))))
        fixed.append(alias)
    return fixed


def _kept_and_added(original: "list[cst.ImportAlias]", aliases: list[tuple[int, AliasSpec]],
                    parenthesized: bool) -> "list[cst.ImportAlias]":
    """The aliases kept (by original position) and the ones added (position -1, at the end)."""
    cst = _libcst()
    kept = [_with_alias(original[i], spec) if _spec_of(original[i]) != spec else original[i]
            for i, spec in aliases if i >= 0]
    added = [cst.ImportAlias(name=_dotted_node(spec.name),
                             asname=cst.AsName(name=cst.Name(spec.asname)) if spec.asname else None)
             for i, spec in aliases if i < 0]
    if not added:
        return kept
    if parenthesized and kept:
        # the names added go on as the others do: the comma between two names (without its comment), and the
        # layout before `)` after the last one
        separator = next((a.comma for a in reversed(original[:-1]) if isinstance(a.comma, cst.Comma)),
                         cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        between = separator.whitespace_after
        if isinstance(between, cst.ParenthesizedWhitespace):
            between = between.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
            separator = separator.with_changes(whitespace_after=between)
        last = kept[-1].comma
        if isinstance(last, cst.Comma) and isinstance(last.whitespace_after, cst.ParenthesizedWhitespace) \
                and isinstance(between, cst.ParenthesizedWhitespace):
            # the last name keeps its own comment; the next line is indented like the others
            kept[-1] = kept[-1].with_changes(comma=last.with_changes(whitespace_after=last.whitespace_after.with_changes(
                indent=between.indent, last_line=between.last_line)))
        else:
            kept[-1] = kept[-1].with_changes(comma=separator)
        added = [alias.with_changes(comma=separator) for alias in added]
    return kept + added


def rewrite_statement(code: str, module: str | None, level: int | None, aliases: list[tuple[int, AliasSpec]]) -> str:
    """Rewrite one `import`/`from ... import` statement, keeping its formatting.

    `aliases` lists, in order, the original alias positions to keep and what each becomes; position -1
    adds a name (after the others).
    `module`/`level` replace the source module of a `from` import when given.
    """
    simple = _simple_rewrite(code, module, level, aliases)
    if simple is not None:
        return simple
    in_place = _in_place_rewrite(code, module, level, aliases)
    if in_place is not None:
        return in_place
    return libcst_rewrite(code, module, level, aliases)


def libcst_rewrite(code: str, module: str | None, level: int | None, aliases: list[tuple[int, AliasSpec]]) -> str:
    """`rewrite_statement` with LibCST, whatever the statement's layout."""
    cst = _libcst()
    statement = cst.parse_statement(code)
    assert isinstance(statement, cst.SimpleStatementLine)
    node = statement.body[0]
    if isinstance(node, cst.ImportFrom):
        original = list(node.names) if not isinstance(node.names, cst.ImportStar) else []
        kept = _kept_and_added(original, aliases, node.lpar is not None)
        changes: dict = {"names": _fix_commas(kept, original, node.lpar is not None)}
        if module is not None or level is not None:
            changes["module"] = _dotted_node(module) if module else None
            changes["relative"] = [cst.Dot() for _ in range(level or 0)]
            if not module and node.module is not None:
                changes["whitespace_after_import"] = node.whitespace_after_import
        node = node.with_changes(**changes)
    elif isinstance(node, cst.Import):
        original = list(node.names)
        kept = _kept_and_added(original, aliases, False)
        node = node.with_changes(names=_fix_commas(kept, original, False))
    else:  # pragma: no cover - the engine only hands over import statements
        raise ValueError("not an import statement")
    # the statement's own line endings (a module without one would write LF inside a CRLF file)
    newline = "\r\n" if "\r\n" in code else "\r" if "\r" in code else "\n"
    return cst.Module(body=[], default_newline=newline).code_for_node(node)


_SIMPLE_FROM = re.compile(r"from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+[\w., \t]+")
_SIMPLE_IMPORT = re.compile(r"import[ \t]+[\w., \t]+")


def _simple_rewrite(code: str, module: str | None, level: int | None, aliases: list[tuple[int, AliasSpec]]) -> str | None:
    """A one-line import without parentheses, comments or continuations needs no concrete syntax tree."""
    if not aliases:
        return None
    specs = [spec for _, spec in aliases]
    match = _SIMPLE_FROM.fullmatch(code)
    if match is not None:
        dots, original_module = match.group(1), match.group(2)
        if module is not None or level is not None:
            dots, original_module = "." * (level or 0), module or ""
        return render_from_import(original_module, len(dots), specs)
    if _SIMPLE_IMPORT.fullmatch(code) is not None and module is None and level is None:
        return render_import(specs)
    return None


_FROM_HEAD = re.compile(r"from([ \t]+)(\.*)([ \t]*)([\w.]*)([ \t]+)import(?![\w])")
_ALIAS_TEXT = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)(?:([ \t]+as[ \t]+)([A-Za-z_]\w*))?")
_ALIAS_LINE_END = re.compile(r",[ \t]*(?:#[^\r\n]*)?\r?\n")
_CLOSING_LINE = re.compile(r"[ \t]*\)")
_OPENING_END = re.compile(r"\([ \t]*(?:#[^\r\n]*)?\r?\n")


def _in_place_rewrite(code: str, module: str | None, level: int | None,
                      aliases: list[tuple[int, AliasSpec]]) -> str | None:
    """A multi-line `from ... import (...)` rewritten by editing its text where LibCST would give
    the same result (tests/test_import_statements.py compares the two): the source module
    replaced, names renamed in place, and names removed from the black layout (one name per line,
    each with its comma, `)` on a line of its own) by removing their lines. None for anything
    else; LibCST (0.12 s to load) then does it."""
    if not code.isascii() or not aliases or any(position < 0 for position, _ in aliases):
        return None
    positions = [position for position, _ in aliases]
    if positions != sorted(set(positions)):
        return None
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.ImportFrom):
        return None
    node = tree.body[0]
    if any(alias.name == "*" for alias in node.names) or positions[-1] >= len(node.names):
        return None
    head = _FROM_HEAD.match(code)
    if head is None:
        return None
    index = LineIndex(code)  # lines as Python's tokenizer counts them (a form feed ends none)
    starts = [*index.starts, index.length]
    edits: list[tuple[int, int, str]] = []  # (start, end, text), in order
    if module is not None or level is not None:
        edits.append((head.start(2), head.end(4), "." * (level or 0) + (module or "")))
    kept = dict(aliases)
    removed = [position for position in range(len(node.names)) if position not in kept]
    if removed and not _one_name_per_line(code, node, index, head.end()):
        return None
    for position, alias in enumerate(node.names):
        start = starts[alias.lineno - 1] + alias.col_offset
        end = starts[alias.end_lineno - 1] + alias.end_col_offset
        if position not in kept:
            line = alias.lineno - 1
            edits.append((starts[line], starts[line + 1], ""))
            continue
        spec = kept[position]
        if spec == AliasSpec(alias.name, alias.asname):
            continue
        text = _ALIAS_TEXT.fullmatch(code, start, end)
        if text is None:
            return None
        if spec.asname is None:
            edits.append((start, end, spec.name))
        elif text.group(3) is None:
            edits.append((start, end, f"{spec.name} as {spec.asname}"))
        else:
            edits.append((start, text.end(1), spec.name))
            edits.append((text.start(3), end, spec.asname))
    out, cursor = [], 0
    for start, end, text in edits:
        out += [code[cursor:start], text]
        cursor = end
    return "".join(out) + code[cursor:]


def _one_name_per_line(code: str, node, index: LineIndex, after_import: int) -> bool:
    """The black layout: `(` ends the first line, then one name per line, all indented alike, each
    with its comma (and perhaps a comment), then `)` alone on the last line; no blank or
    comment-only lines."""
    opening = code.find("(", after_import)
    if opening == -1 or code[after_import:opening].strip() or not _OPENING_END.match(code, opening):
        return False
    starts = [*index.starts, index.length]
    lines = len(index.lines)
    if node.names[0].lineno != index.line_of(opening) + 1 or node.names[-1].end_lineno != lines - 1:
        return False
    indentation = code[starts[node.names[0].lineno - 1]:starts[node.names[0].lineno - 1] + node.names[0].col_offset]
    for number, alias in enumerate(node.names):
        line = alias.lineno - 1
        if alias.lineno != node.names[0].lineno + number or alias.end_lineno != alias.lineno:
            return False
        # every name indented alike (LibCST keeps the first name's indentation when it goes)
        if code[starts[line]:starts[line] + alias.col_offset] != indentation or indentation.strip():
            return False
        if not _ALIAS_LINE_END.fullmatch(code, starts[line] + alias.end_col_offset, starts[line + 1]):
            return False
    return _CLOSING_LINE.fullmatch(code, starts[lines - 1]) is not None


def render_from_import(module: str | None, level: int, specs: list[AliasSpec]) -> str:
    names = ", ".join(spec.name if spec.asname is None else f"{spec.name} as {spec.asname}" for spec in specs)
    return f"from {'.' * level}{module or ''} import {names}"


def render_import(specs: list[AliasSpec]) -> str:
    return "import " + ", ".join(spec.name if spec.asname is None else f"{spec.name} as {spec.asname}" for spec in specs)
