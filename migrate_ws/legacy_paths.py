"""What counts as a reference to a legacy module: one rule for the strings step, the imports step,
the audit and the check that every import the audit lists is either migrated or reported.

A legacy module that is a package (`pkg`, whose `__init__` re-exports the legacy names next
to unrelated ones) is legacy only as itself: `pkg`, `from pkg import <legacy name>`,
`pkg.<legacy name>`. Its other submodules (`pkg.handlers`, a canonical module `pkg.client`)
are other modules, so a path under the package names the package only through a name the
configuration lists for it. A plain legacy module (`pkg.manager`) is legacy with whatever
follows it. A legacy module that stays after the migration (`retire = false`) is named in free
text only the ways the prefilter looks for it: through one of its configured names, or as
`import pkg`; a sentence about the module itself stays true after the migration.

Strings in, strings out: nothing is read from disk except in `packages_in`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from .config import Config
from .module_files import module_file

if TYPE_CHECKING:
    from .scopes import Binding, FileFacts, Use

_DOTTED_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_IMPORTED_NAMES = re.compile(r"\s+import\s+\(?\s*((?:[A-Za-z_]\w*(?:\s+as\s+\w+)?\s*,?\s*)+)")
_IMPORT_BEFORE = re.compile(r"\bimport\s+$")
_FROM_BEFORE = re.compile(r"\bfrom\s+$")


def packages_in(root: Path, config: Config) -> frozenset[str]:
    """The legacy modules that are packages: an `__init__.py` in the repository, or a configured module below them."""
    return packages_from({module: module_file(root, module) for module in config.legacy_modules}, config)


def packages_from(files: Mapping[str, Path | None], config: Config) -> frozenset[str]:
    """`packages_in`, given where the legacy modules are (module -> its file, None: not in the repository)."""
    found = {module for module in config.legacy_modules
             if (path := files.get(module)) is not None and path.name == "__init__.py"}
    return frozenset(found) | packages_by_configuration(config)


def packages_by_configuration(config: Config) -> frozenset[str]:
    """Legacy modules the configuration itself shows to be packages (the canonical module, the
    implementation or another legacy module lies below them)."""
    configured = [config.canonical_module, *config.legacy_modules]
    if config.implementation_module:
        configured.append(config.implementation_module)
    return frozenset(m for m in config.legacy_modules if any(other.startswith(m + ".") for other in configured))


@dataclass(frozen=True)
class Mention:
    """A legacy module named in free text: the module and the dotted name that names it."""

    module: str
    spelled: str


class LegacyPaths:
    """Answers "does this path go through a legacy module?" for one configuration."""

    _last: tuple[object, "LegacyPaths"] | None = None

    def __init__(self, config: Config, packages: frozenset[str] = frozenset()) -> None:
        self.config = config
        self.packages = frozenset(packages) | packages_by_configuration(config)
        self.heads = frozenset(m.split(".", 1)[0] for m in config.legacy_modules)
        # a name the audit counts as a manager name wherever it is imported from a legacy path
        self.manager_names = frozenset(config.legacy_names) | frozenset(config.aliases.values())

    @classmethod
    def of(cls, targets) -> "LegacyPaths":
        """The instance for a run's `Targets` (built once per process and run)."""
        last = cls._last
        if last is not None and last[0] is targets:
            return last[1]
        paths = cls(targets.config, targets.legacy_packages)
        cls._last = (targets, paths)
        return paths

    def is_package(self, module: str) -> bool:
        return module in self.packages

    def carries(self, module: str, attribute: str) -> bool:
        """Whether `module.attribute` is a path through the legacy module `module` (and not another module
        below a legacy package)."""
        legacy = self.config.legacy_modules[module]
        return attribute in legacy.names or not self.is_package(module)

    def legacy_module_of(self, dotted: str) -> str | None:
        """The legacy module a dotted path goes through: the module itself or something it carries.
        Never the canonical module or anything below it."""
        config = self.config
        canonical = config.canonical_module
        if dotted == canonical or dotted.startswith(canonical + "."):
            return None
        parts = dotted.split(".")
        if parts[0] not in self.heads:
            return None
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module not in config.legacy_modules:
                continue
            if cut == len(parts) or self.carries(module, parts[cut]):
                return module
            return None  # another module below a legacy package
        return None

    def mentions(self, text: str) -> Iterator[Mention]:
        """The legacy modules free text names (messages, docstring-like strings, example import lines)."""
        config = self.config
        for match in _DOTTED_NAME.finditer(text):
            spelled = match.group()
            if spelled.split(".", 1)[0] not in self.heads:
                continue
            module = self.legacy_module_of(spelled)
            if module is None:
                continue
            legacy = config.legacy_modules[module]
            if spelled != module:  # `module.Name`: a name it carries (legacy_module_of checked that)
                if legacy.retire or spelled[len(module) + 1:].split(".", 1)[0] in legacy.names:
                    yield Mention(module, spelled)
                continue
            before = text[max(0, match.start() - 40):match.start()]
            imported = _IMPORTED_NAMES.match(text, match.end())
            if imported is not None and _FROM_BEFORE.search(before):
                # `from module import a, b`: a package (or a module that stays) is named for what it imports
                names = {part.split()[0] for part in imported.group(1).split(",") if part.strip()}
                if (legacy.retire and not self.is_package(module)) or names & set(legacy.names):
                    yield Mention(module, spelled)
            elif legacy.retire or _IMPORT_BEFORE.search(before):
                yield Mention(module, spelled)

    # ----- imports, as the audit counts them ---------------------------------------------------
    def import_source(self, binding: "Binding", facts: "FileFacts") -> str | None:
        """The module path through which an import brings the canonical names, or None for an import
        that brings none: a configured name from a legacy module or the canonical module, or a legacy
        module object (a legacy package's only when it is used for one of its names or as a value)."""
        config = self.config
        definition = config.legacy_modules.keys() | {config.canonical_module}
        module = binding.module or ""
        if binding.kind == "import-name" and binding.imported:
            if binding.imported in self.manager_names and module in definition:
                return module
            path = f"{module}.{binding.imported}"
            if path in definition:
                return path if self.module_object_counts(binding, path, facts) else None
            return None
        if binding.kind == "import-module" and module in definition:
            return module if self.module_object_counts(binding, module, facts) else None
        return None

    def module_object_counts(self, binding: "Binding", module: str, facts: "FileFacts") -> bool:
        if module not in self.config.legacy_modules or not self.is_package(module):
            return True
        return any(self.package_use(module, chain) for chain in module_object_chains(binding, module, facts))

    def package_use(self, module: str, chain: list[str] | None) -> bool:
        """Whether a use of a legacy package's module object goes through the package itself: one of its
        configured names, or the object as a value (None)."""
        if not chain:
            return True
        return chain[0] in self.config.legacy_modules[module].names


def module_object_chains(binding: "Binding", module: str, facts: "FileFacts") -> Iterator[list[str] | None]:
    """The attribute chains after the module object of each use of a module-object binding (None: used
    as a value). For `import a.b.m` (which binds `a`), only the uses that spell `a.b.m`."""
    for _, chain in module_object_uses(binding, module, facts):
        yield chain


def module_object_uses(binding: "Binding", module: str, facts: "FileFacts") -> Iterator[tuple["Use", list[str] | None]]:
    """Each use of a module-object binding with its attribute chain after the module object (as
    `module_object_chains` gives it)."""
    from .scopes import resolve

    depth = len(module.split(".")) - 1 if binding.bound_path is not None else 0
    for use in facts.uses:
        if use.name != binding.name or not any(b is binding for b in resolve(use.scope, use.name)):
            continue
        if depth:
            if use.chain[:depth] != module.split(".")[1:]:
                continue
            rest = use.chain[depth:]
            yield use, (rest if rest else None)
            continue
        if use.escapes or not use.chain:
            yield use, None
        else:
            yield use, list(use.chain)
