"""What retiring one legacy module means: a shim that keeps every name, or keeping the module.

A retired module is replaced by a shim only when the shim can provide every name the
module bound at module level, as the very same object: the configured names the
canonical module exports come from the canonical module, every other name comes from
wherever the module got it (its imports are kept, with their `try`/`except ImportError`
fallbacks and `X = Y` aliases), and `__all__` keeps its entries. A module that defines
things itself (classes, functions, module state) that are not configured names cannot be
reduced to re-exports; it is kept, and only its imports of legacy paths are migrated.
Names the configuration lists under `drop` are left out on purpose (the import check
still refuses the change if code in the repository uses one of them).

Strings in, strings out: no files are read or written here.
"""

from __future__ import annotations

import ast
import textwrap
import re
from dataclasses import dataclass, field

from .config import Config
from .scopes import bound_name
from .source import NESTING_ERRORS, PARSER, LineIndex, line_ending, parse_source, too_deep_reason

_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")


@dataclass(frozen=True)
class OwnDefinition:
    """Something a legacy module defines itself (not an import of the canonical names), which keeps it
    from becoming a shim."""

    line: int
    description: str  # "class Heartbeat", "module state _instance", ...


@dataclass
class Retirement:
    """How one legacy module is retired: its shim, or why it stays."""

    module: str
    shim: str | None  # the shim's source text, None when the module stays
    provided: dict[str, str] = field(default_factory=dict)  # legacy name -> canonical name it is imported as
    kept_names: list[str] = field(default_factory=list)  # other names the shim keeps from their own sources
    dropped: list[str] = field(default_factory=list)  # names the configuration drops that the module bound
    missing: list[str] = field(default_factory=list)  # configured names nobody can provide
    own_definitions: list[OwnDefinition] = field(default_factory=list)  # why the module stays

    @property
    def shimmed(self) -> bool:
        return self.shim is not None


