"""The migration's steps, one module each (see `migrate_ws.steps` for the registry).

Each module declares `STEP`: the per-file steps an `XxxCommand` with a DESCRIPTION, the
legacy-modules step a repository-level planner.
"""

from pathlib import Path

# Each built-in step's examples: package data, so they work from an installed wheel too.
EXAMPLES = Path(__file__).resolve().parent / "examples"
