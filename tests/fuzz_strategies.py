"""Hypothesis strategies for the property tests in `test_fuzz.py`.

Two kinds of generated modules:

- `unrelated_modules()`: programs from hypothesmith's grammar strategy (filtered to what
  this Python's `ast.parse` accepts), optionally followed by decoy lines that look like the
  migration's subject but refer to nothing legacy (comments and docstrings quoting import
  lines, a local class named `WebSocketManager`, the same name imported from another
  module, the variable `websocket_manager`). The migration must return them byte-identical.

- `legacy_modules()`: realistic module bodies (functions, async functions, classes,
  decorators, `try/except`, `if TYPE_CHECKING:`, `with`, loops, nested definitions) written
  with a random indentation unit and line ending, with lines from a pool of legacy import
  and use shapes placed at random statement positions and nesting levels where they stay
  valid Python. Every physical line is tagged as filler (code that has nothing to do with
  the migration, and must come out unchanged) or legacy (may be rewritten).
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

import hypothesmith
from hypothesis import strategies as st

from migrate_ws.config import load_preset
from migrate_ws.steps import interesting_names

CONFIG = load_preset("netra")
PACKAGE = "netra_backend.app.websocket_core"
LEGACY_MODULE = f"{PACKAGE}.manager"
FACTORY_MODULE = f"{PACKAGE}.websocket_manager_factory"
UNIFIED_MODULE = f"{PACKAGE}.unified_manager"
CANONICAL_MODULE = CONFIG.canonical_module

# Every identifier or dotted-path part the configuration names: a line without any of them
# cannot be part of a legacy reference.
LEGACY_WORDS = frozenset(interesting_names(CONFIG))
LEGACY_WORD = re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(sorted(map(re.escape, LEGACY_WORDS), key=len, reverse=True))
                         + r")(?![A-Za-z0-9_])")


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


# ----- modules with no legacy reference ------------------------------------------------------

DECOYS = [
    "# from netra_backend.app.websocket_core.manager import WebSocketManager",
    '"""Docstring quoting `from netra_backend.app.websocket_core.manager import WebSocketManager`."""',
    "websocket_manager = None",
    "def build(websocket_manager=None):\n    return websocket_manager",
    "class WebSocketManager:\n    pass\n\n\nok = isinstance(object(), WebSocketManager)",
    "from other_service.sockets import WebSocketManager\n\nCHECK = WebSocketManager",
    "from other_service.sockets import create_websocket_manager\n\nSOCKET = create_websocket_manager()",
    "def describe(manager):\n    return manager.WebSocketManager",
    "async def connect(session):\n    return await session.create_websocket_manager()",
]


def _join_program(program: str, decoys: list[str]) -> str:
    if not decoys:
        return program
    head = program if program == "" or program.endswith(("\n", "\r")) else program + "\n"
    return head + "\n\n" + "\n\n\n".join(decoys) + "\n"


@st.composite
def unrelated_modules(draw) -> str:
    """A hypothesmith program (with decoy lines appended) that `ast.parse` accepts."""
    program = draw(hypothesmith.from_grammar().filter(parses))
    decoys = draw(st.lists(st.sampled_from(DECOYS), max_size=4, unique=True))
    text = _join_program(program, decoys)
    if not parses(text):  # a program ending inside an open block (continuation backslash, ...)
        text = program
    return text


# ----- modules with legacy references --------------------------------------------------------

@dataclass(frozen=True)
class Line:
    depth: int
    text: str
    legacy: bool


@dataclass(frozen=True)
class Scope:
    """Where a statement is being generated."""

    depth: int
    in_function: bool = False
    in_async: bool = False
    in_class: bool = False
    has_context: bool = False  # a `user_context` parameter is visible


@dataclass(frozen=True)
class GeneratedModule:
    lines: tuple[Line, ...]
    indent: str
    newline: str

    @property
    def text(self) -> str:
        return "".join(self.indent * line.depth + line.text + self.newline for line in self.lines)

    @property
    def filler_lines(self) -> list[str]:
        """Physical lines (with their line ending) that have nothing to do with the migration."""
        return [self.indent * line.depth + line.text + self.newline for line in self.lines if not line.legacy]


FILLER_NAMES = ["items", "value", "result", "payload", "session", "handler", "count", "options", "retries",
                "websocket_manager", "connection", "message", "timeout"]
MODULE_ALIASES = ["legacy_manager", "ws_core_manager", "mgr_module"]
CLASS_ALIASES = ["Manager", "ConnManager", "LegacyManager", "Unified"]


def _filler_simple(scope: Scope) -> st.SearchStrategy[list[str]]:
    name = st.sampled_from(FILLER_NAMES)
    choices = [
        st.builds("{} = {}".format, name, st.sampled_from(["None", "0", "[]", "{}", "'text'", "1.5", "(1, 2)"])),
        st.builds("{} = {}({})".format, name, st.sampled_from(["len", "list", "dict", "sorted", "str"]),
                  st.sampled_from(["()", "[]", "'abc'", ""])),
        st.builds("print({})".format, st.sampled_from(["'hello'", "1 + 2", "f'{0!r}'", "*[1, 2]"])),
        st.just("pass"),
        st.just("..."),
        st.just("# a comment that has nothing to do with sockets"),
        st.just("# from netra_backend.app.websocket_core.manager import WebSocketManager"),
        st.just('"""Docs: use `netra_backend.app.websocket_core.manager.WebSocketManager` no more."""'),
        st.just("import os"),
        st.just("from typing import TYPE_CHECKING, Any"),
        st.just("from collections import OrderedDict as Ordered"),
        st.just("values = [v * 2 for v in range(3) if v]"),
        st.just("mapping = {'websocket_manager': 1, 'manager': 2}"),
        st.just("lookup = lambda key: key.strip()"),
        st.just("x = 1; y = 2"),
    ]
    if scope.in_function:
        choices.append(st.builds("return {}".format, st.sampled_from(FILLER_NAMES + ["None", ""])).map(str.rstrip))
        choices.append(st.just("websocket_manager = connection.websocket_manager"))
    if scope.in_async:
        choices.append(st.just("await session.close()"))
    return st.one_of(*choices).map(lambda text: [text])


def _legacy_simple(scope: Scope) -> st.SearchStrategy[list[str]]:
    """One legacy import or use, as one or more lines at the same depth."""
    module_alias = st.sampled_from(MODULE_ALIASES)
    class_alias = st.sampled_from(CLASS_ALIASES)
    choices = [
        st.just([f"from {LEGACY_MODULE} import WebSocketManager"]),
        st.just([f"from {LEGACY_MODULE} import WebSocketManager as WebSocketManager"]),
        st.builds(lambda a: [f"from {LEGACY_MODULE} import UnifiedWebSocketManager as {a}"], class_alias),
        st.builds(lambda a: [f"from {LEGACY_MODULE} import WebSocketConnectionManager as {a}"], class_alias),
        st.just([f"from {LEGACY_MODULE} import WebSocketManager, get_websocket_manager"]),
        st.just([f"from {LEGACY_MODULE} import (", "    WebSocketManager,", "    UnifiedWebSocketManager,", ")"]),
        st.just([f"from {UNIFIED_MODULE} import UnifiedWebSocketManager"]),
        st.just([f"from {UNIFIED_MODULE} import WebSocketConnection, WebSocketManagerMode"]),
        st.just([f"from {PACKAGE} import WebSocketManager"]),
        st.just([f"from {PACKAGE} import get_websocket_manager"]),
        st.just([f"from {FACTORY_MODULE} import create_websocket_manager"]),
        st.just([f"from {FACTORY_MODULE} import WebSocketManagerFactory"]),
        st.builds(lambda a: [f"from {PACKAGE} import manager as {a}"], module_alias),
        st.builds(lambda a: [f"import {LEGACY_MODULE} as {a}"], module_alias),
        st.just(["isinstance(value, WebSocketManager)"]),
        st.builds(lambda a: [f"isinstance(value, {a})"], class_alias),
        st.just(["kind: WebSocketManager = None"]),
        st.just(["kind: 'UnifiedWebSocketManager' = None"]),
        st.builds(lambda a: [f"manager_class = {a}.WebSocketManager"], module_alias),
        st.builds(lambda a: [f"getter = getattr({a}, 'UnifiedWebSocketManager')"], module_alias),
        st.just(["Alias = UnifiedWebSocketManager"]),
        st.just([f"patcher = patch('{LEGACY_MODULE}.WebSocketManager')"]),
        st.just([f"monkeypatch.setattr('{LEGACY_MODULE}.get_websocket_manager', None)"]),
        st.just(["spec = Mock(spec=WebSocketManager)"]),
        st.just(["__all__ = ['WebSocketManager', 'helper']"]),
        st.just(["instance = WebSocketManager()"]),
        st.just(["instance = UnifiedWebSocketManager.get_instance()"]),
        st.just(["factory = WebSocketManagerFactory()", "instance = factory.create_isolated(user_context)"]),
        st.just(["WebSocketManager = None"]),
    ]
    if scope.has_context:
        choices += [
            st.just(["manager = create_websocket_manager(user_context)"]),
            st.just(["manager = get_websocket_manager(user_context)"]),
        ]
    else:
        choices += [st.just(["manager = get_websocket_manager()"])]
    if scope.in_async:
        choices.append(st.just(["manager = await create_websocket_manager(user_context)"]))
    return st.one_of(*choices)


def _simple(scope: Scope, legacy_weight: int) -> st.SearchStrategy[list[Line]]:
    filler = _filler_simple(scope).map(lambda texts: [Line(scope.depth, t, False) for t in texts])
    legacy = _legacy_simple(scope).map(lambda texts: [Line(scope.depth, t, True) for t in texts])
    return st.one_of(*([filler] * 2 + [legacy] * legacy_weight))


def _block(scope: Scope, budget: int) -> st.SearchStrategy[list[Line]]:
    """A non-empty list of statements at `scope.depth`."""
    statement = _simple(scope, 1) if budget <= 0 else st.one_of(_simple(scope, 1), _compound(scope, budget - 1))
    return st.lists(statement, min_size=1, max_size=4).map(lambda parts: _with_a_statement(scope, parts))


def _with_a_statement(scope: Scope, parts: list[list[Line]]) -> list[Line]:
    """The block's lines; a block of comments alone is not valid Python, so it gets a `pass`."""
    lines = [line for part in parts for line in part]
    if all(line.text.startswith("#") for line in lines if line.depth == scope.depth):
        lines.append(Line(scope.depth, "pass", False))
    return lines


