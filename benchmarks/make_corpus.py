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

As in the real repository, the legacy `manager` module also binds names that are not managers
(`WebSocketHeartbeat` from `heartbeat.py`, the alias `WebSocketHeartbeatManager`,
`WebSocketManagerProtocol` from `protocols.py` inside try/except ImportError, and
`_serialize_message_safely`), imported from there by a few scripts and stress tests and used
through the module object by a compatibility-layer test suite. The canonical module also
exports `create_test_user_context()`; legacy factory calls come with contexts in the shapes
the real code uses (annotated parameters not named `user_context`, a context kept on
`self._context`, factory objects that escape, arguments the factory has no place for).
`.github/CODEOWNERS` assigns teams to the top-level directories (one has no owner). Strings come
in three kinds (naming modules below the legacy package that are not the package itself, the
canonical module most of all; free text quoting legacy paths; lists of legacy module names a test
imports), and some code imports the legacy package's module object or a name its configuration does
not list through it (`add_precision_sites`, appended to files that reference the managers already).

Same arguments give a byte-identical tree. Only the standard library is used. `--files` counts
the .py files (CODEOWNERS and the manifest come on top). `OUT_DIR/.corpus-manifest.json` lists
the files that reference legacy managers, the files that do not parse, how often each shape was
generated, the consumers of the manager module's other names, and the CODEOWNERS rules.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import textwrap
import shutil
import subprocess
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
# How a file that only uses a legacy module object (passes it around) still names it.
LEGACY_MODULE_SPELLINGS = [MANAGER, UNIFIED, FACTORY] + [f"{PKG} import {m.rsplit('.', 1)[1]}" for m in (MANAGER, UNIFIED, FACTORY)]
# Names the legacy `manager` module binds besides the managers (not in the preset; trap 10).
MANAGER_EXTRA_NAMES = ["WebSocketHeartbeat", "WebSocketHeartbeatManager", "WebSocketManagerProtocol",
                       "_serialize_message_safely"]
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
# Names of a parameter annotated `UserExecutionContext` that is not called `user_context`.
ANNOTATED_CONTEXT_NAMES = ["ctx", "context", "ctx", "execution_context", "request_context"]
USER_EXECUTION_CONTEXT_IMPORT = "from netra_backend.app.services.user_execution_context import UserExecutionContext"
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
        self.docs: dict[str, list[str]] = {}
        self.doc_rng = random.Random(rng.random())
        for prefix in ("", "    ", "        "):
            self.docs[prefix] = [self.fresh_doc(self.doc_rng, prefix) for _ in range(1200)]
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
        """A docstring at the given indentation, from a pre-rendered pool unless `extra` text is needed."""
        if not extra:
            pool = self.docs.get(prefix)
            if pool is None:
                pool = self.docs[prefix] = [self.fresh_doc(self.doc_rng, prefix) for _ in range(1200)]
            return rng.choice(pool)
        return self.fresh_doc(rng, prefix, extra)

    def fresh_doc(self, rng: random.Random, prefix: str, extra: str = "") -> str:
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
    return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


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
        while size < target:
            text = "\n\n" + self.block()
            if size + len(text) - target > target - size and parts:
                break  # closer to the target without this block
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


# ----- the real package layout ------------------------------------------------------------

WSC = "netra_backend/app/websocket_core"


def layout_files(pools: Pools, rng: random.Random) -> dict[str, tuple[str, bool]]:
    """The websocket_core package as in the user's repository: path -> (source, references legacy managers)."""
    bulk = BulkWriter(pools, rng, False)
    files: dict[str, tuple[str, bool]] = {}

    files[f"{WSC}/__init__.py"] = ('''"""WebSocket core: connections, messages, routing and the manager entry points."""

from netra_backend.app.websocket_core.types import (
    ConnectionInfo,
    MessageType,
    WebSocketConfig,
    WebSocketMessage,
    create_error_message,
    create_server_message,
)
from netra_backend.app.websocket_core.utils import safe_websocket_close, safe_websocket_send
from netra_backend.app.websocket_core.auth import WebSocketAuthenticator
from netra_backend.app.websocket_core.rate_limiter import RateLimiter
from netra_backend.app.websocket_core.handlers import MessageRouter, get_message_router
from netra_backend.app.websocket_core.websocket_manager import (
    WebSocketManager,
    UnifiedWebSocketManager,
    WebSocketConnectionManager,
    get_websocket_manager,
    create_websocket_manager,
    create_websocket_manager_sync,
    WebSocketManagerFactory,
)


def get_websocket_manager_factory():
    """Deprecated: kept for callers of the removed factory module."""
    return WebSocketManagerFactory()


__all__ = [
    "ConnectionInfo",
    "MessageType",
    "WebSocketConfig",
    "WebSocketMessage",
    "create_error_message",
    "create_server_message",
    "safe_websocket_close",
    "safe_websocket_send",
    "WebSocketAuthenticator",
    "RateLimiter",
    "MessageRouter",
    "get_message_router",
    "WebSocketManager",
    "UnifiedWebSocketManager",
    "WebSocketConnectionManager",
    "get_websocket_manager",
    "create_websocket_manager",
    "create_websocket_manager_sync",
    "WebSocketManagerFactory",
    "get_websocket_manager_factory",
]
''', True)

    files[f"{WSC}/websocket_manager.py"] = ('''"""Canonical WebSocket manager module (single source of truth).

Obtain a manager with `get_websocket_manager(user_context)`; every user gets an isolated
instance. The other names here are kept for callers that still use the old spellings.
"""

import uuid
import warnings
from typing import Any, Optional

from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.unified_manager import (
    WebSocketConnection,
    WebSocketManagerMode,
    _UnifiedWebSocketManagerImplementation,
    _serialize_message_safely,
)


class WebSocketManager:
    """Public manager type. Do not instantiate: call get_websocket_manager(user_context)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            "WebSocketManager cannot be instantiated directly; use get_websocket_manager(user_context)"
        )


UnifiedWebSocketManager = _UnifiedWebSocketManagerImplementation
WebSocketConnectionManager = _UnifiedWebSocketManagerImplementation


def get_websocket_manager(user_context: Optional[UserExecutionContext] = None,
                          mode: WebSocketManagerMode = WebSocketManagerMode.UNIFIED):
    """Return the manager for this user context (an isolated instance per user)."""
    return _UnifiedWebSocketManagerImplementation(user_context=user_context, mode=mode)


def create_test_user_context(user_id: str = "test-user") -> UserExecutionContext:
    """A user execution context for tests: unique thread, run and request ids."""
    suffix = uuid.uuid4().hex[:12]
    return UserExecutionContext(
        user_id=user_id,
        thread_id=f"test-thread-{suffix}",
        run_id=f"test-run-{suffix}",
        request_id=f"test-request-{suffix}",
        metadata={"test": True},
    )


async def create_websocket_manager(user_context: Optional[UserExecutionContext] = None):
    """Deprecated: use get_websocket_manager(user_context)."""
    warnings.warn("create_websocket_manager is deprecated; use get_websocket_manager", DeprecationWarning, stacklevel=2)
    return get_websocket_manager(user_context)


def create_websocket_manager_sync(user_context: Optional[UserExecutionContext] = None):
    """Deprecated: use get_websocket_manager(user_context)."""
    warnings.warn("create_websocket_manager_sync is deprecated; use get_websocket_manager", DeprecationWarning, stacklevel=2)
    return get_websocket_manager(user_context)


class WebSocketManagerFactory:
    """Deprecated factory object kept for older call sites."""

    def create_isolated(self, user_id: str, user_context: Optional[Any] = None):
        return get_websocket_manager(user_context)

    async def create_manager(self, user_context: Optional[Any] = None):
        return get_websocket_manager(user_context)

    async def get_manager_for_user(self, user_id: str, user_context: Optional[Any] = None):
        return get_websocket_manager(user_context)

    def create_for_user(self, user_context: Optional[Any] = None):
        return get_websocket_manager(user_context)


__all__ = [
    "WebSocketManager",
    "WebSocketManagerMode",
    "WebSocketConnection",
    "UnifiedWebSocketManager",
    "WebSocketConnectionManager",
    "get_websocket_manager",
    "create_websocket_manager",
    "create_websocket_manager_sync",
    "WebSocketManagerFactory",
    "create_test_user_context",
    "_serialize_message_safely",
]
''', True)

    files[f"{WSC}/manager.py"] = ('''"""Deprecated compatibility module: import from websocket_core.websocket_manager instead."""

import warnings

from netra_backend.app.websocket_core.heartbeat import WebSocketHeartbeat
from netra_backend.app.websocket_core.websocket_manager import (
    UnifiedWebSocketManager,
    WebSocketConnection,
    WebSocketConnectionManager,
    WebSocketManagerFactory,
    WebSocketManagerMode,
    _serialize_message_safely,
    create_websocket_manager,
    create_websocket_manager_sync,
    get_websocket_manager,
)

try:
    from netra_backend.app.websocket_core.protocols import WebSocketManagerProtocol
except ImportError:
    WebSocketManagerProtocol = None

WebSocketManager = UnifiedWebSocketManager
WebSocketHeartbeatManager = WebSocketHeartbeat

warnings.warn(
    "netra_backend.app.websocket_core.manager is deprecated; "
    "import from netra_backend.app.websocket_core.websocket_manager",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "WebSocketManager",
    "UnifiedWebSocketManager",
    "WebSocketConnectionManager",
    "WebSocketManagerMode",
    "WebSocketConnection",
    "get_websocket_manager",
    "create_websocket_manager",
    "create_websocket_manager_sync",
    "WebSocketManagerFactory",
    "WebSocketHeartbeat",
    "WebSocketHeartbeatManager",
    "WebSocketManagerProtocol",
    "_serialize_message_safely",
]
''', True)

    files[f"{WSC}/heartbeat.py"] = ('''"""Connection heartbeats: periodic pings and detection of connections that stopped answering."""

import time
from typing import Any, Dict, List


class WebSocketHeartbeat:
    """Pings every connection each `interval` seconds; a connection is stale after `timeout` without a pong."""

    def __init__(self, interval: float = 30.0, timeout: float = 90.0) -> None:
        self.interval = interval
        self.timeout = timeout
        self._last_pong: Dict[str, float] = {}

    def record_pong(self, connection_id: str) -> None:
        self._last_pong[connection_id] = time.monotonic()

    def forget(self, connection_id: str) -> None:
        self._last_pong.pop(connection_id, None)

    def is_alive(self, connection_id: str) -> bool:
        last = self._last_pong.get(connection_id)
        return last is not None and time.monotonic() - last < self.timeout

    def stale_connections(self) -> List[str]:
        now = time.monotonic()
        return sorted(c for c, last in self._last_pong.items() if now - last >= self.timeout)

    async def ping(self, connection_id: str, websocket: Any) -> None:
        await websocket.send_text('{"type": "ping"}')
        self._last_pong.setdefault(connection_id, time.monotonic())


__all__ = ["WebSocketHeartbeat"]
''', False)

    files[f"{WSC}/protocols.py"] = ('''"""Structural types of the WebSocket layer."""

from typing import Any, Optional, Protocol, runtime_checkable


@runtime_checkable
class WebSocketManagerProtocol(Protocol):
    """What callers may rely on from any WebSocket manager."""

    user_context: Optional[Any]

    async def add_connection(self, connection: Any) -> None:
        ...

    async def send_to_user(self, user_id: str, message: Any) -> bool:
        ...


__all__ = ["WebSocketManagerProtocol"]
''', False)

    # unified_manager: the long implementation class plus its companions
    methods = []
    size = 0
    while size < 150_000:
        text = "\n" + bulk.function("    ", method=True)
        methods.append(text)
        size += len(text)
    files[f"{WSC}/unified_manager.py"] = ('''"""Implementation of the WebSocket manager (connections, per-user routing, delivery)."""

import asyncio
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Dict, List, Optional

logger = logging.getLogger(__name__)


class WebSocketManagerMode(Enum):
    UNIFIED = "unified"
    ISOLATED = "isolated"
    EMERGENCY = "emergency"


@dataclass
class WebSocketConnection:
    connection_id: str
    user_id: str
    websocket: Any
    connected_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    metadata: Dict[str, Any] = field(default_factory=dict)


def _serialize_message_safely(message: Any) -> str:
    try:
        return json.dumps(message, default=str)
    except (TypeError, ValueError):
        return json.dumps({"type": "error", "detail": "unserializable message"})


class _UnifiedWebSocketManagerImplementation:
    """Owns every connection of one user context and delivers messages to it."""

    def __init__(self, user_context: Optional[Any] = None, mode: WebSocketManagerMode = WebSocketManagerMode.UNIFIED, **options: Any) -> None:
        self.user_context = user_context
        self.mode = mode
        self._connections: Dict[str, WebSocketConnection] = {}
        self._metrics = defaultdict(int)
        self._lock = asyncio.Lock()

    async def add_connection(self, connection: WebSocketConnection) -> None:
        async with self._lock:
            self._connections[connection.connection_id] = connection

    async def send_to_user(self, user_id: str, message: Any) -> bool:
        payload = _serialize_message_safely(message)
        delivered = False
        for connection in list(self._connections.values()):
            if connection.user_id == user_id:
                await connection.websocket.send_text(payload)
                delivered = True
        return delivered
''' + "".join(methods), True)

    files[f"{WSC}/canonical_imports.py"] = ('''"""Preferred import locations for WebSocket core names (transition helper)."""

from netra_backend.app.websocket_core.websocket_manager import (
    WebSocketManager,
    UnifiedWebSocketManager,
    WebSocketConnectionManager,
    get_websocket_manager,
)


def create_websocket_manager(user_context=None):
    """Synchronous helper with the legacy name; returns a manager for the context."""
    return get_websocket_manager(user_context)


__all__ = ["WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager",
           "get_websocket_manager", "create_websocket_manager"]
''', True)

    files[f"{WSC}/canonical_import_patterns.py"] = ('''"""Documented import patterns for WebSocket manager access.

Example:
    from netra_backend.app.websocket_core.canonical_import_patterns import get_websocket_manager
"""

from netra_backend.app.websocket_core.websocket_manager import (
    UnifiedWebSocketManager,
    WebSocketManager,
    get_websocket_manager,
)

__all__ = ["WebSocketManager", "UnifiedWebSocketManager", "get_websocket_manager"]
''', True)

    files[f"{WSC}/unified_init.py"] = ('''"""Unified initialisation entry points for the WebSocket layer."""

from netra_backend.app.websocket_core.websocket_manager import (
    UnifiedWebSocketManager,
    WebSocketManager,
    create_websocket_manager,
    get_websocket_manager,
)

__all__ = ["WebSocketManager", "UnifiedWebSocketManager", "get_websocket_manager", "create_websocket_manager"]
''', True)

    # Same names, different objects: these are not the legacy managers.
    files[f"{WSC}/connection_manager.py"] = ('''"""Tracks raw socket connections (not the WebSocket manager)."""

from typing import Any, Dict


class ConnectionManager:
    """Registry of open sockets keyed by connection id."""

    def __init__(self) -> None:
        self._sockets: Dict[str, Any] = {}

    def register(self, connection_id: str, socket: Any) -> None:
        self._sockets[connection_id] = socket

    def unregister(self, connection_id: str) -> None:
        self._sockets.pop(connection_id, None)


WebSocketConnectionManager = ConnectionManager


class WebSocketConnection:
    """A raw socket plus bookkeeping, unrelated to the manager's connection record."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
''', False)

    files[f"{WSC}/broadcast_core.py"] = ('''"""Fan-out of system broadcasts to every connected client."""

from typing import Any, Iterable


class WebSocketManager:
    """Broadcast manager: sends one message to many sockets. Not the per-user manager."""

    def __init__(self, sockets: Iterable[Any] = ()) -> None:
        self.sockets = list(sockets)

    async def broadcast(self, message: str) -> int:
        for socket in self.sockets:
            await socket.send_text(message)
        return len(self.sockets)


__all__ = ["WebSocketManager"]
''', False)

    files[f"{WSC}/types.py"] = ('''"""Message and connection types of the WebSocket layer."""

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict


class MessageType(str, Enum):
    USER_MESSAGE = "user_message"
    AGENT_STARTED = "agent_started"
    AGENT_THINKING = "agent_thinking"
    TOOL_EXECUTING = "tool_executing"
    TOOL_COMPLETED = "tool_completed"
    AGENT_COMPLETED = "agent_completed"
    ERROR = "error"


@dataclass
class WebSocketMessage:
    type: MessageType
    payload: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ConnectionInfo:
    connection_id: str
    user_id: str


@dataclass
class WebSocketConfig:
    heartbeat_seconds: int = 30
    max_message_bytes: int = 1_048_576


def create_server_message(kind: MessageType, payload: Dict[str, Any]) -> WebSocketMessage:
    return WebSocketMessage(kind, payload)


def create_error_message(detail: str) -> WebSocketMessage:
    return WebSocketMessage(MessageType.ERROR, {"detail": detail})
''', False)

    files[f"{WSC}/utils.py"] = ('''"""Socket helpers that never raise on a closed connection."""

import logging

logger = logging.getLogger(__name__)


async def safe_websocket_send(websocket, text: str) -> bool:
    try:
        await websocket.send_text(text)
        return True
    except Exception as exc:
        logger.debug("send failed: %s", exc)
        return False


async def safe_websocket_close(websocket, code: int = 1000) -> None:
    try:
        await websocket.close(code=code)
    except Exception:
        pass
''', False)

    files[f"{WSC}/auth.py"] = ('''"""Authenticates WebSocket handshakes."""


class WebSocketAuthenticator:
    def __init__(self, jwt_validator) -> None:
        self.jwt_validator = jwt_validator

    async def authenticate(self, token: str):
        return await self.jwt_validator.validate(token)
''', False)

    files[f"{WSC}/rate_limiter.py"] = ('''"""Per-connection message rate limiting."""

import time


class RateLimiter:
    def __init__(self, per_second: int = 20) -> None:
        self.per_second = per_second
        self._window_start = time.monotonic()
        self._count = 0

    def allow(self) -> bool:
        now = time.monotonic()
        if now - self._window_start >= 1.0:
            self._window_start, self._count = now, 0
        self._count += 1
        return self._count <= self.per_second
''', False)

    files[f"{WSC}/handlers.py"] = ('''"""Routes incoming messages to handlers."""

from typing import Any, Callable, Dict


class MessageRouter:
    def __init__(self) -> None:
        self._handlers: Dict[str, Callable[..., Any]] = {}

    def register(self, kind: str, handler: Callable[..., Any]) -> None:
        self._handlers[kind] = handler


_router = MessageRouter()


def get_message_router() -> MessageRouter:
    return _router
''', False)

    # A fourth `create_websocket_manager`: returns a user execution context, not a manager.
    files["netra_backend/app/services/user_execution_context.py"] = ('''"""User execution contexts: who is running what, and where results go."""

from dataclasses import dataclass, field
from typing import Any, Dict, Optional


@dataclass
class UserExecutionContext:
    user_id: str
    thread_id: str
    run_id: str
    request_id: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)


def create_websocket_manager(user_id: str, thread_id: str = "thread", run_id: str = "run") -> UserExecutionContext:
    """Despite the name, builds the execution context a WebSocket manager is created for."""
    return UserExecutionContext(user_id=user_id, thread_id=thread_id, run_id=run_id)
''', False)
    return files


