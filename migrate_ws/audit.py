"""`migrate-ws audit`: the SSOT violations of a repository, found statically.

Five checks, for any configuration:
  1. implementations  - the canonical names resolve to more than one class
  2. import paths     - the canonical names are imported from more than one module path
  3. aliases          - an alias and its canonical name resolve to different objects
  4. factory          - module-level singleton state, or more than one factory function (a function
                        named like a configured factory that does not delegate to the configured
                        factory), in the canonical or a legacy module
  5. import cycles    - module-level import cycles among the package's modules

A file a check needs but cannot read, decode, parse or analyse (too large, too deeply nested)
is listed as not processed, with its finding code, and the other files are still checked.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import analyze, module_level_statements, module_name_for, resolve_relative
from .config import Config
from .discovery import discover
from .findings import CANNOT_DECODE, CANNOT_READ, DOES_NOT_PARSE, TOO_DEEP, TOO_LARGE, Finding
from .quoting import display_path
from .transform import Patterns
from .verification import ParseFailure
from .resolution import ModuleReader, module_file, module_level_bindings
from .source import (ANALYSIS, NESTING_ERRORS, PARSER, SourceText, UndecodableSource, parse_source, too_deep_reason,
                     too_large_reason)

CHECKS = ("implementations", "import-paths", "aliases", "factory", "import-cycles")
SINGLETON_NAMES = re.compile(r"^(_\w*(instance|singleton)|instance|singleton|getInstance)$")


@dataclass
class Violation:
    check: str
    message: str
    locations: list[str] = field(default_factory=list)


@dataclass
class AuditReport:
    findings: list[Violation] = field(default_factory=list)
    import_paths: dict[str, int] = field(default_factory=dict)
    implementations: dict[str, list[str]] = field(default_factory=dict)
    not_processed: list[Finding] = field(default_factory=list)  # files a check needed but could not read or parse

    @property
    def violations(self) -> bool:
        return bool(self.findings)

    def skip(self, root: Path, path: Path, code: str, reason: str, line: int = 0) -> None:
        relative = path.relative_to(root).as_posix() if path.is_absolute() else path.as_posix()
        finding = Finding(code, relative, line, f"not processed: {reason}")
        if finding not in self.not_processed:
            self.not_processed.append(finding)

    def parse(self, root: Path, path: Path, data: bytes | None = None) -> ast.Module | None:
        """The module's tree, or None when it cannot be had (the reason is kept in `not_processed`)."""
        try:
            if data is None:
                data = path.read_bytes()
            return parse_source(SourceText.decode(data).text, str(path))
        except FileNotFoundError:
            return None  # gone since it was listed: nothing to check
        except OSError as exc:
            self.skip(root, path, CANNOT_READ.code, f"cannot read: {exc.strerror or exc}")
        except UndecodableSource as exc:
            self.skip(root, path, CANNOT_DECODE.code, f"cannot decode: {exc}")
        except SyntaxError as exc:
            failure = ParseFailure.of(exc)
            self.skip(root, path, DOES_NOT_PARSE.code, failure.reason, failure.line)
        except ValueError as exc:
            self.skip(root, path, DOES_NOT_PARSE.code, f"does not parse: {exc}")
        except NESTING_ERRORS as exc:
            self.skip(root, path, TOO_DEEP.code, too_deep_reason(exc, PARSER))
        return None

    def by_check(self) -> dict[str, list[Violation]]:
        grouped: dict[str, list[Violation]] = {check: [] for check in CHECKS}
        for finding in self.findings:
            grouped[finding.check].append(finding)
        return grouped

    def to_json(self) -> dict:
        return {
            "violations": len(self.findings),
            "checks": {
                check: [{"message": f.message, "locations": f.locations} for f in findings]
                for check, findings in self.by_check().items()
            },
            "import_paths": self.import_paths,
            "implementations": self.implementations,
            "not_processed": [{"path": f.path, "line": f.line, "code": f.code, "reason": f.message}
                              for f in self.not_processed],
        }


def _package(config: Config) -> str:
    return config.canonical_module.rpartition(".")[0]


def _canonical_names(config: Config) -> set[str]:
    names = set(config.aliases) | set(config.aliases.values()) | set(config.factory.classes)
    if config.implementation_name:
        names.add(config.implementation_name)
    return names


def _modules_of_interest(config: Config) -> list[str]:
    return [config.canonical_module, *sorted(config.legacy_modules)]


