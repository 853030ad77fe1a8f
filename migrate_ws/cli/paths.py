"""`migrate-ws [OPTIONS] [PATH]...` next to `migrate-ws COMMAND [ARGS]...` on one typer app.

click treats the first argument after a group's options as a subcommand's name, so
`migrate-ws --check a.py` would be "No such command 'a.py'". This group looks at the first
argument that is not an option (parsing the options without side effects, so an option's
value is never mistaken for it): when it names a subcommand (`audit`), the command line is
parsed as click always does; otherwise every argument that is not an option is a PATH,
options may come before or after the paths (`migrate-ws a.py --check`), and the main
command reads them with `given_paths(ctx)`. A file whose name is a subcommand's is written
`./audit`. `--` ends the options: what follows is paths only.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

PATHS_KEY = "migrate_ws.paths"


def given_paths(ctx: Any) -> list[str]:
    """The PATH arguments of the main command (empty: the whole repository)."""
    return list(ctx.meta.get(PATHS_KEY, []))


class PathsGroup(TyperGroup):
    def _first_argument(self, ctx: Any, args: list[str]) -> str | None:
        parser = self.make_parser(ctx)
        parser.allow_interspersed_args = False
        try:
            _, positional, _ = parser.parse_args(args=list(args))
        except Exception:  # a usage error: the ordinary parse reports it
            return None
        return positional[0] if positional else None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        first = self._first_argument(ctx, args)
        if first is None or first in self.commands:
            return super().parse_args(ctx, args)
        # paths: a plain command whose extra arguments are the paths (options anywhere)
        ctx.allow_interspersed_args = True
        rest = super(TyperGroup, self).parse_args(ctx, args)
        ctx.meta[PATHS_KEY] = list(rest)
        ctx.args = []
        ctx._protected_args = []
        return []

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        if pieces and pieces[-1] == self.subcommand_metavar:
            pieces[-1] = f"[PATH]... | {self.subcommand_metavar}"
        return pieces
