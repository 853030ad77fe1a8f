"""The interface every codemod implements."""

from __future__ import annotations

from typing import ClassVar

from ..context import FileContext


class Command:
    DESCRIPTION: ClassVar[str] = ""
    STEP: ClassVar[str] = ""

    def applies(self, context: FileContext) -> bool:
        return self.STEP in context.steps

    def transform(self, context: FileContext) -> None:  # pragma: no cover - interface
        raise NotImplementedError
