"""The binding check's shortcuts read less than the whole file, and still reject what they must.

Each shortcut (`binding_check.py`) is shown here on the kind of change it could hide if it were
wrong: a name found only as a whole word, builtins bound only for the names asked about,
fallback imports looked for in the rewrite only when the original has some.
"""

from __future__ import annotations

import ast

import pytest

from migrate_ws.binding_check import _mentioned_lines, _spliced, lost_bindings, unbound_names
from migrate_ws.editing import splice
from migrate_ws.model import Edit
from migrate_ws.source import LineIndex


def rewrite(before: str, *replacements: tuple[str, str]) -> tuple[str, list[Edit]]:
    edits = []
    for old, new in replacements:
        start = before.index(old)
        edits.append(Edit(start, start + len(old), new, "imports", before.count("\n", 0, start) + 1, "test edit"))
    edits.sort(key=lambda edit: edit.start)
    return splice(before, edits), edits


def lost(before: str, *replacements: tuple[str, str], filename: str = "app/module.py"):
    after, edits = rewrite(before, *replacements)
    return [(item.name, item.line, item.kind) for item in lost_bindings(before, ast.parse(before), after, filename,
                                                                        edits)]


def test_a_name_is_found_as_a_whole_word_only_wherever_it_stands() -> None:
    text = ("import mock\n"  # 1
            "mockery = 1\n"  # 2: within a longer word
            "x = a_mock\n"  # 3: ends a longer word
            "y = (mock)\n"  # 4
            "é_mock = 2; mockλ = 3\n"  # 5: non-ASCII word characters around it
            "'mock'")  # 6: the last characters of the text, in a string
    assert _mentioned_lines(text, LineIndex(text), frozenset({"mock"})) == [1, 4, 6]
    # an occurrence within a longer word does not hide a whole-word one right after it
    text = "mockmock\nmock mock\n"
    assert _mentioned_lines(text, LineIndex(text), frozenset({"mock"})) == [2]


def test_a_function_naming_a_touched_name_in_a_string_annotation_is_still_read() -> None:
    before = "import mock\n\n\ndef f(p: 'mock.Mock'):\n    return p\n"
    assert lost(before, ("import mock\n", "import os\n")) == [("mock", 4, "undefined")]


def test_builtins_among_the_names_stay_bound_the_others_are_not_asked_about() -> None:
    tree = ast.parse("print(len(items))\n")
    assert [use.name for use in unbound_names(tree, "m.py", frozenset({"len", "items", "print"}))] == ["items"]
    # what pyflakes reports of the names asked about is what it reports of them with every builtin bound
    for source in ("def f():\n    n = len(x)\n    len = 3\n    return n, len\n",
                   "from os import *\nprint(path, open, sep)\n", "del print\nprint(x)\n",
                   "class C:\n    print = print\n    def m(self):\n        return print, Manager\n"):
        for names in (frozenset({"len", "x"}), frozenset({"print", "open", "path"}), frozenset({"Manager", "x"}),
                      frozenset({"l", "x"})):  # what pyflakes calls a builtin used before a local assignment
            everything = unbound_names(ast.parse(source), "m.py")
            assert unbound_names(ast.parse(source), "m.py", names) == [use for use in everything if use.name in names]
    # an `__all__` listing a builtin and an unbound touched name: the touched name only
    tree = ast.parse("__all__ = ['len', 'Manager']\n")
    assert [use.name for use in unbound_names(tree, "m.py", frozenset({"Manager"}))] == ["Manager"]


def test_a_fallback_import_removed_from_a_nested_handler_is_still_found() -> None:
    before = ("def load():\n"
              "    try:\n"
              "        from unittest import mock\n"
              "    except ImportError:\n"
              "        if True:\n"
              "            pass\n"
              "        else:\n"
              "            import mock\n"
              "    return mock.patch\n")
    assert lost(before, ("            import mock\n", "            pass\n")) == [
        ("mock", 8, "bound by no import on another path any more (an except handler or an else branch)")]


# (original, (old, new) replacements): rewrites that keep the number of lines, so the rewrite's
# tree is made of the original's untouched module-level statements and the touched ones parsed again
SAME_LINES = [
    ("import mock\n\n\ndef f():\n    return mock.patch\n", (("import mock", "import os"),)),
    ("import mock\nimport os\n", (("import mock", "import os; import mock"),)),
    ("class C:\n    import mock\n\n    def m(self):\n        return mock\n\n\ndef g():\n    return mock\n",
     (("    import mock", "    import json"),)),
    ("import mock\nvalue = 1\n+ mock.VALUE\n", (("value = 1", "value = 1 \\"), ("import mock", "import os"))),
    ("import mock\nvalue = (1)\nprint(mock)", (("(1)", "(mock)"), ("print(mock)", "print(None)"))),
    ("# café\nimport mock  # é\nx = 'é'; y = mock\n", (("import mock", "import ümock"),)),
    ("@decorate(mock)\ndef f():\n    pass\nimport mock\n", (("import mock", "import mock as m"),)),
]


@pytest.mark.parametrize("before,replacements", SAME_LINES)
def test_the_rewrite_tree_made_of_the_original_reads_as_the_whole_rewrite_parsed(before, replacements) -> None:
    after, edits = rewrite(before, *replacements)
    whole = lost_bindings(before, ast.parse(before), after, "m.py", edits, ast.parse(after))
    assert lost_bindings(before, ast.parse(before), after, "m.py", edits) == whole


def test_the_original_statements_are_reused_only_when_the_touched_ones_parse_alone() -> None:
    before = "import mock\nvalue = 1\n+ mock.VALUE\n"
    for replacements, reused in (((("import mock", "import os"),), True),
                                 ((("value = 1", "value = 1 \\"),), False),  # read with the line after it
                                 ((("import mock", "import os\n"),), False)):  # a line more
        after, edits = rewrite(before, *replacements)
        index = LineIndex(before)

        def rewritten(offset: int) -> int:
            return offset + sum(len(edit.text) - (edit.end - edit.start) for edit in edits if edit.start < offset)

        def text_of(start: int, end: int | None) -> str:
            return after[rewritten(start):len(after) if end is None else rewritten(end)]

        spliced = _spliced(ast.parse(before), index, before, after, "m.py", edits, text_of)
        assert (spliced is not None) is reused
        if reused:
            assert ast.dump(spliced) == ast.dump(ast.parse(after))
