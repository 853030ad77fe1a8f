"""Static, cross-module facts about the canonical module: its exports and what names are bound to.

Only a handful of modules are read here (the canonical module and the modules its names
come from), never the whole repository.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import module_level_statements, resolve_relative
from .config import Config, ConfigError
from .source import parse_module_bytes


def module_level_bindings(tree: ast.Module) -> dict[str, list[ast.stmt]]:
    """Module-level statements (see `module_level_statements`) binding each name."""
    found: dict[str, list[ast.stmt]] = {}
    for statement in module_level_statements(tree):
        if isinstance(statement, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(statement.name, []).append(statement)
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(statement)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
            found.setdefault(statement.target.id, []).append(statement)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                if alias.name != "*":
                    local = alias.asname or alias.name.split(".")[0]
                    found.setdefault(local, []).append(statement)
    return found


def module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    # src-layout repositories keep packages under src/
    src = root / "src"
    if src.is_dir():
        return module_file(src, module) if root.name != "src" else None
    return None


@dataclass
class ModuleReader:
    root: Path
    _cache: dict[str, tuple[ast.Module, bool] | None] = field(default_factory=dict)
    # every module looked up: its file (None: not in the repository) with (mtime_ns, size)
    consulted: dict[str, tuple[str | None, int, int]] = field(default_factory=dict)

    def tree(self, module: str) -> tuple[ast.Module, bool] | None:
        if module not in self._cache:
            path = module_file(self.root, module)
            self.consulted[module] = _file_state(path)
            if path is None:
                self._cache[module] = None
            else:
                try:
                    tree = parse_module_bytes(path.read_bytes(), str(path))
                except (SyntaxError, ValueError, OSError):
                    self._cache[module] = None
                else:
                    self._cache[module] = (tree, path.name == "__init__.py")
        return self._cache[module]

    def exports(self, module: str) -> frozenset[str] | None:
        found = self.tree(module)
        if found is None:
            return None
        tree, _ = found
        return frozenset(module_level_bindings(tree))

    def origin(self, module: str, name: str, depth: int = 0) -> str:
        """Follow `from x import y` and `a = b` to the definition a module-level name is bound to."""
        found = self.tree(module) if depth < 20 else None
        if found is None:
            return f"{module}.{name}"
        tree, is_package = found
        bindings = module_level_bindings(tree)
        statements = bindings.get(name)
        if not statements:
            return f"{module}.{name}"
        last = max(statements, key=lambda s: (s.end_lineno, s.end_col_offset))
        if isinstance(last, (ast.Assign, ast.AnnAssign)) and isinstance(last.value, ast.Name):
            if last.value.id == name:
                return f"{module}.{name}"
            return self.origin(module, last.value.id, depth + 1)
        if isinstance(last, ast.ImportFrom):
            source = resolve_relative(module, is_package, last.level, last.module)
            for alias in last.names:
                if (alias.asname or alias.name) == name and source:
                    return self.origin(source, alias.name, depth + 1)
        return f"{module}.{name}"


@dataclass
class CanonicalFacts:
    exports: frozenset[str]
    collapse_allowed: bool
    warnings: list[str]


def _file_state(path: Path | None) -> tuple[str | None, int, int]:
    if path is None:
        return None, 0, 0
    try:
        info = path.stat()  # before the file is read: a later change shows in the next run's check
    except OSError:
        return str(path), -1, -1
    return str(path), info.st_mtime_ns, info.st_size


def canonical_facts(root: Path, config: Config, rebinding: bool, cache_directory: Path | None = None) -> CanonicalFacts:
    """The canonical module's exports and whether its aliases are one object with their names.

    With `cache_directory` (the result cache's), the facts of an earlier run are reused while
    every module they were read from is the same file with the same modification time and
    size, for the same code, configuration and root: the canonical module's neighbours can be
    large, and a cached `--check` would otherwise parse them on every run."""
    if cache_directory is None:
        return _canonical_facts(ModuleReader(root), config, rebinding)
    import hashlib
    import json
    import sys

    from . import __version__
    from .cache import _code_fingerprint, stable_form

    document = [__version__, sys.version, str(root), _code_fingerprint(), stable_form(config), rebinding]
    key = hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8")).hexdigest()[:40]
    file = cache_directory / f"facts-{key}.json"
    try:
        with open(file, encoding="utf-8") as handle:
            saved = json.load(handle)
        if all(list(_file_state(module_file(root, module))) == list(state)
               for module, state in saved["consulted"].items()):
            return CanonicalFacts(frozenset(saved["exports"]), bool(saved["collapse"]), list(saved["warnings"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    reader = ModuleReader(root)
    facts = _canonical_facts(reader, config, rebinding)
    try:
        cache_directory.mkdir(parents=True, exist_ok=True)
        temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"exports": sorted(facts.exports), "collapse": facts.collapse_allowed,
                                         "warnings": facts.warnings, "consulted": reader.consulted}), encoding="utf-8")
        os.replace(temporary, file)
    except OSError:
        pass  # it only ever saves time
    return facts


def _canonical_facts(reader: ModuleReader, config: Config, rebinding: bool) -> CanonicalFacts:
    exports = reader.exports(config.canonical_module)
    found = exports is not None
    if exports is None:
        if not config.canonical_exports:
            raise ConfigError(
                f"canonical-module: {config.canonical_module} is not in the repository and "
                "canonical-exports is not configured"
            )
        exports = frozenset(config.canonical_exports)
    messages: list[str] = []
    collapse = True
    if found and config.aliases:
        differing = []
        for alias, target in sorted(config.aliases.items()):
            if alias not in exports or target not in exports:
                continue
            alias_origin = reader.origin(config.canonical_module, alias)
            target_origin = reader.origin(config.canonical_module, target)
            if alias_origin != target_origin:
                differing.append((alias, alias_origin, target, target_origin))
        if differing and not rebinding:
            collapse = False
            for alias, alias_origin, target, target_origin in differing:
                messages.append(
                    f"{target} and {alias} in {config.canonical_module} are different objects ({target_origin} vs "
                    f"{alias_origin}): {alias} is kept where it is used and only import paths move; "
                    "set `implementation` to rebind both to one class"
                )
        elif differing:
            for alias, alias_origin, target, target_origin in differing:
                messages.append(
                    f"{target} and {alias} in {config.canonical_module} are different objects ({target_origin} vs "
                    f"{alias_origin}); the canonical step first rebinds both to {config.implementation}"
                )
    return CanonicalFacts(exports=exports, collapse_allowed=collapse, warnings=messages)
