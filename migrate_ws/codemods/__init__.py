"""The migration's steps, one module each (see `migrate_ws.steps` for the registry).

Each module declares `STEP`: the per-file steps an `XxxCommand` with a DESCRIPTION, the
legacy-modules step a repository-level planner.
"""
