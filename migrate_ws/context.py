"""The per-file context the codemods share: what a name is bound to, and queued changes.

Codemods never edit import statements by hand: they queue what each import binding
becomes through `FileContext.rebind_import`, and the context renders every touched
statement once, merging the duplicates a rewrite produces.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .analysis import Binding, FileFacts, Scope, Use, resolve, resolve_relative
from .config import Config
from .import_statements import AliasSpec, render_from_import, rewrite_statement
from .findings import Code, Finding
from .model import Edit, Targets  # noqa: F401 (Targets is part of the context's API)


@dataclass
class ImportChange:
    binding: Binding
    spec: AliasSpec | None  # None: remove this alias (a duplicate after the rewrite)
    module: str | None  # new absolute source module for `from` imports
    kind: str
    description: str


@dataclass
class FileContext:
    path: str
    text: str
    facts: FileFacts
    targets: Targets
    edits: list[Edit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    import_changes: dict[int, ImportChange] = field(default_factory=dict)  # id(alias node) -> change
    renamed: dict[tuple[int, str], str] = field(default_factory=dict)  # (id(scope), local) -> new local
    renamed_exports: dict[str, str] = field(default_factory=dict)
    depends_on: set[tuple[str, str]] = field(default_factory=set)
    # new imports queued next to an existing import statement: id(statement) -> (statement, [(module, spec, kind)])
    extra_imports: dict[int, tuple[ast.stmt, list[tuple[str, AliasSpec, str]]]] = field(default_factory=dict)
    _followup_keys: set = field(default_factory=set)
    _deleted_ids: set = field(default_factory=set)
    _findings_by_binding: dict = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return self.targets.config

    @property
    def steps(self) -> frozenset[str]:
        return self.targets.steps

    # ----- positions -------------------------------------------------------------
    def span(self, node: ast.AST) -> tuple[int, int]:
        index = self.facts.index
        return index.offset(node.lineno, node.col_offset), index.offset(node.end_lineno, node.end_col_offset)

    def replace(self, start: int, end: int, text: str, kind: str, description: str) -> None:
        if self.text[start:end] == text:
            return
        self.edits.append(Edit(start, end, text, kind, self.facts.index.line_of(start), description))

    def follow_up(self, line: int, message: str, code: Code, binding: Binding | None = None) -> None:
        """Report a site left for a person; one tied to a binding is withdrawn if a later step rewrites it."""
        key = (line, message)
        if key not in self._followup_keys:
            self._followup_keys.add(key)
            finding = Finding(code.code, self.path, line, message)
            self.findings.append(finding)
            if binding is not None:
                self._findings_by_binding.setdefault(id(binding.node), []).append(finding)

    # ----- what names are bound to ----------------------------------------------------
    def legacy_target(self, binding: Binding) -> str | None:
        """The canonical name a `from m import n` binding stands for, if it comes from a legacy path."""
        if binding.kind != "import-name" or binding.module is None or binding.imported is None or binding.guard:
            return None
        config = self.config
        legacy = config.legacy_modules.get(binding.module)
        if legacy is not None and binding.imported in legacy.names:
            return config.canonical_name_for(binding.imported)
        if binding.module == config.canonical_module and binding.imported in config.aliases:
            return config.aliases[binding.imported]
        if binding.module == config.canonical_module and binding.imported in self.targets.canonical_exports:
            return binding.imported
        derived = self.targets.derived_map().get((binding.module, binding.imported))
        return derived

    def is_legacy_path(self, binding: Binding) -> bool:
        return binding.module != self.config.canonical_module

    def module_object(self, binding: Binding) -> str | None:
        """The module a binding holds when it is a module object from a legacy path or the canonical one."""
        config = self.config
        if binding.guard:
            return None
        if binding.kind == "import-name" and binding.module and binding.imported:
            path = f"{binding.module}.{binding.imported}"
        elif binding.kind == "import-module" and binding.bound_path is None:
            path = binding.module
        else:
            return None
        if path in config.legacy_modules or path == config.canonical_module:
            return path
        return None

    def target_of_use(self, use: Use) -> str | None:
        """The canonical name a plain name use refers to, when every binding it can see agrees."""
        bindings = resolve(use.scope, use.name)
        return self.target_of_bindings(bindings)

    def target_of_bindings(self, bindings: list[Binding], seen: set[int] | None = None) -> str | None:
        if not bindings:
            return None
        targets: set[str | None] = set()
        for binding in bindings:
            targets.add(self.target_of_binding(binding, seen))
        if len(targets) == 1:
            return targets.pop()
        return None

    def target_of_binding(self, binding: Binding, seen: set[int] | None = None) -> str | None:
        if binding.kind == "import-name":
            return self.legacy_target(binding)
        if binding.kind == "assign" and binding.value_name is not None:
            seen = seen or set()
            if id(binding) in seen:
                return None
            seen.add(id(binding))
            value_bindings = resolve(binding.scope, binding.value_name.id)
            return self.target_of_bindings([b for b in value_bindings if b is not binding], seen)
        return None

    # ----- queued import changes ---------------------------------------------------
    def rebind_import(self, binding: Binding, spec: AliasSpec | None, module: str | None, kind: str, description: str) -> None:
        key = id(binding.node)
        for withdrawn in self._findings_by_binding.pop(key, []):
            self.findings.remove(withdrawn)
        previous = self.import_changes.get(key)
        if previous is not None and previous.kind != kind and spec is not None:
            kind = previous.kind if previous.kind == "imports" and module is None else kind
        if module is None and previous is not None:
            module = previous.module
        self.import_changes[key] = ImportChange(binding, spec, module, kind, description)

    def add_import_near(self, statement: ast.stmt, module: str, spec: AliasSpec, kind: str) -> None:
        """Queue `from module import spec` right after `statement`, in the same block."""
        entry = self.extra_imports.setdefault(id(statement), (statement, []))
        if (module, spec, kind) not in entry[1]:
            entry[1].append((module, spec, kind))

    def current_spec(self, binding: Binding) -> tuple[AliasSpec, str | None]:
        change = self.import_changes.get(id(binding.node))
        if change is not None and change.spec is not None:
            return change.spec, change.module
        alias = binding.node
        assert isinstance(alias, ast.alias)
        return AliasSpec(alias.name, alias.asname), binding.module

    # ----- rendering --------------------------------------------------------------
    def relative_form(self, statement: ast.ImportFrom, absolute: str) -> tuple[str | None, int]:
        """Keep a relative import relative when the new module lives under the same base."""
        if statement.level == 0:
            return absolute, 0
        base = resolve_relative(self.facts.module, self.facts.is_package, statement.level, None) or ""
        if base and absolute == base:
            return None, statement.level
        if base and absolute.startswith(base + "."):
            return absolute[len(base) + 1:], statement.level
        return absolute, 0

    def render_imports(self) -> None:
        by_statement: dict[int, list[ImportChange]] = {}
        statements: dict[int, ast.stmt] = {}
        for change in self.import_changes.values():
            statement = change.binding.statement
            assert statement is not None
            by_statement.setdefault(id(statement), []).append(change)
            statements[id(statement)] = statement
        for statement, _ in self.extra_imports.values():
            statements[id(statement)] = statement
        # imports already in place (unchanged) that a rewritten import may duplicate, by block
        existing: dict[int, dict[tuple, int]] = {}
        for binding in self.facts.bindings:
            if binding.kind == "import-name" and id(binding.node) not in self.import_changes and binding.block is not None:
                alias = binding.node
                key = (binding.module, AliasSpec(alias.name, alias.asname))
                lines = existing.setdefault(id(binding.block), {})
                lines[key] = min(lines.get(key, binding.line), binding.line)
        seen_in_block: dict[int, dict[tuple, int]] = {}
        ordered = sorted(statements.values(), key=lambda s: (s.lineno, s.col_offset))
        emptied: list[tuple[ast.stmt, str]] = []
        for statement in ordered:
            changes = {id(c.binding.node): c for c in by_statement.get(id(statement), [])}
            block_key = id(self._block_of(statement))
            seen = seen_in_block.setdefault(block_key, dict(existing.get(block_key, {})))
            kept: list[tuple[int, AliasSpec]] = []
            moved: list[tuple[int, AliasSpec]] = []
            target_module: str | None = None
            kinds: list[str] = []
            descriptions: list[str] = []
            for position, alias in enumerate(statement.names):
                change = changes.get(id(alias))
                if change is None:
                    kept.append((position, AliasSpec(alias.name, alias.asname)))
                    continue
                kinds.append(change.kind)
                descriptions.append(change.description)
                if change.spec is None:
                    continue
                key = (change.module, change.spec)
                if seen.get(key, statement.lineno + 1) <= statement.lineno \
                        and self._safe_to_merge(statement, change.spec.asname or change.spec.name):
                    continue  # the rewrite made this a duplicate of an earlier import in this block
                seen.setdefault(key, statement.lineno)
                if isinstance(statement, ast.Import) or change.module == change.binding.module:
                    kept.append((position, change.spec))
                else:
                    moved.append((position, change.spec))
                    target_module = change.module
            added: dict[str, list[AliasSpec]] = {}
            for module_name, spec, extra_kind in self.extra_imports.get(id(statement), (None, []))[1]:
                key = (module_name, spec)
                if seen.get(key, statement.lineno + 1) <= statement.lineno:
                    continue
                seen.setdefault(key, statement.lineno)
                added.setdefault(module_name, []).append(spec)
                kinds.append(extra_kind)
                descriptions.append(f"import {spec.name} from {module_name}")
            if not kinds:
                continue
            kind = "imports" if "imports" in kinds else kinds[0]
            description = "; ".join(dict.fromkeys(descriptions))
            start, end = self.span(statement)
            code = self.text[start:end]
            parts: list[str] = []
            if moved:
                module, level = self.relative_form(statement, target_module)
            if moved and not kept:
                parts.append(rewrite_statement(code, module, level, moved))
            else:
                if kept:
                    unchanged = all(spec == AliasSpec(statement.names[i].name, statement.names[i].asname) for i, spec in kept) \
                        and len(kept) == len(statement.names)
                    parts.append(code if unchanged else rewrite_statement(code, None, None, kept))
                if moved:
                    comments = self._alias_comments(statement, [position for position, _ in moved])
                    parts.append(render_from_import(module, level, [spec for _, spec in moved])
                                 + (f"  {' '.join(comments)}" if comments else ""))
            for module_name, specs in added.items():
                if isinstance(statement, ast.ImportFrom):
                    relative_module, relative_level = self.relative_form(statement, module_name)
                else:
                    relative_module, relative_level = module_name, 0
                parts.append(render_from_import(relative_module or module_name, relative_level, specs))
            if not parts:
                emptied.append((statement, description))
                continue
            self.replace(start, end, self._join(statement, parts), kind, description)
        for statement, description in emptied:
            self.delete_statement(statement, "imports", description)

    def _alias_comments(self, statement: ast.stmt, positions: list[int]) -> list[str]:
        """Comments that end the line of a name moving out of a multi-line import: they go with it."""
        import re

        comments: list[str] = []
        if statement.lineno == statement.end_lineno:
            return comments
        for position in positions:
            alias = statement.names[position]
            line = getattr(alias, "end_lineno", None)
            if line is None or line == statement.end_lineno:
                continue
            start = self.facts.index.offset(line, alias.end_col_offset)
            rest = self.facts.index.line_text(line)[start - self.facts.index.starts[line - 1]:]
            match = re.match(r"\s*,?\s*(#[^\r\n]*)", rest)
            if match:
                comments.append(match.group(1).rstrip())
        return comments

    def _module_of(self, statement: ast.ImportFrom) -> str | None:
        return resolve_relative(self.facts.module, self.facts.is_package, statement.level, statement.module)

    def _safe_to_merge(self, statement: ast.stmt, local: str) -> bool:
        """A later duplicate import may go only if nothing else rebinds the name in between."""
        block = self._block_of(statement)
        earlier = [b for b in self.facts.bindings if b.name == local and b.block is block and b.line < statement.lineno]
        return bool(earlier) and all(b.kind == "import-name" for b in earlier) or not earlier


    def _join(self, statement: ast.stmt, parts: list[str]) -> str:
        if len(parts) == 1:
            return parts[0]
        index = self.facts.index
        indentation = index.indentation(statement.lineno)
        first_on_line = len(indentation.encode("utf-8")) == statement.col_offset
        if not first_on_line:
            return "; ".join(parts)
        newline = self._newline_at(statement.end_lineno)
        return (newline + indentation).join(parts)

    def _newline_at(self, lineno: int) -> str:
        from .source import line_ending

        return line_ending(self.facts.index.line_text(lineno)) or "\n"

    def _block_of(self, statement: ast.stmt) -> list:
        for binding in self.facts.bindings:
            if binding.statement is statement and binding.block is not None:
                return binding.block
        return []

    def delete_statement(self, statement: ast.stmt, kind: str, description: str) -> None:
        """Remove a statement; a block it leaves empty gets `pass`."""
        index = self.facts.index
        block = self._block_of(statement)
        start, end = self.span(statement)
        remaining = [s for s in block if s is not statement and not self._deleted(s)]
        self._deleted_ids.add(id(statement))
        if not remaining:
            self.replace(start, end, "pass", kind, description)
            return
        line_start = index.starts[statement.lineno - 1]
        indentation = index.indentation(statement.lineno)
        last_line = index.line_text(statement.end_lineno)
        rest = self.text[end: index.starts[statement.end_lineno - 1] + len(last_line)]
        own_lines = self.text[line_start:start] == indentation and rest.strip(" \t\r\n") == ""
        if own_lines:
            self.replace(line_start, index.starts[statement.end_lineno - 1] + len(last_line), "", kind, description)
            return
        stripped = rest.lstrip(" \t")
        if stripped.startswith(";"):
            after = end + (len(rest) - len(stripped)) + 1
            while after < len(self.text) and self.text[after] in " \t":
                after += 1
            self.replace(start, after, "", kind, description)
            return
        self.replace(start, end, "pass", kind, description)

    def _deleted(self, statement: ast.stmt) -> bool:
        return id(statement) in self._deleted_ids


def scope_chain(scope: Scope):
    while scope is not None:
        yield scope
        scope = scope.parent