# ----- files that reference the legacy managers -------------------------------------------

def relative_module(package: str, target: str) -> str | None:
    """`target` spelled relative to `package` when both live under netra_backend.app."""
    p, t = package.split("."), target.split(".")
    common = 0
    while common < min(len(p), len(t)) and p[common] == t[common]:
        common += 1
    if common < 2:
        return None
    return "." * (len(p) - common + 1) + ".".join(t[common:])


class Fn:
    """One function being written: decorators, parameters and body lines (relative indentation)."""

    def __init__(self, name: str, is_async: bool = False):
        self.name = name
        self.is_async = is_async
        self.params: list[str] = []
        self.decorators: list[str] = []
        self.lines: list[str] = []
        self.local: dict[str, str] = {}
        self.returns = ""

    def render(self, method: bool, doc: str) -> str:
        prefix = "    " if method else ""
        params = (["self"] if method else []) + self.params
        out = [f"{prefix}@{d}\n" for d in self.decorators]
        out.append(f"{prefix}{'async def' if self.is_async else 'def'} {self.name}({', '.join(params)}){self.returns}:\n")
        out.append(doc)
        out.extend(f"{prefix}    {line}\n" if line else "\n" for line in self.lines)
        if not self.lines:
            out.append(f"{prefix}    pass\n")
        return "".join(out)


