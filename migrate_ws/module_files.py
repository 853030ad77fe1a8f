"""Where a module of the repository is: its file, by its dotted name (a leaf: no import from the package)."""

from __future__ import annotations

from pathlib import Path


def module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    # src-layout repositories keep packages under src/
    src = root / "src"
    if src.is_dir():
        return module_file(src, module) if root.name != "src" else None
    return None