@st.composite
def _compound(draw, scope: Scope, budget: int) -> list[Line]:
    depth = scope.depth
    inner = Scope(depth + 1, scope.in_function, scope.in_async, scope.in_class, scope.has_context)
    kind = draw(st.sampled_from(["def", "async def", "class", "if", "TYPE_CHECKING", "try", "with", "for", "while",
                                 "decorated"]))

    def header(text: str, legacy: bool = False) -> Line:
        return Line(depth, text, legacy)

    if kind in ("def", "async def", "decorated"):
        is_async = kind == "async def" or (kind == "decorated" and draw(st.booleans()))
        params = draw(st.sampled_from(["", "user_context", "self, user_context", "request, *, user_context=None",
                                       "message"]))
        name = draw(st.sampled_from(["handle", "connect", "broadcast", "setup", "_helper"]))
        lines = []
        if kind == "decorated":
            lines.append(draw(st.sampled_from([
                Line(depth, f"@patch('{LEGACY_MODULE}.WebSocketManager')", True),
                Line(depth, "@staticmethod", False),
                Line(depth, "@functools.lru_cache(maxsize=None)", False),
            ])))
        lines.append(header(f"{'async def' if is_async else 'def'} {name}({params}):"))
        body_scope = Scope(depth + 1, True, is_async, False, "user_context" in params or scope.has_context)
        return lines + draw(_block(body_scope, budget))
    if kind == "class":
        bases = draw(st.sampled_from(["", "(object)", "(Base, metaclass=Meta)"]))
        return [header(f"class Handler{bases}:")] + draw(_block(Scope(depth + 1, False, False, True, False), budget))
    if kind == "if":
        lines = [header(draw(st.sampled_from(["if value:", "if not items and count > 1:"])))] + draw(_block(inner, budget))
        if draw(st.booleans()):
            lines += [header("else:")] + draw(_block(inner, budget))
        return lines
    if kind == "TYPE_CHECKING":
        return [header("if TYPE_CHECKING:")] + draw(_block(inner, budget))
    if kind == "try":
        lines = [header("try:")] + draw(_block(inner, budget))
        handlers = draw(st.lists(st.sampled_from(["except ImportError:", "except Exception as exc:",
                                                  "except (ImportError, AttributeError):"]),
                                 min_size=0, max_size=2))
        for handler in handlers:
            lines += [header(handler)] + draw(_block(inner, budget))
        if not handlers or draw(st.booleans()):
            lines += [header("finally:")] + draw(_block(inner, budget))
        return lines
    if kind == "with":
        return [header(draw(st.sampled_from(["with open('x') as handle:", "with warnings.catch_warnings():",
                                             "with lock, other_lock as held:"])))] + draw(_block(inner, budget))
    if kind == "for":
        return [header("for item in items:")] + draw(_block(inner, budget))
    return [header("while count:")] + draw(_block(inner, budget))


