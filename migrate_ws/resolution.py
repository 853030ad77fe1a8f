"""Static, cross-module facts about the canonical module: its exports and what names are bound to.

Only a handful of modules are read here (the canonical module and the modules its names
come from), never the whole repository.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import module_level_statements, resolve_relative
from .config import Config, ConfigError
from .source import parse_module_bytes, parse_source


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

    def tree(self, module: str) -> tuple[ast.Module, bool] | None:
        if module not in self._cache:
            path = module_file(self.root, module)
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


def canonical_facts(root: Path, config: Config, rebinding: bool) -> CanonicalFacts:
    reader = ModuleReader(root)
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
