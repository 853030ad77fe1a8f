"""The interface every per-file codemod implements.

`transform` reads the shared `FileContext` (what names are bound to, the configuration),
queues import changes through `context.statements`, and adds edits and findings through
`context.edits`, which tags them with the running step. It never raises for a file it
cannot handle: what it cannot rewrite safely becomes a finding with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..context import FileContext


class Command:
    DESCRIPTION: ClassVar[str] = ""

    def applies(self, context: FileContext) -> bool:
        return True

    def transform(self, context: FileContext) -> None:  # pragma: no cover - interface
        raise NotImplementedError
