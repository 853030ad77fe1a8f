"""What the codemods of one file share, in three pieces with public interfaces.

- `NameResolver`: what a binding stands for (a legacy path's name, a module object, ...);
- `EditQueue`: text edits and findings, each tagged with the step that is running;
- `StatementRenderer`: queued import changes and statement removals, rendered once at the
  end, as one version of each touched statement per step (so that the state after any step
  is the original with that step's and the earlier steps' edits applied).

Codemods never edit import statements by hand: they queue what each import binding
becomes through `StatementRenderer.rebind`, and the renderer writes every touched statement,
merging the duplicates a rewrite produces.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .scopes import Binding, FileFacts, Scope, Use, bound_name, resolve, resolve_relative
from .config import Config
from .findings import Code, Finding
from .flow import BindingFlow
from .import_statements import AliasSpec, render_from_import, render_import, rewrite_statement
from .model import Edit, Targets
from .source import line_ending


# ----- name resolution ----------------------------------------------------------------------

class NameResolver:
    """What the file's bindings stand for, by the configuration and the repository's facts."""

    def __init__(self, targets: Targets, facts: FileFacts) -> None:
        self.targets = targets
        self.config = targets.config
        self.facts = facts

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
        return self.targets.derived_map().get((binding.module, binding.imported))

    def is_legacy_path(self, binding: Binding) -> bool:
        return binding.module != self.config.canonical_module

    def module_object(self, binding: Binding) -> str | None:
        """The module a binding holds when it is a module object from a legacy path or the canonical one."""
        if binding.guard:
            return None
        if binding.kind == "import-name" and binding.module and binding.imported:
            path = f"{binding.module}.{binding.imported}"
        elif binding.kind == "import-module" and binding.bound_path in (None, binding.module):
            path = binding.module  # `import a.b as m`, or `import m` of a top-level module
        else:
            return None
        if path in self.config.legacy_modules or path == self.config.canonical_module:
            return path
        return None

    def target_of_bindings(self, bindings: list[Binding], seen: set[int] | None = None) -> str | None:
        """The canonical name every one of `bindings` stands for, when they agree."""
        if not bindings:
            return None
        targets = {self.target_of_binding(binding, seen) for binding in bindings}
        return targets.pop() if len(targets) == 1 else None

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

    def declared_elsewhere(self, binding: Binding) -> int | None:
        """The line of the `global` or `nonlocal` declaration under which a function's statement binds the name
        in another scope (a name bound next to it, in that function, would not be), or None."""
        statement = binding.statement
        if statement is None:
            return None
        for scope in self.facts.scopes:
            if binding.name not in scope.global_names | scope.nonlocal_names or scope is binding.scope:
                continue
            node = scope.node
            if not (node.lineno <= statement.lineno and statement.end_lineno <= node.end_lineno):  # type: ignore[attr-defined]
                continue
            for child in ast.walk(node):
                if isinstance(child, (ast.Global, ast.Nonlocal)) and binding.name in child.names:
                    return child.lineno
            return node.lineno  # type: ignore[attr-defined]
        return None

    def uses_of(self, binding: Binding) -> list[Use]:
        return [u for u in self.facts.uses
                if u.name == binding.name and any(b is binding for b in resolve(u.scope, u.name))]


# ----- edits and findings -------------------------------------------------------------------

class EditQueue:
    """Text edits and findings of one file, tagged with the step that is running (`step`)."""

    def __init__(self, path: str, text: str, facts: FileFacts) -> None:
        self.path = path
        self.text = text
        self.index = facts.index
        self.step = ""
        self.edits: list[Edit] = []
        self.findings: list[Finding] = []
        self._reported: set[tuple[int, str]] = set()
        self._by_binding: dict[int, list[Finding]] = {}

    def span(self, node: ast.AST) -> tuple[int, int]:
        index = self.index
        return index.offset(node.lineno, node.col_offset), index.offset(node.end_lineno, node.end_col_offset)

    def newline_at(self, lineno: int) -> str:
        """The line ending of a line (for text inserted next to it)."""
        return line_ending(self.index.line_text(lineno)) or "\n"

    def replace(self, start: int, end: int, text: str, description: str, step: str | None = None) -> None:
        if self.text[start:end] == text:
            return
        self.add(start, end, text, description, step)

    def add(self, start: int, end: int, text: str, description: str, step: str | None = None, group: int = -1) -> None:
        """An edit even when it restores the original text (a later step's version of a statement)."""
        self.edits.append(Edit(start, end, text, step or self.step, self.index.line_of(start), description, group))

    def report(self, code: Code, line: int, message: str, binding: Binding | None = None) -> None:
        """A site left for a person; one tied to a binding is withdrawn if a later step rewrites it."""
        key = (line, message)
        if key in self._reported:
            return
        self._reported.add(key)
        finding = Finding(code.code, self.path, line, message)
        self.findings.append(finding)
        if binding is not None:
            self._by_binding.setdefault(id(binding.node), []).append(finding)

    def withdraw(self, binding: Binding) -> None:
        for finding in self._by_binding.pop(id(binding.node), []):
            self.findings.remove(finding)


# ----- statements: queued import changes and removals ------------------------------------------

@dataclass
class ImportChange:
    binding: Binding
    spec: AliasSpec | None  # None: remove this alias (a duplicate after the rewrite)
    # new absolute source module for `from` imports; for an alias of an `import` statement, the module of the
    # `from <module> import <spec>` it becomes (None: it stays an `import`, of `spec.name`)
    module: str | None
    step: str
    description: str

    @property
    def module_bound(self) -> str | None:
        """The module an `import` statement's alias binds after the change (None when it is removed)."""
        if self.spec is None:
            return None
        return f"{self.module}.{self.spec.name}" if self.module else self.spec.name


@dataclass
class _ExtraImport:
    module: str | None  # None: `import <spec>`
    spec: AliasSpec
    step: str


@dataclass
class _Version:
    step: str
    start: int
    end: int
    text: str
    description: str


class StatementRenderer:
    """Import changes and statement removals, rendered as one version per step at the end."""

    def __init__(self, text: str, facts: FileFacts, edits: EditQueue) -> None:
        self.text = text
        self.facts = facts
        self.edits = edits
        self.changes: dict[int, list[ImportChange]] = {}  # id(alias node) -> changes in the order queued
        self.extra: dict[int, tuple[ast.stmt, list[_ExtraImport]]] = {}  # id(statement) -> imports added after it
        self.removed: dict[int, str] = {}  # id(statement) -> step that removed it
        self._blocks: dict[int, list] = {}
        self.flow = BindingFlow()
        for binding in facts.bindings:
            if binding.statement is not None and binding.block is not None:
                self._blocks.setdefault(id(binding.statement), binding.block)

    # ----- queueing ---------------------------------------------------------------------------
    def rebind(self, binding: Binding, spec: AliasSpec | None, module: str | None, description: str) -> None:
        """`binding`'s alias becomes `spec` imported from `module` (None: the module it has now)."""
        self.edits.withdraw(binding)
        history = self.changes.setdefault(id(binding.node), [])
        if module is None and history:
            module = history[-1].module
        history.append(ImportChange(binding, spec, module, self.edits.step, description))

    def add_import_near(self, statement: ast.stmt, module: str | None, spec: AliasSpec) -> None:
        """Queue `from module import spec` (`import spec` when `module` is None) right after `statement`, in the
        same block."""
        entry = self.extra.setdefault(id(statement), (statement, []))
        if not any(e.module == module and e.spec == spec for e in entry[1]):
            entry[1].append(_ExtraImport(module, spec, self.edits.step))

    def change_of(self, binding: Binding) -> ImportChange | None:
        history = self.changes.get(id(binding.node))
        return history[-1] if history else None

    def current_spec(self, binding: Binding) -> tuple[AliasSpec, str | None]:
        change = self.change_of(binding)
        if change is not None and change.spec is not None:
            return change.spec, change.module
        alias = binding.node
        assert isinstance(alias, ast.alias)
        return AliasSpec(alias.name, alias.asname), binding.module

    def block_of(self, statement: ast.stmt) -> list:
        return self._blocks.get(id(statement), [])

    def remove_statement(self, statement: ast.stmt, description: str, block: list | None = None) -> None:
        """Remove a statement (now, in the running step); a block it leaves empty gets `pass`. `block`: the
        statement list holding it, for a statement that binds none of the names the analysis follows."""
        if block is not None:
            self._blocks.setdefault(id(statement), block)
        start, end, text = self._removal(statement, self.edits.step)
        self.removed[id(statement)] = self.edits.step
        self.edits.replace(start, end, text, description)

    def _removal(self, statement: ast.stmt, step: str, removed_before: set[int] | None = None) -> tuple[int, int, str]:
        index = self.facts.index
        block = self.block_of(statement)
        start, end = self.edits.span(statement)
        gone = removed_before if removed_before is not None else set(self.removed)
        remaining = [s for s in block if s is not statement and id(s) not in gone]
        if not remaining:
            return start, end, "pass"
        line_start = index.starts[statement.lineno - 1]
        indentation = index.indentation(statement.lineno)
        last_line = index.line_text(statement.end_lineno)
        line_end = index.starts[statement.end_lineno - 1] + len(last_line)
        rest = self.text[end:line_end]
        if self.text[line_start:start] == indentation and rest.strip(" \t\r\n") == "":
            return line_start, line_end, ""
        stripped = rest.lstrip(" \t")
        if stripped.startswith(";"):
            after = end + (len(rest) - len(stripped)) + 1
            while after < len(self.text) and self.text[after] in " \t":
                after += 1
            return start, after, ""
        return start, end, "pass"

    # ----- rendering ----------------------------------------------------------------------------
    def render(self, step_order: tuple[str, ...]) -> None:
        """Write every touched import statement: one version per step that changes it."""
        steps = [s for s in step_order if any(c.step == s for h in self.changes.values() for c in h)
                 or any(e.step == s for _, extra in self.extra.values() for e in extra)]
        versions: dict[int, list[_Version]] = {}
        statements: dict[int, ast.stmt] = {}
        previous: dict[int, str | None] = {}
        for position, step in enumerate(steps):
            active = set(step_order[: step_order.index(step) + 1])
            for statement, rendered in self._render_at(active):
                key = id(statement)
                statements[key] = statement
                if previous.get(key) == (rendered[0], rendered[1], rendered[2]):
                    continue
                previous[key] = (rendered[0], rendered[1], rendered[2])
                versions.setdefault(key, []).append(_Version(step, *rendered))
        for key, statement_versions in versions.items():
            group = self.edits.span(statements[key])[0]
            for version in statement_versions:
                if len(statement_versions) == 1 and version.text == self.text[version.start:version.end]:
                    continue
                self.edits.add(version.start, version.end, version.text, version.description, version.step, group)

    def _render_at(self, active: set[str]) -> list[tuple[ast.stmt, tuple[int, int, str, str]]]:
        """Each touched statement as it reads after the `active` steps: (start, end, text, description)."""
        current: dict[int, ImportChange] = {}
        for key, history in self.changes.items():
            chosen = [c for c in history if c.step in active]
            if chosen:
                current[key] = chosen[-1]
        statements: dict[int, ast.stmt] = {}
        by_statement: dict[int, list[ImportChange]] = {}
        for change in current.values():
            statement = change.binding.statement
            assert statement is not None
            by_statement.setdefault(id(statement), []).append(change)
            statements[id(statement)] = statement
        extras: dict[int, list[_ExtraImport]] = {}
        for key, (statement, extra) in self.extra.items():
            chosen = [e for e in extra if e.step in active]
            if chosen:
                extras[key] = chosen
                statements[key] = statement
        # imports already in place (unchanged so far) that a rewritten import may duplicate, by block
        existing: dict[int, dict[tuple, int]] = {}
        for binding in self.facts.bindings:
            if binding.kind == "import-name" and id(binding.node) not in current and binding.block is not None:
                alias = binding.node
                key = (binding.module, AliasSpec(alias.name, alias.asname))
                lines = existing.setdefault(id(binding.block), {})
                lines[key] = min(lines.get(key, binding.line), binding.line)
        removed_before = {key for key, step in self.removed.items() if step in active}
        seen_in_block: dict[int, dict[tuple, int]] = {}
        rendered: list[tuple[ast.stmt, tuple[int, int, str, str]]] = []
        emptied: list[tuple[ast.stmt, str]] = []
        for statement in sorted(statements.values(), key=lambda s: (s.lineno, s.col_offset)):
            changes = {id(c.binding.node): c for c in by_statement.get(id(statement), [])}
            block_key = id(self.block_of(statement))
            seen = seen_in_block.setdefault(block_key, dict(existing.get(block_key, {})))
            kept: list[tuple[int, AliasSpec]] = []
            moved: list[tuple[int, AliasSpec]] = []
            target_module: str | None = None
            descriptions: list[str] = []
            touched = False
            for position, alias in enumerate(statement.names):
                change = changes.get(id(alias))
                if change is None:
                    kept.append((position, AliasSpec(alias.name, alias.asname)))
                    continue
                touched = True
                descriptions.append(change.description)
                if change.spec is None:
                    continue
                key = (change.module, change.spec)
                if seen.get(key, statement.lineno + 1) <= statement.lineno \
                        and self._safe_to_merge(statement, change.spec, seen[key], change, current):
                    continue  # the rewrite made this a duplicate of an earlier import in this block
                seen.setdefault(key, statement.lineno)
                if isinstance(statement, ast.Import) and change.module is None \
                        or isinstance(statement, ast.ImportFrom) and change.module == change.binding.module:
                    kept.append((position, change.spec))
                else:
                    moved.append((position, change.spec))
                    target_module = change.module
            added: dict[str, list[AliasSpec]] = {}
            for extra in extras.get(id(statement), []):
                key = (extra.module, extra.spec)
                if seen.get(key, statement.lineno + 1) <= statement.lineno \
                        and self._safe_to_merge(statement, extra.spec, seen[key]):
                    continue
                seen.setdefault(key, statement.lineno)
                added.setdefault(extra.module, []).append(extra.spec)
                touched = True
                descriptions.append(f"import {extra.spec.name} from {extra.module}" if extra.module
                                    else f"import {extra.spec.name}")
            if not touched:
                continue
            # a name added from the module this statement imports from (after the rewrite) joins it
            if moved and target_module in added:
                moved.extend((-1, spec) for spec in added.pop(target_module))
            elif kept and isinstance(statement, ast.ImportFrom):
                own = resolve_relative(self.facts.module, self.facts.is_package, statement.level, statement.module)
                if own in added:
                    kept.extend((-1, spec) for spec in added.pop(own))
            description = "; ".join(dict.fromkeys(descriptions))
            start, end = self.edits.span(statement)
            code = self.text[start:end]
            parts: list[str] = []
            if moved:
                module, level = self.relative_form(statement, target_module)
            if moved and isinstance(statement, ast.Import):
                parts.extend(self._import_runs(code, kept, moved, module))
            elif moved and not kept:
                parts.append(rewrite_statement(code, module, level, moved))
            else:
                if kept:
                    unchanged = len(kept) == len(statement.names) and all(i >= 0 for i, _ in kept) and all(
                        spec == AliasSpec(statement.names[i].name, statement.names[i].asname) for i, spec in kept)
                    parts.append(code if unchanged else rewrite_statement(code, None, None, kept))
                if moved:
                    comments = self._alias_comments(statement, [position for position, _ in moved if position >= 0])
                    parts.append(render_from_import(module, level, [spec for _, spec in moved])
                                 + (f"  {' '.join(comments)}" if comments else ""))
            for module_name, specs in added.items():
                if module_name is None:
                    parts.append(render_import(specs))
                    continue
                if isinstance(statement, ast.ImportFrom):
                    relative_module, relative_level = self.relative_form(statement, module_name)
                else:
                    relative_module, relative_level = module_name, 0
                parts.append(render_from_import(relative_module or module_name, relative_level, specs))
            if not parts:
                emptied.append((statement, description))
                continue
            rendered.append((statement, (start, end, self._join(statement, parts), description)))
        for statement, description in emptied:
            start, end, text = self._removal(statement, "", removed_before)
            removed_before.add(id(statement))
            rendered.append((statement, (start, end, text, description)))
        return rendered

    @staticmethod
    def _import_runs(code: str, kept: list[tuple[int, AliasSpec]], moved: list[tuple[int, AliasSpec]],
                     module: str | None) -> list[str]:
        """An `import a, b, c` some of whose modules become `from <module> import ...`: one statement per run of
        names, in the original order, so every name is bound where it was and the imports run in the same order."""
        runs: list[tuple[bool, list[tuple[int, AliasSpec]]]] = []
        for position, spec, is_moved in sorted([(p, s, False) for p, s in kept] + [(p, s, True) for p, s in moved],
                                               key=lambda item: item[0] if item[0] >= 0 else 1 << 30):
            if runs and runs[-1][0] == is_moved:
                runs[-1][1].append((position, spec))
            else:
                runs.append((is_moved, [(position, spec)]))
        return [render_from_import(module, 0, [spec for _, spec in run]) if is_moved
                else rewrite_statement(code, None, None, run) for is_moved, run in runs]

    def relative_form(self, statement: ast.stmt, absolute: str) -> tuple[str | None, int]:
        """Keep a relative import relative when the new module lives under the same base."""
        if not isinstance(statement, ast.ImportFrom) or statement.level == 0:
            return absolute, 0
        base = resolve_relative(self.facts.module, self.facts.is_package, statement.level, None) or ""
        if base and absolute == base:
            return None, statement.level
        if base and absolute.startswith(base + "."):
            return absolute[len(base) + 1:], statement.level
        return absolute, 0

    def _alias_comments(self, statement: ast.stmt, positions: list[int]) -> list[str]:
        """Comments that end the line of a name moving out of a multi-line import: they go with it."""
        comments: list[str] = []
        if statement.lineno == statement.end_lineno:
            return comments
        index = self.facts.index
        for position in positions:
            alias = statement.names[position]
            line = getattr(alias, "end_lineno", None)
            if line is None or line == statement.end_lineno:
                continue
            start = index.offset(line, alias.end_col_offset)
            rest = index.line_text(line)[start - index.starts[line - 1]:]
            match = re.match(r"\s*,?\s*(#[^\r\n]*)", rest)
            if match:
                comments.append(match.group(1).rstrip())
        return comments

    def _safe_to_merge(self, statement: ast.stmt, spec: AliasSpec, earlier_line: int,
                       change: ImportChange | None = None, current: dict[int, ImportChange] | None = None) -> bool:
        """A later duplicate (`spec`, as the rewrite renders it) of an earlier import in the same block may go only
        if the earlier one certainly still binds the name where this one runs: nothing binds, deletes or may
        rebind it between the two, in any block of the scope (an `if` branch, a `try` handler, a `del`, a function
        declaring it `global`, another import of it unless that one becomes this same import too). `change`: the
        change that made this alias the duplicate (`current`: every change rendered); its alias must have imported
        the name the earlier one imports (before or after the rewrite), not another object bound under that name
        (`from m import Legacy as Name`, which the binding check cannot tell from another object)."""
        local = spec.asname or spec.name.split(".")[0]
        block = self.block_of(statement)
        earlier = next((s for s in block if s.lineno == earlier_line and isinstance(s, (ast.Import, ast.ImportFrom))),
                       None)
        scopes = {id(b.scope): b.scope for b in self.facts.bindings if b.statement is statement}
        if earlier is None or len(scopes) != 1:
            return False
        scope = next(iter(scopes.values()))
        alike = self._alike_between(local, scope, earlier, change, current or {}) if change is not None else []
        if scope.dynamic_namespace or self.flow.rebound_between(scope.node, local, earlier, statement, ignore=alike):
            return False
        alias = change.binding.node if change is not None else None
        if isinstance(alias, ast.alias) and earlier.lineno != statement.lineno and bound_name(alias) == local:
            # the binding check tells imports apart by their line and by the name they imported
            imported = [a.name for a in earlier.names if bound_name(a) == local]
            if alias.name not in (spec.name, *imported[-1:]):
                return False
        return all(b.kind in ("import-name", "import-module") for b in self.facts.bindings
                   if b.name == local and b.block is block and b.line < statement.lineno)

    def _alike_between(self, local: str, scope: Scope, earlier: ast.stmt, change: ImportChange,
                       current: dict[int, ImportChange]) -> list[ast.stmt]:
        """The imports of `local` after `earlier` that import what `change`'s alias imported and are rendered as it
        is (or removed): they bind the name to the same object, so they do not rebind it."""
        statement, alias = change.binding.statement, change.binding.node
        assert isinstance(alias, ast.alias)
        verdicts: dict[int, tuple[ast.stmt, bool]] = {}
        for binding in self.facts.bindings:
            other = binding.statement
            if binding.name != local or binding.scope is not scope or type(other) is not type(statement) \
                    or other is earlier or other is statement or binding.line < earlier.lineno:
                continue
            other_alias = binding.node
            assert isinstance(other_alias, ast.alias)
            rendered = current.get(id(other_alias))
            if rendered is None:
                module = binding.module if isinstance(other, ast.ImportFrom) else None
                same = (module, AliasSpec(other_alias.name, other_alias.asname)) == (change.module, change.spec)
            else:
                same = rendered.spec is None or (rendered.module, rendered.spec) == (change.module, change.spec)
            same = same and other_alias.name == alias.name and verdicts.get(id(other), (other, True))[1]
            verdicts[id(other)] = (other, same)
        return [other for other, same in verdicts.values() if same]

    def _join(self, statement: ast.stmt, parts: list[str]) -> str:
        if len(parts) == 1:
            return parts[0]
        indentation = self.facts.index.indentation(statement.lineno)
        if len(indentation.encode("utf-8")) != statement.col_offset:  # not first on its line
            return "; ".join(parts)
        return (self.edits.newline_at(statement.end_lineno) + indentation).join(parts)


# ----- the whole context -----------------------------------------------------------------------

@dataclass
class FileContext:
    path: str
    text: str
    facts: FileFacts
    targets: Targets
    names: NameResolver = field(init=False)
    edits: EditQueue = field(init=False)
    statements: StatementRenderer = field(init=False)
    # what other files need to know: module-level names this file renames, and the names of
    # other modules its rewrites follow
    renamed: dict[tuple[int, str], str] = field(default_factory=dict)  # (id(scope), local) -> new local
    renamed_exports: dict[str, str] = field(default_factory=dict)
    depends_on: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.names = NameResolver(self.targets, self.facts)
        self.edits = EditQueue(self.path, self.text, self.facts)
        self.statements = StatementRenderer(self.text, self.facts, self.edits)

    @property
    def config(self) -> Config:
        return self.targets.config

    @property
    def steps(self) -> frozenset[str]:
        return self.targets.steps

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.edits.span(node)

    def attribute_span(self, node: ast.Attribute) -> tuple[int, int]:
        """The span of the attribute's name (`attr` in `value.attr`)."""
        _, end = self.edits.span(node)
        return end - len(node.attr), end
