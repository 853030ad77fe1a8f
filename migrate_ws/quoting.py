"""File names in the output written as git writes them, so that no name breaks a line or a patch.

A file name may hold any byte but `/` and NUL: a tab, a newline, a quote, a backslash, bytes
that are not UTF-8. Git quotes such a name C-style (quote.c, `quote_c_style`): in double quotes,
with `\\a \\b \\t \\n \\v \\f \\r \\" \\\\` and three-digit octal for any other control byte and, with
the default `core.quotePath`, for every byte from 0x80 (`"caf\\303\\251.py"`); other names are
written as they are.

- `git_quoted`: exactly git's default rules, for what git reads back (patch headers, which
  `git apply` parses, and paths in a `git fast-import` stream).
- `display_path`: for text people read (`path:line: CODE message`, summaries, PR descriptions):
  as git writes a name with `core.quotePath=false` (non-ASCII letters kept as they are), but a
  control or line-separator character, or a byte that is not UTF-8, still quoted, so a name
  never ends a line early.

JSON carries the raw name; GitHub workflow commands and SARIF escape as their formats require
(`output_formats.py`).
"""

from __future__ import annotations

import unicodedata

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
            '"': '\\"', "\\": "\\\\"}
# kept as they are in `display_path` unless they are one of these: control, line and paragraph
# separators (str.splitlines ends a line at U+0085, U+2028, U+2029), lone surrogates
_UNPRINTABLE = frozenset({"Cc", "Zl", "Zp", "Cs"})


def _octal(data: bytes) -> str:
    return "".join(f"\\{byte:03o}" for byte in data)


def _quote(path: str, prefix: str, non_ascii: bool) -> str:
    if path.isascii() and path.isprintable() and '"' not in path and "\\" not in path:
        return prefix + path  # nearly every name
    out: list[str] = []
    quoted = False
    for char in path:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(_octal(bytes([code])))
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as the file system decoding keeps it
            out.append(_octal(bytes([code - 0xDC00])))
        elif code >= 0x80 and (non_ascii or unicodedata.category(char) in _UNPRINTABLE):
            out.append(_octal(char.encode("utf-8", "surrogatepass")))
        else:
            out.append(char)
            continue
        quoted = True
    text = "".join(out)
    return f'"{prefix}{text}"' if quoted else prefix + text


def git_quoted(path: str, prefix: str = "") -> str:
    """`prefix + path` as git writes it with the default `core.quotePath` (`"a/tab\\there.py"`)."""
    return _quote(path, prefix, non_ascii=True)


def display_path(path: str) -> str:
    """`path` as git writes it with `core.quotePath=false`, control characters always escaped."""
    return _quote(path, "", non_ascii=False)