class LegacyFile:
    """Builds one module that references the legacy managers, site by site."""

    def __init__(self, pools: Pools, rng: random.Random, module: str, package: str, is_test: bool,
                 shapes: Counter, consumers: list[tuple[str, str]]):
        self.pools = pools
        self.rng = rng
        self.module = module
        self.package = package
        self.is_test = is_test
        self.production = module.startswith("netra_backend.app.")
        self.shapes = shapes
        self.consumers = consumers
        self.bulk = BulkWriter(pools, rng, is_test)
        self.imports: dict[str, list[tuple[str, str | None]]] = {}   # module -> [(name, alias)]
        self.placement: dict[str, str] = {}
        self.bound: dict[str, str] = {}          # legacy name -> local name at module level
        self.module_objects: dict[str, str] = {}  # legacy module -> expression naming the module object
        self.module_object_lines: list[str] = []
        self.extra_imports: set[str] = set()
        self.top_blocks: list[str] = []
        self.tail_blocks: list[str] = []
        self.functions: list[Fn] = []
        self.sites_module_level: list[str] = []
        self.no_import = False
        self.star = False
        self.pkg_unrelated: list[str] = []
        self.counter = 0

    # -- binding names ---------------------------------------------------------------------

    def pick_module(self, name: str, exclude: tuple[str, ...] = ()) -> str:
        candidates = [(m, w) for m, (names, w) in LEGACY_MODULES.items() if name in names and m not in exclude]
        total = sum(w for _, w in candidates)
        roll = self.rng.uniform(0, total)
        for module, weight in candidates:
            roll -= weight
            if roll <= 0:
                return module
        return candidates[-1][0]

    def pick_alias(self, name: str) -> str | None:
        rng = self.rng
        if rng.random() >= 161 / 2112:
            return None
        roll = rng.random()
        if roll < 54 / 161:
            self.shapes["alias_x_as_x"] += 1
            return name
        if roll < 82 / 161 and name in MANAGER_CLASSES:
            self.shapes["alias_swapped"] += 1
            return rng.choice([c for c in MANAGER_CLASSES if c != name])
        self.shapes["alias_other"] += 1
        if name[0].isupper():
            return rng.choice(("LegacyWebSocketManager", "WSManager", "ManagerClass", f"Legacy{name}"))
        return rng.choice(("get_manager", "ws_factory", f"legacy_{name}", "manager_factory"))

    def from_clause(self, module: str) -> str:
        if self.production and self.rng.random() < 0.3:
            relative = relative_module(self.package, module)
            if relative:
                self.shapes["import_relative"] += 1
                return relative
        return module

    def module_import(self, name: str, module: str | None = None) -> str:
        module = module or self.pick_module(name)
        alias = self.pick_alias(name)
        local = alias or name
        if module not in self.imports:
            self.imports[module] = []
            roll = self.rng.random()
            self.placement[module] = "plain" if roll < 0.75 else "try_importerror" if roll < 0.92 else "try_exception"
        self.imports[module].append((name, alias))
        self.bound[name] = local
        if alias in MANAGER_CLASSES:
            self.bound.setdefault(alias, local)
        return local

    def function_import(self, name: str, fn: Fn) -> str:
        module = self.pick_module(name)
        alias = self.pick_alias(name)
        local = alias or name
        piece = f"{name} as {alias}" if alias else name
        statement = f"from {self.from_clause(module)} import {piece}"
        roll = self.rng.random()
        self.shapes["import_in_function"] += 1
        if roll < 0.65:
            fn.lines.append(statement)
        elif roll < 0.88:
            self.shapes["import_try_importerror"] += 1
            fallback = 'pytest.skip("legacy websocket manager module not available")' if self.is_test else "return None"
            fn.lines += ["try:", f"    {statement}", "except ImportError:", f"    {fallback}"]
        else:
            self.shapes["import_try_exception"] += 1
            handler = 'pytest.fail(f"import failed: {exc}")' if self.is_test else 'logger.error("manager import failed: %s", exc)'
            fn.lines += ["try:", f"    {statement}", "except Exception as exc:", f"    {handler}"]
            if not self.is_test:
                fn.lines.append("    raise")
        fn.local[name] = local
        if alias in MANAGER_CLASSES:
            fn.local.setdefault(alias, local)
        return local

    def use(self, name: str, fn: Fn | None) -> str:
        """The local spelling of legacy `name`, importing it at module or function level if needed."""
        if self.no_import:
            return name
        if self.star and name in LEGACY_MODULES[MANAGER][0]:
            return name
        if fn is not None and name in fn.local:
            return fn.local[name]
        if name in self.bound:
            return self.bound[name]
        if fn is None or self.rng.random() < 0.55:
            return self.module_import(name)
        return self.function_import(name, fn)

    def module_object(self) -> str:
        rng = self.rng
        module = rng.choices((MANAGER, UNIFIED, FACTORY), (60, 25, 15))[0]
        if module in self.module_objects:
            return self.module_objects[module]
        tail = module.rsplit(".", 1)[1]
        local = rng.choice((f"legacy_{tail}", f"{tail}_module", "ws_manager_module"))
        if local in self.module_objects.values():
            local = f"{local}_{len(self.module_objects)}"
        roll = rng.random()
        if roll < 0.4:
            self.module_object_lines.append(f"from {module.rsplit('.', 1)[0]} import {tail} as {local}")
        elif roll < 0.8:
            self.module_object_lines.append(f"import {module} as {local}")
        else:
            self.module_object_lines.append(f"import {module}")
            local = module
        self.shapes["module_object_import"] += 1
        self.module_objects[module] = local
        return local

    # -- helpers for sites -----------------------------------------------------------------

    def new_fn(self, is_async: bool = False) -> Fn:
        self.counter += 1
        rng = self.rng
        if self.is_test:
            name = f"test_{rng.choice(VERBS)}_{rng.choice(('manager', 'websocket_manager', 'ws', 'events', 'delivery', 'isolation'))}_{self.counter}"
        else:
            name = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}_{rng.choice(('manager', 'updates', 'events', 'notifier'))}"
        fn = Fn(name, is_async)
        if is_async and self.is_test:
            fn.decorators.append("pytest.mark.asyncio")
        self.functions.append(fn)
        return fn

    def user_context_expr(self, fn: Fn, kind: str | None = None, annotated: bool | None = None) -> str | None:
        """Put a context in scope (15% `user_context`, 15% another *_context, 70% none).

        A context parameter is sometimes annotated `UserExecutionContext` (and then, for another
        context, often named `ctx` / `context`); a local context is built with the class or, in
        tests, with the canonical module's `create_test_user_context()`.
        """
        rng = self.rng
        if kind is None:
            roll = rng.random()
            kind = "user" if roll < 0.15 else "other" if roll < 0.30 else "none"
        self.shapes[f"context_{kind}"] += 1
        if kind == "none":
            return None
        name = "user_context" if kind == "user" else rng.choice(CONTEXT_NAMES)
        if annotated or (annotated is None and rng.random() < 0.6):
            if annotated or rng.random() < 0.35:
                if kind == "other":
                    name = rng.choice(ANNOTATED_CONTEXT_NAMES)
                self.extra_imports.add(USER_EXECUTION_CONTEXT_IMPORT)
                fn.params.append(f"{name}: UserExecutionContext")
                self.shapes[f"context_{kind}_annotated_parameter"] += 1
            else:
                fn.params.append(name)
        elif self.is_test and rng.random() < 0.3:
            self.extra_imports.add(f"from {CANONICAL} import create_test_user_context")
            fn.lines.append(f'{name} = create_test_user_context("user-{rng.randint(1, 999)}")')
            self.shapes["context_test_helper"] += 1
        else:
            self.extra_imports.add(USER_EXECUTION_CONTEXT_IMPORT)
            fn.lines.append(f'{name} = UserExecutionContext(user_id="user-{rng.randint(1, 999)}", '
                            f'thread_id="thread-{rng.randint(1, 999)}", run_id="run-{rng.randint(1, 999)}")')
        return name

    def finish(self, fn: Fn, var: str) -> None:
        rng = self.rng
        if self.is_test:
            fn.lines.append(rng.choice((f"assert {var} is not None", f"assert {var}",
                                        f"await {var}.send_to_user(\"user-1\", {{\"type\": \"ping\"}})" if fn.is_async else f"assert hasattr({var}, \"send_to_user\")")))
        else:
            fn.lines.append(f"return {var}")

    def mvar(self) -> str:
        return self.rng.choice(MANAGER_VARS)

    def manager_class(self) -> str:
        return self.rng.choices(MANAGER_CLASSES, (40, 45, 15))[0]

    def context_holder_class(self, callee: str) -> None:
        """A class that keeps its context as `self._context` and obtains a manager with no argument."""
        rng = self.rng
        self.extra_imports.add(USER_EXECUTION_CONTEXT_IMPORT)
        self.shapes["context_self_attribute"] += 1
        noun = rng.choice(NOUNS)
        name = camel(noun, rng.choice(("Notifier", "Publisher", "EventSink", "Reporter", "Streamer")))
        local = self.use(callee, None)
        var = self.mvar()
        if rng.random() < 0.5:
            obtain = (f"    def _manager(self):\n        return {local}()\n\n"
                      f"    async def publish(self, event):\n        {var} = self._manager()\n")
        else:
            obtain = f"    async def publish(self, event):\n        {var} = {local}()\n"
        self.tail_blocks.append(
            f"class {name}:\n"
            f'    """Sends {noun} updates to the user this object was created for."""\n\n'
            f"    def __init__(self, context: UserExecutionContext):\n"
            f"        self._context = context\n        self._published = 0\n\n"
            + obtain +
            f"        self._published += 1\n"
            f"        return await {var}.send_to_user(self._context.user_id, event)\n")

    def noarg_context(self) -> str:
        """Context situation of a zero-argument access: user / other / self_attribute (a holder class) / none."""
        roll = self.rng.random()
        if roll < 0.15:
            return "user"
        if roll < 0.30:
            return "self_attribute" if self.rng.random() < 0.35 else "other"
        return "none"

    # -- sites -----------------------------------------------------------------------------

    def site(self, token: str) -> None:
        kind, _, variant = token.partition(":")  # "factory_object:returned" is a factory_object site
        method = getattr(self, f"site_{kind}")
        if (method(variant) if variant else method()) is not False:
            self.shapes[kind + ("_without_import" if self.no_import else "")] += 1

    def site_get_ws_noarg(self) -> None:
        context = self.noarg_context()
        if context == "self_attribute" and not self.no_import:
            self.context_holder_class("get_websocket_manager")
            return
        fn = self.new_fn()
        self.user_context_expr(fn, "other" if context == "self_attribute" else context)
        var = self.mvar()
        fn.lines.append(f"{var} = {self.use('get_websocket_manager', fn)}()")
        self.finish(fn, var)

    def site_get_ws_none(self) -> None:
        fn = self.new_fn()
        var = self.mvar()
        fn.lines.append(f"{var} = {self.use('get_websocket_manager', fn)}(user_context=None)")
        self.finish(fn, var)

    def site_get_ws_ctx(self) -> None:
        fn = self.new_fn(is_async=self.rng.random() < 0.4)
        ctx = self.user_context_expr(fn, "user" if self.rng.random() < 0.7 else "other")
        var = self.mvar()
        factory = self.use("get_websocket_manager", fn)
        roll = self.rng.random()
        if roll < 0.5:
            fn.lines.append(f"{var} = {factory}({ctx})")
        elif roll < 0.85:
            fn.lines.append(f"{var} = {factory}(user_context={ctx})")
        else:
            mode = self.use("WebSocketManagerMode", fn)
            fn.lines.append(f"{var} = {factory}({ctx}, mode={mode}.ISOLATED)")
        self.finish(fn, var)

    def user_id_keyword(self, fn: Fn) -> str:
        """`user_id=...` for a legacy create function (an argument the factory has no place for)."""
        self.shapes["create_user_id_keyword"] += 1
        if self.rng.random() < 0.5:
            fn.params.append("user_id")
            return "user_id=user_id"
        return f'user_id="user-{self.rng.randint(1, 999)}"'

    def site_create_awaited(self) -> None:
        fn = self.new_fn(is_async=True)
        var = self.mvar()
        create = self.use("create_websocket_manager", fn)
        roll = self.rng.random()
        if roll < 0.12 and not self.production:
            fn.lines.append(f"{var} = await {create}({self.user_id_keyword(fn)})")
        elif roll < 0.66:
            ctx = self.user_context_expr(fn, "user" if self.rng.random() < 0.7 else "other")
            fn.lines.append(f"{var} = await {create}({ctx})")
        else:
            self.user_context_expr(fn)
            fn.lines.append(f"{var} = await {create}()")
        self.finish(fn, var)

    def site_create_plain(self) -> None:
        fn = self.new_fn()
        var = self.mvar()
        if self.rng.random() < 0.1 and not self.production:
            fn.lines.append(f"{var} = {self.use('create_websocket_manager_sync', fn)}({self.user_id_keyword(fn)})")
            self.finish(fn, var)
            return
        ctx = self.user_context_expr(fn, "user" if self.rng.random() < 0.6 else "other")
        if self.rng.random() < 0.7:
            fn.lines.append(f"{var} = {self.use('create_websocket_manager_sync', fn)}({ctx})")
        else:
            self.extra_imports.add("import asyncio")
            fn.lines.append(f"{var} = asyncio.run({self.use('create_websocket_manager', fn)}({ctx}))")
        self.finish(fn, var)

    def site_factory_object(self, escape: str = "") -> None:
        rng = self.rng
        if escape:
            return self.factory_object_escapes(escape)
        fn = self.new_fn(is_async=rng.random() < 0.5)
        ctx = self.user_context_expr(fn, rng.choice(("user", "other", "none")))
        arg = ctx or ""
        var = self.mvar()
        fn.lines.append(f"factory = {self.use('WebSocketManagerFactory', fn)}()")
        options = [f'factory.create_isolated("user-{rng.randint(1, 99)}", {arg or "None"})', f"factory.create_for_user({arg})"]
        if fn.is_async:
            options += [f"await factory.create_manager({arg})", f'await factory.get_manager_for_user("user-{rng.randint(1, 99)}")']
        fn.lines.append(f"{var} = {rng.choice(options)}")
        self.finish(fn, var)

    def factory_object_escapes(self, escape: str) -> None:
        """A factory object that leaves the function creating it: kept on `self`, returned, or passed on."""
        rng = self.rng
        if escape == "on_self":
            self.shapes["factory_object_on_self"] += 1
            cls = self.use("WebSocketManagerFactory", None)
            noun = rng.choice(NOUNS)
            self.tail_blocks.append(
                f"class {camel(noun, 'ConnectionService')}:\n"
                f'    """Hands out WebSocket managers for {noun} connections."""\n\n'
                f"    def __init__(self):\n        self._factory = {cls}()\n\n"
                f"    async def manager_for(self, user_context):\n"
                f"        return await self._factory.create_manager(user_context)\n")
            return
        if escape == "returned":
            self.shapes["factory_object_returned"] += 1
            fn = self.new_fn()
            if self.is_test:
                fn.name = rng.choice(("manager_factory", "ws_manager_factory", "legacy_factory")) + f"_{self.counter}"
                fn.decorators.append("pytest.fixture")
            else:
                fn.name = f"build_{rng.choice(NOUNS)}_manager_factory"
            if rng.random() < 0.5:
                fn.lines.append(f"return {self.use('WebSocketManagerFactory', fn)}()")
            else:
                fn.lines += [f"factory = {self.use('WebSocketManagerFactory', fn)}()", "factory.created_by = __name__",
                             "return factory"]
            return
        self.shapes["factory_object_passed"] += 1
        fn = self.new_fn()
        owner = rng.choice(("app", "registry", "container"))
        fn.params.append(owner)
        fn.lines.append(f"factory = {self.use('WebSocketManagerFactory', fn)}()")
        fn.lines.append(rng.choice((f'{owner}.register("websocket_manager_factory", factory)',
                                    f"{camel(rng.choice(NOUNS), 'Dispatcher')}(manager_factory=factory).start()",
                                    f"configure_{rng.choice(NOUNS)}_notifications({owner}, factory)")))
        fn.lines.append("assert factory is not None" if self.is_test else f"return {owner}")

    def site_factory_getter(self) -> None:
        rng = self.rng
        fn = self.new_fn(is_async=True)
        ctx = self.user_context_expr(fn, rng.choice(("user", "other", "none")))
        var = self.mvar()
        getter = self.use("get_websocket_manager_factory", fn)
        if rng.random() < 0.5:
            fn.lines.append(f"{var} = {getter}().create_for_user({ctx or ''})")
        else:
            fn.lines += [f"factory = {getter}()", f"{var} = await factory.create_manager({ctx or ''})"]
        self.finish(fn, var)

    def site_create_for_user(self) -> None:
        fn = self.new_fn()
        ctx = self.user_context_expr(fn, "user")
        var = self.mvar()
        fn.lines.append(f"{var} = {self.use(self.manager_class(), fn)}.create_for_user({ctx})")
        self.finish(fn, var)

    def site_get_instance(self) -> None:
        fn = self.new_fn()
        self.user_context_expr(fn)
        var = self.mvar()
        fn.lines.append(f"{var} = {self.use(self.manager_class(), fn)}.get_instance()")
        self.finish(fn, var)

    def site_instantiate_noarg(self) -> None:
        context = self.noarg_context()
        name = self.rng.choices(MANAGER_CLASSES + ["IsolatedWebSocketManager"], (35, 45, 15, 5))[0]
        if context == "self_attribute" and not self.no_import:
            self.context_holder_class(name)
            return
        fn = self.new_fn()
        self.user_context_expr(fn, "other" if context == "self_attribute" else context)
        var = self.mvar()
        fn.lines.append(f"{var} = {self.use(name, fn)}()")
        self.finish(fn, var)

    def site_instantiate_args(self) -> None:
        rng = self.rng
        fn = self.new_fn()
        cls = self.use(self.manager_class(), fn)
        var = self.mvar()
        roll = rng.random()
        if self.production and rng.random() < 0.6:
            roll = 0.0  # production code mostly passes the context the way the factory takes it
        if roll < 0.27:
            ctx = self.user_context_expr(fn, "user" if rng.random() < 0.7 else "other")
            fn.lines.append(f"{var} = {cls}(user_context={ctx})")
        elif roll < 0.40:
            ctx = self.user_context_expr(fn, "other", annotated=True)
            fn.lines.append(f"{var} = {cls}({ctx})")
            self.shapes["instantiate_positional_context"] += 1
        elif roll < 0.49:
            ctx = self.user_context_expr(fn, "user" if rng.random() < 0.5 else "other")
            mode = self.use("WebSocketManagerMode", fn)
            fn.lines.append(f"{var} = {cls}(mode={mode}.UNIFIED, user_context={ctx})")
            self.shapes["instantiate_mode_and_context"] += 1
        elif roll < 0.55:
            ctx = self.user_context_expr(fn, "user" if rng.random() < 0.7 else "other")
            if self.is_test:
                token = f'"test-ssot-token-{rng.randint(1, 99)}"'
            else:
                self.extra_imports.add("import secrets")
                token = "secrets.token_urlsafe(32)"
            fn.lines.append(f"{var} = {cls}(user_context={ctx}, _ssot_authorization_token={token})")
            self.shapes["instantiate_ssot_token"] += 1
        elif roll < 0.8:
            mode = self.use("WebSocketManagerMode", fn)
            fn.lines.append(f"{var} = {cls}(mode={mode}.{rng.choice(('UNIFIED', 'ISOLATED', 'EMERGENCY'))})")
        else:
            fn.lines.append(f"{var} = {cls}(connection_timeout={rng.randint(5, 60)}, max_connections={rng.randint(10, 500)})")
        self.finish(fn, var)

    def site_isinstance(self) -> None:
        fn = self.new_fn()
        var = self.mvar()
        fn.params.append(var)
        cls = self.use(self.manager_class(), fn)
        if self.is_test:
            fn.lines.append(f"assert isinstance({var}, {cls})")
        else:
            fn.lines += [f"if not isinstance({var}, {cls}):", f'    raise TypeError(f"expected a WebSocket manager, got {{type({var}).__name__}}")',
                         f"return {var}"]

    def site_annotation(self) -> None:
        fn = self.new_fn()
        cls = self.use(self.manager_class(), None)
        var = self.mvar()
        fn.params.append(f"{var}: {cls}")
        if self.rng.random() < 0.5:
            fn.returns = f" -> Optional[{cls}]"
            self.extra_imports.add("from typing import Optional")
        fn.lines.append(f"return {var} if {var} is not None else None")

    def site_string_annotation(self) -> None:
        fn = self.new_fn()
        cls = self.use(self.manager_class(), None)
        var = self.mvar()
        if self.rng.random() < 0.5:
            fn.params.append(f'{var}: "{cls}"')
            fn.lines.append(f"return {var}")
        else:
            fn.returns = f' -> "{cls}"'
            fn.params.append(var)
            fn.lines += [f'cached: "{cls}" = {var}', "return cached"]

    def site_mock_spec(self) -> None:
        fn = self.new_fn()
        var = f"mock_{self.mvar()}"
        mock = self.rng.choice(("Mock", "MagicMock", "AsyncMock"))
        fn.lines.append(f"{var} = {mock}(spec={self.use(self.manager_class(), fn)})")
        fn.lines.append(f"{var}.send_to_user.return_value = True")
        fn.lines.append(f"assert {var} is not None")

    def site_subclass(self) -> None:
        cls = self.use("UnifiedWebSocketManager", None)
        self.tail_blocks.append(f'class _Recording{cls}({cls}):\n    """Records every message instead of sending it."""\n\n'
                                f"    def __init__(self, *args, **kwargs):\n        super().__init__(*args, **kwargs)\n"
                                f"        self.sent = []\n\n    async def send_to_user(self, user_id, message):\n"
                                f"        self.sent.append((user_id, message))\n        return True\n")

    def _patched(self, target: str) -> None:
        rng = self.rng
        fn = self.new_fn()
        if rng.random() < 0.5:
            fn.decorators.append(f'patch("{target}")')
            fn.params.append("mocked_factory")
            fn.lines += ["mocked_factory.return_value = MagicMock()", "assert mocked_factory is not None"]
        else:
            fn.lines += [f'with patch("{target}") as mocked:', "    mocked.return_value = MagicMock()",
                         "    assert mocked.return_value is not None"]

    def site_patch_legacy(self) -> None:
        module = self.rng.choice(LEGACY_PATCH_MODULES)
        names = [n for n in LEGACY_MODULES[module][0] if n[0].islower() or n in MANAGER_CLASSES]
        self._patched(f"{module}.{self.rng.choice(names)}")

    def site_patch_consumer(self) -> None:
        if not self.consumers:
            self.shapes["patch_legacy"] += 1
            self.site_patch_legacy()
            return False
        module, local = self.rng.choice(self.consumers)
        self._patched(f"{module}.{local}")

    def site_patch_canonical(self) -> None:
        self._patched(f"{CANONICAL}.{self.rng.choice(('get_websocket_manager', 'UnifiedWebSocketManager', 'create_websocket_manager'))}")

    def site_importlib(self) -> None:
        self.extra_imports.add("import importlib")
        fn = self.new_fn()
        module = self.rng.choice((MANAGER, UNIFIED, FACTORY))
        fn.lines += [f'module = importlib.import_module("{module}")', 'manager_class = getattr(module, "WebSocketManager", None)',
                     "assert manager_class is not None" if self.is_test else "return manager_class"]

    def site_sys_modules(self) -> None:
        self.extra_imports.add("import sys")
        fn = self.new_fn()
        module = self.rng.choice((MANAGER, FACTORY, UNIFIED))
        fn.lines.append(self.rng.choice((f'sys.modules.pop("{module}", None)', f'sys.modules["{module}"] = MagicMock()',
                                         f'assert "{module}" in sys.modules')))

    def site_getattr(self) -> None:
        fn = self.new_fn()
        module = self.module_object()
        name = self.rng.choice(("WebSocketManager", "UnifiedWebSocketManager", "get_websocket_manager"))
        fn.lines += [f'resolved = getattr({module}, "{name}")', "assert resolved is not None" if self.is_test else "return resolved"]

    def site_module_attr(self) -> None:
        fn = self.new_fn()
        module = self.module_object()
        name = self.rng.choice(("WebSocketManager", "UnifiedWebSocketManager", "WebSocketConnectionManager"))
        fn.lines += [f"manager_class = {module}.{name}", "assert manager_class is not None" if self.is_test else "return manager_class"]

    def site_module_passed(self) -> None:
        self.extra_imports.add("import inspect")
        self.extra_imports.add("import importlib")
        fn = self.new_fn()
        module = self.module_object()
        fn.lines += [self.rng.choice((f"members = dict(inspect.getmembers({module}))", f"reloaded = importlib.reload({module})",
                                      f"members = vars({module})")), "assert True"]

    def site_alias_assign(self) -> None:
        rng = self.rng
        for _ in range(rng.choice((1, 1, 2))):
            self.shapes["alias_assignment"] += 1
            if rng.random() < 0.75:
                cls = self.use(self.manager_class(), None)
                alias = rng.choice(("LegacyManager", "ManagerType", "WSManager", f"Default{cls}"))
            else:
                cls = self.use("get_websocket_manager", None)
                alias = rng.choice(("get_manager", "manager_provider", "default_manager_factory"))
            self.sites_module_level.append(f"{alias} = {cls}")

    def site_dunder_all(self) -> None:
        names = [self.use(n, None) for n in self.rng.sample(["WebSocketManager", "UnifiedWebSocketManager",
                                                             "get_websocket_manager", "create_websocket_manager"], self.rng.randint(1, 3))]
        self.sites_module_level.append("__all__ = [\n" + "".join(f'    "{n}",\n' for n in dict.fromkeys(names)) + "]")

    def site_star_import(self) -> None:
        self.star = True
        self.top_blocks.append(f"from {MANAGER} import *  # noqa: F403")
        fn = self.new_fn()
        fn.lines += ["manager = WebSocketManager()", "assert manager is not None"]

    def site_type_checking(self) -> None:
        cls = self.manager_class()
        module = self.pick_module(cls)
        self.extra_imports.add("from typing import TYPE_CHECKING")
        self.top_blocks.append(f"if TYPE_CHECKING:\n    from {module} import {cls}")
        self.shapes["import_type_checking"] += 1
        fn = self.new_fn()
        fn.params.append(f'manager: "{cls}"')
        fn.lines.append("return manager")

    def site_except_fallback(self) -> None:
        candidates = [n for n in ("get_websocket_manager", "WebSocketManagerMode", "UnifiedWebSocketManager") if n not in self.bound]
        if not candidates or self.no_import:
            return False
        name = candidates[0]
        legacy = self.pick_module(name, exclude=(CANONICAL,))
        self.top_blocks.append(f"try:\n    from {CANONICAL} import {name}\nexcept ImportError:\n    from {legacy} import {name}")
        self.shapes["import_in_except"] += 1
        self.bound[name] = name
        fn = self.new_fn()
        fn.lines += [f"assert {name} is not None"]

    def site_two_aliases_one_statement(self) -> None:
        if "WebSocketManager" in self.bound:
            return False
        module = self.rng.choice((MANAGER, FACTORY, UNIFIED))
        self.top_blocks.append(f"from {module} import WebSocketManager as PrimaryWebSocketManager, WebSocketManager as SecondaryWebSocketManager")
        fn = self.new_fn()
        fn.lines.append("assert PrimaryWebSocketManager is SecondaryWebSocketManager")

    def site_mixed_init(self) -> None:
        names = self.rng.sample(["WebSocketManager", "get_websocket_manager", "UnifiedWebSocketManager"], self.rng.randint(1, 2))
        for name in names:
            if name not in self.bound:
                self.module_import(name, module=PKG)
        self.pkg_unrelated = sorted(set(self.pkg_unrelated) | set(self.rng.sample(["WebSocketMessage", "MessageType", "create_server_message"], 2)))
        fn = self.new_fn()
        if "MessageType" in self.pkg_unrelated:
            fn.lines.append('kind = MessageType("agent_started")')
        if "WebSocketMessage" in self.pkg_unrelated:
            fn.lines.append('message = WebSocketMessage(type="agent_started", payload={})')
        if "create_server_message" in self.pkg_unrelated:
            fn.lines.append('server_message = create_server_message("agent_started", {"step": 1})')
        fn.lines.append(f"assert {self.bound[names[0]]} is not None")

    def site_rebind_local_def(self) -> None:
        name = self.use("get_websocket_manager", None)
        fn = self.new_fn()
        fn.lines += [f"def {name}(*args, **kwargs):", "    return MagicMock()" if self.is_test else "    return None",
                     f"manager = {name}()", "return manager"]

    def site_layout_import_fails(self) -> None:
        fn = self.new_fn()
        self.shapes["import_pytest_raises"] += 1
        fn.lines += ["with pytest.raises(ImportError):", f"    from {FACTORY} import {self.rng.choice(('WebSocketManagerFactory', 'create_websocket_manager', 'IsolatedWebSocketManager'))}"]

    def site_layout_deprecation(self) -> None:
        self.extra_imports.add("import warnings")
        fn = self.new_fn()
        self.shapes["import_catch_warnings"] += 1
        fn.lines += ["with warnings.catch_warnings(record=True) as caught:", '    warnings.simplefilter("always")',
                     f"    from {MANAGER} import WebSocketManager  # noqa: F401",
                     "assert any(issubclass(w.category, DeprecationWarning) for w in caught)"]

    def site_layout_module_compare(self) -> None:
        fn = self.new_fn()
        fn.lines.append(f'assert {self.use(self.manager_class(), fn)}.__module__ == "{UNIFIED}"')

    def site_layout_source_scan(self) -> None:
        self.extra_imports.add("from pathlib import Path")
        fn = self.new_fn()
        fn.lines += ['source = Path(__file__).read_text(encoding="utf-8")',
                     f'assert "from {MANAGER} import" in source']
        self.use("WebSocketManager", None)

    def site_layout_exec(self) -> None:
        fn = self.new_fn()
        fn.lines += ["namespace = {}", f'exec("from {MANAGER} import WebSocketManager", namespace)',
                     'assert "WebSocketManager" in namespace']

    def site_reference_only(self) -> None:
        fn = self.new_fn()
        if self.is_test:
            fn.name = fn.name.replace("test_", "", 1) + "_class"
            fn.decorators.append("pytest.fixture")
        fn.lines.append(f"return {self.use(self.manager_class(), None)}")

    # -- consumers of the other names the legacy `manager` module carries -------------------

    def site_heartbeat_import(self) -> None:
        """`from ...manager import WebSocketHeartbeatManager`, sometimes next to a manager name."""
        rng = self.rng
        heartbeat = self.module_import("WebSocketHeartbeatManager", module=MANAGER)
        fn = self.new_fn()
        fn.name = rng.choice(("run_heartbeat_check", "probe_connections", "measure_heartbeat_latency",
                              "check_stale_connections"))
        fn.params += ["connection_ids", "interval: float = 5.0"]
        if rng.random() < 0.5:
            name = rng.choice(("WebSocketManager", "UnifiedWebSocketManager", "WebSocketManagerMode"))
            other = self.module_import(name, module=MANAGER)
            self.shapes["heartbeat_import_with_manager_name"] += 1
            if name == "WebSocketManagerMode":
                fn.lines.append(f'logger.info("checking heartbeats in %s mode", {other}.UNIFIED.value)')
            else:
                fn.params.insert(0, "manager")
                fn.lines += [f"if manager is not None and not isinstance(manager, {other}):",
                             '    raise TypeError("expected a WebSocket manager")']
        fn.lines += [f"heartbeat = {heartbeat}(interval=interval, timeout=interval * 3)",
                     "for connection_id in connection_ids:", "    heartbeat.record_pong(connection_id)",
                     "stale = heartbeat.stale_connections()",
                     'logger.info("%d of %d connections stale", len(stale), len(connection_ids))',
                     "return stale"]

    COMPAT_USAGES = ("serialize", "protocol", "getattr", "dunder_all")

    def site_compat_layer(self, usages: list[str]) -> None:
        """A test of the compatibility layer through the module object: `from pkg import manager`."""
        self.module_object_lines.append(f"from {PKG} import manager")
        self.extra_imports.add("import json")
        for usage in usages:
            self.shapes[f"compat_layer_{usage}"] += 1
            fn = self.new_fn()
            if usage == "serialize":
                fn.name = "test_serialize_message_safely_still_importable_from_manager"
                fn.lines += ['payload = manager._serialize_message_safely({"type": "ping", "sequence": 3})',
                             "assert isinstance(payload, str)", 'assert json.loads(payload)["type"] == "ping"']
            elif usage == "protocol":
                fn.name = "test_manager_protocol_reexported"
                fn.lines += ["protocol = manager.WebSocketManagerProtocol",
                             "if protocol is None:", '    pytest.skip("protocols module not importable")',
                             'assert hasattr(protocol, "send_to_user")']
            elif usage == "getattr":
                fn.name = "test_heartbeat_classes_reexported"
                fn.lines += ['heartbeat_class = getattr(manager, "WebSocketHeartbeat")',
                             "assert heartbeat_class is manager.WebSocketHeartbeatManager",
                             "assert heartbeat_class(interval=1.0).interval == 1.0"]
            elif usage == "dunder_all":
                fn.name = "test_compat_names_listed_in_all"
                fn.lines += ['for name in ("WebSocketManager", "WebSocketHeartbeat", "WebSocketHeartbeatManager",',
                             '             "WebSocketManagerProtocol", "_serialize_message_safely"):',
                             "    assert name in manager.__all__", "    assert hasattr(manager, name)"]
            else:  # aliases
                fn.name = "test_manager_aliases_are_one_class"
                fn.lines += ["assert manager.WebSocketManager is manager.UnifiedWebSocketManager",
                             "assert manager.WebSocketConnectionManager is manager.UnifiedWebSocketManager"]

    # -- shapes where a rewrite must keep every name bound -----------------------------------

    def site_context_assigned_later(self) -> None:
        """A test that creates the manager first and builds its `user_context` further down (or only in a branch):
        the context is not bound yet at the call, so passing it would be an UnboundLocalError."""
        rng = self.rng
        fn = self.new_fn(is_async=rng.random() < 0.3)
        var = self.mvar()
        self.extra_imports.add(USER_EXECUTION_CONTEXT_IMPORT)
        context = (f'UserExecutionContext(user_id="user-{rng.randint(1, 999)}", thread_id="thread-{rng.randint(1, 999)}", '
                   f'run_id="run-{rng.randint(1, 999)}")')
        if rng.random() < 0.8:
            self.shapes["context_assigned_after_call"] += 1
            fn.lines += [f"{var} = {self.use(self.manager_class(), fn)}()", f"user_context = {context}"]
        else:
            self.shapes["context_assigned_in_branch"] += 1
            fn.params.append("authenticated=True")
            fn.lines += ["if authenticated:", f"    user_context = {context}",
                         f"{var} = {self.use(self.manager_class(), fn)}()"]
        fn.lines.append(f"assert {var} is not None")

    def site_legacy_then_canonical_import(self) -> None:
        """A function-level import of a legacy factory, called, then the canonical factory imported later in the
        same function (or in another block of it): the first import must not be merged into the later one."""
        rng = self.rng
        fn = self.new_fn(is_async=True)
        fn.params.append("user_context")
        var = self.mvar()
        if rng.random() < 0.6:
            self.shapes["canonical_import_later_in_function"] += 1
            fn.lines += [f"from {self.from_clause(FACTORY)} import create_websocket_manager",
                         f"{var} = await create_websocket_manager(user_context)",
                         f"from {CANONICAL} import get_websocket_manager",
                         "other = get_websocket_manager(user_context)", f"assert {var} is not other"]
        else:
            self.shapes["canonical_import_in_other_block"] += 1
            fn.params.append("isolated=False")
            fn.lines += ["if isolated:", f"    from {CANONICAL} import get_websocket_manager",
                         "    return get_websocket_manager(user_context)",
                         f"from {self.from_clause(FACTORY)} import create_websocket_manager_sync",
                         f"{var} = create_websocket_manager_sync(user_context)", f"assert {var} is not None"]

    def site_dunder_all_factory(self) -> None:
        """A module that re-exports the legacy factory through `__all__` and calls it: the name must stay bound."""
        self.shapes["dunder_all_legacy_factory"] += 1
        create = self.module_import("create_websocket_manager", module=FACTORY)
        self.sites_module_level.append(f'__all__ = ["{create}", "notify_user"]')
        fn = self.new_fn(is_async=True)
        fn.name = "notify_user"
        fn.params += ["user_context", "message"]
        fn.lines += [f"manager = await {create}(user_context)",
                     "return await manager.send_to_user(user_context.user_id, message)"]

    def site_script_instantiation(self) -> None:
        """A script whose module-level code creates the manager, and imports the canonical factory only further
        down: the rewritten call needs the factory's import before it."""
        cls = self.use(self.manager_class(), None)
        self.extra_imports.add(USER_EXECUTION_CONTEXT_IMPORT)
        self.sites_module_level += [
            'user_context = UserExecutionContext(user_id="ops", thread_id="cli", run_id="cli")',
            f"manager = {cls}()", f"assert isinstance(manager, {cls})",
            f"from {CANONICAL} import get_websocket_manager",
            'print("same manager:", get_websocket_manager(user_context) is manager)']

    # -- the whole module ------------------------------------------------------------------

    def render_imports(self) -> list[str]:
        out = []
        for module, pairs in self.imports.items():
            pieces = [f"{n} as {a}" if a else n for n, a in dict.fromkeys(pairs)]
            if module == PKG and self.pkg_unrelated:
                pieces += self.pkg_unrelated
                self.shapes["import_mixed_init"] += 1
            clause = self.from_clause(module)
            if len(pieces) >= 3 or self.rng.random() < 0.05:
                statement = f"from {clause} import (\n" + "".join(f"    {p},\n" for p in pieces) + ")"
                self.shapes["import_parenthesized"] += 1
            else:
                statement = f"from {clause} import {', '.join(pieces)}"
            placement = self.placement[module]
            self.shapes["import_module_level"] += 1
            if placement == "plain":
                out.append(statement)
                continue
            body = indent(statement, "    ")
            if placement == "try_importerror":
                self.shapes["import_try_importerror"] += 1
                roll = self.rng.random()
                alternatives = [m for m, (names, _) in LEGACY_MODULES.items()
                                if m != module and m != CANONICAL and all(n in names for n, _ in pairs)]
                if roll < 0.2 and alternatives:
                    self.shapes["one_name_two_sources"] += 1
                    handler = f"    from {self.rng.choice(alternatives)} import {', '.join(pieces[:len(pairs)])}"
                elif roll < 0.6 or not self.is_test:
                    self.shapes["rebound_to_none"] += 1
                    handler = "".join(f"    {a or n} = None\n" for n, a in pairs).rstrip("\n")
                else:
                    handler = '    pytest.skip("legacy websocket manager not available", allow_module_level=True)'
                out.append(f"try:\n{body}\nexcept ImportError:\n{handler}")
            else:
                self.shapes["import_try_exception"] += 1
                handler = "".join(f"    {a or n} = None  # pragma: no cover\n" for n, a in pairs).rstrip("\n")
                out.append(f"try:\n{body}\nexcept Exception:\n{handler}")
        return out

    def render(self, target_size: int, docstring_extra: str = "") -> str:
        rng = self.rng
        method_style = self.is_test and rng.random() < 0.4
        functions = []
        for fn in self.functions:
            doc = self.pools.doc(rng, "        " if method_style else "    ")
            functions.append(fn.render(method_style, doc))
        if method_style and functions:
            functions = [f"class Test{camel(rng.choice(NOUNS), 'WebSocket', rng.choice(('Migration', 'Manager', 'Events', 'Isolation')))}:\n"
                         + self.pools.doc(rng, "    ") + "\n" + "\n".join(functions)]
        legacy_imports = self.render_imports()
        header = self.bulk.header(sorted(self.extra_imports))
        head = [self.pools.doc(rng, "", docstring_extra), "\n", header]
        if self.module_object_lines:
            head.append("\n".join(self.module_object_lines) + "\n")
        for block in legacy_imports + self.top_blocks:
            head.append(block + "\n")
        head.append("\nlogger = logging.getLogger(__name__)\n")
        if self.sites_module_level:
            head.append("\n" + "\n".join(self.sites_module_level) + "\n")
        specific = functions + self.tail_blocks
        size = sum(map(len, head)) + sum(len(b) + 2 for b in specific)
        bulk: list[str] = []
        self.bulk.fill(bulk, target_size, size)
        # spread the legacy-specific blocks through the unrelated code
        for block in specific:
            bulk.insert(rng.randint(0, len(bulk)), "\n\n" + block)
        return "".join(head) + "".join(bulk)