def provided_names(config: Config, module: str, exports: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """The configured names the canonical module can provide (legacy name -> canonical name), and the rest."""
    legacy = config.legacy_modules[module]
    provided: dict[str, str] = {}
    missing: list[str] = []
    for name in legacy.names:
        target = name if name in exports else config.canonical_name_for(name)
        if target in exports:
            provided[name] = target
        else:
            missing.append(name)
    return provided, missing


def bound_names(tree: ast.Module) -> set[str]:
    """Names a module binds when it is imported (top level and top-level `if`/`try` blocks)."""
    from .resolution import module_level_bindings

    return set(module_level_bindings(tree))


class _Planner:
    """Decides, statement by statement, what the shim keeps of the original module."""

    def __init__(self, text: str, tree: ast.Module, removed: set[str], dropped: set[str]) -> None:
        self.text = text
        self.tree = tree
        self.index = LineIndex(text)
        self.removed = removed  # names the shim binds another way (from the canonical module) or drops
        self.dropped = dropped
        self.own: list[OwnDefinition] = []
        self.edits: list[tuple[int, int, str]] = []  # splices on the original text

    # ----- positions -------------------------------------------------------------------------
    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.index.offset(node.lineno, node.col_offset),
                self.index.offset(node.end_lineno, node.end_col_offset))

    def lines_span(self, node: ast.stmt) -> tuple[int, int]:
        """The statement's whole lines, newline included."""
        start = self.index.starts[node.lineno - 1]
        last = node.end_lineno
        return start, self.index.starts[last - 1] + len(self.index.line_text(last))

    def removal(self, node: ast.stmt) -> tuple[int, int, str]:
        """The splice that removes a statement: its lines, or only itself when it shares a line."""
        line_start, line_end = self.lines_span(node)
        start, end = self.span(node)
        before = self.text[line_start:start]
        after = self.text[end:line_end]
        if not before.strip() and (not after.strip() or after.strip().startswith("#")):
            return line_start, line_end, ""
        stripped = after.lstrip(" \t")
        if stripped.startswith(";"):
            return start, end + len(after) - len(stripped) + 1, ""
        return start, end, "pass"

    # ----- the walk ----------------------------------------------------------------------------
    def block(self, statements: list[ast.stmt], nested: bool) -> bool:
        """Plan the statements of one block; True when every statement in it goes."""
        gone = [self.statement(statement, nested) for statement in statements]
        if all(gone):
            return True
        for statement, removed in zip(statements, gone):
            if removed:
                self.edits.append(self.removal(statement))
        return False

    def statement(self, node: ast.stmt, nested: bool) -> bool:
        """Plan one statement; True when the shim does not keep it at all."""
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            self.own.append(OwnDefinition(node.lineno, f"{type(node).__name__.lower()} statement run at import"))
            return False
        return handler(node, nested)

    def _Import(self, node: ast.Import | ast.ImportFrom, nested: bool) -> bool:
        locals_ = [bound_name(alias) for alias in node.names]
        kept = [(position, alias) for position, (alias, local) in enumerate(zip(node.names, locals_))
                if local not in self.removed and alias.name != "*"]
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names):
            self.own.append(OwnDefinition(node.lineno, "star import (the names it binds cannot be known)"))
            return False
        if not kept:
            return True
        if len(kept) == len(node.names):
            return False
        from .import_statements import AliasSpec, rewrite_statement

        start, end = self.span(node)
        code = rewrite_statement(self.text[start:end], None, None,
                                 [(position, AliasSpec(alias.name, alias.asname)) for position, alias in kept])
        self.edits.append((start, end, code))
        return False

    _ImportFrom = _Import

    def _targets(self, targets: list[ast.expr]) -> list[str] | None:
        names: list[str] = []
        for target in targets:
            if not isinstance(target, ast.Name):
                return None
            names.append(target.id)
        return names

    def _Assign(self, node: ast.Assign | ast.AnnAssign, nested: bool) -> bool:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = self._targets(targets)
        value = node.value
        if names is None:
            self.own.append(OwnDefinition(node.lineno, "assignment to an attribute or item at import"))
            return False
        if all(name in self.removed for name in names):
            return True
        if any(name in self.removed for name in names):
            self.own.append(OwnDefinition(node.lineno, f"{', '.join(names)} assigned together"))
            return False
        if names == ["__all__"]:
            self.all_entries(node)
            return False
        if isinstance(value, ast.Name) and value.id in self.dropped:
            self.own.append(OwnDefinition(node.lineno, f"{', '.join(names)} = {value.id}, which `drop` leaves out"))
            return False
        if isinstance(value, (ast.Name, ast.Attribute)):
            return False  # an alias of another name: the same object in the shim
        if isinstance(value, ast.Constant) and (nested or all(n.startswith("__") and n.endswith("__") for n in names)):
            return False  # a fallback in a branch or after a failed import, or metadata such as __version__
        self.own.append(OwnDefinition(node.lineno, f"module state {', '.join(names)}"))
        return False

    _AnnAssign = _Assign

    def _AugAssign(self, node: ast.AugAssign, nested: bool) -> bool:
        if isinstance(node.target, ast.Name) and node.target.id == "__all__":
            return False
        self.own.append(OwnDefinition(node.lineno, "augmented assignment at import"))
        return False

    def _FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, nested: bool) -> bool:
        if node.name in self.removed:
            return True
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        self.own.append(OwnDefinition(node.lineno, f"{kind} {node.name}"))
        return False

    _AsyncFunctionDef = _FunctionDef
    _ClassDef = _FunctionDef

    def _Expr(self, node: ast.Expr, nested: bool) -> bool:
        value = node.value
        if isinstance(value, ast.Constant):
            return True  # a docstring or bare string: the shim has its own
        if isinstance(value, ast.Call):
            callee = value.func
            name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            if name == "warn":
                return True  # the old deprecation warning: the shim issues its own
            if isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name) \
                    and callee.value.id == "__all__":
                return False
        self.own.append(OwnDefinition(node.lineno, "code run at import"))
        return False

    def _Pass(self, node: ast.Pass, nested: bool) -> bool:
        return True

    def _If(self, node: ast.If, nested: bool) -> bool:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            return False  # type-only imports: no effect at run time, kept as written
        # a constant bound in a branch is a fallback (`X = None` when a feature is missing)
        return self.compound(node, [node.body, node.orelse], [True, True], nested)

    def _Try(self, node: ast.Try, nested: bool) -> bool:
        blocks = [node.body, *[h.body for h in node.handlers], node.orelse, node.finalbody]
        return self.compound(node, blocks, [nested, *[True] * len(node.handlers), nested, nested],
                             nested)

    _TryStar = _Try

    def compound(self, node: ast.stmt, blocks: list[list[ast.stmt]], handlers: list[bool], nested: bool) -> bool:
        saved = len(self.edits)
        outcomes = []
        for statements, inside_handler in zip(blocks, handlers):
            if not statements:
                outcomes.append(True)
                continue
            before = len(self.edits)
            gone = self.block(statements, inside_handler)
            if gone:
                del self.edits[before:]
            outcomes.append(gone)
        if all(outcomes):
            del self.edits[saved:]
            return True
        for statements, gone in zip(blocks, outcomes):
            if statements and gone:
                first, last = statements[0], statements[-1]
                start = self.index.offset(first.lineno, first.col_offset)
                end = self.index.offset(last.end_lineno, last.end_col_offset)
                self.edits.append((start, end, "pass"))
        return False

    # ----- __all__ ----------------------------------------------------------------------------
    def all_entries(self, node: ast.Assign | ast.AnnAssign) -> None:
        value = node.value
        if not isinstance(value, (ast.List, ast.Tuple)):
            return
        if not any(isinstance(e, ast.Constant) and e.value in self.dropped for e in value.elts):
            return
        kept = [self.text.__getitem__(slice(*self.span(e))) for e in value.elts
                if not (isinstance(e, ast.Constant) and e.value in self.dropped)]
        opening, closing = ("[", "]") if isinstance(value, ast.List) else ("(", ")")
        if isinstance(value, ast.Tuple) and len(kept) == 1:
            kept[0] += ","
        newline = line_ending(self.index.line_text(node.lineno)) or "\n"
        if value.lineno == value.end_lineno:
            body = ", ".join(kept)
        else:
            indentation = "    "
            body = newline + "".join(f"{indentation}{entry},{newline}" for entry in kept)
        self.edits.append((*self.span(value), f"{opening}{body}{closing}"))


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end, replacement in sorted(edits):
        if start < position:
            continue  # inside a span already replaced (a removed enclosing statement)
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def plan_retirement(config: Config, module: str, text: str, exports: frozenset[str]) -> Retirement:
    """The shim for a legacy module's source `text`, or why the module stays."""
    legacy = config.legacy_modules[module]
    provided, missing = provided_names(config, module, exports)
    try:
        tree = parse_source(text, module)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        return Retirement(module, None, provided, own_definitions=[OwnDefinition(line, "the module does not parse")])
    except NESTING_ERRORS as exc:
        return Retirement(module, None, provided,
                          own_definitions=[OwnDefinition(0, f"code {too_deep_reason(exc, PARSER)}")])
    original_names = bound_names(tree)
    dropped = sorted(set(legacy.drop) & original_names)
    removed = set(provided) | set(legacy.drop)
    plain_warnings = _imports_warnings_plainly(tree)
    if plain_warnings:
        removed.add("warnings")  # the shim's own `import warnings` binds the very same module
    planner = _Planner(text, tree, removed, set(legacy.drop))
    body = list(tree.body)
    futures = [s for s in body if isinstance(s, ast.ImportFrom) and s.module == "__future__"]
    docstring: ast.Constant | None = None
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        docstring = body[0].value
        body = body[1:]
    body = [s for s in body if s not in futures]
    for statement in body:
        before = len(planner.edits)
        if planner.statement(statement, False):
            del planner.edits[before:]
            planner.edits.append(planner.removal(statement))
    # configured names the canonical module cannot provide are kept from where the module got them;
    # one it defines itself keeps the module
    missing = [name for name in missing if name not in original_names]
    if planner.own:
        return Retirement(module, None, provided, dropped=dropped, missing=missing,
                          own_definitions=sorted(planner.own, key=lambda d: d.line))
    newline = line_ending(planner.index.line_text(1)) or "\n"
    kept_text = _kept_text(planner, body, newline)
    kept_names = sorted(original_names - removed - {"__all__"})
    warnings_name = "_warnings" if "warnings" in original_names and not plain_warnings else "warnings"
    shim = _shim_text(config, module, text, futures, planner, provided, kept_text, kept_names, newline, warnings_name,
                      docstring)
    check = _check_shim(shim, module, original_names - set(legacy.drop))
    if check is None and docstring is not None:
        check = _check_docstring(shim, module, docstring.value)
    if check is not None:
        return Retirement(module, None, provided, dropped=dropped, missing=missing,
                          own_definitions=[OwnDefinition(1, check)])
    return Retirement(module, shim, provided, kept_names, dropped, missing)


