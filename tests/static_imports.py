"""An independent static import checker for tests: which imports of a tree resolve.

Written apart from migrate-ws's own import check, so that the tests compare the engine
against something it does not share code with. A `from M import N` (relative imports
resolved) resolves when M is a module of the tree that binds N at module level (top level,
`if`/`try` blocks), N is a submodule of package M, a star import in M brings N in, or M
defines `__getattr__`; `import M` resolves when M is a module or package of the tree.
`m.N` of a module object bound by `import M as m` or `from P import m` counts as an import
of N from M. Modules outside the tree are ignored.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path


def _module_of(relative: str) -> tuple[str, bool]:
    parts = relative[:-3].split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    if not level:
        return target
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + (target.split(".") if target else [])) or None


def _bound(tree: ast.Module) -> tuple[set[str], list[ast.ImportFrom]]:
    names: set[str] = set()
    stars: list[ast.ImportFrom] = []

    def visit(body):
        for node in body:
            if isinstance(node, (ast.If, ast.Try)) or type(node).__name__ == "TryStar":
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(node.orelse)
                visit(getattr(node, "finalbody", []))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.Import):
                names.update(a.asname or a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        stars.append(node)
                    else:
                        names.add(alias.asname or alias.name)

    visit(tree.body)
    return names, stars


def _statements(body):
    """Every statement, nested ones too, without walking expressions (imports are statements)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(node, "handlers", None) or []:
            yield from _statements(handler.body)
        for case in getattr(node, "cases", None) or []:
            yield from _statements(case.body)


def _python_files(root: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", "__pycache__")]
        for name in filenames:
            if name.endswith(".py"):
                found[Path(directory, name).relative_to(root).as_posix()] = Path(directory, name).read_bytes()
    return found


class Tree:
    def __init__(self, root: Path, only: set[str] | None = None, contents: dict[str, bytes] | None = None) -> None:
        self.contents = contents if contents is not None else _python_files(root)
        self.only = only
        self.paths = {_module_of(path)[0]: path for path in self.contents}
        self.packages = {".".join(m.split(".")[:i]) for m in self.paths for i in range(1, len(m.split(".")) + 1)}
        self._trees: dict[str, ast.Module | None] = {}
        self._modules: dict[str, tuple[set[str], list[str]] | None] = {}

    def tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            try:
                self._trees[path] = ast.parse(self.contents[path])
            except (SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    @property
    def trees(self) -> dict[str, ast.Module]:
        selected = self.contents if self.only is None else [p for p in self.contents if p in self.only]
        return {path: tree for path in selected if (tree := self.tree(path)) is not None}

    def module(self, name: str) -> tuple[set[str], list[str]] | None:
        if name not in self._modules:
            path = self.paths.get(name)
            tree = self.tree(path) if path is not None else None
            if tree is None:
                self._modules[name] = None
            else:
                names, stars = _bound(tree)
                module, is_package = _module_of(path)
                sources = [s for s in (_absolute(module, is_package, n.level, n.module) for n in stars) if s]
                self._modules[name] = (names, sources)
        return self._modules[name]

    def resolves(self, module: str, name: str, depth: int = 0) -> bool | None:
        if module.split(".")[0] not in self.packages:
            return None  # not part of the tree
        if module not in self.paths:
            return module in self.packages and not name
        found = self.module(module)
        if found is None:
            return None  # does not parse: nothing can be said
        if not name:
            return True
        names, stars = found
        if name in names or "__getattr__" in names or f"{module}.{name}" in self.packages:
            return True
        return depth < 10 and any(self.resolves(source, name, depth + 1) is not False for source in stars)

    def references(self) -> set[tuple[str, int, str, str]]:
        """(file, line, module, name) of every import and module-object attribute use."""
        found: set[tuple[str, int, str, str]] = set()
        for relative, tree in self.trees.items():
            module, is_package = _module_of(relative)
            objects: dict[str, str] = {}
            for node in _statements(tree.body):
                if isinstance(node, ast.ImportFrom):
                    source = _absolute(module, is_package, node.level, node.module)
                    if source is None:
                        continue
                    for alias in node.names:
                        if alias.name != "*":
                            found.add((relative, node.lineno, source, alias.name))
                            if f"{source}.{alias.name}" in self.packages:
                                objects[alias.asname or alias.name] = f"{source}.{alias.name}"
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        found.add((relative, node.lineno, alias.name, ""))
                        if alias.asname:
                            objects[alias.asname] = alias.name
            if not objects:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in objects:
                    found.add((relative, node.lineno, objects[node.value.id], node.attr))
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                        and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) \
                        and node.args[0].id in objects and isinstance(node.args[1], ast.Constant) \
                        and isinstance(node.args[1].value, str) and len(node.args) == 2:
                    found.add((relative, node.lineno, objects[node.args[0].id], node.args[1].value))
        return found

    def unresolved(self) -> set[tuple[str, str, str]]:
        """(file, module, name) of every reference that does not resolve (lines left out: they move)."""
        return {(path, module, name) for path, _, module, name in self.references()
                if self.resolves(module, name) is False}


def new_unresolved_imports(before_root: Path, after_root: Path) -> set[tuple[str, str, str]]:
    """References that do not resolve in `after_root` and did resolve (or did not exist) in `before_root`.

    Only a file that changed, or that names a changed module, can change its answer: the others
    are read (their modules can be imported) but their own references are not compared.
    """
    before, after = _python_files(before_root), _python_files(after_root)
    changed = {path for path in set(before) | set(after) if before.get(path) != after.get(path)}
    tails = {_module_of(path)[0].rsplit(".", 1)[-1].encode() for path in changed}
    relevant = changed | {path for path, data in after.items() if any(tail in data for tail in tails)}
    return Tree(after_root, relevant, after).unresolved() - Tree(before_root, relevant, before).unresolved()
