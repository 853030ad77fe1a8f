"""The migration's steps: one ordered registry that everything else reads.

A step is one module under `migrate_ws/codemods/` that declares a `STEP`: its name, a
title and description, the identifiers its analysis needs (the prefilter lets every file
that mentions one through), its examples (a folder of before/after and no-op cases shipped
in the package), the finding codes only it reports, the configuration keys it owns, and
either a per-file command (`transform(context)`) or a repository-level planner (the
legacy-modules step, which needs the rest of the plan). The engine, the commit messages, the
PR description, `--json`, the command line, the code table (`findings.CODES`, and from it
docs/codes.md) and the configuration's validation and reference take the steps, their
order, titles, codes and keys from here; registering a step is the only edit a new step
needs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from . import findings
from .findings import Code

# A `migrate_ws.config.Config`: the registry sits below the configuration, which validates the keys the
# steps declare, so it does not import it.
Config = Any

# Built-in steps in commit order, as the modules that declare them (imported on first use).
BUILTIN_MODULES = (
    "migrate_ws.codemods.canonical",
    "migrate_ws.codemods.imports",
    "migrate_ws.codemods.aliases",
    "migrate_ws.codemods.factory",
    "migrate_ws.codemods.strings",
    "migrate_ws.codemods.legacy_modules",
)


def _no_names(config: "Config") -> set[str]:
    return set()


def _always(config: "Config") -> bool:
    return True


@dataclass(frozen=True)
class Option:
    """A configuration key a step owns: `key` under `[tool.migrate-ws]` (`table.key` for a key of a table the
    step owns), what it means (the configuration reference shows it), and for a key the core does not read
    itself, the type its value must have (the value is then in `Config.step_options[key]`)."""

    key: str
    help: str
    kind: type | tuple[type, ...] | None = None


@dataclass(frozen=True)
class Step:
    """A step's declaration (see the module's docstring)."""

    name: str
    title: str  # may use {canonical}, {implementation}, {factory}, {context}, {legacy}
    description: str
    command: type | None = None  # per-file: a codemods.base.Command subclass
    repository: Callable[..., Any] | None = None  # repository-level: plans from the other steps' result
    names: Callable[["Config"], Iterable[str]] = _no_names  # identifiers whose bindings and uses the analysis follows
    # words whose presence makes a file worth analysing (default: `names`)
    prefilter_words: Callable[["Config"], Iterable[str]] | None = None
    examples: Path | None = None  # fixture folder: <case>.before.py + <case>.after.py, <case>.noop.py
    canonical_module: bool = False  # also runs on the canonical module itself
    foundation: bool = False  # with --split-by, every file it changes goes to the foundation branch
    codes: tuple[Code, ...] = ()  # the finding codes only this step reports (they join findings.CODES)
    options: tuple[Option, ...] = ()  # the configuration keys it owns
    # whether the configuration asks for this step at all (a migration without aliases has no
    # aliases step: it is neither planned nor listed)
    applies: Callable[["Config"], bool] = _always

    def __post_init__(self) -> None:
        if (self.command is None) == (self.repository is None):
            raise ValueError(f"step {self.name}: give exactly one of command and repository")

    @property
    def per_file(self) -> bool:
        return self.command is not None


_registry: list[Step] | None = None


def _steps() -> list[Step]:
    global _registry
    if _registry is None:
        loaded = [importlib.import_module(module).STEP for module in BUILTIN_MODULES]
        for step in loaded:
            findings.add_step_codes(step.name, step.codes)
        _registry = loaded
    return _registry


findings.loads_steps_with(_steps)


def all_steps() -> tuple[Step, ...]:
    return tuple(_steps())


def order() -> tuple[str, ...]:
    return tuple(step.name for step in _steps())


def get(name: str) -> Step:
    for step in _steps():
        if step.name == name:
            return step
    raise KeyError(name)


def register(step: Step, after: str | None = None) -> Step:
    """Add a step: after the step named `after`, else before the repository-level steps."""
    steps = _steps()
    if any(existing.name == step.name for existing in steps):
        raise ValueError(f"a step named {step.name!r} is already registered")
    if after is not None:
        position = [s.name for s in steps].index(after) + 1
    else:
        position = next((i for i, s in enumerate(steps) if not s.per_file), len(steps))
    findings.add_step_codes(step.name, step.codes)
    steps.insert(position, step)
    return step


def unregister(name: str) -> None:
    steps = _steps()
    steps[:] = [step for step in steps if step.name != name]
    findings.remove_step_codes(name)


def title(step: Step, config: "Config") -> str:
    """The step's title for this configuration (`step-titles` in the configuration wins)."""
    configured = config.step_titles.get(step.name)
    if configured:
        return configured
    factory = config.factory
    legacy = sorted(config.legacy_modules)
    values = {
        "canonical": config.canonical_module,
        "implementation": config.implementation or config.canonical_module,
        "factory": factory.function or "the factory",
        "context": factory.context_parameter or "context",
        "legacy": legacy[0] if len(legacy) == 1 else f"{len(legacy)} legacy modules",
    }
    return step.title.format(**values)


def interesting_names(config: "Config") -> set[str]:
    """Identifiers whose bindings and uses the analysis follows: every step's, and the modules' last parts."""
    names: set[str] = set()
    for step in _steps():
        names.update(step.names(config))
    for module in [*config.legacy_modules, config.canonical_module]:
        names.add(module.rsplit(".", 1)[-1])
    names.discard("")
    return names


def prefilter_words(config: "Config") -> set[str]:
    """Identifiers a file must mention (one of) to be worth analysing, as the steps declare them."""
    words: set[str] = set()
    for step in _steps():
        words.update((step.prefilter_words or step.names)(config))
    words.discard("")
    return words
