"""The `migrate-ws` command line (the only part that talks to the terminal and to git)."""

from .app import app, main

__all__ = ["app", "main"]
