"""What the repository says, read once before any step runs.

The canonical module's exports and signatures (`resolution.py`), where each configured
module is (the import map: canonical, implementation and legacy modules to their files),
what retiring each legacy module means (`retirement.py`), and which legacy modules are
packages. The engine gathers these into one `RepositoryFacts` before planning; the
workers get the part they need as `model.Targets`, and the repository-level steps read
the whole value from their `RepositoryContext`. No step asks another step or reads these
facts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .config import Config
from .findings import ALIASES_DIFFER, Finding
from .legacy_paths import packages_from
from .model import Plan, Targets
from .module_files import module_file
from .resolution import CanonicalFacts, canonical_facts
from .retirement import OwnDefinition, Retirement, plan_retirement
from .source import ANALYSIS, NESTING_ERRORS, SourceText, UndecodableSource, too_deep_reason


@dataclass(frozen=True)
class RepositoryFacts:
    """What the repository says, read once before the steps: the canonical module's facts, each
    configured module's file, how each retiring legacy module is retired, which legacy modules are
    packages."""

    canonical: CanonicalFacts
    # every configured module (canonical, implementation, legacy) -> its file (None: not in the repository)
    module_files: dict[str, Path | None]
    # each retiring legacy module in the repository -> how it is retired as a shim (only under the shim policy)
    retirements: dict[str, Retirement]
    legacy_packages: frozenset[str]  # the legacy modules that are packages (legacy_paths.py)
    notes: tuple[Finding, ...] = ()  # what the repository-level reading found (the canonical module's aliases)

    def retiring_files(self, config: Config) -> list[tuple[str, Path]]:
        """The retiring legacy modules that exist in the repository, with their files, by name."""
        return _retiring_files(self.module_files, config)

    @property
    def kept_modules(self) -> frozenset[str]:
        """Retiring legacy modules that stay because they define code of their own (no shim)."""
        return frozenset(module for module, retirement in self.retirements.items() if not retirement.shimmed)


def gather(root: Path, config: Config, steps: frozenset[str], legacy_policy: str = "shim",
           cache_directory: Path | None = None) -> RepositoryFacts:
    """Read what the steps `steps` need to know of the repository at `root`. ConfigError when
    the configuration asks for something the repository cannot give (see `canonical_facts`)."""
    rebinding = config.implementation is not None and "canonical" in steps
    # the modules read for these facts are parsed once, and not at all while the cache knows them
    canonical = canonical_facts(root, config, rebinding, cache_directory, signatures="factory" in steps)
    modules = [config.canonical_module, *([config.implementation_module] if config.implementation_module else []),
               *config.legacy_modules]
    files = {module: module_file(root, module) for module in modules}
    retirements = {}
    if legacy_policy == "shim":
        retirements = _retirements(_retiring_files(files, config), config, canonical.exports)
    canonical_file = files[config.canonical_module]
    where = canonical_file.relative_to(root).as_posix() if canonical_file is not None else config.canonical_module
    notes = tuple(Finding(ALIASES_DIFFER.code, where, 1, message) for message in canonical.warnings)
    return RepositoryFacts(canonical, files, retirements, packages_from(files, config), notes)


def _retiring_files(files: dict[str, Path | None], config: Config) -> list[tuple[str, Path]]:
    return [(module, path) for module, legacy in sorted(config.legacy_modules.items())
            if legacy.retire and (path := files.get(module)) is not None]


def _retirements(retiring: list[tuple[str, Path]], config: Config, exports: frozenset[str]) -> dict[str, Retirement]:
    """How each retiring legacy module would be retired as a shim, from its file as it is now."""
    found: dict[str, Retirement] = {}
    for module, path in retiring:
        try:
            text = SourceText.decode(path.read_bytes()).text
        except (OSError, UndecodableSource):
            text = None
        if text is None:
            found[module] = Retirement(module, None, own_definitions=[OwnDefinition(0, "the module cannot be read")])
            continue
        try:
            found[module] = plan_retirement(config, module, text, exports)
        except NESTING_ERRORS as exc:
            found[module] = Retirement(module, None, own_definitions=[OwnDefinition(
                0, f"code {too_deep_reason(exc, ANALYSIS)}")])
    return found


def targets_for(facts: RepositoryFacts, config: Config, steps: frozenset[str], todo_comments: bool = False) -> Targets:
    """What every worker needs to know about the repository (picklable, part of the result cache's key)."""
    retiring = {m for m, legacy in config.legacy_modules.items() if legacy.retire}
    # a retiring module that defines code of its own stays (no shim): it is migrated like any
    # other module, and its module-level names are public API
    kept = facts.kept_modules
    definition = {config.canonical_module} | (retiring - kept)
    if config.implementation_module:
        definition.add(config.implementation_module)
    api = {m for m, legacy in config.legacy_modules.items() if not legacy.retire} | kept
    canonical = facts.canonical
    return Targets(
        config=config, steps=steps, canonical_exports=canonical.exports, collapse_allowed=canonical.collapse_allowed,
        definition_modules=frozenset(definition), api_modules=frozenset(api), todo_comments=todo_comments,
        factory_signature=canonical.factory_signature, signatures=canonical.signatures,
        legacy_packages=facts.legacy_packages,
    )


@dataclass
class RepositoryContext:
    """What a repository-level step sees: the plan of the per-file steps, and the repository."""

    root: Path
    config: Config
    targets: Targets
    plan: Plan
    paths: Sequence[str]  # every file the configuration selects
    facts: RepositoryFacts  # what the repository says, read before any step ran
    legacy_policy: str = "shim"