@st.composite
def legacy_modules(draw, max_nesting: int = 3) -> GeneratedModule:
    """A realistic module with legacy imports and uses at random places and depths."""
    indent = draw(st.sampled_from(["    ", "  ", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    top = Scope(0)
    parts = draw(st.lists(st.one_of(_simple(top, 2), _compound(top, max_nesting)), min_size=1, max_size=8))
    lines = [line for part in parts for line in part]
    if not any(line.legacy for line in lines):
        lines.insert(0, Line(0, f"from {LEGACY_MODULE} import WebSocketManager", True))
    return GeneratedModule(tuple(lines), indent, newline)


@st.composite
def hypothesmith_with_legacy(draw) -> str:
    """A hypothesmith program with module-level legacy imports before it and uses after it."""
    program = draw(hypothesmith.from_grammar().filter(parses))
    head = draw(st.lists(_legacy_simple(Scope(0)).filter(lambda lines: lines[0].startswith(("from ", "import "))),
                         min_size=1, max_size=3))
    tail = draw(st.lists(_legacy_simple(Scope(0)), max_size=3))
    before = "".join(line + "\n" for lines in head for line in lines)
    after = "".join(line + "\n" for lines in tail for line in lines)
    body = program if program == "" or program.endswith(("\n", "\r")) else program + "\n"
    text = before + body + after
    if not parses(text):
        text = before + after
    return text
