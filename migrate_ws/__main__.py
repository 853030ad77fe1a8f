"""`python -m migrate_ws` and the `migrate-ws` console script."""

import gc
import sys


def main() -> None:
    # A run builds many objects (modules, classes, the plan) that live until it ends; with the
    # default thresholds the collector walks them again every few hundred allocations, a tenth
    # of a one-file --check. Raised before the command line is imported (mypy does the same).
    gc.set_threshold(100_000, 50, 100)
    try:
        from .cli import main as run
    except KeyboardInterrupt:  # interrupted while starting: nothing was written yet
        sys.stderr.write("migrate-ws: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