def _kept_text(planner: _Planner, body: list[ast.stmt], newline: str) -> str:
    """The kept statements with the comments right above them, blank lines between groups as written."""
    index = planner.index
    chunks: list[str] = []
    previous_end_line = previous_kept_line = 0
    for statement in body:
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])])
        while first > 1 and first - 1 > previous_end_line and index.line_text(first - 1).lstrip().startswith("#"):
            first -= 1
        start = index.starts[first - 1]
        end = planner.lines_span(statement)[1]
        spliced = _splice(planner.text[start:end], [(a - start, b - start, t) for a, b, t in planner.edits
                                                     if start <= a and b <= end])
        separated = any(not index.line_text(n).strip() for n in range(previous_kept_line + 1, first))
        previous_end_line = statement.end_lineno
        if not spliced.strip() or spliced.strip().startswith("#") and all(
                line.strip().startswith("#") or not line.strip() for line in spliced.splitlines()):
            continue  # removed, with the comments that described it
        previous_kept_line = statement.end_lineno
        if not spliced.endswith(("\n", "\r")):
            spliced += newline
        if chunks and separated:
            chunks.append(newline)
        chunks.append(spliced)
    return "".join(chunks).strip("\r\n")


def _imports_warnings_plainly(tree: ast.Module) -> bool:
    """The module binds `warnings` only by `import warnings` (at top level)."""
    from .resolution import module_level_bindings

    statements = module_level_bindings(tree).get("warnings", [])
    return bool(statements) and all(
        isinstance(s, ast.Import) and any(a.name == "warnings" and a.asname is None for a in s.names)
        for s in statements)


