#!/usr/bin/env python3
"""Generate a deterministic synthetic monorepo shaped like the netra backend.

    python benchmarks/make_corpus.py OUT_DIR [--files 10000] [--seed 1]
    python benchmarks/make_corpus.py --self-check

The tree mirrors the layout migrate-ws is built for: the `netra_backend.app.websocket_core`
package (canonical `websocket_manager`, the legacy `manager` shim, `unified_manager` with the
implementation, re-export modules, the deleted-but-still-imported `websocket_manager_factory`),
about 10% of files that reference the legacy managers in the shapes and rough proportions seen
in the real repository, about 90% unrelated Python (some of it using the words "manager" and
"websocket" in unrelated ways), and about 0.25% files that do not parse on Python 3.11.

Same arguments give a byte-identical tree. Only the standard library is used.
`OUT_DIR/.corpus-manifest.json` lists the files that reference legacy managers, the files that
do not parse, and how often each shape was generated.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter

# The shape counts below are per this many files (the size of the scanned real repository);
# every count is scaled by --files / REFERENCE_FILES.
REFERENCE_FILES = 10_400
AVERAGE_FILE_BYTES = 20_000
LEGACY_FILES_PER_REFERENCE = 1_060
UNPARSEABLE_PER_REFERENCE = 25

# Unrelated files that still mention the words a text filter would look for.
P_MANAGER_IDENTIFIERS = 0.25     # `session_manager`, `class CacheManager` (not the bare word)
P_MANAGER_WORD = 0.07            # the bare word `manager` in code, docstrings or comments
P_WEBSOCKET_MANAGER_VARIABLE = 0.03  # `websocket_manager` as a plain variable / attribute / kwarg
P_WEBSOCKET_WORD = 0.06          # "websocket" in unrelated identifiers and text
P_WEBSOCKET_CORE_UNRELATED = 0.02  # unrelated names imported from websocket_core submodules

PKG = "netra_backend.app.websocket_core"
CANONICAL = f"{PKG}.websocket_manager"
MANAGER = f"{PKG}.manager"
UNIFIED = f"{PKG}.unified_manager"
FACTORY = f"{PKG}.websocket_manager_factory"
CANONICAL_IMPORTS = f"{PKG}.canonical_imports"
CANONICAL_PATTERNS = f"{PKG}.canonical_import_patterns"
UNIFIED_INIT = f"{PKG}.unified_init"

# Legacy modules, the manager names each carries (as in the netra preset), and how often
# code imports from each.
LEGACY_MODULES = {
    MANAGER: (["WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager", "WebSocketManagerMode",
               "WebSocketConnection", "get_websocket_manager", "create_websocket_manager",
               "create_websocket_manager_sync", "WebSocketManagerFactory"], 40),
    UNIFIED: (["UnifiedWebSocketManager", "WebSocketManager", "WebSocketConnectionManager", "WebSocketManagerMode",
               "WebSocketConnection", "get_websocket_manager"], 14),
    FACTORY: (["WebSocketManagerFactory", "create_websocket_manager", "create_websocket_manager_sync",
               "get_websocket_manager_factory", "get_websocket_manager", "IsolatedWebSocketManager",
               "WebSocketManager", "UnifiedWebSocketManager"], 14),
    PKG: (["WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager", "get_websocket_manager",
           "create_websocket_manager", "create_websocket_manager_sync", "WebSocketManagerFactory",
           "get_websocket_manager_factory"], 18),
    CANONICAL: (["UnifiedWebSocketManager", "WebSocketConnectionManager", "WebSocketManagerMode"], 8),
    CANONICAL_IMPORTS: (["WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager",
                         "get_websocket_manager", "create_websocket_manager"], 3),
    CANONICAL_PATTERNS: (["WebSocketManager", "UnifiedWebSocketManager", "get_websocket_manager"], 1.5),
    UNIFIED_INIT: (["WebSocketManager", "UnifiedWebSocketManager", "get_websocket_manager",
                    "create_websocket_manager"], 1.5),
}
LEGACY_PATCH_MODULES = [MANAGER, UNIFIED, FACTORY, PKG]
MANAGER_CLASSES = ["WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager"]
ALL_LEGACY_NAMES = sorted({n for names, _ in LEGACY_MODULES.values() for n in names})
# Unrelated names the package __init__ re-exports next to the manager names.
PKG_UNRELATED_NAMES = ["WebSocketMessage", "MessageType", "safe_websocket_send", "safe_websocket_close",
                       "WebSocketAuthenticator", "RateLimiter", "create_server_message", "create_error_message",
                       "MessageRouter", "get_message_router", "ConnectionInfo", "WebSocketConfig"]

# Shape counts per REFERENCE_FILES files (see the shared migration notes).
SITE_RATES = {
    # calls
    "get_ws_noarg": 125, "get_ws_none": 25, "get_ws_ctx": 390,
    "create_awaited": 107, "create_plain": 100,
    "factory_object": 60, "factory_getter": 25, "create_for_user": 10, "get_instance": 10,
    "instantiate_noarg": 543, "instantiate_args": 261,
    # type-level
    "isinstance": 30, "annotation": 120, "string_annotation": 47, "mock_spec": 68, "subclass": 1,
    # strings
    "patch_legacy": 115, "patch_consumer": 128, "patch_canonical": 29, "importlib": 3, "sys_modules": 7,
    "getattr": 46, "module_attr": 37, "module_passed": 66,
    # module-level
    "alias_assign": 30, "dunder_all": 18, "dunder_all_unrelated": 3, "star_import": 1, "type_checking": 9,
    "except_fallback": 14, "two_aliases_one_statement": 6, "mixed_init": 24,
    # traps
    "same_name_other_object": 60, "other_create_function": 30, "rebind_local_def": 20,
    "docstring_import": 40, "layout_import_fails": 15, "layout_deprecation": 14, "layout_module_compare": 10,
    "layout_source_scan": 5, "layout_exec": 5,
}
# Sites that only make sense in test code.
TEST_ONLY_SITES = {"mock_spec", "patch_legacy", "patch_consumer", "patch_canonical", "sys_modules",
                   "layout_import_fails", "layout_deprecation", "layout_module_compare", "layout_source_scan",
                   "layout_exec", "subclass", "module_passed"}
USE_WITHOUT_IMPORT_PER_REFERENCE = 47

NOUNS = ("user thread message agent session request payload config metric event token cache report tenant "
         "workspace billing invoice quota schema pipeline job task queue worker channel stream audit policy role "
         "permission credential dataset model prompt tool result trace span alert notification webhook provider "
         "corpus document chunk embedding index query filter cursor batch record snapshot health status state "
         "profile account subscription plan usage limit retry timeout secret region cluster node route handler "
         "service client adapter gateway ledger order cart coupon vendor supply demand forecast").split()
VERBS = ("get load build process handle validate parse render compute fetch store update delete create resolve "
         "normalize serialize dispatch schedule collect merge filter refresh sync emit record check apply prepare "
         "finalize enrich rank").split()
ADJS = "active pending cached raw default current primary remote local internal stale valid recent total max min".split()
CLASS_SUFFIXES = ("Service Repository Handler Client Builder Validator Processor Registry Store Adapter Policy "
                  "Tracker Scheduler Router Config Schema Factory Executor Monitor Resolver").split()
EXCEPTIONS = "ValueError KeyError RuntimeError TimeoutError ConnectionError TypeError LookupError OSError".split()
WORDS = ("the a an of to for with when if each all this that user request thread agent response value result "
         "returns raises keeps updates reads writes records current given new existing optional pending cached "
         "status error timeout retry limit tenant workspace message event handler service client settings "
         "default internal remote data payload schema field record batch queue stream before after once only "
         "still never always is are be used by from into on per").split()
CONTEXT_NAMES = ["request_context", "execution_context", "agent_context", "run_context", "session_context"]
MANAGER_VARS = ["manager", "websocket_manager", "ws_manager", "mgr", "websocket_manager"]


def cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def camel(*parts: str) -> str:
    return "".join(cap(p) for p in parts)


def indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


class Pools:
    """Shared pieces (sentences, function bodies) generated once from the seed."""

    def __init__(self, rng: random.Random, bodies: int = 3000):
        self.sentences = [self._sentence(rng) for _ in range(2500)]
        self.bodies = []  # (is_async, body at 4 spaces, body at 8 spaces, params)
        for _ in range(bodies):
            is_async = rng.random() < 0.3
            lines, params = BodyWriter(rng, self.sentences, is_async).body()
            text = "\n".join(lines) + "\n"
            self.bodies.append((is_async, indent(text, "    "), indent(text, "        "), params))

    @staticmethod
    def _sentence(rng: random.Random) -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(5, 14))]
        return cap(" ".join(words)) + "."

    def doc(self, rng: random.Random, prefix: str, extra: str = "") -> str:
        """A docstring at the given indentation (one line or a short paragraph)."""
        if rng.random() < 0.45:
            return f'{prefix}"""{rng.choice(self.sentences)}{extra}"""\n'
        lines = [rng.choice(self.sentences)]
        body = " ".join(rng.choice(self.sentences) for _ in range(rng.randint(1, 4)))
        lines.append("")
        lines.extend(wrap(body, 88 - len(prefix)))
        if extra:
            lines.append(extra.strip())
        if rng.random() < 0.5:
            lines += ["", "Args:"] + [f"    {rng.choice(NOUNS)}_id: {rng.choice(self.sentences)}"
                                      for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.4:
            lines += ["", "Returns:", f"    {rng.choice(self.sentences)}"]
        out = [f'{prefix}"""{lines[0]}\n']
        out.extend(f"{prefix}{line}\n" if line else "\n" for line in lines[1:])
        out.append(f'{prefix}"""\n')
        return "".join(out)


def wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


class BodyWriter:
    """Writes one plausible function body (statements, branches, loops, try blocks)."""

    def __init__(self, rng: random.Random, sentences: list[str], is_async: bool):
        self.rng = rng
        self.sentences = sentences
        self.is_async = is_async
        self.params = [f"{rng.choice(NOUNS)}_id", rng.choice(NOUNS)]
        if rng.random() < 0.5:
            self.params.append(f"{rng.choice(ADJS)}_{rng.choice(NOUNS)}")
        self.known = list(self.params)

    def var(self) -> str:
        rng = self.rng
        name = rng.choice((f"{rng.choice(ADJS)}_{rng.choice(NOUNS)}", rng.choice(NOUNS), f"{rng.choice(NOUNS)}s"))
        if name in ("id", "type", "list", "dict"):
            name += "_value"
        self.known.append(name)
        return name

    def arg(self) -> str:
        return self.rng.choice(self.known)

    def simple(self, depth: int = 0) -> str:
        rng = self.rng
        n, n2, a = rng.choice(NOUNS), rng.choice(NOUNS), self.arg()
        kind = rng.randrange(13)
        aw = "await " if self.is_async and rng.random() < 0.5 else ""
        if kind == 0:
            return f"{self.var()} = {aw}self._{rng.choice(VERBS)}_{n}({a})"
        if kind == 1:
            return f'{self.var()} = {{"{n}_id": {a}, "{n2}": {a}, "status": "{rng.choice(ADJS)}"}}'
        if kind == 2:
            x = rng.choice("xyio")
            return f"{self.var()} = [{x} for {x} in {a} if {x} is not None]"
        if kind == 3:
            return f'logger.{rng.choice(("info", "debug", "warning"))}("{rng.choice(self.sentences)[:-1]} %s", {a})'
        if kind == 4:
            return f"{self.var()} = {aw}{rng.choice(NOUNS)}_{rng.choice(CLASS_SUFFIXES).lower()}.{rng.choice(VERBS)}({a}, timeout={rng.randint(1, 120)})"
        if kind == 5:
            return f"self._{n}s.append({a})"
        if kind == 6:
            return f"{self.var()} = {a} or {rng.randint(0, 1000)}"
        if kind == 7:
            return f'{self.var()} = f"{n}:{{{a}}}:{n2}"'
        if kind == 8 and depth == 0:
            return f"# {rng.choice(self.sentences)}"
        if kind == 9:
            return f"{self.var()} = len({a}) * {rng.randint(2, 64)} + {rng.randint(0, 9)}"
        if kind == 10:
            return f"{self.var()} = {camel(n, rng.choice(CLASS_SUFFIXES))}({n}={a}, {n2}={rng.randint(1, 500)})"
        if kind == 11:
            return f"{self.var()} = time.monotonic() - {rng.uniform(0, 10):.2f}"
        return f"self._metrics[\"{n}.{rng.choice(VERBS)}\"] += {rng.randint(1, 5)}"

    def block(self, out: list[str], prefix: str, depth: int) -> None:
        rng = self.rng
        roll = rng.random()
        if depth >= 2 or roll < 0.6:
            out.append(prefix + self.simple(depth))
            return
        a = self.arg()
        inner = prefix + "    "
        if roll < 0.72:
            cond = rng.choice((f"{a} is None", f"not {a}", f"{a} > {rng.randint(1, 99)}", f"isinstance({a}, dict)"))
            out.append(f"{prefix}if {cond}:")
            if rng.random() < 0.4:
                out.append(f'{inner}raise {rng.choice(EXCEPTIONS)}("{rng.choice(self.sentences)[:-1]}")')
            else:
                for _ in range(rng.randint(1, 3)):
                    self.block(out, inner, depth + 1)
                if rng.random() < 0.4:
                    out.append(f"{prefix}else:")
                    self.block(out, inner, depth + 1)
        elif roll < 0.84:
            x = rng.choice(("item", "entry", "row", "element", "candidate"))
            out.append(f"{prefix}for {x} in {a}:")
            self.known.append(x)
            for _ in range(rng.randint(1, 3)):
                self.block(out, inner, depth + 1)
        elif roll < 0.94:
            out.append(f"{prefix}try:")
            for _ in range(rng.randint(1, 3)):
                self.block(out, inner, depth + 1)
            out.append(f"{prefix}except {rng.choice(EXCEPTIONS)} as exc:")
            out.append(f'{inner}logger.warning("{rng.choice(self.sentences)[:-1]}: %s", exc)')
            if rng.random() < 0.3:
                out.append(f"{inner}raise")
        else:
            if self.is_async:
                out.append(f"{prefix}async with self._{rng.choice(NOUNS)}_session() as session:")
            else:
                out.append(f"{prefix}with self._{rng.choice(NOUNS)}_lock:")
            self.block(out, inner, depth + 1)

    def body(self) -> tuple[list[str], list[str]]:
        out: list[str] = []
        for _ in range(self.rng.randint(2, 9)):
            self.block(out, "", 0)
        out.append(f"return {self.arg()}" if self.rng.random() < 0.7 else "return None")
        return out, self.params


