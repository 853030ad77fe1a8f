"""`migrate-ws audit`: what stands between a repository and one import path, found statically.

Five checks (the aliases check only when the configuration has aliases; without a factory
table, the factory check looks for singleton state only):
  1. implementations  - the canonical names resolve to more than one class
  2. import paths     - the canonical names are imported from more than one module path
  3. aliases          - an alias and its canonical name resolve to different objects
  4. factory          - module-level singleton state, or more than one factory function (a function
                        named like a configured factory that does not delegate to the configured
                        factory), in the canonical or a legacy module
  5. import cycles    - module-level import cycles among the package's modules

Every import site the import-path check lists is also looked up in the migration's own plan
of that file (`explain_import_sites`): it moves with the change, or a finding at its line
says why it stays (the rule of what counts is `LegacyPaths.import_source`, shared with the
migration), or a `# migrate-ws: keep` comment keeps it.

A file a check needs but cannot read, decode, parse or analyse (too large, too deeply nested)
is listed as not processed, with its finding code, and the other files are still checked.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import analyze
from .config import Config, FactoryConfig
from .discovery import discover
from .findings import (CANNOT_DECODE, CANNOT_READ, DOES_NOT_PARSE, IMPORT_ALREADY_BROKEN, TOO_DEEP, TOO_LARGE,
                       Finding, Severity)
from .legacy_paths import LegacyPaths, packages_in
from .quoting import display_path
from .report import plural
from .transform import Patterns
from .verification import ParseFailure
from .module_files import module_file
from .resolution import ModuleReader, module_level_bindings
from .scopes import module_level_statements, module_name_for, resolve_relative
from .source import (ANALYSIS, NESTING_ERRORS, PARSER, SourceText, UndecodableSource, parse_source, too_deep_reason,
                     too_large_reason)

CHECKS = ("implementations", "import-paths", "aliases", "factory", "import-cycles")
SINGLETON_NAMES = re.compile(r"^(_\w*(instance|singleton)|instance|singleton|getInstance)$")


@dataclass
class Violation:
    check: str
    message: str
    locations: list[str] = field(default_factory=list)


_STATUS_ORDER = {"unexplained": 0, "reported": 1, "kept": 2, "moves": 3}


@dataclass
class ImportSite:
    """One import of the canonical names through a legacy path, and what the migration does with it."""

    path: str
    line: int
    module: str  # the legacy module path the names come through
    imported_from: str = ""  # the import as written: `from <imported_from> import <name>`, `import <imported_from>`
    name: str = ""
    # moves: the change rewrites it; reported: a finding at its line says why it stays; kept: a
    # `# migrate-ws: keep` comment keeps it; unexplained: the migration says nothing about it
    status: str = ""
    findings: list[Finding] = field(default_factory=list)  # the migration's findings at its line
    kept: list[str] = field(default_factory=list)  # what `# migrate-ws: keep` suppressed at its line

    @property
    def location(self) -> str:
        return f"{display_path(self.path)}:{self.line}"

    def describe(self) -> str:
        """The location with what the migration does with it, in one line."""
        base = f"{self.location}: {self.module}"
        if self.status == "moves":
            return f"{base} (the migration moves it)"
        if self.status == "reported":
            finding = self.findings[0]
            more = f" (+{len(self.findings) - 1} more)" if len(self.findings) > 1 else ""
            return f"{base} (stays: {finding.code} {finding.kind.name}: {finding.message}){more}"
        if self.status == "kept":
            return f"{base} (kept by `# migrate-ws: keep`)"
        if self.status == "unexplained":
            return f"{base} (the migration reports nothing here)"
        return base

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "module": self.module, "imported_from": self.imported_from,
                "name": self.name, "status": self.status or None,
                "findings": [f.to_json() for f in self.findings], "kept": self.kept}


def checks_for(config: Config) -> tuple[str, ...]:
    """The checks that mean something for this configuration (no aliases: nothing to compare)."""
    return tuple(check for check in CHECKS if check != "aliases" or config.aliases)


@dataclass
class AuditReport:
    findings: list[Violation] = field(default_factory=list)
    import_paths: dict[str, int] = field(default_factory=dict)
    implementations: dict[str, list[str]] = field(default_factory=dict)
    import_sites: list[ImportSite] = field(default_factory=list)  # the legacy import paths in use
    not_processed: list[Finding] = field(default_factory=list)  # files a check needed but could not read or parse
    checks: tuple[str, ...] = CHECKS  # the checks that ran (render lists these)
    factory: bool = True  # a factory is configured (else the factory check is about singleton state only)

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
            "import_sites": [site.to_json() for site in self.import_sites],
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
    legacy_paths = LegacyPaths(config, packages_in(root, config))
    definition = set(config.legacy_modules) | {config.canonical_module}
    counts: dict[str, int] = {}
    sites: list[ImportSite] = []
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
            source = legacy_paths.import_source(binding, facts)
            if source is None:
                continue
            counts[source] = counts.get(source, 0) + 1
            if source != config.canonical_module:
                sites.append(ImportSite(relative, binding.line, source, binding.module or "", binding.imported or ""))
        facts.release()
    report.import_paths = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    order = {path: position for position, path in enumerate(report.import_paths)}
    report.import_sites = sorted(sites, key=lambda site: (order[site.module], site.path, site.line))
    legacy_in_use = {path: count for path, count in counts.items() if path != config.canonical_module}
    if legacy_in_use:
        report.findings.append(Violation("import-paths", f"the canonical names are imported from {plural(len(counts), 'module path')} "
                                       f"({len(legacy_in_use)} legacy)",
                                       [f"{site.location}: {site.module}" for site in report.import_sites]))


def explain_import_sites(root: Path, config: Config, sites: list[ImportSite], jobs: int | None = None) -> None:
    """What the migration does with each import site: the plan of the files they are in, as `--dry-run` makes it."""
    if not sites:
        return
    from .engine import plan
    from .source import LineIndex

    planned = plan(root, config, jobs=jobs, only=sorted({site.path for site in sites}))
    results = {result.path: result for result in planned.files}
    found: dict[tuple[str, int], list[Finding]] = {}
    for finding in planned.all_findings:  # the files' own and the import check's
        found.setdefault((finding.path, finding.line), []).append(finding)
    for site in sites:
        result = results.get(site.path)
        if result is None:
            site.status = "unexplained"
            continue
        # the reason first: a follow-up, then a note about this import, then other notes at the line
        site.findings = sorted(found.get((site.path, site.line), []),
                               key=lambda f: (f.severity is Severity.INFO, f.code == IMPORT_ALREADY_BROKEN.code, f.code))
        site.kept = [s.describe() for s in result.suppressed if s.line == site.line]
        # what the import needs after the change (no record: the change removes it, a duplicate)
        after = [r for r in result.references
                 if r.line == site.line and (r.was_module, r.was_name) == (site.imported_from, site.name)]
        moved = any(r.rewritten for r in after)
        if not after and result.changed and result.edits:
            index = LineIndex(SourceText.decode(result.original).text)
            start = index.starts[site.line - 1] if site.line <= len(index.starts) else index.length
            end = start + len(index.line_text(site.line))
            moved = any(e.start < end and e.end > start and e.step != "legacy-modules" for e in result.edits)
        if moved:
            site.status = "moves"
        elif site.findings:
            site.status = "reported"
        elif site.kept:
            site.status = "kept"
        else:
            site.status = "unexplained"


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


def audit(root: Path, config: Config, explain: bool = True, jobs: int | None = None) -> AuditReport:
    """The violations as they stand; with `explain`, what the migration does with each legacy import site."""
    root = root.resolve()
    reader = ModuleReader(root)
    report = AuditReport(checks=checks_for(config), factory=config.factory != FactoryConfig())
    check_implementations(reader, config, report)
    check_import_paths(root, config, report)
    if explain and report.import_sites:
        explain_import_sites(root, config, report.import_sites, jobs)
        for violation in report.findings:
            if violation.check == "import-paths":
                # the sites that stay first: they are what a reader has to look at
                staying = sorted(report.import_sites, key=lambda site: _STATUS_ORDER.get(site.status, 0))
                violation.locations = [site.describe() for site in staying]
    if "aliases" in report.checks:
        check_aliases(reader, config, report)
    check_factory(root, config, report)
    check_import_cycles(root, config, report)
    order = {check: position for position, check in enumerate(CHECKS)}
    report.findings.sort(key=lambda f: order[f.check])
    return report


def import_sites_summary(sites: list[ImportSite]) -> str:
    """What the migration does with the legacy import sites, counted: "the migration: 3 move, 2 stay (MW102 1, ...)"."""
    moves = sum(1 for site in sites if site.status == "moves")
    reported: dict[str, int] = {}
    for site in sites:
        if site.status == "reported":
            reported[site.findings[0].code] = reported.get(site.findings[0].code, 0) + 1
    parts = [f"{moves} move{'s' if moves == 1 else ''}"]
    if reported:
        codes = ", ".join(f"{code} {count}" for code, count in sorted(reported.items()))
        parts.append(f"{sum(reported.values())} stay with a finding at their line ({codes})")
    kept = sum(1 for site in sites if site.status == "kept")
    if kept:
        parts.append(f"{kept} kept by `# migrate-ws: keep`")
    unexplained = sum(1 for site in sites if site.status == "unexplained")
    if unexplained:
        parts.append(f"{unexplained} with nothing reported")
    return "the migration: " + ", ".join(parts)


def render(report: AuditReport) -> list[str]:
    lines: list[str] = []
    titles = {
        "implementations": "One implementation",
        "import-paths": "One import path",
        "aliases": "Aliases are one object",
        "factory": "Factory, no singletons" if report.factory else "No singletons",
        "import-cycles": "No import cycles",
    }
    for check, findings in report.by_check().items():
        if check not in report.checks and not findings:
            continue
        status = "ok" if not findings else f"{len(findings)} violation{'s' if len(findings) > 1 else ''}"
        lines.append(f"{titles[check]:<24} {status}")
        for finding in findings:
            lines.append(f"  - {finding.message}")
            if check == "import-paths" and report.import_sites and report.import_sites[0].status:
                lines.append(f"    {import_sites_summary(report.import_sites)}")
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
