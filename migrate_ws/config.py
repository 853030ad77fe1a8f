"""Configuration: `[tool.migrate-ws]` in pyproject.toml, a `--config` file, or a built-in preset.

A preset is an ordinary TOML file in the same format a user writes, shipped in
`migrate_ws/presets/`. Every validation problem raises `ConfigError` with one line that
names the offending key.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import steps as _steps
from .module_files import module_file
from .patterns import check_pattern

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Files larger than this are not parsed (MW909): Python's `ast` takes about 130 times a file's
# size in memory, so one generated 50 MB module would need some 7 GB per worker.
DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024


class ConfigError(ValueError):
    """The configuration is invalid; the message is one line naming the key."""


@dataclass(frozen=True)
class LegacyModule:
    """A legacy module: the names that move to the canonical module, whether it is retired, and the
    names its shim leaves out."""

    module: str
    names: tuple[str, ...]
    retire: bool = True
    # module-level names a retired module's shim leaves out on purpose (its own singleton state,
    # say); the import check still refuses the change if code in the repository uses one
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContextFallback:
    """Where no context is in scope and `pattern` matches the file: pass `expression`, importing `name` from
    `module` (`name` is the one name the expression uses)."""

    pattern: str
    expression: str
    module: str
    name: str


@dataclass(frozen=True)
class FactoryConfig:
    """The factory step's configuration (`[tool.migrate-ws.factory]`): the factory, its context, and
    what counts as singleton access."""

    function: str = ""
    context_parameter: str = ""
    context_variables: tuple[str, ...] = ()
    is_async: bool = False
    functions: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    class_methods: tuple[str, ...] = ()
    factory_objects: tuple[str, ...] = ()
    factory_methods: tuple[str, ...] = ()
    # type names whose annotation on a parameter makes it a context (`ctx: UserExecutionContext`)
    context_types: tuple[str, ...] = ()
    # the keyword arguments the factory accepts; None: read from the canonical module's source
    parameters: tuple[str, ...] | None = None
    # ordered: the first whose pattern matches the file applies
    context_fallbacks: tuple[ContextFallback, ...] = ()


@dataclass(frozen=True)
class Config:
    """A validated `[tool.migrate-ws]` table (a preset's, a `--config` file's or pyproject.toml's),
    with every default filled in."""

    name: str
    canonical_module: str
    canonical_exports: tuple[str, ...]
    aliases: dict[str, str]
    legacy_modules: dict[str, LegacyModule]
    implementation: str | None = None
    include: tuple[str, ...] = ("**/*.py",)
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    factory: FactoryConfig = field(default_factory=FactoryConfig)
    source: str = "<built-in>"
    title: str = ""  # the PR title and commit heading ("" for a generic one)
    detected: bool = False  # no configuration was given: a preset was chosen because its canonical module exists
    step_titles: dict[str, str] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes: a larger file that needs work is reported, not parsed
    # the values of keys a step declares and reads itself (`steps.Option` with a kind), by dotted key
    step_options: dict[str, Any] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        """What the change does, in one line: the configured title or a generic one."""
        if self.title:
            return self.title
        legacy = sorted(self.legacy_modules)
        if len(legacy) <= 2:
            names = " and ".join(legacy)
        else:
            names = f"{legacy[0]} and {len(legacy) - 1} other legacy modules"
        return f"move imports of {names} to {self.canonical_module}"

    def canonical_name_for(self, legacy_name: str) -> str:
        return self.aliases.get(legacy_name, legacy_name)

    @property
    def legacy_names(self) -> frozenset[str]:
        names: set[str] = set(self.aliases)
        for legacy in self.legacy_modules.values():
            names.update(legacy.names)
        return frozenset(names)

    @property
    def implementation_module(self) -> str | None:
        return self.implementation.rpartition(".")[0] if self.implementation else None

    @property
    def implementation_name(self) -> str | None:
        return self.implementation.rpartition(".")[2] if self.implementation else None


def _expect(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, required: bool = False) -> Any:
    if key not in table:
        if required:
            raise ConfigError(f"{where}.{key}: required key is missing")
        return None
    value = table[key]
    if not isinstance(value, kind) or (kind is str and not value):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}.{key}: expected {names}, got {value!r}")
    return value


def _str_list(table: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...] | None:
    value = _expect(table, key, list, where)
    if value is None:
        return None
    for item in value:
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{where}.{key}: expected a list of non-empty strings, got {item!r}")
        if pattern is not None and not pattern.match(item):
            raise ConfigError(f"{where}.{key}: {item!r} is not a valid Python name")
    return tuple(value)


def _patterns(table: dict[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    """A list of gitignore-style patterns (see discovery.py), each one checked."""
    value = _str_list(table, key, where)
    for item in value or ():
        problem = check_pattern(item)
        if problem is not None:
            raise ConfigError(f"{where}.{key}: {item!r} {problem}")
    return value


def _dotted(table: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = _expect(table, key, str, where, required)
    if value is not None and not _DOTTED.match(value):
        raise ConfigError(f"{where}.{key}: {value!r} is not a dotted module path")
    return value


# The keys the core owns, with what each means; a step declares its own (`Step.options`), and the
# configuration reference (`configuration_keys`, docs/configuration-keys.md) lists both.
CORE_KEYS: dict[str, str] = {
    "name": "a name for the migration (default: `migration`)",
    "preset": "start from a built-in preset's values; the keys given here override them (the `factory` table key "
              "by key)",
    "title": "the PR title and the commits' heading (default: a generic one naming the modules)",
    "step-titles": "a table of step name = title: what each step's commit is called",
    "canonical-module": "required: the one import path every legacy path moves to",
    "canonical-exports": "the names the canonical module exports; only used if the module is not in the repository",
    "include": "gitignore-style patterns, relative to the root, of the files to migrate (default: `**/*.py`)",
    "exclude": "gitignore-style patterns of files left out",
    "respect-gitignore": "`.gitignore` files and `.git/info/exclude` apply (default: true)",
    "max-file-size": "bytes: a larger file that needs a change is reported (MW909), not parsed (default: 16 MiB)",
    "legacy-modules": "required: a table of legacy module path = its names (a list), or a table of `names`, "
                      "`retire` and `drop`",
    "legacy-modules.<module>.names": "the names this legacy module carries",
    "legacy-modules.<module>.retire": "false: the module stays (never shimmed or deleted); default true",
    "legacy-modules.<module>.drop": "names its shim leaves out on purpose (the import check proves them unused)",
}
_LEGACY_KEYS = {"names", "retire", "drop"}
_FALLBACK_KEYS = {"expression", "import"}


def configuration_keys() -> list[tuple[str, str, str]]:
    """Every key of `[tool.migrate-ws]`: (dotted key, who owns it: `core` or a step's name, what it means), the
    core's first, then each registered step's in step order."""
    keys = [(key, "core", text) for key, text in CORE_KEYS.items()]
    for step in _steps.all_steps():
        keys.extend((option.key, step.name, option.help) for option in step.options)
    return keys


def _keys_under(table: str = "") -> set[str]:
    """The keys the configuration accepts directly under `table` ("" for the top level)."""
    prefix = f"{table}." if table else ""
    return {key[len(prefix):].split(".", 1)[0] for key, _, _ in configuration_keys()
            if key.startswith(prefix) and "<" not in key[len(prefix):].split(".", 1)[0]}


def _step_options(table: dict[str, Any], where: str) -> dict[str, Any]:
    """The values of the keys steps declare with a kind (the core does not read them): checked, by dotted key.
    A table only such keys live in accepts no other key."""
    values: dict[str, Any] = {}
    tables: set[str] = set()
    for step in _steps.all_steps():
        for option in step.options:
            if option.kind is None:
                continue
            *path, last = option.key.split(".")
            container: Any = table
            for depth, part in enumerate(path, 1):
                tables.add(".".join(path[:depth]))
                container = container.get(part) if isinstance(container, dict) else None
            if not isinstance(container, dict) or last not in container:
                continue
            key_where = ".".join([where, *path])
            value = _expect(container, last, option.kind, key_where)
            values[option.key] = value
    for name in sorted(tables):
        container = table
        for part in name.split("."):
            container = container.get(part) if isinstance(container, dict) else None
        if container is None:
            continue
        if not isinstance(container, dict):
            raise ConfigError(f"{where}.{name}: expected a table, got {container!r}")
        unknown = sorted(set(container) - _keys_under(name))
        if unknown:
            raise ConfigError(f"{where}.{name}.{unknown[0]}: unknown key")
    return values


# nodes a fallback expression may not contain: they bind names, open scopes or suspend
_FALLBACK_REFUSED = (ast.NamedExpr, ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom, ast.ListComp, ast.SetComp,
                     ast.DictComp, ast.GeneratorExp, ast.Starred)
_FALLBACK_SHAPE = ("a name or dotted name, or a call of one whose arguments are literals "
                   "(make_test_context(), contexts.for_tests(user='t'))")


def _dotted_name(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _literal(node: ast.expr) -> bool:
    """What `ast.literal_eval` reads: constants, signed numbers, and tuples, lists, sets and dicts of them."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float, complex))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_literal(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(key is not None and _literal(key) for key in node.keys) and all(map(_literal, node.values))
    return False


def _fallback_name(expression: str, key: str) -> str:
    """The one name a context fallback's expression uses, once the expression is known to be safe to
    paste as a call's argument: exactly one expression, parsed on its own, of the allowed shape."""
    import io
    import tokenize

    if "\n" in expression or "\r" in expression:
        raise ConfigError(f"{key}.expression: expected one line, got {expression!r}")
    text = expression.strip()
    try:
        tree = ast.parse(text, mode="eval")
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, ValueError, tokenize.TokenError):
        raise ConfigError(f"{key}.expression: {expression!r} is not a Python expression") from None
    if any(token.type == tokenize.COMMENT for token in tokens):  # it would swallow the rest of the call it goes in
        raise ConfigError(f"{key}.expression: {expression!r} has a comment; give the expression only")
    body = tree.body
    if isinstance(body, ast.Tuple) or any(isinstance(node, _FALLBACK_REFUSED) for node in ast.walk(body)):
        raise ConfigError(f"{key}.expression: {expression!r} must be one plain expression: {_FALLBACK_SHAPE}")
    names = sorted({node.id for node in ast.walk(body) if isinstance(node, ast.Name)})
    if len(names) != 1:
        raise ConfigError(f"{key}.expression: {expression!r} uses {len(names)} names "
                          f"({', '.join(names) or 'none'}); it must use exactly one, the one `import` provides")
    callee = body.func if isinstance(body, ast.Call) else body
    plain = _dotted_name(callee) and (not isinstance(body, ast.Call) or (
        all(_literal(argument) for argument in body.args)
        and all(keyword.arg is not None and _literal(keyword.value) for keyword in body.keywords)))
    if not plain:
        raise ConfigError(f"{key}.expression: {expression!r} must be one plain expression: {_FALLBACK_SHAPE}")
    dunder = [node.id if isinstance(node, ast.Name) else node.attr for node in ast.walk(callee)
              if isinstance(node, (ast.Name, ast.Attribute)) and (node.id if isinstance(node, ast.Name)
                                                                  else node.attr).startswith("__")]
    if dunder:
        raise ConfigError(f"{key}.expression: {expression!r} uses {dunder[0]}; names starting with __ are refused")
    return names[0]


def _context_fallbacks(table: dict[str, Any], where: str) -> tuple[ContextFallback, ...]:
    """`context-fallbacks`: an ordered table of gitignore-style patterns to {expression, import}."""
    value = _expect(table, "context-fallbacks", dict, where)
    fallbacks: list[ContextFallback] = []
    for pattern, spec in (value or {}).items():
        key = f'{where}.context-fallbacks."{pattern}"'
        if pattern.startswith("!"):
            raise ConfigError(f"{key}: a fallback's pattern cannot be a negation")
        problem = check_pattern(pattern)
        if problem is not None:
            raise ConfigError(f"{key}: {pattern!r} {problem}")
        if not isinstance(spec, dict):
            raise ConfigError(f"{key}: expected a table {{ expression = \"...\", import = \"module\" }}, got {spec!r}")
        extra = sorted(set(spec) - _FALLBACK_KEYS)
        if extra:
            raise ConfigError(f"{key}.{extra[0]}: unknown key")
        expression = _expect(spec, "expression", str, key, required=True)
        module = _dotted(spec, "import", key, required=True)
        name = _fallback_name(expression, key)
        assert module is not None
        fallbacks.append(ContextFallback(pattern, expression.strip(), module, name))
    return tuple(fallbacks)


def parse_config(table: dict[str, Any], source: str, where: str = "tool.migrate-ws") -> Config:
    """Validate one `[tool.migrate-ws]` table and build a `Config`."""
    unknown = sorted(set(table) - _keys_under())
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key")
    canonical = _dotted(table, "canonical-module", where, required=True)
    assert canonical is not None
    exports = _str_list(table, "canonical-exports", where, _IDENT) or ()
    implementation = _dotted(table, "implementation", where)
    if implementation is not None and "." not in implementation:
        raise ConfigError(f"{where}.implementation: expected module.Name, got {implementation!r}")

    aliases_table = _expect(table, "aliases", dict, where) or {}
    aliases: dict[str, str] = {}
    for alias, target in aliases_table.items():
        if not _IDENT.match(alias) or not isinstance(target, str) or not _IDENT.match(target):
            raise ConfigError(f"{where}.aliases.{alias}: expected Name = \"CanonicalName\", got {target!r}")
        if alias == target:
            raise ConfigError(f"{where}.aliases.{alias}: an alias cannot map to itself")
        aliases[alias] = target

    legacy_table = _expect(table, "legacy-modules", dict, where, required=True)
    legacy: dict[str, LegacyModule] = {}
    for module, spec in legacy_table.items():
        key = f"{where}.legacy-modules.{module}"
        if not _DOTTED.match(module):
            raise ConfigError(f"{key}: {module!r} is not a dotted module path")
        if module == canonical:
            raise ConfigError(f"{key}: the canonical module cannot also be a legacy module")
        if isinstance(spec, list):
            spec = {"names": spec}
        if not isinstance(spec, dict):
            raise ConfigError(f"{key}: expected a list of names or a table with 'names'")
        extra = sorted(set(spec) - _LEGACY_KEYS)
        if extra:
            raise ConfigError(f"{key}.{extra[0]}: unknown key")
        names = _str_list(spec, "names", key, _IDENT)
        if not names:
            raise ConfigError(f"{key}.names: expected a non-empty list of names")
        retire = _expect(spec, "retire", bool, key)
        drop = _str_list(spec, "drop", key, _IDENT) or ()
        legacy[module] = LegacyModule(module, names, True if retire is None else retire, drop)
    if not legacy:
        raise ConfigError(f"{where}.legacy-modules: at least one legacy module is required")

    factory_table = _expect(table, "factory", dict, where) or {}
    unknown = sorted(set(factory_table) - _keys_under("factory"))
    if unknown:
        raise ConfigError(f"{where}.factory.{unknown[0]}: unknown key")
    fwhere = f"{where}.factory"
    function = _expect(factory_table, "function", str, fwhere) or ""
    if function and not _IDENT.match(function):
        raise ConfigError(f"{fwhere}.function: {function!r} is not a valid Python name")
    parameter = _expect(factory_table, "context-parameter", str, fwhere) or ""
    if function and not parameter:
        raise ConfigError(f"{fwhere}.context-parameter: required with factory.function (the factory's context argument)")
    if parameter and not _IDENT.match(parameter):
        raise ConfigError(f"{fwhere}.context-parameter: {parameter!r} is not a valid Python name")
    factory = FactoryConfig(
        function=function,
        context_parameter=parameter,
        context_variables=_str_list(factory_table, "context-variables", fwhere, _IDENT) or ((parameter,) if parameter else ()),
        is_async=bool(_expect(factory_table, "async", bool, fwhere)),
        functions=_str_list(factory_table, "functions", fwhere, _IDENT) or (),
        classes=_str_list(factory_table, "classes", fwhere, _IDENT) or (),
        class_methods=_str_list(factory_table, "class-methods", fwhere, _IDENT) or (),
        factory_objects=_str_list(factory_table, "factory-objects", fwhere, _IDENT) or (),
        factory_methods=_str_list(factory_table, "factory-methods", fwhere, _IDENT) or (),
        context_types=_str_list(factory_table, "context-types", fwhere, _IDENT) or (),
        parameters=_str_list(factory_table, "parameters", fwhere, _IDENT),
        context_fallbacks=_context_fallbacks(factory_table, fwhere),
    )
    if factory.parameters is not None and parameter and parameter not in factory.parameters:
        raise ConfigError(f"{fwhere}.parameters: must include the context parameter {parameter!r}")
    if factory.context_fallbacks and not function:
        raise ConfigError(f"{fwhere}.context-fallbacks: requires factory.function")
    name = _expect(table, "name", str, where) or "migration"
    titles = _expect(table, "step-titles", dict, where) or {}
    for step, text in titles.items():
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{where}.step-titles.{step}: expected a non-empty string, got {text!r}")
    max_file_size = table.get("max-file-size", DEFAULT_MAX_FILE_SIZE)
    if isinstance(max_file_size, bool) or not isinstance(max_file_size, int) or max_file_size <= 0:
        raise ConfigError(f"{where}.max-file-size: expected a positive number of bytes, got {max_file_size!r}")
    return Config(
        name=name,
        canonical_module=canonical,
        canonical_exports=exports,
        aliases=aliases,
        legacy_modules=legacy,
        implementation=implementation,
        include=_patterns(table, "include", where) or ("**/*.py",),
        exclude=_patterns(table, "exclude", where) or (),
        respect_gitignore=_expect(table, "respect-gitignore", bool, where) is not False,
        factory=factory,
        source=source,
        title=_expect(table, "title", str, where) or "",
        step_titles=dict(titles),
        max_file_size=max_file_size,
        step_options=_step_options(table, where),
    )


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: invalid TOML ({exc})") from None


def _tool_table(document: dict[str, Any]) -> dict[str, Any] | None:
    tool = document.get("tool")
    if isinstance(tool, dict):
        table = tool.get("migrate-ws")
        if table is not None and not isinstance(table, dict):
            raise ConfigError("tool.migrate-ws: expected a table")
        return table
    return None


def _presets_folder():
    # importlib.resources (and the tempfile and random it loads) only when a preset is read
    from importlib import resources

    return resources.files("migrate_ws") / "presets"


def available_presets() -> list[str]:
    return sorted(entry.name[: -len(".toml")] for entry in _presets_folder().iterdir() if entry.name.endswith(".toml"))


def load_preset(name: str) -> Config:
    if name not in available_presets():
        raise ConfigError(f"--preset: unknown preset {name!r} (available: {', '.join(available_presets())})")
    resource = _presets_folder() / f"{name}.toml"
    document = tomllib.loads(resource.read_text(encoding="utf-8"))
    table = _tool_table(document)
    if table is None:
        raise ConfigError(f"preset {name}: has no [tool.migrate-ws] table")
    return parse_config(table, source=f"preset {name}")


def _from_table(table: dict[str, Any], source: str) -> Config:
    # `preset = "<name>"` inside a user's table starts from that preset's values.
    preset = table.get("preset")
    if preset is not None:
        if not isinstance(preset, str):
            raise ConfigError(f"tool.migrate-ws.preset: expected str, got {preset!r}")
        base_resource = _presets_folder() / f"{preset}.toml"
        if preset not in available_presets():
            raise ConfigError(f"tool.migrate-ws.preset: unknown preset {preset!r}")
        base = _tool_table(tomllib.loads(base_resource.read_text(encoding="utf-8"))) or {}
        merged = {**base, **{k: v for k, v in table.items() if k != "preset"}}
        # the factory table is merged key by key: a repository adds its context fallbacks to the preset's factory
        if isinstance(base.get("factory"), dict) and isinstance(table.get("factory"), dict):
            merged["factory"] = {**base["factory"], **table["factory"]}
        table = merged
    return parse_config(table, source=source)


def load_config(root: Path, config_file: Path | None = None, preset: str | None = None) -> Config:
    """Resolve the configuration: `--config`, then `--preset`, then pyproject.toml, then a built-in preset
    whose canonical module is in the repository (`detected`); with none of these, ConfigError."""
    if config_file is not None and preset is not None:
        raise ConfigError("--config and --preset: give one or the other")
    if config_file is not None:
        document = _read_toml(config_file, f"--config {config_file}")
        table = _tool_table(document)
        if table is None:
            raise ConfigError(f"--config {config_file}: no [tool.migrate-ws] table")
        return _from_table(table, source=str(config_file))
    if preset is not None:
        return load_preset(preset)
    for folder in project_folders(root):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _tool_table(_read_toml(pyproject, str(pyproject)))
            if table is not None:
                return _from_table(table, source=str(pyproject))
    return detect_preset(root)


def project_folders(root: Path) -> list[Path]:
    """`root` and its parents up to the top of its repository (the first holding `.git`), as black looks
    for a project's pyproject.toml."""
    folders: list[Path] = []
    for folder in [root, *root.parents]:
        folders.append(folder)
        if (folder / ".git").exists():
            return folders
    return [root]  # not in a repository: only the root itself


def detect_preset(root: Path) -> Config:
    """With no configuration: the built-in preset whose canonical module is in the repository, if one is."""
    from dataclasses import replace

    for name in available_presets():
        config = load_preset(name)
        if any(module_file(folder, config.canonical_module) is not None for folder in project_folders(root)):
            return replace(config, detected=True)
    raise ConfigError(f"no configuration: add a [tool.migrate-ws] table to {root / 'pyproject.toml'}, pass --config "
                      f"FILE, or choose a preset with --preset NAME (available: {', '.join(available_presets())})")