def _origin_with_stars(reader: ModuleReader, module: str, name: str, depth: int = 0) -> str | None:
    found = reader.tree(module)
    if found is None or depth > 20:
        return None
    tree, is_package = found
    bindings = module_level_bindings(tree)
    if name in bindings:
        origin = reader.origin(module, name)
        origin_module, _, origin_name = origin.rpartition(".")
        if origin_module != module:
            deeper = _origin_with_stars(reader, origin_module, origin_name, depth + 1)
            return deeper or origin
        return origin
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and any(a.name == "*" for a in statement.names):
            source = resolve_relative(module, is_package, statement.level, statement.module)
            if source:
                found_origin = _origin_with_stars(reader, source, name, depth + 1)
                if found_origin:
                    return found_origin
    return None


def check_implementations(reader: ModuleReader, config: Config, report: AuditReport) -> None:
    origins: dict[str, list[str]] = {}
    for module in _modules_of_interest(config):
        names = _canonical_names(config)
        if module in config.legacy_modules:
            names &= set(config.legacy_modules[module].names) | ({config.implementation_name} if config.implementation_name else set())
        for name in sorted(names):
            origin = _origin_with_stars(reader, module, name)
            if origin is not None:
                origins.setdefault(origin, []).append(f"{module}.{name}")
    report.implementations = origins
    if len(origins) > 1:
        report.findings.append(Violation("implementations", f"the canonical names resolve to {len(origins)} different classes",
                                       [f"{origin} <- {', '.join(names)}" for origin, names in sorted(origins.items())]))


def check_aliases(reader: ModuleReader, config: Config, report: AuditReport) -> None:
    for alias, target in sorted(config.aliases.items()):
        seen: dict[str, list[str]] = {}
        for module in _modules_of_interest(config):
            for name in (alias, target):
                if module in config.legacy_modules and name not in config.legacy_modules[module].names:
                    continue
                origin = _origin_with_stars(reader, module, name)
                if origin is not None:
                    seen.setdefault(origin, []).append(f"{module}.{name}")
        if len(seen) > 1:
            report.findings.append(Violation("aliases", f"{alias} and {target} resolve to {len(seen)} different objects",
                                           [f"{origin} <- {', '.join(names)}" for origin, names in sorted(seen.items())]))


def _delegates(function: ast.FunctionDef | ast.AsyncFunctionDef, factory: str) -> bool:
    """Every `return` of the function returns a call of the configured factory (a thin wrapper)."""
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return)]
    if not returns or not factory:
        return False
    for node in returns:
        value = node.value.value if isinstance(node.value, ast.Await) else node.value
        if not isinstance(value, ast.Call):
            return False
        callee = value.func
        name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", None)
        if name != factory:
            return False
    return True


def check_factory(root: Path, config: Config, report: AuditReport) -> None:
    factory = config.factory
    factory_names = {*factory.functions, *factory.factory_objects, *([factory.function] if factory.function else [])}
    for module in _modules_of_interest(config):
        path = module_file(root, module)
        if path is None:
            continue
        tree = report.parse(root, path)
        if tree is None:
            continue
        relative = path.relative_to(root).as_posix()
        for name, statements in sorted(module_level_bindings(tree).items()):
            if SINGLETON_NAMES.match(name) and any(isinstance(s, (ast.Assign, ast.AnnAssign)) for s in statements):
                report.findings.append(Violation("factory", f"{module} holds module-level singleton state `{name}`",
                                               [f"{display_path(relative)}:{statements[0].lineno}"]))
        factories = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and s.name in factory_names and (s.name == config.factory.function
                                                      or not _delegates(s, config.factory.function))]
        if len(factories) > 1:
            report.findings.append(Violation("factory", f"{module} defines {len(factories)} factory functions: "
                                           f"{', '.join(f.name for f in factories)}",
                                           [f"{display_path(relative)}:{f.lineno}" for f in factories]))


def check_import_paths(root: Path, config: Config, report: AuditReport) -> None:
    cache = Patterns.get(config)
    paths = discover(root, config).files
    definition = set(config.legacy_modules) | {config.canonical_module}
    counts: dict[str, int] = {}
    locations: dict[str, list[str]] = {}
    manager_names = set(config.legacy_names) | set(config.aliases.values())
    for relative in paths:
        module, is_package = module_name_for(relative)
        if module in definition:
            continue
        try:
            data = (root / relative).read_bytes()
        except FileNotFoundError:
            continue  # gone since it was listed
        except OSError as exc:
            report.skip(root, Path(relative), CANNOT_READ.code, f"cannot read: {exc.strerror or exc}")
            continue
        if not cache.prefilter(data, relative):
            continue
        if len(data) > config.max_file_size:
            report.skip(root, Path(relative), TOO_LARGE.code, too_large_reason(len(data), config.max_file_size))
            continue
        tree = report.parse(root, root / relative, data)
        if tree is None:
            continue
        try:
            facts = analyze(SourceText.decode(data).text, tree, module, is_package, cache.names, cache.finder,
                            cache.markers)
        except NESTING_ERRORS as exc:
            report.skip(root, Path(relative), TOO_DEEP.code, too_deep_reason(exc, ANALYSIS))
            continue
        for binding in facts.bindings:
            source = None
            if binding.kind == "import-name" and binding.imported in manager_names and binding.module in definition:
                source = binding.module
            elif binding.kind == "import-name" and f"{binding.module}.{binding.imported}" in definition:
                source = f"{binding.module}.{binding.imported}"
            elif binding.kind == "import-module" and binding.module in definition:
                source = binding.module
            if source is None:
                continue
            counts[source] = counts.get(source, 0) + 1
            locations.setdefault(source, []).append(f"{display_path(relative)}:{binding.line}")
    report.import_paths = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    legacy_in_use = {path: count for path, count in counts.items() if path != config.canonical_module}
    if legacy_in_use:
        report.findings.append(Violation("import-paths", f"the canonical names are imported from {len(counts)} module paths "
                                       f"({len(legacy_in_use)} legacy)",
                                       [f"{loc}: {path}" for path in legacy_in_use for loc in locations[path]]))


