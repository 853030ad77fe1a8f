"""The layers of migrate_ws: a module imports only from its own layer and the layers below.

Every import counts, wherever it is written: at the top, inside a function, under
`if TYPE_CHECKING:`. A module that is in no layer fails the test, so a new module is placed
when it is added. docs/architecture.md draws the same layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "migrate_ws"

# Bottom first. A name stands for that module and, for a package, every module inside it.
LAYERS: list[tuple[str, set[str]]] = [
    ("data types and leaf helpers", {
        "findings", "quoting", "source", "textsearch", "patterns", "module_files", "edits", "config", "model",
        "parent_watch", "exit_codes", "steps",
    }),
    ("analysis and checks", {
        "scopes", "analysis", "flow", "import_statements", "editing", "diffs", "safety", "verification",
        "binding_check", "import_bindings", "import_check", "cache", "discovery", "resolution", "legacy_paths",
        "retirement",
    }),
    ("the steps' machinery", {
        "context", "references", "kept_imports", "suppressions", "prefilter", "repository_facts",
    }),
    ("the steps", {"codemods"}),
    ("the engine", {"transform", "file_pipeline", "worker", "engine", "leaving_out", "testing"}),
    ("report and output", {"report", "review", "pr", "output_formats", "slicing", "audit", "reference_docs"}),
    ("applying a plan", {"writer", "applying"}),
    ("the command line", {"cli", "__main__"}),
]

# Imports allowed to break the layering (or close a circle inside a layer), each as (importer,
# imported) dotted below migrate_ws, with the reason as a comment. None today; an entry that no
# longer occurs fails the test, so the set only ever holds real exceptions.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _layer_of(module: str) -> int | None:
    for position, (_, names) in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + "."):
                return position
    return None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The package's modules `module` imports (wherever the import is written), with a line of each."""
    is_package = path.name == "__init__.py"
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names if alias.name.startswith("migrate_ws.")]
            targets = [t[len("migrate_ws."):] for t in targets]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if module else []
                base = base[:len(base) - node.level + (1 if is_package else 0)]
            elif node.module and (node.module == "migrate_ws" or node.module.startswith("migrate_ws.")):
                base = []
            else:
                continue
            prefix = [*base, *([node.module] if node.module else [])]
            if not node.level:
                prefix = prefix[0].split(".")[1:] if prefix else []
            targets = []
            for alias in node.names:
                candidate = ".".join([*prefix, alias.name])
                targets.append(candidate if candidate in modules else ".".join(prefix))
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.setdefault(target, node.lineno)
    return found


def _graph() -> tuple[dict[str, Path], dict[str, dict[str, int]]]:
    modules = _modules()
    return modules, {name: _imports(name, path, modules) for name, path in modules.items() if name}


def test_every_module_has_a_layer():
    unplaced = [name for name in _modules() if name and _layer_of(name) is None]
    assert not unplaced, f"place these modules in a layer of tests/test_layers.py: {unplaced}"


def test_no_module_imports_from_a_higher_layer():
    _, graph = _graph()
    upward = []
    for importer, imported in sorted(graph.items()):
        for target, line in sorted(imported.items()):
            below, above = _layer_of(importer), _layer_of(target)
            if below is None or above is None or above <= below or (importer, target) in KNOWN_EXCEPTIONS:
                continue
            upward.append(f"migrate_ws/{importer.replace('.', '/')} line {line}: {importer} "
                          f"({LAYERS[below][0]}) imports {target} ({LAYERS[above][0]})")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_circle():
    _, graph = _graph()
    edges = {name: {t for t in targets if (name, t) not in KNOWN_EXCEPTIONS} for name, targets in graph.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges.get(name, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join(path[path.index(target):] + [name, target]) if target in path
                               else f"{name} -> {target}")
            elif target not in state:
                visit(target, path + [name])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_known_exceptions_are_still_there():
    """An exception that no longer happens is taken out of the list, so it cannot hide a new one."""
    _, graph = _graph()
    gone = sorted(pair for pair in KNOWN_EXCEPTIONS if pair[1] not in graph.get(pair[0], {}))
    assert not gone, f"no longer imported: remove from KNOWN_EXCEPTIONS: {gone}"


def test_no_step_imports_another_step():
    """Steps share what the repository says through `RepositoryFacts` and helpers below them,
    never through each other: a module that declares a STEP imports no other such module."""
    modules, graph = _graph()

    def declares_step(name: str) -> bool:
        tree = ast.parse(modules[name].read_text(encoding="utf-8"))
        return any(isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "STEP" for t in node.targets)
                   for node in tree.body)

    steps = {name for name in modules if name.startswith("codemods.") and declares_step(name)}
    assert "codemods.imports" in steps and "codemods.legacy_modules" in steps
    crossing = sorted((name, target) for name in steps for target in graph[name] if target in steps)
    assert not crossing, f"steps importing other steps: {crossing}"
