"""Static, cross-module facts about the canonical module: its exports and what names are bound to.

Only a handful of modules are read here (the canonical module and the modules its names
come from), never the whole repository.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

from .scopes import bound_name, module_level_statements, resolve_relative
from .config import Config, ConfigError
from .model import Signature
from .module_files import module_file
from .source import NESTING_ERRORS, parse_module_bytes


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
                    local = bound_name(alias)
                    found.setdefault(local, []).append(statement)
    return found


@dataclass
class ModuleReader:
    """Reads the repository's modules by dotted name, once each, and remembers which files it consulted
    (for the facts cache)."""

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
                except (SyntaxError, ValueError, OSError, *NESTING_ERRORS):
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

    def origin(self, module: str, name: str, depth: int = 0, stop: frozenset[str] = frozenset()) -> str:
        """Follow `from x import y` and `a = b` to the definition a module-level name is bound to
        (or to the first `module.name` of `stop` on the way)."""
        if f"{module}.{name}" in stop:
            return f"{module}.{name}"
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
            return self.origin(module, last.value.id, depth + 1, stop)
        if isinstance(last, ast.ImportFrom):
            source = resolve_relative(module, is_package, last.level, last.module)
            for alias in last.names:
                if (alias.asname or alias.name) == name and source:
                    return self.origin(source, alias.name, depth + 1, stop)
        return f"{module}.{name}"


@dataclass
class CanonicalFacts:
    """What the canonical module provides: its exports, whether its aliases are one object with their
    names, and the signatures the factory step reads."""

    exports: frozenset[str]
    collapse_allowed: bool
    warnings: list[str]
    # the factory's signature and the legacy callables' (see `callable_signatures`), when asked for
    factory_signature: Signature | None = None
    signatures: tuple[tuple[str, str, Signature | None], ...] = ()


def _file_state(path: Path | None) -> tuple[str | None, int, int]:
    if path is None:
        return None, 0, 0
    try:
        info = path.stat()  # before the file is read: a later change shows in the next run's check
    except OSError:
        return str(path), -1, -1
    return str(path), info.st_mtime_ns, info.st_size


def canonical_facts(root: Path, config: Config, rebinding: bool, cache_directory: Path | None = None,
                    signatures: bool = False) -> CanonicalFacts:
    """The canonical module's exports and whether its aliases are one object with their names;
    with `signatures`, the factory's and the legacy callables' signatures too. A context
    fallback whose import the repository cannot satisfy raises ConfigError.

    With `cache_directory` (the result cache's), the facts of an earlier run are reused while
    every module they were read from is the same file with the same modification time and
    size, for the same code, configuration and root: the canonical module's neighbours can be
    large, and a cached `--check` would otherwise parse them on every run."""
    if cache_directory is None:
        return _read_facts(ModuleReader(root), config, rebinding, signatures)
    import json
    import sys

    from . import __version__
    from .cache import _code_fingerprint, key_of, stable_form

    key = key_of([__version__, sys.version, str(root), _code_fingerprint(), stable_form(config), rebinding, signatures])
    file = cache_directory / f"facts-{key}.json"
    try:
        with open(file, encoding="utf-8") as handle:
            saved = json.load(handle)
        if all(list(_file_state(module_file(root, module))) == list(state)
               for module, state in saved["consulted"].items()):
            return CanonicalFacts(frozenset(saved["exports"]), bool(saved["collapse"]), list(saved["warnings"]),
                                  _signature_from(saved["factory_signature"]),
                                  tuple((module, name, _signature_from(sig)) for module, name, sig in saved["signatures"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    reader = ModuleReader(root)
    facts = _read_facts(reader, config, rebinding, signatures)
    try:
        cache_directory.mkdir(parents=True, exist_ok=True)
        temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({
            "exports": sorted(facts.exports), "collapse": facts.collapse_allowed, "warnings": facts.warnings,
            "factory_signature": _signature_to(facts.factory_signature),
            "signatures": [[module, name, _signature_to(sig)] for module, name, sig in facts.signatures],
            "consulted": reader.consulted}), encoding="utf-8")
        os.replace(temporary, file)
    except OSError:
        pass  # it only ever saves time
    return facts


def _signature_to(signature: Signature | None) -> list | None:
    if signature is None:
        return None
    return [list(signature.positional), list(signature.keywords), signature.varargs, signature.varkw]


def _signature_from(saved: list | None) -> Signature | None:
    if saved is None:
        return None
    positional, keywords, varargs, varkw = saved
    return Signature(tuple(positional), tuple(keywords), bool(varargs), bool(varkw))


def _read_facts(reader: ModuleReader, config: Config, rebinding: bool, signatures: bool) -> CanonicalFacts:
    facts = _canonical_facts(reader, config, rebinding)
    check_context_fallbacks(reader.root, config, reader)
    if signatures:
        facts.factory_signature, facts.signatures = callable_signatures(reader.root, config, reader, rebinding)
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


# ----- signatures of the factory and of the legacy callables ----------------------------------

_NEUTRAL_DECORATORS = frozenset({"classmethod", "staticmethod", "abstractmethod"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _decorator_names(node: ast.AST) -> list[str | None]:
    """The last part of each decorator's name (`abc.abstractmethod` -> "abstractmethod"); None for a call."""
    names: list[str | None] = []
    for decorator in getattr(node, "decorator_list", []):
        names.append(decorator.attr if isinstance(decorator, ast.Attribute) else
                     decorator.id if isinstance(decorator, ast.Name) else None)
    return names


def signature_of(node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool = False) -> Signature | None:
    """The parameters a call of `node` fills; `method`: called on an instance (or, for a classmethod, on the
    class), so the first parameter is already bound. None when a decorator may change what it takes."""
    decorators = _decorator_names(node)
    if any(name not in _NEUTRAL_DECORATORS for name in decorators):
        return None
    bound = (method and "staticmethod" not in decorators) or "classmethod" in decorators
    args = node.args
    positional = [a.arg for a in [*args.posonlyargs, *args.args]]
    keywords = [a.arg for a in [*args.args, *args.kwonlyargs]]
    if bound:
        if not positional:
            return None
        first = positional.pop(0)
        if first in keywords:
            keywords.remove(first)
    return Signature(tuple(positional), tuple(keywords), args.vararg is not None, args.kwarg is not None)


def _only_binding(tree: ast.Module, name: str) -> ast.stmt | None:
    """The one module-level statement that binds `name`, when there is exactly one."""
    statements = module_level_bindings(tree).get(name, [])
    return statements[0] if len(statements) == 1 else None


def definition(reader: ModuleReader, module: str, name: str) -> ast.stmt | None:
    """The `def` or `class` a module-level name is bound to, followed through imports and `a = b`, when
    exactly one statement binds it where it is defined."""
    origin = reader.origin(module, name)
    where, _, defined = origin.rpartition(".")
    found = reader.tree(where)
    if found is None:
        return None
    statement = _only_binding(found[0], defined)
    if isinstance(statement, (*_FUNCTIONS, ast.ClassDef)) and statement.name == defined:
        return statement
    return None


def _member(node: ast.ClassDef, name: str) -> ast.stmt | None:
    """The one statement of a class body binding `name` (a method), if exactly one does."""
    found = []
    for statement in node.body:
        if isinstance(statement, (*_FUNCTIONS, ast.ClassDef)) and statement.name == name:
            found.append(statement)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(statement)
    return found[0] if len(found) == 1 else None


def _has_bases(node: ast.ClassDef) -> bool:
    return bool(node.keywords) or any(not (isinstance(b, ast.Name) and b.id == "object") for b in node.bases)


def constructor_signature(node: ast.ClassDef) -> Signature | None:
    """What `Class(...)` takes: its own `__init__` (no `__new__`), or nothing for a class without bases."""
    if _member(node, "__new__") is not None or node.decorator_list:  # a dataclass's constructor is generated
        return None
    init = _member(node, "__init__")
    if init is None:
        return None if _has_bases(node) else Signature((), ())
    return signature_of(init, method=True) if isinstance(init, _FUNCTIONS) else None


def method_signature(node: ast.ClassDef, name: str, on_instance: bool) -> Signature | None:
    """What `obj.name(...)` (`on_instance`) or `Class.name(...)` takes, when the class itself defines it."""
    member = _member(node, name)
    if not isinstance(member, _FUNCTIONS):
        return None
    decorators = _decorator_names(member)
    if not on_instance and "classmethod" not in decorators and "staticmethod" not in decorators:
        return signature_of(member, method=False)  # a plain function called on the class: `self` is an argument
    return signature_of(member, method=True)


def _returned_class(reader: ModuleReader, module: str, node: ast.stmt) -> ast.ClassDef | None:
    """The class a factory-object function returns a new instance of (`return Class()` everywhere)."""
    if not isinstance(node, _FUNCTIONS):
        return None
    returned: set[str] = set()
    stack: list[ast.AST] = list(node.body)
    while stack:
        child = stack.pop()
        if isinstance(child, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(child, ast.Return):
            value = child.value
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.args
                    and not value.keywords):
                return None
            returned.add(value.func.id)
        stack.extend(ast.iter_child_nodes(child))
    if len(returned) != 1:
        return None
    found = definition(reader, _defining_module(reader, module, node.name), returned.pop())
    return found if isinstance(found, ast.ClassDef) else None


def _defining_module(reader: ModuleReader, module: str, name: str) -> str:
    return reader.origin(module, name).rpartition(".")[0]


def callable_signatures(root: Path, config: Config, reader: ModuleReader | None = None, rebinding: bool = False
                        ) -> tuple[Signature | None, tuple[tuple[str, str, Signature | None], ...]]:
    """The configured factory's signature (from the canonical module), and the signatures of the legacy
    callables as each legacy module and the canonical module bind them (see `Targets.signatures`).

    With `rebinding` (the canonical step runs), the canonical module's canonical names and aliases
    bound at its top level are read as the implementation they will be bound to: the calls the
    factory step rewrites are judged by what they call after the change, as a second run would."""
    factory = config.factory
    if not factory.function:
        return None, ()
    reader = reader or ModuleReader(root)
    factory_signature = None
    node = definition(reader, config.canonical_module, factory.function)
    if isinstance(node, _FUNCTIONS):
        factory_signature = signature_of(node)
    callables = {*factory.functions, *factory.classes, *factory.factory_objects, factory.function}
    rebound: set[str] = set()  # canonical-module.name the canonical step binds to the implementation
    canonical = reader.tree(config.canonical_module)
    if rebinding and config.implementation and canonical is not None:
        top_level = module_level_bindings(canonical[0])
        for name in set(config.aliases) | set(config.aliases.values()):
            statements = top_level.get(name)
            # the canonical step rebinds a name after its last binding when that is at the top level
            if statements and max(statements, key=lambda s: (s.end_lineno, s.end_col_offset)) in canonical[0].body:
                rebound.add(f"{config.canonical_module}.{name}")
    rebound = frozenset(rebound)
    found: list[tuple[str, str, Signature | None]] = []
    for module in [config.canonical_module, *config.legacy_modules]:
        present = reader.tree(module)
        if present is None:
            continue
        bound = module_level_bindings(present[0])
        for name in sorted(callables):
            if name not in bound:
                continue
            node = definition(reader, module, name)
            if rebound and reader.origin(module, name, stop=rebound) in rebound:
                node = definition(reader, config.implementation_module, config.implementation_name)
            if name in factory.functions or name == factory.function:
                found.append((module, name, signature_of(node) if isinstance(node, _FUNCTIONS) else None))
            if name in factory.classes:
                is_class = isinstance(node, ast.ClassDef)
                found.append((module, f"{name}.__init__", constructor_signature(node) if is_class else None))
                for method in factory.class_methods:
                    found.append((module, f"{name}.{method}", method_signature(node, method, False) if is_class else None))
            if name in factory.factory_objects:
                cls = node if isinstance(node, ast.ClassDef) else (
                    _returned_class(reader, module, node) if node is not None else None)
                for method in factory.factory_methods:
                    found.append((module, f"{name}.{method}", method_signature(cls, method, True) if cls else None))
    return factory_signature, tuple(found)


def check_context_fallbacks(root: Path, config: Config, reader: ModuleReader | None = None) -> None:
    """A context fallback whose import the repository cannot satisfy is a configuration error (every
    site it rewrote would import a name that is not there)."""
    reader = reader or ModuleReader(root)
    for fallback in config.factory.context_fallbacks:
        exports = reader.exports(fallback.module)
        submodule = f"{fallback.module}.{fallback.name}"
        reader.consulted[submodule] = _file_state(module_file(root, submodule))
        if exports is not None and fallback.name not in exports and module_file(root, submodule) is None:
            raise ConfigError(f'factory.context-fallbacks."{fallback.pattern}".import: {fallback.module} does not '
                              f"bind {fallback.name}, which the expression {fallback.expression!r} uses")
