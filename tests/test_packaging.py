"""The steps' examples ship inside the package: a wheel holds every file of every step's examples folder."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from migrate_ws.steps import all_steps

REPO = Path(__file__).resolve().parent.parent


def built_files(tmp_path: Path) -> set[str]:
    """The package's files as a build would install them (paths relative to site-packages): a real wheel when
    the `wheel` package is there (offline: no build isolation), else setuptools' build_py with the same
    configuration (package data is decided there)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "migrate_ws", source / "migrate_ws", ignore=shutil.ignore_patterns("__pycache__"))
    if importlib.util.find_spec("wheel") is not None:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                        "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
        (wheel,) = (tmp_path / "dist").glob("*.whl")
        return set(zipfile.ZipFile(wheel).namelist())
    build = tmp_path / "build"
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib",
                    str(build)], cwd=source, check=True, capture_output=True)
    return {path.relative_to(build).as_posix() for path in build.rglob("*") if path.is_file()}


def test_the_package_holds_every_steps_examples(tmp_path: Path) -> None:
    files = built_files(tmp_path)
    package = REPO / "migrate_ws"
    expected = set()
    for step in all_steps():
        if step.examples is None:
            continue
        assert package in step.examples.parents, f"{step.name}'s examples are outside the package"
        # the folder's files and the configuration above them (the nearest migrate-ws.toml)
        for path in [*step.examples.rglob("*"), *step.examples.parent.glob("*.toml")]:
            if path.is_file() and "__pycache__" not in path.parts:
                expected.add(path.relative_to(REPO).as_posix())
    assert expected
    assert not expected - files, f"missing from the package: {sorted(expected - files)[:5]}"
