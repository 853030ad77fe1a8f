"""Step `strings`: move string references to legacy paths: patch targets, monkeypatch.setattr, import strings.

`patch("legacy.module.Name")` moves to the canonical path when the canonical module has
the name; `patch("pkg.consumer.name")` follows that consumer's own rewrite (known from the
plan over the whole change set). Strings that only make sense in the legacy layout
(`sys.modules[...]`, a legacy module's own name, source text quoting an import) are
reported, not edited.
"""

from __future__ import annotations

import re

from ..analysis import StringRef
from ..context import FileContext
from ..findings import LEGACY_LAYOUT_TEST, NOT_EXPORTED, STRING_NOT_LITERAL, STRING_OUTSIDE_PATCH, STRING_UNMAPPED_NAME
from ..steps import FIXTURES, Step
from .base import Command

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
PATCH_CALLS = ("patch", "setattr", "import_module", "patch.dict", "patch.multiple")


def _is_patch_call(callee: str | None) -> bool:
    if not callee:
        return False
    return any(callee == name or callee.endswith("." + name) for name in PATCH_CALLS)


class StringReferencesCommand(Command):
    DESCRIPTION = (
        "Rewrite `patch(\"a.b.Name\")`, `monkeypatch.setattr(\"...\")` and `importlib.import_module(\"...\")` "
        "targets on legacy paths to the canonical path, and consumer-namespace targets to follow that "
        "consumer's rewrite; report strings that assert the legacy layout."
    )

    def transform(self, context: FileContext) -> None:
        for reference in context.facts.strings:
            self.reference(context, reference)

    def reference(self, context: FileContext, reference: StringRef) -> None:
        config = context.config
        value = reference.value
        if not _DOTTED.match(value):
            if any(m in value for m in config.legacy_modules):
                legacy = next(m for m in sorted(config.legacy_modules, key=len, reverse=True) if m in value)
                if re.search(r"(?<![\w.])" + re.escape(legacy) + r"(?![\w])", value):
                    context.edits.report(LEGACY_LAYOUT_TEST, reference.line, f"string mentions legacy module {legacy} in text "
                                      "(exec/source scan/message); not edited")
            return
        parts = value.split(".")
        derived = context.targets.derived_map()
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if cut == len(parts):
                if module in config.legacy_modules:
                    self.legacy_module_string(context, reference, module)
                    return
                continue
            if module in config.legacy_modules or module == config.canonical_module:
                self.legacy_path(context, reference, module, parts[cut:])
                return
            if _is_patch_call(reference.call):
                context.depends_on.add((module, parts[cut]))
                target = derived.get((module, parts[cut]))
                if target is not None:
                    self.replace(context, reference, ".".join([module, target, *parts[cut + 1:]]),
                                 f"follows {module}'s rewrite")
                    return

    def legacy_path(self, context: FileContext, reference: StringRef, module: str, rest: list[str]) -> None:
        config = context.config
        name = rest[0]
        exports = context.targets.canonical_exports
        if module == config.canonical_module:
            target = config.aliases.get(name)
            if target is None or not context.targets.collapse_allowed or target not in exports:
                return
        else:
            legacy = config.legacy_modules[module]
            if name not in legacy.names:
                if legacy.retire:
                    context.edits.report(STRING_UNMAPPED_NAME, reference.line, f"string target {reference.value} names {name}, which the "
                                      f"configuration does not map from {module}; not edited")
                return
            target = config.canonical_name_for(name)
            if name in exports and not (context.targets.collapse_allowed and name in config.aliases):
                target = name
            if target not in exports:
                context.edits.report(NOT_EXPORTED, reference.line, f"string target {reference.value}: {config.canonical_module} does "
                                  f"not export {target}; not edited")
                return
        if reference.call and reference.call.startswith("sys.modules"):
            context.edits.report(LEGACY_LAYOUT_TEST, reference.line, f"sys.modules[{reference.value!r}] manipulates the legacy layout; "
                              "not edited")
            return
        if not _is_patch_call(reference.call):
            context.edits.report(STRING_OUTSIDE_PATCH, reference.line, f"string {reference.value!r} names a legacy path outside a patch or "
                              "import call; not edited")
            return
        self.replace(context, reference, ".".join([config.canonical_module, target, *rest[1:]]), "legacy path")

    def legacy_module_string(self, context: FileContext, reference: StringRef, module: str) -> None:
        if reference.call and reference.call.startswith("sys.modules"):
            reason = f"{reference.call}[{module!r}] manipulates the legacy layout"
        elif reference.call and reference.call.endswith("import_module"):
            reason = f"imports legacy module {module} by name; the module object's uses cannot be checked"
        else:
            reason = f"string names legacy module {module} (a test of the legacy layout?)"
        context.edits.report(LEGACY_LAYOUT_TEST, reference.line, f"{reason}; not edited")

    def replace(self, context: FileContext, reference: StringRef, new_value: str, why: str) -> None:
        if reference.span is None:
            context.edits.report(STRING_NOT_LITERAL, reference.line, f"string {reference.value!r} is not a plain literal; "
                              f"change it to {new_value!r} by hand")
            return
        context.edits.replace(*reference.span, new_value, f"{reference.value} -> {new_value} ({why})")


STEP = Step(
    name="strings",
    title="Move string references (patch targets, import strings) to {canonical}",
    description=StringReferencesCommand.DESCRIPTION,
    command=StringReferencesCommand,
    names=lambda config: set(),
    examples=FIXTURES / "strings",
)