def _package_modules(root: Path, package: str) -> dict[str, Path]:
    base = module_file(root, package)
    if base is None or base.name != "__init__.py":
        return {}
    folder = base.parent
    modules: dict[str, Path] = {}
    for directory, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in filenames:
            if name.endswith(".py"):
                relative = (Path(directory) / name).relative_to(root).as_posix()
                modules[module_name_for(relative)[0]] = Path(directory) / name
    return modules


def _module_level_imports(tree: ast.Module) -> list[ast.stmt]:
    # imports under `if TYPE_CHECKING:` do not run, so they cannot close an import cycle
    return [s for s in module_level_statements(tree, type_checking=False) if isinstance(s, (ast.Import, ast.ImportFrom))]


def check_import_cycles(root: Path, config: Config, report: AuditReport) -> None:
    package = _package(config)
    modules = _package_modules(root, package)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    lines: dict[tuple[str, str], str] = {}
    for module, path in modules.items():
        tree = report.parse(root, path)
        if tree is None:
            continue
        is_package = path.name == "__init__.py"
        for statement in _module_level_imports(tree):
            targets: list[str] = []
            if isinstance(statement, ast.Import):
                targets = [alias.name for alias in statement.names]
            else:
                source = resolve_relative(module, is_package, statement.level, statement.module)
                if source:
                    targets = [source] + [f"{source}.{alias.name}" for alias in statement.names]
            for target in targets:
                if target in graph and target != module:
                    graph[module].add(target)
                    where = display_path(path.relative_to(root).as_posix())
                    lines.setdefault((module, target), f"{where}:{statement.lineno}")
    for component in _strongly_connected(graph):
        if len(component) > 1:
            ordered = sorted(component)
            edges = [lines[(a, b)] for a in ordered for b in ordered if (a, b) in lines]
            report.findings.append(Violation("import-cycles", "import cycle among " + ", ".join(ordered), edges))


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                connect(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def audit(root: Path, config: Config) -> AuditReport:
    root = root.resolve()
    reader = ModuleReader(root)
    report = AuditReport()
    check_implementations(reader, config, report)
    check_import_paths(root, config, report)
    check_aliases(reader, config, report)
    check_factory(root, config, report)
    check_import_cycles(root, config, report)
    order = {check: position for position, check in enumerate(CHECKS)}
    report.findings.sort(key=lambda f: order[f.check])
    return report


def render(report: AuditReport) -> list[str]:
    lines: list[str] = []
    titles = {
        "implementations": "One implementation",
        "import-paths": "One import path",
        "aliases": "Aliases are one object",
        "factory": "Factory, no singletons",
        "import-cycles": "No import cycles",
    }
    for check, findings in report.by_check().items():
        status = "ok" if not findings else f"{len(findings)} violation{'s' if len(findings) > 1 else ''}"
        lines.append(f"{titles[check]:<24} {status}")
        for finding in findings:
            lines.append(f"  - {finding.message}")
            for location in finding.locations[:10]:
                lines.append(f"      {location}")
            if len(finding.locations) > 10:
                lines.append(f"      ... and {len(finding.locations) - 10} more")
    if report.import_paths:
        lines.append("Import paths in use: " + ", ".join(f"{p} ({c})" for p, c in report.import_paths.items()))
    if report.not_processed:
        lines.append(f"Files not processed ({len(report.not_processed)}); the checks above did not see them:")
        lines += [f"  {finding.render()}" for finding in sorted(report.not_processed, key=Finding.sort_key)]
    total = len(report.findings)
    lines.append(f"migrate-ws audit: {total} violation{'s' if total != 1 else ''}." if total else
                 "migrate-ws audit: no violations.")
    return lines