def _shim_text(config: Config, module: str, text: str, futures: list[ast.stmt], planner: _Planner,
               provided: dict[str, str], kept_text: str, kept_names: list[str], newline: str,
               warnings_name: str, docstring: ast.Constant | None = None) -> str:
    canonical = config.canonical_module
    lines: list[str] = []
    for number in (1, 2):  # a shebang or coding cookie stays where Python looks for it
        first = planner.index.line_text(number).rstrip("\r\n")
        if first.startswith("#!") and number == 1 or _CODING.match(first):
            lines.append(first)
        elif not first.startswith("#"):
            break
    description = f"This module is kept only so that existing imports keep working: it re-exports {len(provided)} " \
                  f"names from {canonical}"
    description += " and keeps every other name it provided." if kept_names else "."
    notice = [f"Deprecated: import from {canonical} instead.", "", *_wrap(description)]
    if docstring is None:
        lines += ['"""' + notice[0], *notice[1:], '"""']
    else:  # the module's own docstring says what it is (code and tests read it): it stays, with the notice
        start, end = planner.span(docstring)
        lines += _docstring_with_notice(text[start:end], docstring.value, notice).splitlines()
    for statement in futures:
        start, end = planner.span(statement)
        lines.append(text[start:end])
    lines.append("")
    lines.append("import warnings" if warnings_name == "warnings" else f"import warnings as {warnings_name}")
    lines.append("")
    if provided:
        lines.append(f"from {canonical} import (")
        lines.extend(f"    {target}," if target == name else f"    {target} as {name},"
                     for name, target in sorted(provided.items()))
        lines.append(")")
        lines.append("")
    if kept_text:
        lines.extend(kept_text.splitlines())
        lines.append("")
    lines += [
        f"{warnings_name}.warn(",
        f'    "{module} is deprecated; "',
        f'    "import from {canonical}",',
        "    DeprecationWarning,",
        "    stacklevel=2,",
        ")",
        "",
    ]
    return newline.join(lines)


