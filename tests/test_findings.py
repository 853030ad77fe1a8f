"""Finding codes: a closed set (the core's and the steps'), each documented in docs/codes.md, each code the engine uses registered."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from migrate_ws import findings
from migrate_ws.findings import CODES, Code, Finding
from migrate_ws.steps import all_steps

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "migrate_ws"


def codes_used_by_the_engine() -> set[str]:
    """Every finding-code constant the package's modules import from `findings`."""
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("findings"):
                used.update(alias.name for alias in node.names if alias.name.isupper())
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "findings" \
                    and node.attr.isupper():
                used.add(node.attr)
    return used


def test_every_code_the_engine_uses_is_registered() -> None:
    used = codes_used_by_the_engine()
    assert used, "the engine reports nothing with a code?"
    for name in used - {"CODES", "BY_NAME"}:  # the registry itself
        value = getattr(findings, name, None)
        assert isinstance(value, Code), f"{name} is not a finding code"
        assert value.code in CODES


def test_a_step_declares_the_codes_only_it_reports() -> None:
    """The table is the core's codes and every step's; a step's codes are its own (no other module reports them)."""
    declared = {entry.code: step.name for step in all_steps() for entry in step.codes}
    assert declared["MW301"] == "factory" and declared["MW201"] == "aliases"
    core = {entry.code for entry in vars(findings).values() if isinstance(entry, Code)}
    assert not core & set(declared), "a code is declared twice"
    assert set(CODES) == core | set(declared)
    assert "MW101" in core  # reported by two steps: declared in the core
    # the table and the registry sit below the steps: they name step modules only as strings to load
    for name in ("findings.py", "steps.py", "config.py"):
        text = (PACKAGE / name).read_text(encoding="utf-8")
        assert "migrate_ws.codemods" not in text.replace('"migrate_ws.codemods.', "") and "from .codemods" not in text \
            and "from ..codemods" not in text, f"{name}: imports a step"


def test_the_code_table_in_the_docs_lists_every_code() -> None:
    table = (REPO / "docs" / "codes.md").read_text(encoding="utf-8")
    rows = {match.group(1): match.group(2) for match in re.finditer(r"^\| (MW\d{3}) \| ([a-z0-9-]+) \|", table, re.M)}
    assert set(rows) == set(CODES), f"docs/codes.md table differs: missing {set(CODES) - set(rows)}, extra {set(rows) - set(CODES)}"
    for code, name in rows.items():
        assert CODES[code].name == name


def test_codes_are_stable_in_shape() -> None:
    for code in CODES.values():
        assert re.fullmatch(r"MW\d{3}", code.code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code.name)
        assert code.summary and code.fix


def test_a_finding_with_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError):
        Finding("MW000", "a.py", 1, "nothing")
    finding = Finding("MW101", "a.py", 3, "X is not exported")
    assert finding.render() == "a.py:3: MW101 X is not exported"
    assert finding.to_json()["name"] == "not-exported"