# ----- shapes where a rewrite must keep every name bound ------------------------------------
# Per REFERENCE_FILES files, from a comparison of pyflakes' undefined names before and after a run on the
# monorepo: contexts assigned after the call (42), function-level legacy imports followed by a canonical
# import (3), a module whose __all__ names a legacy factory (1), a script that creates the manager at
# module level (1). Placed after the other sites with their own random stream, so every other file of the
# corpus stays as it was.
BINDING_SITE_RATES = {"context_assigned_later": 42, "legacy_then_canonical_import": 3, "dunder_all_factory": 1}
BINDING_TEST_ONLY_SITES = {"context_assigned_later", "legacy_then_canonical_import"}


def add_binding_sites(site_files: dict[str, list[str]], test_like: list[str], anywhere: list[str],
                      scripts: list[str], files: int, seed: int) -> dict[str, int]:
    """Give legacy files the binding shapes (a script gets `script_instantiation` alone: its module-level
    `user_context` would reach every other function of the file); return how many of each were placed."""
    rng = random.Random(f"binding-sites:{seed}:{files}")
    placed: dict[str, int] = {}
    for kind, rate in BINDING_SITE_RATES.items():
        pool = test_like if kind in BINDING_TEST_ONLY_SITES else anywhere
        for _ in range(scaled(rate, files)):
            site_files[rng.choice(pool)].append(kind)
        placed[kind] = scaled(rate, files)
    if scripts:
        site_files[rng.choice(scripts)] = ["script_instantiation"]
        placed["script_instantiation"] = 1
    return placed


