"""The import check: no import that resolves before the change may fail after it.

Every reference a file makes to another module's name (see `references.py`) is resolved
statically in the repository as it is before the change and as it would be after it, by
the rules the analysis uses for exports: a name resolves when the module binds it at
module level (in `if` and `try` blocks too), when it is a submodule of a package, when a
star import of a module that provides it brings it in, or when the module defines a
module-level `__getattr__`. A module that is not in the repository (the standard library,
installed packages) is not checked.

A reference that resolved before and would not after is an error (MW701): `--apply`
refuses, `--dry-run` and `--check` report it. One that did not resolve before either is
listed once as information (MW702): not caused by the change.

Files the workers analysed carry their references. A module that loses a name other
files could import without naming anything the prefilter looks for (an `as` name a step
dropped) is looked up in the rest of the repository by its text.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .scopes import bound_name, module_level_statements, module_name_for, resolve_relative
from .config import DEFAULT_MAX_FILE_SIZE
from .findings import IMPORT_ALREADY_BROKEN, IMPORT_WOULD_BREAK, Finding
from .model import FileOutcome, FileResult, Reference
from .source import NESTING_ERRORS, SourceText, UndecodableSource, parse_module_bytes, parse_source
from .textsearch import AnchoredNeedles

_STAR = "*"
_ANY = "__getattr__"


@dataclass
class ModuleState:
    """What one module provides in one state of the repository."""

    exists: bool
    names: set[str] = field(default_factory=set)
    stars: list[str] = field(default_factory=list)  # modules it star-imports from
    is_package: bool = False


class Repository:
    """Modules of the repository before the change, or after it (the plan's contents)."""

    max_file_size = DEFAULT_MAX_FILE_SIZE  # a larger module is not parsed: nothing is said against it

    def __init__(self, root: Path, paths: Iterable[str], after: dict[str, bytes | None] | None = None,
                 like: "Repository | None" = None, remembered: "StateCache | None" = None) -> None:
        self.root = root
        self.after = after or {}  # path -> content after the change (None: deleted)
        self._states: dict[str, ModuleState] = {}
        self.remembered = remembered
        if like is not None and None not in self.after.values():
            # the same modules as `like` (nothing deleted): its maps are shared, not built again
            self.files, self.packages_present = like.files, like.packages_present
            return
        self.files: dict[str, str] = {}  # module -> path
        self.packages_present: set[str] = set()
        after = self.after
        for path in paths:
            if after and after.get(path, b"") is None:
                continue
            # module_name_for, inlined: this runs for every file of the repository
            if path.endswith("__init__.py") and (len(path) == 11 or path[-12] == "/"):
                module = path[:-12].replace("/", ".")
            else:
                module = path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")
            self.files[module] = path
        for module in self.files:
            parts = module.split(".")
            for depth in range(len(parts), 0, -1):
                package = ".".join(parts[:depth])
                if package in self.packages_present:
                    break  # and every package above it
                self.packages_present.add(package)

    def in_repository(self, module: str) -> bool:
        """Whether the module's top-level package is part of this repository at all."""
        return module.split(".")[0] in self.packages_present

    def state(self, module: str) -> ModuleState:
        if module not in self._states:
            self._states[module] = self._read(module)
        return self._states[module]

    def _read(self, module: str) -> ModuleState:
        path = self.files.get(module)
        if path is None:
            return ModuleState(exists=module in self.packages_present)  # a namespace package, or nothing
        if path not in self.after and self.remembered is not None:
            return self.remembered.state(self, module, path)
        data = self.after[path] if path in self.after else self._disk(path)
        return self._parsed(module, path, data)

    def _parsed(self, module: str, path: str, data: bytes | None) -> ModuleState:
        if data is None:
            return ModuleState(exists=True, names={_ANY})  # unreadable: nothing can be said against it
        if len(data) > self.max_file_size:
            return ModuleState(exists=True, names={_ANY})  # not parsed (MW909): nothing can be said against it
        try:
            tree = parse_module_bytes(data, path)
        except (SyntaxError, ValueError, UndecodableSource, *NESTING_ERRORS):
            return ModuleState(exists=True, names={_ANY})
        is_package = path.endswith("__init__.py")
        state = ModuleState(exists=True, is_package=is_package)
        for statement in module_level_statements(tree):
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                state.names.add(statement.name)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name):
                            state.names.add(node.id)
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    state.names.add(bound_name(alias))
            elif isinstance(statement, ast.ImportFrom):
                source = resolve_relative(module, is_package, statement.level, statement.module)
                for alias in statement.names:
                    if alias.name == _STAR:
                        if source:
                            state.stars.append(source)
                    else:
                        state.names.add(alias.asname or alias.name)
            elif isinstance(statement, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                for node in ast.walk(statement):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        state.names.add(node.id)
        return state

    def _disk(self, path: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, path), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def resolves(self, module: str, name: str, seen: frozenset[str] = frozenset()) -> bool | None:
        """Whether `from module import name` (or `import module` when name is "") works; None: unknown."""
        if not self.in_repository(module):
            return None
        state = self.state(module)
        if not state.exists:
            return False
        if not name:
            return True
        if name in state.names or _ANY in state.names:
            return True
        if f"{module}.{name}" in self.files or f"{module}.{name}" in self.packages_present:
            return True  # a submodule (importing it also binds it on the package)
        for source in state.stars:
            if source in seen:
                continue
            found = self.resolves(source, name, seen | {module})
            if found is None or found:
                return True
        return False


class StateCache:
    """What the modules on disk provide, remembered between runs next to the result cache
    (`modules-<key>.json`), each entry trusted only while its file has the same modification
    time and size: a cached `--check` would otherwise parse the modules the references point
    to on every run, some of them large."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.entries: dict[str, list] = {}
        self.dirty = False
        if file is not None:
            try:
                with open(file, encoding="utf-8") as handle:
                    loaded = json.load(handle)
                if isinstance(loaded, dict):
                    self.entries = loaded
            except (OSError, ValueError):
                pass

    @classmethod
    def for_run(cls, directory: Path, root: Path) -> "StateCache":
        import sys

        from . import __version__
        from .cache import _code_fingerprint, key_of

        return cls(directory / f"modules-{key_of([__version__, sys.version, str(root), _code_fingerprint()])}.json")

    def state(self, repository: Repository, module: str, path: str) -> ModuleState:
        try:
            info = os.stat(os.path.join(repository.root, path))
            stamp = [info.st_mtime_ns, info.st_size]
        except OSError:
            stamp = None
        entry = self.entries.get(path)
        if stamp is not None and entry is not None and entry[0] == module and entry[1] == stamp:
            _, _, names, stars, is_package = entry
            return ModuleState(True, set(names), list(stars), is_package)
        data = repository._disk(path)
        state = repository._parsed(module, path, data)
        if stamp is not None and data is not None:
            self.entries[path] = [module, stamp, sorted(state.names), state.stars, state.is_package]
            self.dirty = True
        return state

    def save(self) -> None:
        if not self.dirty or self.file is None:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self.entries), encoding="utf-8")
            os.replace(temporary, self.file)
        except OSError:
            pass  # it only ever saves time


def check(root: Path, paths: Sequence[str], files: list[FileResult], outcomes: dict[str, FileOutcome],
          watched: set[str], interesting: set[str], jobs: int = 1,
          cache_directory: Path | None = None, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> list[Finding]:
    """MW701 for every reference the change breaks, MW702 for those already broken before.

    With `cache_directory` (the result cache's), what each module on disk provides is
    remembered between runs (`StateCache`)."""
    if not any(outcome.references or outcome.lost_names for outcome in outcomes.values()):
        return []  # no reference to resolve, and no module loses a name another file could import
    after = {r.path: (None if r.deleted else r.rewritten) for r in files if r.changed}
    remembered = StateCache.for_run(cache_directory, root) if cache_directory is not None else None
    before_repo = Repository(root, paths, remembered=remembered)
    after_repo = Repository(root, paths, after, like=before_repo, remembered=remembered)
    before_repo.max_file_size = after_repo.max_file_size = max_file_size
    try:
        return _check(root, paths, outcomes, watched, interesting, jobs, before_repo, after_repo)
    finally:
        if remembered is not None:
            remembered.save()


def _check(root: Path, paths: list[str], outcomes: dict[str, FileOutcome], watched: set[str], interesting: set[str],
           jobs: int, before_repo: Repository, after_repo: Repository) -> list[Finding]:
    references: dict[str, list[Reference]] = {path: list(outcome.references) for path, outcome in outcomes.items()
                                              if outcome.references}
    _add_unseen_importers(root, paths, outcomes, watched, interesting, references, jobs)
    findings: list[Finding] = []
    reported: set[tuple[str, str, str]] = set()
    for path in sorted(references):
        for reference in references[path]:
            now = after_repo.resolves(reference.module, reference.name)
            if now is None or now:
                continue
            was = before_repo.resolves(reference.was_module, reference.was_name)
            what = f"{reference.module}.{reference.name}" if reference.name else reference.module
            if was is None or was:
                findings.append(Finding(IMPORT_WOULD_BREAK.code, path, reference.line,
                                        f"{_spelled(reference)} would no longer resolve after the change: "
                                        f"{_why(after_repo, reference)}"))
            elif (path, reference.module, reference.name) not in reported:
                reported.add((path, reference.module, reference.name))
                findings.append(Finding(IMPORT_ALREADY_BROKEN.code, path, reference.line,
                                        f"{_spelled(reference)} does not resolve today either ({what} is not there); "
                                        "not caused by the change"))
    return findings


@dataclass
class BrokenImport:
    """A reference that would no longer resolve, and the file of the module it imports from."""

    reference: Reference
    provider: str | None  # the file of the module it imports from (None: not in the repository)


def broken_by_leaving_out(root: Path, paths: list[str], files: list[FileResult], left_out: set[str]) -> list[BrokenImport]:
    """The references that would break if the files in `left_out` kept their original content while
    the rest of the change is applied (a review that rejects some files): each reference a left-out
    file makes as it is today, and each one an applied file makes after the change. Only the
    modules these references name are read."""
    after = {r.path: (None if r.deleted else r.rewritten) for r in files if r.changed and r.path not in left_out}
    before_repo = Repository(root, paths)
    after_repo = Repository(root, paths, after, like=before_repo)
    lost = _LostNames(before_repo, after_repo, after)
    broken: list[BrokenImport] = []
    for result in files:
        if result.path in left_out:
            # a file a repository step rewrites (a retired module) carries no references of its own
            references = [Reference(r.line, r.was_module, r.was_name, r.was_module, r.was_name)
                          for r in result.references]
            known = {(r.line, r.module, r.name) for r in references}
            references += [r for r in _imports_of(result.path, result.original, lost)
                           if (r.line, r.module, r.name) not in known]
        else:
            references = result.references
        for reference in references:
            now = after_repo.resolves(reference.module, reference.name)
            if now is None or now:
                continue
            was = before_repo.resolves(reference.was_module, reference.was_name)
            if was is None or was:
                broken.append(BrokenImport(reference, before_repo.files.get(reference.module)))
    return broken


class _LostNames:
    """module -> the module-level names its change takes away, worked out for the modules asked about."""

    def __init__(self, before: Repository, after: Repository, contents: dict[str, bytes | None]) -> None:
        self.before, self.after = before, after
        self.changed = {module_name_for(path)[0]: content for path, content in contents.items()}
        self.known: dict[str, set[str]] = {}

    def __bool__(self) -> bool:
        return bool(self.changed)

    def __contains__(self, module: object) -> bool:
        return bool(self[module]) if isinstance(module, str) else False

    def __getitem__(self, module: str) -> set[str]:
        if module not in self.known:
            names: set[str] = set()
            if module in self.changed:
                names = self.before.state(module).names - (
                    self.after.state(module).names if self.changed[module] is not None else set())
            self.known[module] = names
        return self.known[module]


def _spelled(reference: Reference) -> str:
    if not reference.name:
        return f"import {reference.module}"
    return f"{reference.name} from {reference.module}"


def _why(repository: Repository, reference: Reference) -> str:
    state = repository.state(reference.module)
    if not state.exists:
        return f"{reference.module} would not exist"
    return f"{reference.module} would not bind {reference.name}"


def _add_unseen_importers(root: Path, paths: list[str], outcomes: dict[str, FileOutcome], watched: set[str],
                          interesting: set[str], references: dict[str, list[Reference]], jobs: int = 1) -> None:
    """References to names a module loses that the workers do not collect: a name outside the ones
    the analysis follows (an `as` name a step dropped), of a module other than the legacy and
    canonical ones (whose importers the workers always analyse). Looked up by the file's text."""
    lost: dict[str, set[str]] = {}
    for path, outcome in outcomes.items():
        module = module_name_for(path)[0]
        names = set(outcome.lost_names) - interesting
        if names and module not in watched:
            lost[module] = names
    if not lost:
        return
    words = sorted({name.encode() for names in lost.values() for name in names})
    tails = sorted({module.rsplit(".", 1)[-1].encode() for module in lost})
    for path in _mentioning(str(root), paths, tails, words, jobs):
        try:
            with open(os.path.join(root, path), "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        known = {(r.line, r.module, r.name) for r in references.get(path, [])}
        found = [r for r in _imports_of(path, data, lost) if (r.line, r.module, r.name) not in known]
        if found:
            references.setdefault(path, []).extend(found)


def _scan(root: str, paths: list[str], tails: list[bytes], words: list[bytes]) -> list[str]:
    """The paths whose bytes mention one of the module tails and one of the names."""
    tail_finder, word_finder = AnchoredNeedles(set(tails)), AnchoredNeedles(set(words))
    found = []
    for path in paths:
        try:
            with open(f"{root}/{path}", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if tail_finder.any_in(data) and word_finder.any_in(data):
            found.append(path)
    return found


def _mentioning(root: str, paths: list[str], tails: list[bytes], words: list[bytes], jobs: int) -> list[str]:
    """`_scan` over every file, in `jobs` processes when there are many (reading them is most of it)."""
    if jobs <= 1 or len(paths) < 2000:
        return _scan(root, paths, tails, words)
    from concurrent.futures import ProcessPoolExecutor

    from .parent_watch import end_with_parent

    size = -(-len(paths) // jobs)
    with ProcessPoolExecutor(max_workers=jobs, initializer=end_with_parent, initargs=(os.getpid(),)) as pool:
        parts = pool.map(_scan, [root] * jobs, [paths[i:i + size] for i in range(0, len(paths), size)],
                         [tails] * jobs, [words] * jobs)
        return [path for part in parts for path in part]


def _imports_of(path: str, data: bytes, lost: dict[str, set[str]]) -> list[Reference]:
    """The file's imports of the modules in `lost` (module-level `from` and `import` statements and
    `m.name` uses of module objects, scope-blind: over-reporting here only costs a check)."""
    try:
        tree = parse_source(SourceText.decode(data).text, path)
    except (SyntaxError, ValueError, UndecodableSource, *NESTING_ERRORS):
        return []  # the file is reported as not processed if it needs a change itself
    module, is_package = module_name_for(path)
    found: list[Reference] = []
    objects: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = resolve_relative(module, is_package, node.level, node.module)
            if source is None:
                continue
            for alias in node.names:
                if source in lost and alias.name in lost[source]:
                    found.append(Reference(node.lineno, source, alias.name, source, alias.name))
                if f"{source}.{alias.name}" in lost:
                    objects[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in lost and alias.asname:
                    objects[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in objects:
            target = objects[node.value.id]
            if node.attr in lost[target]:
                found.append(Reference(node.lineno, target, node.attr, target, node.attr))
    return found
