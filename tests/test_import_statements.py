"""Import statements rewritten without LibCST give exactly LibCST's text, or are left to LibCST.

Every combination below of a statement's layout and a rewrite (the source module replaced,
names renamed, given or dropped an `as` name, names removed) is rewritten both ways; where the
in-place rewrite answers, its text must equal LibCST's."""

from __future__ import annotations

import itertools

import pytest

from migrate_ws.import_statements import AliasSpec, _in_place_rewrite, libcst_rewrite, rewrite_statement

HEADS = ["from pkg.legacy import", "from .legacy import", "from ..pkg.legacy import", "from . import",
         "from  pkg.legacy  import", "from\tpkg.legacy import"]
NAMES = [("Alpha", None), ("Beta", "B"), ("Gamma", None), ("delta_x", "dx")]


def alias_text(name: str, asname: str | None, spacing: str = " ") -> str:
    return name if asname is None else f"{name}{spacing}as{spacing}{asname}"


def layouts(names: list[tuple[str, str | None]]) -> dict[str, str]:
    texts = [alias_text(n, a) for n, a in names]
    return {
        "black": "(\n" + "".join(f"    {t},\n" for t in texts) + ")",
        "black with comments": "(  # opening\n" + "".join(f"    {t},  # about {t}\n" for t in texts) + ")",
        "black, CRLF": "(\r\n" + "".join(f"    {t},\r\n" for t in texts) + ")",
        "no trailing comma": "(\n" + ",\n".join(f"    {t}" for t in texts) + "\n)",
        "one line in parentheses": "(" + ", ".join(texts) + ")",
        "two per line": "(\n    " + ",\n    ".join(", ".join(texts[i:i + 2]) for i in range(0, len(texts), 2)) + ",\n)",
        "comment line inside": "(\n    # legacy names\n" + "".join(f"    {t},\n" for t in texts) + ")",
        "blank line inside": "(\n" + "".join(f"    {t},\n\n" for t in texts) + ")",
        "closing on the last name": "(\n" + "".join(f"    {t},\n" for t in texts[:-1]) + f"    {texts[-1]})",
        "odd spacing around as": "(\n" + "".join(f"    {alias_text(n, a, '  ')},\n" for n, a in names) + ")",
        # a form feed is whitespace to Python, not the end of a line (str.splitlines would split there)
        "form feed before the names": "(\n" + "".join(f"\x0c    {t},\n" for t in texts) + ")",
        "form feed before the first name": "(\n\x0c" + "".join(f"    {t},\n" for t in texts) + ")",
        "form feed in comments": "(\n" + "".join(f"    {t},  # a\x0cb\n" for t in texts) + ")",
    }


MODULES = [(None, None), ("canon.module", 0), ("canon", 1), (None, 2), ("a.b", 3)]


def rewrites(names: list[tuple[str, str | None]]):
    count = len(names)
    for kept in itertools.chain.from_iterable(itertools.combinations(range(count), k) for k in range(1, count + 1)):
        for change in ("same", "rename", "drop as", "add as", "change as"):
            specs = []
            for position in kept:
                name, asname = names[position]
                if change == "rename" and position == kept[0]:
                    name = "Renamed"
                elif change == "drop as" and asname is not None:
                    asname = None
                elif change == "add as" and asname is None and position == kept[-1]:
                    asname = "Added"
                elif change == "change as" and asname is not None:
                    asname = asname + "2"
                specs.append((position, AliasSpec(name, asname)))
            yield specs


CASES = []
for size in (1, 2, 4):
    names = NAMES[:size]
    for head, (layout, body) in itertools.product(HEADS, layouts(names).items()):
        for specs in rewrites(names):
            for module, level in MODULES:
                CASES.append((f"{head} {body}", module, level, specs))


def test_the_in_place_rewrite_gives_libcst_s_text_wherever_it_answers() -> None:
    answered = 0
    for code, module, level, specs in CASES:
        in_place = _in_place_rewrite(code, module, level, specs)
        if in_place is None:
            continue
        answered += 1
        assert in_place == libcst_rewrite(code, module, level, specs), (code, module, level, specs)
    assert answered > len(CASES) // 4, "the in-place rewrite should answer the common layouts"


@pytest.mark.parametrize("code, module, level, specs, answers", [
    ("from a.legacy import (\n    A,\n    B,\n)", "a.canonical", 0, [(0, AliasSpec("A", None)), (1, AliasSpec("B", None))], True),
    ("from a.legacy import (\n    A,\n    B,\n)", None, None, [(1, AliasSpec("B", None))], True),
    ("from a.legacy import (\n    A,\n    B,\n)", None, None, [(0, AliasSpec("Z", None)), (1, AliasSpec("B", None))], True),
    # a name added, a name moved, a star, or a layout the in-place rewrite does not know: LibCST
    ("from a.legacy import (\n    A,\n    B,\n)", None, None, [(0, AliasSpec("A", None)), (-1, AliasSpec("C", None))], False),
    ("from a.legacy import (\n    A,\n    B,\n)", None, None, [(1, AliasSpec("B", None)), (0, AliasSpec("A", None))], False),
    ("from a.legacy import (\n    A,\n    B\n)", None, None, [(0, AliasSpec("A", None))], False),
    ("from a.legacy import (\n    A,  # é\n    B,\n)", None, None, [(0, AliasSpec("A", None))], False),
    ("import a.b, \\\n    c.d", None, None, [(0, AliasSpec("a.b", None))], False),
])
def test_which_statements_are_rewritten_in_place(code, module, level, specs, answers) -> None:
    assert (_in_place_rewrite(code, module, level, specs) is not None) == answers
    assert rewrite_statement(code, module, level, specs) == libcst_rewrite(code, module, level, specs)


@pytest.mark.parametrize("layout", ["black", "no trailing comma, a comment"])
def test_a_multi_line_import_in_a_crlf_file_keeps_crlf(layout: str) -> None:
    """Both ways (in place, and LibCST for the layout it is left to) write the file's own line endings."""
    from migrate_ws.config import load_preset
    from migrate_ws.testing import fixture_targets, run_codemod

    names = ["UnifiedWebSocketManager,", "get_websocket_manager,", "WebSocketManagerMode,"]
    if layout != "black":
        names = ["UnifiedWebSocketManager,  # the old name", "get_websocket_manager,", "WebSocketManagerMode"]
    before = ("from netra_backend.app.websocket_core.manager import (\r\n"
              + "".join(f"    {name}\r\n" for name in names) + ")\r\n\r\nx = UnifiedWebSocketManager\r\n")
    outcome = run_codemod(before, "app/consumer.py", fixture_targets(load_preset("netra")))
    assert "websocket_core.websocket_manager import (" in outcome.text
    assert "\n" not in outcome.text.replace("\r\n", "")