# ----- traps, unrelated files, files that do not parse -------------------------------------

TRAP_RATES = {"same_name_other_object": 60, "other_create_function": 30, "docstring_import": 40, "dunder_all_unrelated": 3}


def trap_parts(kind: str, rng: random.Random) -> tuple[list[str], str, str]:
    """(imports, block, docstring addition) for a file that looks legacy but is not."""
    if kind == "same_name_other_object":
        variant = rng.randrange(5)
        if variant == 0:
            return ([f"from {PKG}.broadcast_core import WebSocketManager"],
                    "async def broadcast_maintenance_notice(sockets):\n    manager = WebSocketManager(sockets)\n"
                    '    return await manager.broadcast("maintenance in 5 minutes")\n', "")
        if variant == 1:
            return ([f"from {PKG}.connection_manager import WebSocketConnectionManager"],
                    "def register_socket(connection_id, socket):\n    registry = WebSocketConnectionManager()\n"
                    "    registry.register(connection_id, socket)\n    return registry\n", "")
        if variant == 2:
            return ([f"from {PKG}.connection_manager import ConnectionManager as WebSocketConnectionManager"],
                    "def open_registry():\n    return WebSocketConnectionManager()\n", "")
        if variant == 3:
            return ([], 'class WebSocketManager:\n    """Test double that records sent messages."""\n\n'
                        "    def __init__(self):\n        self.sent = []\n\n"
                        "    async def send_to_user(self, user_id, message):\n        self.sent.append((user_id, message))\n\n\n"
                        "def make_fake_manager():\n    manager = WebSocketManager()\n    return manager\n", "")
        return ([f"from {PKG}.connection_manager import WebSocketConnection"],
                "def wrap_socket(socket):\n    return WebSocketConnection(socket)\n", "")
    if kind == "other_create_function":
        return (["from netra_backend.app.services.user_execution_context import create_websocket_manager"],
                f"def context_for(user_id):\n    context = create_websocket_manager(user_id, thread_id=\"thread-{rng.randint(1, 99)}\")\n"
                "    return context\n", "")
    if kind == "dunder_all_unrelated":
        return ([], 'class WebSocketManager:\n    """Broadcast helper for the admin console (not the per-user manager)."""\n\n'
                    "    def __init__(self, sockets=()):\n        self.sockets = list(sockets)\n\n\n"
                    '__all__ = ["WebSocketManager"]\n', "")
    # docstring_import
    return ([], f"# Old path, kept for reference:\n# from {UNIFIED} import UnifiedWebSocketManager\n"
                f"def describe_migration():\n    return \"use get_websocket_manager(user_context)\"\n",
            f"\n\nMigration note:\n    from {MANAGER} import WebSocketManager\nis replaced by:\n"
            f"    from {CANONICAL} import get_websocket_manager\n")


def unrelated_source(pools: Pools, rng: random.Random, is_test: bool, target: int, flags: list[str],
                     trap: str | None = None) -> str:
    bulk = BulkWriter(pools, rng, is_test)
    extra_imports, specific, doc_extra = [], [], ""
    if trap:
        extra_imports, block, doc_extra = trap_parts(trap, rng)
        specific.append(block)
    for flag in flags:
        if flag == "websocket_core_unrelated":
            extra_imports.append(bulk.websocket_core_unrelated())
        else:
            specific.append(getattr(bulk, flag)())
    head = [pools.doc(rng, "", doc_extra), "\n", bulk.header([e.rstrip("\n") for e in extra_imports]),
            "\nlogger = logging.getLogger(__name__)\n"]
    size = sum(map(len, head)) + sum(len(s) + 2 for s in specific)
    parts: list[str] = []
    bulk.fill(parts, target, size)
    for block in specific:
        parts.insert(rng.randint(0, len(parts)), "\n\n" + block)
    return "".join(head) + "".join(parts)