_STRING_START = re.compile(r"(?i)([ur]*)(\"\"\"|\'\'\'|\"|\')")
_KEPT_ONLY = "This module is kept only so that existing imports keep working:"


def _docstring_with_notice(literal: str, value: str, notice: list[str]) -> str:
    """The docstring literal `literal` (whose value is `value`) with the lines of `notice` added as its last
    paragraph: written into the literal itself when it is one plain triple-quoted string, else as a new
    literal. A notice an earlier run added is replaced, so a shim planned again comes out the same."""
    added = "\n".join(notice)
    earlier = re.compile(r"(?:\A|\n)[ \t]*" + re.escape(notice[0]) + r"\s*\n\s*\n" + re.escape(_KEPT_ONLY) + r".*\Z", re.S)
    found = earlier.search(value)
    if found is not None:
        value = value[:found.start()]
    if not value.strip():
        return "\n".join(['"""' + notice[0], *notice[1:], '"""'])
    expected = value.rstrip() + "\n\n" + added + "\n"
    candidates = []
    opening = _STRING_START.match(literal)
    if opening is not None and len(opening.group(2)) == 3 and literal.endswith(opening.group(2)):
        quote = opening.group(2)
        inside = literal[opening.end():-3]
        found = earlier.search(inside)
        if found is not None:
            inside = inside[:found.start()]
        stripped = inside.rstrip(" \t\r\n")
        candidates.append(literal[:opening.end()] + (stripped if not stripped.endswith("\\") else inside)
                          + "\n\n" + added + "\n" + quote)
    if "\\" not in value and '"""' not in value and not value.rstrip().endswith('"'):
        candidates.append('"""' + expected + '"""')
    for candidate in candidates:
        try:
            if ast.literal_eval(candidate) == expected:
                return candidate
        except (SyntaxError, ValueError):
            continue
    return repr(expected)


def _wrap(text: str, width: int = 92) -> list[str]:
    """Greedy lines of whole words (a word longer than `width` stands alone on its line)."""
    return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


def _check_shim(shim: str, module: str, required: set[str]) -> str | None:
    """Never hand out a shim that does not parse or that lost a name: say why instead."""
    try:
        tree = parse_source(shim, module)
    except SyntaxError as exc:
        return f"internal error: the generated shim does not parse ({exc.msg}, line {exc.lineno})"
    lost = sorted(required - bound_names(tree))
    if lost:
        return f"internal error: the generated shim would not bind {', '.join(lost)}"
    return None


def _check_docstring(shim: str, module: str, docstring: str) -> str | None:
    """The shim's docstring begins with the module's own."""
    kept = ast.get_docstring(parse_source(shim, module), clean=False) or ""
    if not kept.startswith(docstring.rstrip()):
        return "internal error: the generated shim would not keep the module's docstring"
    return None
