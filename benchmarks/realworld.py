#!/usr/bin/env python3
"""Migrate real projects from the package index and run their own tests before and after.

    python benchmarks/realworld.py [--only NAME] [--keep] [--workdir DIR]

Opt-in: it downloads each project's sdist from the package index at run time (nothing of them
is kept in this repository), so it is not part of the default test run nor of .ci/run, and it
needs the package index to be reachable.

For each configuration in benchmarks/realworld/ (one TOML per project: its name, version, what
its tests need, the test runner's arguments under [realworld], and the migration under
[tool.migrate-ws]) it

1. downloads the sdist (`pip download --no-binary :all: --no-deps NAME==VERSION`), unpacks it
   and commits it in a fresh git repository;
2. makes one virtual environment for the project and installs what its tests need there;
3. runs the project's tests (pytest, or unittest where configured), migrates it with `migrate-ws --apply --config TOML`, and
   runs the same tests again in the same environment;
4. runs pyflakes on every file the branch changed, before and after, and counts the names
   reported undefined after that were not before (as benchmarks/run.py does).

It prints one table: project, version, files changed, findings, tests passing before and
after, new undefined names, and the files the binding check left unchanged (MW704).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from run import new_undefined_names  # noqa: E402  (same directory)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CONFIGURATIONS = HERE / "realworld"
PASSED = re.compile(r"(\d+) passed")


@dataclass
class Outcome:
    project: str
    version: str
    files_changed: int | str = "-"
    findings: int | str = "-"
    passed_before: int | str = "-"
    passed_after: int | str = "-"
    new_undefined: int | str = "-"
    rejected: int | str = "-"
    notes: list[str] = field(default_factory=list)


def run(command: list[str], cwd: Path | None = None, timeout: float = 1800, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise RuntimeError(f"{' '.join(command[:4])} ... exited {done.returncode}: {' | '.join(tail)}")
    return done


def fetch(project: str, version: str, into: Path) -> Path:
    """The unpacked sdist of PROJECT==VERSION, committed in its own git repository."""
    downloads = into / "downloads"
    run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--quiet",
         f"{project}=={version}", "-d", str(downloads)])
    archive = next(path for path in downloads.iterdir() if path.name.endswith((".tar.gz", ".zip")))
    source = into / "source"
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(source)
    (top,) = [path for path in source.iterdir() if path.is_dir()]
    identity = ["-c", "user.name=realworld", "-c", "user.email=realworld@localhost", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], [*identity, "commit", "-q", "-m", "sdist"]):
        run(["git", *command], cwd=top)
    return top


def environment(into: Path, requires: list[str]) -> Path:
    """One virtual environment with what the project's tests need; its python."""
    folder = into / "venv"
    venv.EnvBuilder(with_pip=True).create(folder)
    python = folder / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", *requires], timeout=3600)
    return python


def passing(python: Path, source: Path, tests: list[str], runner: str = "pytest") -> tuple[int, str]:
    """How many of the project's tests pass (in the unpacked sdist), and the runner's last words:
    pytest, or unittest for a suite pytest cannot collect (nose-style generator tests)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    if runner == "unittest":
        done = run([str(python), "-m", "unittest", *tests], cwd=source, env=env, check=False, timeout=3600)
        text = done.stderr.strip()
        ran = re.search(r"Ran (\d+) tests?", text)
        failed = sum(int(count) for count in re.findall(r"(?:failures|errors)=(\d+)", text))
        last = " ".join(line for line in text.splitlines()[-3:] if line.strip())
        return (int(ran.group(1)) - failed if ran else 0), last
    done = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *tests], cwd=source,
               env=env, check=False, timeout=3600)
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    found = PASSED.search(last)
    return (int(found.group(1)) if found else 0), last


def migrate(configuration: Path, source: Path) -> dict:
    """`migrate-ws --apply --json` with the project's configuration; its JSON report."""
    done = run([sys.executable, "-m", "migrate_ws", "--apply", "--json", "--branch", "migrated", "--config",
                str(configuration), "-C", str(source)], check=False, timeout=3600,
               env={**os.environ, "MIGRATE_WS_CACHE_DIR": str(source.parent / "cache"),
                    "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    if done.returncode not in (0, 3):
        raise RuntimeError(f"migrate-ws --apply exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return json.loads(done.stdout)


def one(configuration: Path, workdir: Path) -> Outcome:
    settings = tomllib.loads(configuration.read_text(encoding="utf-8"))["realworld"]
    outcome = Outcome(settings["project"], settings["version"])
    into = workdir / outcome.project
    into.mkdir(parents=True)
    started = time.monotonic()
    source = fetch(outcome.project, outcome.version, into)
    python = environment(into, settings["requires"])
    runner = settings.get("runner", "pytest")
    outcome.passed_before, before_line = passing(python, source, settings["tests"], runner)
    report = migrate(configuration, source)
    run(["git", "checkout", "-q", "migrated"], cwd=source, check=False)
    changed = {path for step in report.get("steps", []) for path in step.get("files", [])}
    outcome.files_changed = len(changed)
    outcome.findings = len(report.get("findings", []))
    outcome.rejected = sum(1 for item in report.get("not_processed", []) if item.get("code") == "MW704")
    outcome.passed_after, after_line = passing(python, source, settings["tests"], runner)
    branched = run(["git", "rev-parse", "--verify", "-q", "migrated"], cwd=source, check=False).returncode == 0
    # nothing applied (every change left out): no branch, nothing new
    total, files, compared, examples = new_undefined_names(str(source)) if branched else (0, 0, 0, [])
    outcome.new_undefined = total
    outcome.notes += [f"tests before: {before_line}", f"tests after: {after_line}",
                      f"pyflakes compared {compared} changed files" + (f"; {'; '.join(examples)}" if examples else ""),
                      *(f"not processed: {item['path']}: {item['code']} {item['reason']}"
                        for item in report.get("not_processed", [])),
                      f"took {time.monotonic() - started:.0f} s"]
    return outcome


def table(outcomes: list[Outcome]) -> str:
    head = ("project", "version", "files changed", "findings", "tests passing before", "after",
            "new undefined names", "left unchanged (MW704)")
    rows = [head] + [(o.project, o.version, str(o.files_changed), str(o.findings), str(o.passed_before),
                      str(o.passed_after), str(o.new_undefined), str(o.rejected)) for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=(
                                         "Opt-in: downloads sdists from the package index at run time; not part of "
                                         "the default test run nor of .ci/run."))
    parser.add_argument("--only", action="append", help="run only this project (repeatable)")
    parser.add_argument("--workdir", help="work here instead of a temporary directory (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    configurations = sorted(CONFIGURATIONS.glob("*.toml"))
    if args.only:
        configurations = [c for c in configurations if c.stem in set(args.only)]
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="migrate-ws-realworld-"))
    workdir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    try:
        for configuration in configurations:
            print(f"[realworld] {configuration.stem}", file=sys.stderr, flush=True)
            try:
                outcomes.append(one(configuration, workdir))
            except Exception as exc:  # one project failing to build or run does not hide the others
                failed = Outcome(configuration.stem, "?")
                failed.notes.append(f"not measured: {type(exc).__name__}: {exc}")
                outcomes.append(failed)
    finally:
        if not (args.keep or args.workdir):
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"migrate-ws on real projects ({time.strftime('%Y-%m-%d', time.gmtime())}, Python "
          f"{sys.version_info.major}.{sys.version_info.minor}): mock -> unittest.mock\n")
    print(table(outcomes))
    for outcome in outcomes:
        for note in outcome.notes:
            print(f"note: {outcome.project}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