def init_source(pools: Pools, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return ""
    text = pools.doc(rng, "")
    if roll < 0.8:
        return text
    names = sorted({camel(rng.choice(NOUNS), rng.choice(CLASS_SUFFIXES)) for _ in range(rng.randint(1, 6))})
    lines = [f"from .{rng.choice(NOUNS)}_{rng.choice(('service', 'models', 'utils'))} import {n}" for n in names]
    return text + "\n" + "\n".join(lines) + "\n\n__all__ = [" + ", ".join(f'"{n}"' for n in names) + "]\n"


def break_source(text: str, rng: random.Random, kind: str) -> str:
    """Insert something that Python 3.11 cannot parse at a block boundary."""
    noun = rng.choice(NOUNS)
    if kind == "pep701":
        snippet = rng.choice((
            f'def _render_{noun}(payload):\n    return f"{{payload["{noun}"]}} ({{payload[\'status\']}})"\n',
            f'def _join_{noun}(items):\n    return f"{noun}s: {{", ".join(str(i) for i in items)}}"\n',
            f'def _lines_{noun}(lines):\n    return f"{{\'\\n\'.join(lines)}}"\n',
        ))
    else:
        snippet = rng.choice((
            f"def {rng.choice(VERBS)}_{noun}(:\n    return None\n",
            f"<<<<<<< HEAD\n{noun}_limit = 10\n=======\n{noun}_limit = 20\n>>>>>>> feature/{noun}-limits\n",
            f'def report_{noun}():\n    print "{noun} done"\n',
            f"{noun.upper()}_DEFAULTS = {{\n    \"retries\": 3,\n    \"timeout\": 30,\n\n",
        ))
    cuts, position = [], text.find("\n\n\n")
    while position >= 0 and len(cuts) < 200:
        cuts.append(position)
        position = text.find("\n\n\n", position + 3)
    cut = rng.choice(cuts) if cuts else len(text)
    return text[:cut] + "\n\n\n" + snippet + text[cut:]


# ----- the tree ------------------------------------------------------------------------------

# (base directory, share of files, holds tests, areas)
GROUPS = [
    ("netra_backend/app", 0.42, False, ["agents", "services", "routes", "models", "schemas", "core", "db", "llm",
                                        "middleware", "auth_integration", "monitoring", "utils", "clients", "tools",
                                        "workflows", "handlers", "config", "background_jobs"]),
    ("netra_backend/tests", 0.18, True, ["unit", "integration", "e2e", "websocket", "agents", "services", "routes"]),
    ("tests", 0.22, True, ["unit", "integration", "e2e", "mission_critical", "websocket_core", "agents", "api",
                           "regression", "performance"]),
    ("auth_service/auth_core", 0.05, False, ["oauth", "jwt", "sessions", "users", "routes", "database"]),
    ("analytics_service/analytics_core", 0.04, False, ["events", "reports", "ingest", "storage"]),
    ("shared", 0.03, False, ["types", "logging", "isolated_environment", "config"]),
    ("test_framework", 0.03, False, ["fixtures", "ssot", "helpers", "mocks"]),
    ("scripts", 0.02, False, [""]),
    ("dev_launcher", 0.01, False, [""]),
]


def scaled(rate: float, files: int, at_least: int = 1) -> int:
    return max(at_least, round(rate * files / REFERENCE_FILES))


def plan_tree(rng: random.Random, files: int, fixed: list[str]) -> tuple[list[str], list[tuple[str, int]]]:
    """Regular file paths and __init__.py paths (regular, inits) adding up to `files` with `fixed`."""
    directories: list[tuple[str, int]] = []  # (directory, group index)
    seen = set()
    per_dir = 25
    for index, (base, share, _, areas) in enumerate(GROUPS):
        for _ in range(max(1, round(share * files / per_dir))):
            area = rng.choice(areas)
            path = f"{base}/{area}".rstrip("/")
            if area and rng.random() < 0.55:
                path += f"/{rng.choice(NOUNS)}"
            if path not in seen:
                seen.add(path)
                directories.append((path, index))
    packages = set()
    for path in [d for d, _ in directories] + [os.path.dirname(f) for f in fixed]:
        if path.startswith("scripts"):
            continue
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            packages.add("/".join(parts[:depth]))
    inits = sorted(f"{p}/__init__.py" for p in packages)
    inits = [i for i in inits if i not in fixed]
    remaining = files - len(fixed) - len(inits)
    if remaining < len(directories):
        raise SystemExit(f"--files {files} is too small for the package tree; use at least 200")
    weights = [GROUPS[g][1] / sum(1 for _, h in directories if h == g) for _, g in directories]
    taken = set(fixed) | set(inits)
    regular: list[tuple[str, int]] = []
    chosen = rng.choices(range(len(directories)), weights, k=remaining)
    for slot in chosen:
        directory, group = directories[slot]
        is_test_group = GROUPS[group][2]
        while True:
            if is_test_group:
                name = f"test_{rng.choice(NOUNS)}_{rng.choice(VERBS + ADJS)}.py"
            else:
                name = f"{rng.choice(NOUNS)}_{rng.choice(('service', 'models', 'utils', 'handler', 'client', 'schemas', 'tasks', 'core', 'routes', 'helpers'))}.py"
            path = f"{directory}/{name}"
            if path not in taken:
                if rng.random() < 0.3:
                    stem = path[:-3] + f"_{rng.randint(2, 9)}.py"
                    if stem not in taken:
                        path = stem
                taken.add(path)
                regular.append((path, group))
                break
    regular.sort()
    return inits, regular


def module_name(path: str) -> tuple[str, str]:
    module = path[:-3].replace("/", ".")
    if module.endswith(".__init__"):
        module = module[: -len(".__init__")]
        return module, module
    return module, module.rsplit(".", 1)[0]


def draw_sizes(rng: random.Random, count: int, total: int) -> list[int]:
    """Log-normal sizes scaled to add up to `total`, each kept under 900 KB."""
    raw = [min(rng.lognormvariate(0.0, 1.05), 40.0) for _ in range(count)]
    scale = total / max(1.0, sum(raw))
    return [max(1_500, min(900_000, int(r * scale))) for r in raw]


# ----- generation ----------------------------------------------------------------------------

LEGACY_SITE_KINDS = [k for k in SITE_RATES if k not in TRAP_RATES]
MANIFEST = ".corpus-manifest.json"

# Sites whose production share is fixed (per REFERENCE_FILES). The real repository has one
# factory object in production code; here that is the package `__init__`'s
# `get_websocket_manager_factory()`, so generated factory objects go to tests and tools.
PRODUCTION_SITE_RATES = {"factory_object": 0, "factory_getter": 0}
# Singleton accesses are rarer in production code than the production share of legacy files:
# this share of the ones drawn for a production file moves to a non-production file.
# Factory objects that escape the function creating them, per REFERENCE_FILES (out of factory_object).
FACTORY_OBJECT_ESCAPES = {"on_self": 4, "returned": 4, "passed": 3}
PRODUCTION_DAMPING = {"get_ws_noarg": 0.2, "get_ws_none": 0.2, "instantiate_noarg": 0.2, "get_instance": 0.2}

# Consumers of the names the legacy `manager` module carries besides the managers (absolute
# counts in the real repository, scaled like everything else, at least one each).
HEARTBEAT_IMPORTERS_PER_REFERENCE = 7
COMPAT_LAYER_TESTS_PER_REFERENCE = 5
HEARTBEAT_IMPORTER_PATHS = [
    "scripts/check_websocket_heartbeat.py",
    "tests/mission_critical/websocket_heartbeat_monitor.py",
    "tests/stress/websocket_heartbeat_stress.py",
    "scripts/diagnose_websocket_connections.py",
    "tests/mission_critical/websocket_stability_runner.py",
    "tests/stress/connection_churn_stress.py",
    "scripts/websocket_load_probe.py",
]
COMPAT_LAYER_DIR = "netra_backend/tests/unit/websocket_core/compatibility_layer"
COMPAT_LAYER_TOPICS = ["serialization", "protocol", "heartbeat", "exports", "aliases"]

# .github/CODEOWNERS (GitHub syntax: the last matching pattern wins, so broad rules come first).
# A rule is written only when its directory exists in the tree; dev_launcher/ has no owner.
CODEOWNERS = ".github/CODEOWNERS"
CODEOWNERS_RULES = [
    ("/netra_backend/", "@netra/backend"),
    ("/netra_backend/app/services/", "@netra/backend @netra/platform"),
    ("/netra_backend/app/websocket_core/", "@netra/realtime"),
    ("/netra_backend/tests/", "@netra/backend @netra/qa"),
    (f"/{COMPAT_LAYER_DIR}/", "@netra/realtime @netra/qa"),
    ("/tests/", "@netra/qa"),
    ("/tests/mission_critical/", "@netra/qa @netra/realtime"),
    ("/tests/stress/", "@netra/qa @netra/realtime"),
    ("/auth_service/", "@netra/auth"),
    ("/analytics_service/", "@netra/data"),
    ("/shared/", "@netra/platform"),
    ("/test_framework/", "@netra/qa"),
    ("/scripts/", "@netra/devex"),
    ("/.github/", "@netra/devex"),
]


def manager_name_consumers(files: int) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Paths of the heartbeat importers, and of the compatibility-layer tests with what each uses."""
    heartbeat = []
    for index in range(scaled(HEARTBEAT_IMPORTERS_PER_REFERENCE, files)):
        path = HEARTBEAT_IMPORTER_PATHS[index % len(HEARTBEAT_IMPORTER_PATHS)]
        rounds = index // len(HEARTBEAT_IMPORTER_PATHS)
        heartbeat.append(path if not rounds else path[:-3] + f"_{rounds + 1}.py")
    count = scaled(COMPAT_LAYER_TESTS_PER_REFERENCE, files)
    usages = list(LegacyFile.COMPAT_USAGES)
    compat = []
    for index in range(count):
        topic = COMPAT_LAYER_TOPICS[index % len(COMPAT_LAYER_TOPICS)]
        rounds = index // len(COMPAT_LAYER_TOPICS)
        path = f"{COMPAT_LAYER_DIR}/test_manager_compat_{topic}" + (f"_{rounds + 1}" if rounds else "") + ".py"
        if index < len(usages):
            # every usage appears at least once; with fewer files than usages the last file takes the rest
            used = usages[index:] if index == count - 1 else [usages[index]]
        else:
            used = ["aliases", usages[index % 3]]
        compat.append((path, used))
    return heartbeat, compat


def codeowners_source(paths: list[str]) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The CODEOWNERS text, its rules, and the top-level directories no rule covers."""
    directories = {os.path.dirname(p) for p in paths}
    existing = set()
    for directory in directories:
        parts = directory.split("/")
        existing.update("/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1))
    existing.add("/.github/")
    rules = [(pattern, owners) for pattern, owners in CODEOWNERS_RULES if pattern in existing]
    top = sorted({p.split("/", 1)[0] for p in paths if "/" in p})
    unowned = [d for d in top if f"/{d}/" not in {pattern for pattern, _ in rules}]
    width = max(len(pattern) for pattern, _ in rules) + 2
    lines = ["# Code owners of the netra monorepo (GitHub CODEOWNERS syntax).",
             "# The last matching pattern takes precedence: broad rules first, deeper ones after.", ""]
    lines += [pattern.ljust(width) + owners for pattern, owners in rules]
    return "\n".join(lines) + "\n", rules, unowned


def prepare_out_dir(out_dir: str) -> None:
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        if not os.path.isfile(os.path.join(out_dir, MANIFEST)):
            raise SystemExit(f"{out_dir}: exists, is not empty and is not a generated corpus; refusing to overwrite")
        shutil.rmtree(out_dir)
    os.makedirs(out_dir, exist_ok=True)


def generate(out_dir: str, files: int = 10_000, seed: int = 1) -> dict:
    """Write the corpus into out_dir and return the manifest."""
    started = time.monotonic()
    prepare_out_dir(out_dir)
    master = random.Random(f"netra-corpus:{seed}:{files}")
    pools = Pools(random.Random(f"pools:{seed}"))
    layout = layout_files(pools, random.Random(f"layout:{seed}"))
    fixed = sorted(layout)
    heartbeat_importers, compat_tests = manager_name_consumers(files)
    consumer_paths = heartbeat_importers + [p for p, _ in compat_tests]
    inits, regular = plan_tree(master, files, fixed + consumer_paths)
    group_of = dict(regular)
    paths = [p for p, _ in regular]

    # roles -----------------------------------------------------------------------------
    def is_test(path: str) -> bool:
        return GROUPS[group_of[path]][2] and os.path.basename(path).startswith("test_")

    production = [p for p in paths if group_of[p] == 0]
    tests = [p for p in paths if is_test(p)]
    others = [p for p in paths if group_of[p] >= 5]
    legacy_layout = [p for p in fixed if layout[p][1]]
    n_legacy = max(3, scaled(LEGACY_FILES_PER_REFERENCE, files) - len(legacy_layout) - len(consumer_paths))
    n_production = max(1, round(n_legacy * 0.066))
    n_other = max(1, round(n_legacy * 0.03))
    legacy_production = sorted(master.sample(production, n_production))
    legacy_other = sorted(master.sample(others, n_other))
    legacy_tests = sorted(master.sample(tests, n_legacy - n_production - n_other))
    legacy = set(legacy_production) | set(legacy_other) | set(legacy_tests)

    free = [p for p in paths if p not in legacy]
    master.shuffle(free)
    traps: dict[str, str] = {}
    for kind, rate in TRAP_RATES.items():
        for _ in range(scaled(rate, files)):
            traps[free.pop()] = kind

    n_broken = scaled(UNPARSEABLE_PER_REFERENCE, files)
    n_broken_legacy = round(n_broken * 0.4)
    broken: dict[str, str] = {}
    for path in master.sample(legacy_tests, min(n_broken_legacy, len(legacy_tests))) + free[-(n_broken - n_broken_legacy):]:
        broken[path] = "pep701" if master.random() < 0.7 else "syntax-error"
    free = [p for p in free if p not in broken]
    clean_tests = [p for p in legacy_tests if p not in broken]
    no_import = set(master.sample(clean_tests, min(len(clean_tests) // 4, scaled(USE_WITHOUT_IMPORT_PER_REFERENCE, files))))

    # sizes ----------------------------------------------------------------------------
    giants = set(master.sample(free, max(1, round(files / 2000))))
    target_total = files * AVERAGE_FILE_BYTES
    sizes = {p: master.randint(1_050_000, 2_400_000) for p in sorted(giants)}
    ordinary = [p for p in paths if p not in giants]
    for path in consumer_paths:
        sizes[path] = random.Random(f"{seed}:{path}:size").randint(4_000, 16_000)
    budget = target_total - sum(sizes.values()) - sum(len(layout[p][0]) for p in fixed) - 300 * len(inits)
    sizes.update(zip(ordinary, draw_sizes(master, len(ordinary), budget)))

    # legacy sites ---------------------------------------------------------------------
    site_files: dict[str, list[str]] = {p: [] for p in sorted(legacy)}
    anywhere = sorted(p for p in legacy if p not in no_import)
    test_like = sorted(p for p in legacy if p not in no_import and p not in set(legacy_production))
    production_set = set(legacy_production)
    not_production = [p for p in anywhere if p not in production_set]
    production_left = {kind: scaled(rate, files, at_least=min(1, rate)) for kind, rate in PRODUCTION_SITE_RATES.items()}
    quotas = {kind: scaled(SITE_RATES[kind], files) for kind in LEGACY_SITE_KINDS}
    tokens = [kind for kind in LEGACY_SITE_KINDS for _ in range(quotas[kind])]
    # some factory objects leave the function creating them (part of the factory_object quota)
    escapes = [f"factory_object:{escape}" for escape, rate in FACTORY_OBJECT_ESCAPES.items()
               for _ in range(scaled(rate, files))][:quotas["factory_object"]]
    start = tokens.index("factory_object")
    tokens[start:start + len(escapes)] = escapes
    master.shuffle(tokens)
    for token in tokens:
        kind = token.partition(":")[0]
        if kind in TEST_ONLY_SITES:
            path = master.choice(test_like)
        elif kind in production_left:
            path = master.choice(legacy_production if production_left[kind] > 0 else not_production)
            production_left[kind] -= 1
        else:
            path = master.choice(anywhere)
            if path in production_set and kind in PRODUCTION_DAMPING and master.random() < PRODUCTION_DAMPING[kind]:
                path = master.choice(not_production)
        site_files[path].append(token)
    for path in sorted(no_import):
        site_files[path] = [master.choice(("instantiate_noarg", "isinstance", "annotation", "get_ws_noarg"))]
    scripts = [p for p in legacy_other if p.startswith(("scripts/", "dev_launcher/"))] or legacy_other
    binding_sites = add_binding_sites(site_files, test_like, anywhere, scripts, files, seed)

    shapes: Counter = Counter()
    written: dict[str, int] = {}

    def write(path: str, text: str) -> None:
        full = os.path.join(out_dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = text.encode("utf-8")
        with open(full, "wb") as handle:
            handle.write(data)
        written[path] = len(data)

    def legacy_source(path: str, consumers: list[tuple[str, str]]) -> tuple[str, LegacyFile]:
        rng = random.Random(f"{seed}:{path}")
        module, package = module_name(path)
        builder = LegacyFile(pools, rng, module, package, is_test(path) or group_of[path] == 6, shapes, consumers)
        builder.no_import = path in no_import
        if builder.no_import:
            shapes["use_without_import"] += 1
        kinds = site_files[path] or ["reference_only"]
        # module-level shapes first, so later uses find their bindings
        kinds.sort(key=lambda k: k not in ("star_import", "except_fallback", "two_aliases_one_statement", "type_checking"))
        for kind in kinds:
            builder.site(kind)
        text = builder.render(sizes[path])
        if path in broken:
            text = break_source(text, rng, broken[path])
        return text, builder

    for path in fixed:
        write(path, layout[path][0])
    for path in heartbeat_importers:
        builder = LegacyFile(pools, random.Random(f"{seed}:{path}"), module_name(path)[0], module_name(path)[1], False,
                             shapes, [])
        builder.site("heartbeat_import")
        write(path, builder.render(sizes[path]))
    for path, usages in compat_tests:
        builder = LegacyFile(pools, random.Random(f"{seed}:{path}"), module_name(path)[0], module_name(path)[1], True,
                             shapes, [])
        builder.site_compat_layer(usages)
        shapes["compat_layer_test"] += 1
        write(path, builder.render(sizes[path]))
    for path in inits:
        write(path, init_source(pools, random.Random(f"{seed}:{path}")))
    consumers: list[tuple[str, str]] = []
    for path in legacy_production:
        text, builder = legacy_source(path, [])
        write(path, text)
        module = module_name(path)[0]
        for name, local in sorted(builder.bound.items()):
            if name[0].islower() or name in MANAGER_CLASSES:
                consumers.append((module, local))
    for path in paths:
        if path in written:
            continue
        if path in legacy:
            text, _ = legacy_source(path, consumers)
        else:
            rng = random.Random(f"{seed}:{path}")
            flags = []
            for flag, probability in (("manager_identifiers", P_MANAGER_IDENTIFIERS), ("manager_word", P_MANAGER_WORD),
                                      ("websocket_manager_variable", P_WEBSOCKET_MANAGER_VARIABLE),
                                      ("websocket_word", P_WEBSOCKET_WORD),
                                      ("websocket_core_unrelated", P_WEBSOCKET_CORE_UNRELATED)):
                if rng.random() < probability:
                    flags.append(flag)
                    shapes[f"unrelated_{flag}"] += 1
            if path in traps:
                shapes[traps[path]] += 1
            text = unrelated_source(pools, rng, is_test(path), sizes[path], flags, traps.get(path))
            if path in broken:
                text = break_source(text, rng, broken[path])
        write(path, text)

    parseable = [p for p in legacy_tests if p not in broken]
    add_precision_sites(out_dir, files, seed, [p for p in parseable if is_test(p)],
                        [p for p in sorted(set(legacy_production) | set(legacy_other)) if p not in broken], shapes, write)

    codeowners, owner_rules, unowned = codeowners_source(list(written))
    os.makedirs(os.path.join(out_dir, os.path.dirname(CODEOWNERS)), exist_ok=True)
    with open(os.path.join(out_dir, CODEOWNERS), "wb") as handle:  # not a .py file: not counted in `files`
        handle.write(codeowners.encode("utf-8"))
    shapes["codeowners_rules"] = len(owner_rules)

    legacy_all = sorted(set(legacy) | set(legacy_layout) | set(consumer_paths))
    manifest = {
        "generator": "benchmarks/make_corpus.py",
        "seed": seed,
        "files": len(written),
        "total_bytes": sum(written.values()),
        "legacy": legacy_all,
        "unparseable": sorted(broken),
        "unparseable_kinds": {p: broken[p] for p in sorted(broken)},
        "traps": {p: traps[p] for p in sorted(traps)},
        "large_files": sorted(p for p, n in written.items() if n > 1_000_000),
        "use_without_import": sorted(no_import),
        "manager_extra_names": {
            "module": f"{WSC}/manager.py",
            "names": list(MANAGER_EXTRA_NAMES),
            "heartbeat_importers": heartbeat_importers,
            "compat_layer_tests": {p: u for p, u in compat_tests},
        },
        "codeowners": {"path": CODEOWNERS, "rules": [list(r) for r in owner_rules], "unowned_top_level": unowned},
        "shapes": dict(sorted(shapes.items())),
        "quotas": dict(sorted(quotas.items())),
        "binding_sites": binding_sites,
        "seconds": round(time.monotonic() - started, 2),
    }
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as handle:
        json.dump({k: v for k, v in manifest.items() if k != "seconds"}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return manifest


# ----- strings of every kind, and legacy imports the audit lists -------------------------------
# Per REFERENCE_FILES files, in the real repository's proportions: strings naming modules below the
# legacy package that are not the package (most of them the canonical module), free text quoting
# legacy paths, lists of legacy module names a test imports; the package's module object and a
# name its configuration does not list, imported through the package (the audit lists both).
PRECISION_SITE_RATES = {
    "string_below_package": 137, "string_free_text": 68, "string_module_path_list": 12,
    "package_unmapped_name": 41, "package_module_object": 37,
}
PRECISION_TEST_ONLY = {"string_module_path_list"}
SUBMODULES = ["handlers", "auth", "rate_limiter", "types", "utils", "ssot_validation_enhancer"]


def precision_block(kind: str, rng: random.Random, is_test: bool, number: int) -> str:
    """One appended function (or constant) of a precision shape; names end in `number` to stay unique."""
    prefix = "test_" if is_test else ""
    if kind == "string_below_package":
        submodule = rng.choice(SUBMODULES)
        return rng.choice([
            f'HANDLER_TEMPLATE_{number} = "from {CANONICAL} import get_websocket_manager\\n"\n',
            f'def generated_imports_{number}(name="route"):\n'
            f'    lines = ["from {CANONICAL} import get_websocket_manager", f"from {PKG}.{submodule} import {{name}}"]\n'
            f'    return "\\n".join(lines)\n',
            f'def {prefix}patched_router_{number}():\n'
            f'    import sys\n'
            f'    from unittest.mock import patch\n\n'
            f'    sys.modules.pop("{PKG}.ssot_validation_enhancer", None)\n'
            f'    with patch("{PKG}.handlers.get_message_router") as router:\n'
            f'        router.return_value = None\n'
            f'    return router\n',
            f'def {prefix}routed_modules_{number}():\n'
            f'    import importlib\n\n'
            f'    names = ["{PKG}.{submodule}", "{CANONICAL}"]\n'
            f'    return [importlib.import_module(name) for name in names]\n',
            f'def require_submodule_{number}(available):\n'
            f'    if not available:\n'
            f'        raise ImportError("{PKG}.{submodule} is required; see {CANONICAL}.get_websocket_manager")\n'
            f'    return available\n',
        ])
    if kind == "string_free_text":
        legacy = rng.choice((MANAGER, FACTORY, UNIFIED))
        name = "WebSocketManager" if legacy != FACTORY else "create_websocket_manager"
        return rng.choice([
            f'def retired_path_{number}(module_name):\n'
            f'    if module_name == "legacy":\n'
            f'        raise RuntimeError("{legacy} is retired; call get_websocket_manager(user_context) from {CANONICAL}")\n'
            f'    return module_name\n',
            f'MIGRATION_NOTES_{number} = """How to update old code:\n\n'
            f'    from {legacy} import {name}\n\n'
            f'becomes an import from the canonical module."""\n',
            f'LEGACY_IMPORT_PATTERNS_{number} = [\n'
            f'    ("from {legacy} import {name}", "from {CANONICAL} import {name}"),\n'
            f'    ("from {PKG} import UnifiedWebSocketManager", "from {CANONICAL} import WebSocketManager"),\n'
            f']\n',
        ])
    if kind == "string_module_path_list":
        return (f'def test_compatibility_modules_import_{number}():\n'
                f'    import importlib\n'
                f'    import warnings\n\n'
                f'    with warnings.catch_warnings():\n'
                f'        warnings.simplefilter("ignore", DeprecationWarning)\n'
                f'        for module_name in ["{MANAGER}", "{UNIFIED}"]:\n'
                f'            assert importlib.import_module(module_name) is not None\n')
    if kind == "package_unmapped_name":
        return (f'def {prefix}connection_type_{number}():\n'
                f'    from {PKG} import (\n'
                f'        WebSocketConnection,\n'
                f'    )\n'
                f'    return WebSocketConnection\n')
    assert kind == "package_module_object"
    return rng.choice([
        f'def {prefix}reload_websocket_core_{number}():\n'
        f'    import importlib\n'
        f'    import {PKG} as websocket_core\n\n'
        f'    assert websocket_core.WebSocketManager is not None\n'
        f'    return importlib.reload(websocket_core)\n',
        f'def {prefix}message_router_{number}():\n'
        f'    import {PKG} as websocket_core\n\n'
        f'    return websocket_core.handlers.get_message_router()\n',
        f'def limited_manager_type_{number}(candidate):\n'
        f'    from netra_backend.app import websocket_core\n\n'
        f'    limiter = websocket_core.RateLimiter()\n'
        f'    return isinstance(candidate, websocket_core.UnifiedWebSocketManager) and limiter is not None\n',
    ])


def add_precision_sites(out_dir: str, files: int, seed: int, tests: list[str], others: list[str],
                        shapes: Counter, write) -> None:
    """Append the precision shapes to files that already reference the legacy managers (so the set of
    legacy files, and every other shape, stays as it was); `write(path, text)` records the new size."""
    rng = random.Random(f"precision:{seed}:{files}")
    init = os.path.join(out_dir, WSC, "__init__.py")
    with open(init, encoding="utf-8") as handle:
        text = handle.read()
    # the package re-exports a name of the canonical module that its configuration does not list
    text = text.replace("    WebSocketManagerFactory,\n)", "    WebSocketManagerFactory,\n    WebSocketConnection,\n)", 1)
    write(f"{WSC}/__init__.py", text.replace('    "get_websocket_manager_factory",\n]', '    "get_websocket_manager_factory",\n'
                                             '    "WebSocketConnection",\n]', 1))
    blocks: dict[str, list[str]] = {}
    number = 0
    for kind, rate in PRECISION_SITE_RATES.items():
        for _ in range(scaled(rate, files)):
            pool = tests if kind in PRECISION_TEST_ONLY or rng.random() < 0.85 else others
            path = rng.choice(pool or tests)
            number += 1
            blocks.setdefault(path, []).append(precision_block(kind, rng, path in set(tests), number))
            shapes[kind] += 1
    for path in sorted(blocks):
        with open(os.path.join(out_dir, path), encoding="utf-8") as handle:
            text = handle.read()
        write(path, text.rstrip("\n") + "\n\n\n" + "\n\n".join(blocks[path]))


def summary(manifest: dict) -> str:
    files, total = manifest["files"], manifest["total_bytes"]
    return "\n".join([
        f"files:                 {files}",
        f"bytes:                 {total:,} ({total / 1e6:.1f} MB, average {total / files / 1000:.1f} KB)",
        f"files over 1 MB:       {len(manifest['large_files'])}",
        f"legacy references:     {len(manifest['legacy'])} files ({100 * len(manifest['legacy']) / files:.1f}%)",
        f"unparseable on 3.11:   {len(manifest['unparseable'])} files ({100 * len(manifest['unparseable']) / files:.2f}%)",
        f"look-alike traps:      {len(manifest['traps'])} files (not legacy references)",
        f"generated in:          {manifest['seconds']:.1f} s",
    ])


# ----- self-check -----------------------------------------------------------------------------

def tree_digest(root: str) -> dict[str, str]:
    out = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(directory, name)
            with open(full, "rb") as handle:
                out[os.path.relpath(full, root)] = hashlib.sha256(handle.read()).hexdigest()
    return out


def module_bindings(tree: ast.Module) -> set[str]:
    """Names a module binds at top level (also inside try/except and if blocks)."""
    names: set[str] = set()

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.Try):
                walk(node.body)
                for handler in node.handlers:
                    walk(handler.body)
                walk(node.orelse)
            elif isinstance(node, ast.If):
                walk(node.body)
                walk(node.orelse)

    walk(tree.body)
    return names


def unresolved_layout_imports(root: str) -> list[str]:
    """`from X import Y` in the websocket_core package where X is in the corpus but does not bind Y."""
    missing, bindings = [], {}
    for name in sorted(os.listdir(os.path.join(root, WSC))):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(root, WSC, name), encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                continue
            base = os.path.join(root, *node.module.split("."))
            source = base + ".py" if os.path.isfile(base + ".py") else os.path.join(base, "__init__.py")
            if not os.path.isfile(source):
                continue
            if source not in bindings:
                with open(source, encoding="utf-8") as handle:
                    bindings[source] = module_bindings(ast.parse(handle.read()))
            missing += [f"{name}: {node.module}.{a.name}" for a in node.names
                        if a.name not in bindings[source] and not os.path.isfile(os.path.join(base, a.name + ".py"))]
    return missing


def self_check(files: int = 1500, seed: int = 3) -> int:
    """Generate twice and verify determinism, proportions and parseability; return an exit code."""
    problems: list[str] = []
    notes: list[str] = []

    def expect(condition: bool, message: str) -> None:
        (notes if condition else problems).append(("ok    " if condition else "FAIL  ") + message)

    with tempfile.TemporaryDirectory(prefix="corpus-self-check-") as tmp:
        started = time.monotonic()
        first = generate(os.path.join(tmp, "a"), files, seed)
        # the second run is a separate process with another string-hash seed, as a user's run would be
        env = dict(os.environ, PYTHONHASHSEED="2" if os.environ.get("PYTHONHASHSEED") == "1" else "1")
        subprocess.run([sys.executable, os.path.abspath(__file__), os.path.join(tmp, "b"), "--files", str(files),
                        "--seed", str(seed)], env=env, check=True, stdout=subprocess.DEVNULL)
        digest_a, digest_b = tree_digest(os.path.join(tmp, "a")), tree_digest(os.path.join(tmp, "b"))
        differing = sorted(p for p in set(digest_a) | set(digest_b) if digest_a.get(p) != digest_b.get(p))
        expect(not differing, f"determinism: two runs (separate processes, different hash seeds) with --files {files} "
                              f"--seed {seed} give identical trees ({len(digest_a)} entries)"
                              + (f"; differing: {differing[:3]}" if differing else ""))
        other = generate(os.path.join(tmp, "c"), files, seed + 1)
        expect(tree_digest(os.path.join(tmp, "c")) != digest_a, "a different --seed gives a different tree")
        del other

        root = os.path.join(tmp, "a")
        manifest = first
        count, total = manifest["files"], manifest["total_bytes"]
        expect(count == files, f"file count {count} == --files {files}")
        expect(17_000 <= total / count <= 23_000, f"average size {total / count / 1000:.1f} KB is about 20 KB")
        expect(len(manifest["large_files"]) >= 1, f"{len(manifest['large_files'])} file(s) over 1 MB")
        legacy_share = len(manifest["legacy"]) / count
        expect(0.085 <= legacy_share <= 0.12, f"legacy-referencing share {100 * legacy_share:.1f}% is about 10%")
        broken_expected = scaled(UNPARSEABLE_PER_REFERENCE, files)
        expect(len(manifest["unparseable"]) == broken_expected,
               f"{len(manifest['unparseable'])} unparseable files (expected {broken_expected}, about 0.25%)")
        expect(not set(manifest["traps"]) & set(manifest["legacy"]), "look-alike trap files are not listed as legacy")
        shapes = manifest["shapes"]
        for kind, quota in manifest["quotas"].items():
            got = shapes.get(kind, 0)
            if kind == "patch_legacy":
                got -= max(0, manifest["quotas"].get("patch_consumer", 0) - shapes.get("patch_consumer", 0))
            ok = got >= 1 and abs(got - quota) <= max(2, quota // 10)
            (notes if ok else problems).append(f"{'ok    ' if ok else 'FAIL  '}shape {kind}: {got} (quota {quota})")
        for kind in TRAP_RATES:
            expect(shapes.get(kind, 0) >= 1, f"trap {kind}: {shapes.get(kind, 0)} file(s)")
        for name in ("import_in_function", "import_try_importerror", "import_try_exception", "import_in_except",
                     "import_type_checking", "import_pytest_raises", "import_catch_warnings", "import_parenthesized",
                     "import_relative", "import_mixed_init", "alias_x_as_x", "alias_swapped", "alias_other",
                     "module_object_import", "use_without_import",
                     # context shapes
                     "context_other_annotated_parameter", "context_self_attribute", "context_test_helper",
                     "instantiate_positional_context", "instantiate_mode_and_context", "instantiate_ssot_token",
                     "create_user_id_keyword", "factory_object_on_self", "factory_object_returned",
                     "factory_object_passed",
                     # consumers of the legacy manager module's other names
                     "heartbeat_import", "compat_layer_serialize", "compat_layer_protocol", "compat_layer_getattr",
                     "compat_layer_dunder_all"):
            expect(shapes.get(name, 0) >= 1, f"shape {name}: {shapes.get(name, 0)}")
        for kind, rate in PRECISION_SITE_RATES.items():
            expect(shapes.get(kind, 0) == scaled(rate, files), f"precision shape {kind}: {shapes.get(kind, 0)} "
                                                                f"(expected {scaled(rate, files)})")
        for kind, placed in manifest["binding_sites"].items():
            expect(shapes.get(kind, 0) == placed, f"binding shape {kind}: {shapes.get(kind, 0)} (placed {placed})")
        extra = manifest["manager_extra_names"]
        for key, rate in (("heartbeat_importers", HEARTBEAT_IMPORTERS_PER_REFERENCE),
                          ("compat_layer_tests", COMPAT_LAYER_TESTS_PER_REFERENCE)):
            expect(len(extra[key]) == scaled(rate, files) and set(extra[key]) <= set(manifest["legacy"]),
                   f"{len(extra[key])} {key.replace('_', ' ')} (expected {scaled(rate, files)}), listed as legacy")

        # parse every file on this Python
        modern = sys.version_info >= (3, 12)
        kinds = manifest["unparseable_kinds"]
        wrong_fail, wrong_parse, naive_hits, legacy_without_text = [], [], 0, []
        naive = [b"manager", b"websocket_manager", b"websocket_core"]
        legacy = set(manifest["legacy"])
        for path in digest_a:
            if not path.endswith(".py"):
                continue
            with open(os.path.join(root, path), "rb") as handle:
                data = handle.read()
            should_fail = path in kinds and not (modern and kinds[path] == "pep701")
            try:
                ast.parse(data, filename=path)
                if should_fail:
                    wrong_parse.append(path)
            except SyntaxError:
                if not should_fail:
                    wrong_fail.append(path)
            if path in legacy:
                if not any(name.encode() in data
                           for name in ALL_LEGACY_NAMES + MANAGER_EXTRA_NAMES + LEGACY_MODULE_SPELLINGS):
                    legacy_without_text.append(path)
            elif any(word in data for word in naive):
                naive_hits += 1
        expect(not wrong_fail, f"every other file parses on Python {sys.version.split()[0]}"
                               + (f" (failed: {wrong_fail[:3]})" if wrong_fail else ""))
        expect(not wrong_parse, "every file listed as unparseable fails ast.parse"
                                + (" (PEP 701 files parse on 3.12+, as expected)" if modern else "")
                                + (f" (parsed: {wrong_parse[:3]})" if wrong_parse else ""))
        expect(not legacy_without_text, "every legacy-listed file names a legacy manager or module"
               + (f" (not: {legacy_without_text[:3]})" if legacy_without_text else ""))
        share = naive_hits / max(1, count - len(legacy))
        expect(share >= 0.05, f"{100 * share:.1f}% of files without legacy references still contain "
                              "'manager'/'websocket_manager'/'websocket_core' (a text filter alone is not enough)")
        for path in ("websocket_manager.py", "manager.py", "unified_manager.py", "__init__.py", "heartbeat.py",
                     "protocols.py"):
            expect(os.path.isfile(os.path.join(root, WSC, path)), f"{WSC}/{path} exists")
        unresolved = unresolved_layout_imports(root)
        expect(not unresolved, "every name the websocket_core modules import from the corpus is bound there"
                               + (f" (missing: {unresolved[:3]})" if unresolved else ""))
        with open(os.path.join(root, WSC, "manager.py"), encoding="utf-8") as handle:
            manager_tree = ast.parse(handle.read())
        bound = module_bindings(manager_tree)
        exported = next(ast.literal_eval(n.value) for n in manager_tree.body if isinstance(n, ast.Assign)
                        and getattr(n.targets[0], "id", "") == "__all__")
        expect(all(n in bound and n in exported for n in MANAGER_EXTRA_NAMES),
               f"manager.py binds {', '.join(MANAGER_EXTRA_NAMES)} and lists them in __all__")
        owners = manifest["codeowners"]
        expect(os.path.isfile(os.path.join(root, CODEOWNERS)) and owners["rules"] and owners["unowned_top_level"],
               f"{CODEOWNERS}: {len(owners['rules'])} rules, no owner for {', '.join(owners['unowned_top_level'])}/")
        expect(not os.path.exists(os.path.join(root, WSC, "websocket_manager_factory.py")),
               "websocket_manager_factory.py is absent (still imported)")
        elapsed = time.monotonic() - started

    for line in notes + problems:
        print(line)
    print(f"self-check: {len(problems)} problem(s); {elapsed:.1f} s")
    return 1 if problems else 0


# ----- the second shape: a top-level legacy module moving to a dotted canonical module ----------
#
# `mock` -> `unittest.mock` as a generated repository: a top-level legacy module `mock` (kept: it
# stays importable, as the real package does) whose names move to the dotted canonical module
# `toolkit.testing.mock`, imported in the binding forms a real code base has, among unrelated
# files. Its configuration is the repository's own pyproject.toml.

TOP_LEVEL_CONFIG = """\
[tool.migrate-ws]
name = "mock-to-toolkit"
canonical-module = "toolkit.testing.mock"

[tool.migrate-ws.legacy-modules."mock"]
names = ["MagicMock", "Mock", "call", "patch", "sentinel"]
retire = false
"""

TOP_LEVEL_CANONICAL = '''"""Test doubles: the canonical home of what the legacy `mock` module provided."""

from unittest.mock import MagicMock, Mock, call, patch, sentinel

__all__ = ["MagicMock", "Mock", "call", "patch", "sentinel"]
'''

TOP_LEVEL_LEGACY = '''"""Deprecated: import from toolkit.testing.mock."""

from toolkit.testing.mock import MagicMock, Mock, call, patch, sentinel

__all__ = ["MagicMock", "Mock", "call", "patch", "sentinel"]
'''

# the binding forms (each a function of a random generator and a number) and how often each occurs
TOP_LEVEL_SHAPES: dict[str, tuple[int, str]] = {
    "import": (30, "import mock\n\n\ndef test_{n}():\n    with mock.patch('os.getcwd') as getcwd:\n"
                   "        getcwd.return_value = '/{n}'\n        assert mock.call() == mock.call()\n"),
    "import-as": (8, "import mock as mk\n\n\ndef test_{n}():\n    double = mk.MagicMock(name='d{n}')\n"
                     "    double({n})\n    double.assert_called_once_with({n})\n"),
    "from-import": (25, "from mock import MagicMock, patch\n\n\ndef test_{n}():\n    with patch('os.getpid') as getpid:\n"
                        "        getpid.return_value = MagicMock()\n"),
    "from-import-as": (5, "from mock import patch as mock_patch\n\n\n@mock_patch('os.getcwd')\ndef test_{n}(getcwd):\n"
                          "    getcwd.return_value = '{n}'\n"),
    "mixed-statement": (6, "import json, mock\n\n\ndef test_{n}():\n    assert json.loads('{n}') == {n}\n"
                           "    assert mock.sentinel.value is mock.sentinel.value\n"),
    "function-level": (8, "def make_double_{n}():\n    import mock\n    return mock.Mock(spec=['run'])\n"),
    "function-level-from": (6, "def make_double_{n}():\n    from mock import Mock\n    return Mock()\n"),
    "try-except": (5, "try:\n    import mock\nexcept ImportError:\n    mock = None\n\n\n"
                      "def test_{n}():\n    assert mock is None or mock.Mock() is not None\n"),
    "try-except-from": (5, "try:\n    from mock import patch\nexcept ImportError:\n    from unittest.mock import patch\n\n\n"
                           "def test_{n}():\n    with patch('os.getcwd'):\n        pass\n"),
    "getattr": (3, "import mock\n\n\ndef test_{n}():\n    factory = getattr(mock, 'MagicMock')\n    assert factory()\n"),
    "class-body": (3, "import mock\n\n\nclass TestCase{n}:\n    patcher = mock.patch('os.getcwd')\n\n"
                      "    def test_it(self):\n        assert self.patcher is not None\n"),
    "decorator": (6, "import mock\n\n\n@mock.patch('os.getcwd')\ndef test_{n}(getcwd):\n    getcwd.return_value = '{n}'\n"),
    "star": (1, "from mock import *\n\n\ndef test_{n}():\n    assert Mock() is not None\n"),
    "if-block": (3, "import sys\n\nif sys.version_info >= (3, 8):\n    import mock\n\n\ndef test_{n}():\n"
                    "    assert mock.Mock() is not None\n"),
    "setup-later-import": (4, "class Helper{n}:\n    def setUp(self):\n        self.patcher = mock.patch('os.getcwd')\n\n\n"
                              "import mock\n"),
}

TOP_LEVEL_FILLER = '''

def helper_{n}_{k}(values):
    """Filler: code that has nothing to do with the migration."""
    total = 0
    for value in values:
        if value % {m} == 0:
            total += value
    return total
'''


def generate_top_level(out_dir: str, files: int = 2_000, seed: int = 1) -> dict:
    """Write the top-level-legacy-module corpus into out_dir and return its manifest."""
    started = time.monotonic()
    prepare_out_dir(out_dir)
    rng = random.Random(f"top-level-corpus:{seed}:{files}")
    written: dict[str, str] = {
        "pyproject.toml": TOP_LEVEL_CONFIG,
        "mock.py": TOP_LEVEL_LEGACY,
        "toolkit/__init__.py": "",
        "toolkit/testing/__init__.py": "",
        "toolkit/testing/mock.py": TOP_LEVEL_CANONICAL,
    }
    shapes = list(TOP_LEVEL_SHAPES)
    weights = [TOP_LEVEL_SHAPES[name][0] for name in shapes]
    legacy: list[str] = []
    counts: dict[str, int] = {}
    packages = [f"service_{index}" for index in range(max(2, files // 200))]
    for package in packages:
        written[f"{package}/__init__.py"] = ""
        written[f"{package}/tests/__init__.py"] = ""
    remaining = files - len(written) - 1  # the manifest is the last file
    for number in range(max(0, remaining)):
        package = packages[number % len(packages)]
        uses_legacy = rng.random() < 0.12
        folder = f"{package}/tests" if uses_legacy or rng.random() < 0.3 else package
        path = f"{folder}/{'test_' if folder.endswith('tests') else 'module_'}{number}.py"
        parts = [f'"""Module {number}."""\n']
        if uses_legacy:
            chosen = rng.choices(shapes, weights, k=rng.randint(1, 3))
            for index, shape in enumerate(chosen):
                parts.append("\n" + TOP_LEVEL_SHAPES[shape][1].format(n=f"{number}_{index}"))
                counts[shape] = counts.get(shape, 0) + 1
            legacy.append(path)
        for k in range(rng.randint(1, 12)):
            parts.append(TOP_LEVEL_FILLER.format(n=number, k=k, m=rng.randint(2, 9)))
        written[path] = "".join(parts)
    total = 0
    for path, text in written.items():
        target = os.path.join(out_dir, path)
        os.makedirs(os.path.dirname(target) or out_dir, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        total += len(text.encode("utf-8"))
    manifest = {
        "shape": "top-level",
        "files": len(written) + 1,
        "seed": seed,
        "total_bytes": total,
        "legacy": sorted(legacy),
        "unparseable": [],
        "shapes": dict(sorted(counts.items())),
        "seconds": round(time.monotonic() - started, 2),
    }
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as handle:
        json.dump({k: v for k, v in manifest.items() if k != "seconds"}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return manifest


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    """The options the benchmark scripts share: which corpus (given, or generated how) and how many workers."""
    parser.add_argument("--files", type=int, default=10_000, help="corpus size when generating (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--corpus", help="use this corpus (made by make_corpus.py) instead of generating one")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", help="directory to write the corpus into (replaced if it is a corpus)")
    parser.add_argument("--files", type=int, default=None,
                        help="number of .py files (default 10000; with --self-check default 1500)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--shape", choices=("netra", "top-level"), default="netra",
                        help="netra: the monorepo's layout (default); top-level: a top-level legacy module `mock` "
                             "moving to the dotted toolkit.testing.mock")
    parser.add_argument("--self-check", action="store_true",
                        help="generate twice into temporary directories and verify the generator; exit 1 on failure")
    args = parser.parse_args(argv)
    if args.files is not None and args.files < 200:
        parser.error("--files must be at least 200")
    if args.self_check:
        return self_check(args.files or 1500)
    if not args.out_dir:
        parser.error("OUT_DIR is required (or use --self-check)")
    if args.shape == "top-level":
        manifest = generate_top_level(args.out_dir, args.files or 2_000, args.seed)
        print(f"corpus written to {args.out_dir}: {manifest['files']} files, {len(manifest['legacy'])} import mock")
        return 0
    manifest = generate(args.out_dir, args.files or 10_000, args.seed)
    print(f"corpus written to {args.out_dir}")
    print(summary(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
