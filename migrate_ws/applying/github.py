"""`--open-pr`: `gh pr create`."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .ui import UI


@dataclass
class CreatedPR:
    """What `gh pr create` did: opened the PR (its address), could not be run, or failed."""

    opened: str | None = None
    unrunnable: str | None = None  # why gh could not be run
    failed: str | None = None  # the last line gh printed, or its exit code


def gh_pr_create(ui: UI, gh: str, arguments: list[str], cwd: Path) -> CreatedPR:
    """Run `gh pr create ARGUMENTS` (said on stderr first)."""
    command = ["pr", "create", *arguments]
    ui.note("opening the PR: " + " ".join(shlex.quote(part) for part in command))
    try:
        result = subprocess.run([gh, *command], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                errors="replace", timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CreatedPR(unrunnable=str(exc))
    if result.returncode != 0:
        return CreatedPR(failed=(result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1])
    return CreatedPR(opened=result.stdout.strip())
