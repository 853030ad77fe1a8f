"""The engine is generic: the netra migration lives in its preset (configuration), nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "migrate_ws"


def test_no_netra_websocket_or_user_context_wording_outside_the_presets() -> None:
    wording = re.compile(r"netra|websocket|user_context", re.IGNORECASE)
    data = {"presets", "examples"}  # a preset, and the steps' examples (code written for the netra preset)
    found = [f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py")) if not data & set(path.relative_to(PACKAGE).parts)
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if wording.search(line)]
    assert found == []