STDLIB_IMPORTS = ["import asyncio", "import json", "import logging", "import os", "import re", "import time",
                  "import uuid", "from dataclasses import dataclass, field", "from datetime import datetime, timezone",
                  "from enum import Enum", "from collections import defaultdict",
                  "from typing import Any, Dict, List, Optional"]


class BulkWriter:
    """Unrelated code: classes, functions, constants and tests assembled from the shared pools."""

    def __init__(self, pools: Pools, rng: random.Random, is_test: bool):
        self.pools = pools
        self.rng = rng
        self.is_test = is_test
        self.counter = 0

    def name(self) -> str:
        self.counter += 1
        rng = self.rng
        return f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}" + (f"_{self.counter}" if rng.random() < 0.3 else "")

    def header(self, extra: list[str] = ()) -> str:
        rng = self.rng
        chosen = sorted(set(rng.sample(STDLIB_IMPORTS, rng.randint(3, 8))) | {"import logging", "import time"})
        if self.is_test:
            chosen += ["", "import pytest", "from unittest.mock import AsyncMock, MagicMock, Mock, patch"]
        local = []
        for _ in range(rng.randint(1, 5)):
            top = rng.choice(("netra_backend.app", "shared", "auth_service.auth_core", "netra_backend.app.core"))
            local.append(f"from {top}.{rng.choice(NOUNS)}_{rng.choice(('service', 'models', 'utils', 'types'))} "
                         f"import {camel(rng.choice(NOUNS), rng.choice(CLASS_SUFFIXES))}")
        return "\n".join(chosen + [""] + sorted(set(local)) + list(extra)) + "\n"

    def module_doc(self) -> str:
        return self.pools.doc(self.rng, "")

    def function(self, prefix: str = "", method: bool = False) -> str:
        rng = self.rng
        is_async, body4, body8, params = rng.choice(self.pools.bodies)
        body = body8 if method else body4
        args = (["self"] if method else []) + params
        ret = rng.choice(("", " -> Optional[Dict[str, Any]]", " -> Any", " -> bool", " -> List[str]", " -> int"))
        head = f"{prefix}{'async def' if is_async else 'def'} {('_' if rng.random() < 0.3 else '')}{self.name()}({', '.join(args)}){ret}:\n"
        deco = ""
        if method and rng.random() < 0.08:
            deco = f"{prefix}@property\n" if not is_async and len(params) == 0 else f"{prefix}@{rng.choice(('retry(max_attempts=3)', 'traced', 'timed'))}\n"
        return deco + head + self.pools.doc(rng, prefix + "    ") + body

    def klass(self, class_name: str | None = None, extra_init: str = "") -> str:
        rng = self.rng
        noun = rng.choice(NOUNS)
        name = class_name or camel(noun, rng.choice(CLASS_SUFFIXES))
        base = rng.choice(("", "", "", "(BaseModel)", "(Protocol)", f"({camel(rng.choice(NOUNS), 'Base')})"))
        out = []
        if rng.random() < 0.15:
            out.append("@dataclass\n")
        out.append(f"class {name}{base}:\n")
        out.append(self.pools.doc(rng, "    "))
        out.append("\n")
        attrs = [f"{rng.choice(ADJS)}_{rng.choice(NOUNS)}" for _ in range(rng.randint(1, 5))]
        out.append(f"    def __init__(self, {', '.join(dict.fromkeys(attrs))}, **options: Any) -> None:\n")
        for attr in dict.fromkeys(attrs):
            out.append(f"        self.{attr} = {attr}\n")
        out.append(f"        self._{noun}s = []\n        self._metrics = defaultdict(int)\n")
        out.append(extra_init)
        for _ in range(rng.randint(2, 9)):
            out.append("\n")
            out.append(self.function("    ", method=True))
        return "".join(out)

    def constants(self) -> str:
        rng = self.rng
        name = f"{rng.choice(ADJS).upper()}_{rng.choice(NOUNS).upper()}_{rng.choice(('LIMITS', 'DEFAULTS', 'MAP', 'RULES'))}"
        items = [f'    "{rng.choice(NOUNS)}_{rng.choice(NOUNS)}": {rng.choice((str(rng.randint(0, 10_000)), repr(rng.choice(WORDS)), "None", "True", str(round(rng.random(), 3))))},'
                 for _ in range(rng.randint(3, 25))]
        return f"{name}: Dict[str, Any] = {{\n" + "\n".join(items) + "\n}\n"

    def test_function(self, prefix: str = "") -> str:
        rng = self.rng
        is_async, body4, body8, params = rng.choice(self.pools.bodies)
        method = bool(prefix)
        fixture = rng.choice(NOUNS)
        args = (["self"] if method else []) + [f"{fixture}_{rng.choice(('factory', 'fixture', 'client', 'stub'))}"]
        deco = f"{prefix}@pytest.mark.asyncio\n" if is_async else ""
        if rng.random() < 0.1:
            deco += f"{prefix}@pytest.mark.parametrize(\"{rng.choice(NOUNS)}\", [{rng.randint(0, 9)}, {rng.randint(10, 99)}])\n"
            args.append(fixture)
        head = f"{prefix}{'async def' if is_async else 'def'} test_{self.name()}({', '.join(args)}):\n"
        body = body8 if method else body4
        # a test body ends with assertions instead of a return
        body = body[:body.rstrip("\n").rfind("\n") + 1]
        asserts = "".join(f"{prefix}    assert {rng.choice(NOUNS)}_{rng.choice(('count', 'total', 'state'))} {rng.choice(('==', '>=', '!='))} {rng.randint(0, 50)}\n"
                          for _ in range(rng.randint(1, 3)))
        return deco + head + self.pools.doc(rng, prefix + "    ") + body + asserts

    def test_class(self) -> str:
        rng = self.rng
        out = [f"class Test{camel(rng.choice(NOUNS), rng.choice(VERBS))}:\n", self.pools.doc(rng, "    ")]
        for _ in range(rng.randint(2, 8)):
            out.append("\n")
            out.append(self.test_function("    "))
        return "".join(out)

    def fixture(self) -> str:
        rng = self.rng
        noun = rng.choice(NOUNS)
        return (f"@pytest.fixture\ndef {noun}_{rng.choice(('factory', 'fixture', 'client', 'stub'))}():\n"
                f"    {noun} = MagicMock(name=\"{noun}\")\n    {noun}.{rng.choice(VERBS)}.return_value = {rng.randint(0, 99)}\n"
                f"    yield {noun}\n")

    def block(self) -> str:
        roll = self.rng.random()
        if self.is_test:
            if roll < 0.45:
                return self.test_class()
            if roll < 0.85:
                return self.test_function()
            if roll < 0.95:
                return self.fixture()
            return self.constants()
        if roll < 0.5:
            return self.klass()
        if roll < 0.9:
            return self.function()
        return self.constants()

    def fill(self, parts: list[str], target: int, size: int) -> int:
        """Append blocks (separated by two blank lines) until about `target` bytes; return the new size."""
        while size < target - 600:
            text = "\n\n" + self.block()
            parts.append(text)
            size += len(text)
        return size

    # -- unrelated uses of the words a text filter looks for ----------------------------------

    def manager_identifiers(self) -> str:
        rng = self.rng
        noun = rng.choice(("session", "cache", "state", "lock", "quota", "secret", "connection_pool", "task"))
        return self.klass(class_name=camel(*noun.split("_"), "Manager"),
                          extra_init=f"        self.{noun}_manager = {camel(*noun.split('_'), 'Registry')}()\n")

    def manager_word(self) -> str:
        rng = self.rng
        noun = rng.choice(NOUNS)
        return (f"def {rng.choice(VERBS)}_{noun}_via_manager(manager, {noun}_id):\n"
                f'    """Ask the {rng.choice(("lifecycle", "session", "resource", "cache"))} manager for the {noun}.\n\n'
                f"    The manager owns retries; this helper only maps the result.\n"
                f'    """\n'
                f"    # manager may be a stub in tests\n"
                f"    result = manager.get({noun}_id)\n"
                f"    return {{\"{noun}_id\": {noun}_id, \"found\": result is not None}}\n")

    def websocket_manager_variable(self) -> str:
        rng = self.rng
        name = camel(rng.choice(NOUNS), "Agent")
        return (f"class {name}:\n"
                f'    """Runs one {rng.choice(NOUNS)} step and streams progress to the user."""\n\n'
                f"    def __init__(self, llm_client, websocket_manager=None, tool_dispatcher=None):\n"
                f"        self.llm_client = llm_client\n"
                f"        self.websocket_manager = websocket_manager\n"
                f"        self.tool_dispatcher = tool_dispatcher\n\n"
                f"    async def notify(self, user_id, event):\n"
                f"        if self.websocket_manager is None:\n"
                f"            return False\n"
                f"        await self.websocket_manager.send_to_user(user_id, event)\n"
                f"        return True\n\n\n"
                f"def build_{rng.choice(NOUNS)}_agent(llm_client, websocket_manager):\n"
                f"    return {name}(llm_client, websocket_manager=websocket_manager)\n")

    def websocket_word(self) -> str:
        rng = self.rng
        noun = rng.choice(NOUNS)
        return (f"WEBSOCKET_{noun.upper()}_TIMEOUT = {rng.randint(5, 90)}\n\n\n"
                f"def {noun}_websocket_url(settings) -> str:\n"
                f'    """The websocket endpoint the frontend connects to for {noun} updates."""\n'
                f"    return f\"{{settings.websocket_base_url}}/ws/{noun}\"\n")

    def websocket_core_unrelated(self) -> str:
        rng = self.rng
        module = rng.choice(("types", "handlers", "utils", "auth", "rate_limiter"))
        name = rng.choice(("MessageType", "WebSocketMessage", "create_server_message", "safe_websocket_send"))
        return f"from {PKG}.{module} import {name}\n"
