"""Source text as Python reads it, and back to the exact bytes it came from.

Edits are made on decoded text split into physical lines that keep their own line
endings, so that a file's encoding, BOM, mixed line endings and missing final newline
survive a rewrite unchanged outside the edited spans.
"""

from __future__ import annotations

import ast
import codecs
import io
import warnings
from bisect import bisect_right
from itertools import accumulate
import re
import tokenize
from dataclasses import dataclass

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def parse_source(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse` as the running Python parses, without the SyntaxWarnings of the code being read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, filename=filename)


# What parsing (or walking the tree of) one file can raise because of that file alone, besides
# SyntaxError: RecursionError when an expression or block is nested deeper than the AST
# construction's (or a recursive walk's) recursion limit follows, MemoryError when CPython's
# parser runs out of its own stack (a long run of unary operators, say).
NESTING_ERRORS = (RecursionError, MemoryError)
PARSER = "the running Python's parser"
ANALYSIS = "migrate-ws's analysis"


def too_deep_reason(error: BaseException, stage: str) -> str:
    """Why a file is not processed when `stage` (PARSER, ANALYSIS) could not follow its nesting."""
    if isinstance(error, MemoryError):
        return f"too deeply nested or too large for {stage} (MemoryError)"
    return f"too deeply nested for {stage} ({type(error).__name__})"


def too_large_reason(size: int, limit: int) -> str:
    return f"too large to analyse ({size:,} bytes; max-file-size is {limit:,})"


_PARSED: dict[bytes, ast.Module] = {}


def parse_module_bytes(data: bytes, filename: str = "<unknown>") -> ast.Module:
    """A module's bytes decoded as Python decodes them, then parsed; the same bytes again give the
    same tree, which callers only read (the canonical module's neighbours are read for its facts
    and again for the import check: one of them can be large). A few trees are kept."""
    tree = _PARSED.get(data)
    if tree is None:
        tree = parse_source(SourceText.decode(data).text, filename)
        if len(_PARSED) >= 32:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[data] = tree
    return tree


class UndecodableSource(ValueError):
    """The file's bytes cannot be decoded with the encoding Python would use."""


@dataclass
class SourceText:
    """A file's text as decoded, with what writing it back needs: the encoding, whether it had a BOM,
    its line ending."""

    text: str
    encoding: str
    bom: bool
    newline: str

    @classmethod
    def decode(cls, data: bytes) -> "SourceText":
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            raise UndecodableSource(str(exc)) from None
        bom = data.startswith(codecs.BOM_UTF8)
        body = data[len(codecs.BOM_UTF8):] if bom else data
        if encoding == "utf-8-sig":
            encoding = "utf-8"
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UndecodableSource(f"cannot decode as {encoding}: {exc}") from None
        return cls(text=text, encoding=encoding, bom=bom, newline=dominant_newline(text))

    def encode(self, text: str | None = None) -> bytes:
        body = (self.text if text is None else text).encode(self.encoding)
        return codecs.BOM_UTF8 + body if self.bom else body


def dominant_newline(text: str) -> str:
    if "\r" not in text:  # nearly every file: one scan instead of three
        return "\n"
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    best = max((lf, "\n"), (crlf, "\r\n"), (cr, "\r"))
    return best[1] if best[0] else "\n"


def split_lines(text: str) -> list[str]:
    """Physical lines as Python's tokenizer counts them (only CR, LF and CRLF end a line)."""
    if "\r" in text:
        return _LINE.findall(text)
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def line_ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith(("\n", "\r")):
        return line[-1]
    return ""


class LineIndex:
    """Maps ast positions (1-based line, UTF-8 byte column) to offsets in the text."""

    def __init__(self, text: str) -> None:
        self.lines = split_lines(text)
        self.starts = [0, *accumulate(map(len, self.lines))]
        self.length = self.starts.pop() if self.lines else 0
        if not self.lines:
            self.starts = []
        self._all_ascii = text.isascii()
        self._ascii = None if self._all_ascii else [line.isascii() for line in self.lines]

    def offset(self, lineno: int, col_bytes: int) -> int:
        if lineno > len(self.lines):
            return self.length
        index = lineno - 1
        if self._all_ascii or self._ascii[index]:
            return self.starts[index] + col_bytes
        line = self.lines[index]
        return self.starts[index] + len(line.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))

    def line_of(self, offset: int) -> int:
        """1-based line containing the text offset."""
        return max(1, bisect_right(self.starts, offset))

    def indentation(self, lineno: int) -> str:
        line = self.lines[lineno - 1] if lineno <= len(self.lines) else ""
        return line[: len(line) - len(line.lstrip(" \t\f"))]

    def line_text(self, lineno: int) -> str:
        return self.lines[lineno - 1] if lineno <= len(self.lines) else ""
