"""Step `strings`: move string references to legacy paths: patch targets, monkeypatch.setattr, import strings.

`patch("legacy.module.Name")` moves to the canonical path when the canonical module has
the name; `patch("pkg.consumer.name")` follows that consumer's own rewrite (known from the
plan over the whole change set). What cannot be rewritten is reported, never edited, by
what it is: a string used as a module path (`sys.modules[...]`, `importlib`, `exec`, a list
of module names a test imports) is a follow-up (MW404); a test asserting on a legacy
module's name or on source text is a legacy-layout test (MW108); free text that mentions a
legacy path (a message, a docstring-like string, example import lines) is a note (MW405),
since nobody has anything to do about it. Whether a path goes through a legacy module at all
is `legacy_paths`'s rule: below a legacy package, only the package's configured names do.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..analysis import StringRef
from ..findings import LEGACY_LAYOUT_TEST, NOT_EXPORTED, STRING_NOT_LITERAL, Code, Severity
from ..legacy_paths import LegacyPaths
from ..steps import Step
from . import EXAMPLES
from .base import Command

if TYPE_CHECKING:
    from ..context import FileContext

# The finding codes only this step reports (the table: migrate_ws.findings.CODES).
W, I = Severity.WARNING, Severity.INFO
STRING_OUTSIDE_PATCH = Code(
    "MW402", "string-outside-patch-call", W, "a string names a legacy path outside a patch or import call",
    "check what the string is for and change it by hand if it names the object")
STRING_UNMAPPED_NAME = Code(
    "MW403", "string-unmapped-name", W, "a string target names a legacy path the configuration does not map",
    "point the string at the module that defines the object")
MODULE_PATH_STRING = Code(
    "MW404", "legacy-module-path-string", W, "a string used as a module path names a legacy module (sys.modules, "
    "importlib, exec, a list of modules to import) and is not rewritten",
    "point it at the canonical module, or delete it if it only exercised the legacy layout")
LEGACY_PATH_IN_TEXT = Code(
    "MW405", "legacy-path-in-text", I, "free text (a message, a docstring-like string, an example import line) "
    "mentions a legacy path; text is never edited",
    "nothing for the migration; reword the text when convenient",
    why="text needs nobody's action after the migration; listed so the old paths still written in it can be found")

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
PATCH_CALLS = ("patch", "setattr", "import_module", "patch.dict", "patch.multiple")
# the builtins that run a string as code: an import line in it is an import (`re.compile` is not one)
CODE_CALLS = ("exec", "eval", "compile")


def _is_patch_call(callee: str | None) -> bool:
    if not callee:
        return False
    return any(callee == name or callee.endswith("." + name) for name in PATCH_CALLS)


def _is_code_call(callee: str | None) -> bool:
    return callee in CODE_CALLS or callee in tuple(f"builtins.{name}" for name in CODE_CALLS)


def _is_assertion(reference: StringRef) -> bool:
    """In an `assert` statement, or an argument of `self.assertIn(...)` and its kind."""
    return reference.in_assert or (reference.call or "").rsplit(".", 1)[-1].startswith("assert")


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
            self.text(context, reference)
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

    def text(self, context: FileContext, reference: StringRef) -> None:
        """A string that is not a dotted path: code for `exec`, text a test asserts on, or free text."""
        mentioned = sorted({mention.module for mention in LegacyPaths.of(context.targets).mentions(reference.value)})
        if not mentioned:
            return
        modules = ", ".join(mentioned)
        word = "module" if len(mentioned) == 1 else "modules"
        if _is_code_call(reference.call):
            context.edits.report(MODULE_PATH_STRING, reference.line, f"code passed to {reference.call}() names legacy "
                                 f"{word} {modules}; not edited")
        elif _is_assertion(reference):
            context.edits.report(LEGACY_LAYOUT_TEST, reference.line, f"a test asserts on text naming legacy {word} "
                                 f"{modules}; not edited")
        else:
            context.edits.report(LEGACY_PATH_IN_TEXT, reference.line, f"text mentions legacy {word} {modules} (a "
                                 "message, a docstring-like string or an example); text is not edited")

    def legacy_path(self, context: FileContext, reference: StringRef, module: str, rest: list[str]) -> None:
        config = context.config
        name = rest[0]
        exports = context.targets.canonical_exports
        if module != config.canonical_module and not LegacyPaths.of(context.targets).carries(module, name):
            return  # another module below a legacy package (the canonical module, say), not the package
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
            context.edits.report(MODULE_PATH_STRING, reference.line, f"sys.modules[{reference.value!r}] manipulates the "
                                 "legacy layout; not edited")
            return
        if not _is_patch_call(reference.call):
            context.edits.report(STRING_OUTSIDE_PATCH, reference.line, f"string {reference.value!r} names a legacy path outside a patch or "
                              "import call; not edited")
            return
        self.replace(context, reference, ".".join([config.canonical_module, target, *rest[1:]]), "legacy path")

    def legacy_module_string(self, context: FileContext, reference: StringRef, module: str) -> None:
        if _is_assertion(reference):
            context.edits.report(LEGACY_LAYOUT_TEST, reference.line, f"a test asserts on the name of legacy module "
                                 f"{module}; not edited")
            return
        if reference.call and reference.call.startswith("sys.modules"):
            spelled = f"sys.modules[{module!r}]" if reference.call == "sys.modules" else f"{reference.call}({module!r})"
            reason = f"{spelled} manipulates the legacy layout"
        elif reference.call and reference.call.endswith("import_module"):
            reason = f"imports legacy module {module} by name; the module object's uses cannot be checked"
        else:
            reason = f"string names legacy module {module} as a module path (a list of modules to import?)"
        context.edits.report(MODULE_PATH_STRING, reference.line, f"{reason}; not edited")

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
    examples=EXAMPLES / "strings",
    codes=(STRING_OUTSIDE_PATCH, STRING_UNMAPPED_NAME, MODULE_PATH_STRING, LEGACY_PATH_IN_TEXT),
)
