"""Which files can need a change at all, decided from their raw bytes before any parsing.

Most files of a monorepo never mention the legacy managers; the prefilter rules them out at
close to memory speed so that only candidates are decoded, parsed and analysed. It must
never rule out a file that the migration would change or report: every fixture case with an
edit or a follow-up passes it (tests/test_codemod_fixtures.py).
"""

from __future__ import annotations

import re

from .config import Config
from .textsearch import WordFinder


def manager_names(config: Config) -> set[str]:
    """Names specific enough that a file containing one must be analysed."""
    names: set[str] = set(config.legacy_names) | set(config.aliases.values())
    factory = config.factory
    names.update(factory.functions + factory.classes + factory.factory_objects)
    names.discard("")
    return names


class Prefilter:
    """Decides from the raw bytes whether a file can need any change at all.

    A file qualifies if it contains a legacy-only spelling (an alias, a deprecated factory),
    a canonical spelling used the legacy way (`get_websocket_manager()` without a context,
    `WebSocketManager(...)`, `WebSocketManager.get_instance()`), or a reference to a legacy
    module (absolute, relative, as a module object, or in a string). A file that is already
    migrated only names the canonical module and the canonical names, so `--check` on a
    migrated tree reads it and moves on without parsing it.
    """

    WINDOW = 4096

    def __init__(self, config: Config) -> None:
        factory = config.factory
        names = manager_names(config)
        canonical_spellings = set(config.aliases.values())
        if factory.function:
            canonical_spellings.add(factory.function)
        self.strong = WordFinder(names - canonical_spellings, as_bytes=True)
        contexts: dict[str, re.Pattern[bytes]] = {}
        for name in sorted(canonical_spellings & names):
            alternatives: list[bytes] = []
            if name == factory.function:
                parameter = re.escape(factory.context_parameter.encode())
                alternatives.append(rb"\s*\(\s*(?:\)|None\s*[,)]|" + parameter + rb"\s*=\s*None\b)")
            if name in factory.classes:
                alternatives.append(rb"\s*\(")
                if factory.class_methods:
                    methods = b"|".join(re.escape(m.encode()) for m in factory.class_methods)
                    alternatives.append(rb"\s*\.\s*(?:" + methods + rb")\b")
            if alternatives:
                contexts[name] = re.compile(b"|".join(alternatives))
        self.contexts = contexts
        self.weak = WordFinder(contexts, as_bytes=True) if contexts else None
        # a canonical spelling in a file that never names the canonical module is bound some
        # other way (a legacy path, a star import, or not at all): the file needs a look
        self.canonical_spellings = WordFinder(canonical_spellings & names, as_bytes=True)
        canonical_tail = config.canonical_module.rsplit(".", 1)[-1].encode()
        self.canonical_tail = canonical_tail
        tail = re.escape(canonical_tail)
        self.canonical_import = re.compile(
            rb"(?:from|import)\s+[\w.]*(?<![\w])" + tail + rb"(?![\w])"
            rb"|from\s+[\w.]+\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])" + tail + rb"(?!\w)")
        self.modules: list[tuple[bytes, re.Pattern[bytes]]] = []
        self.relatives: list[tuple[bytes, re.Pattern[bytes]]] = []
        for module, legacy in sorted(config.legacy_modules.items()):
            path = re.escape(module.encode())
            carried = b"|".join(re.escape(n.encode()) for n in sorted(legacy.names, key=len, reverse=True))
            forms = [
                path + rb"\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])(?:" + carried + rb"|\*)(?!\w)",
                rb"import\s+" + path + rb"(?![\w.])",
                path + rb"\.(?:" + carried + rb")(?!\w)",
                rb"[\"']" + path + rb"[\"']",
            ]
            if legacy.retire:
                forms.append(path + rb"(?![\w.])")
            self.modules.append((module.encode(), re.compile(b"|".join(forms))))
            if "." in module:
                parent, _, tail = module.rpartition(".")
                tail_bytes = re.escape(tail.encode())
                parent_bytes = re.escape(parent.encode())
                relative = [
                    rb"from\s+\.+(?:\w+\.)*" + tail_bytes + rb"\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])(?:" + carried + rb"|\*)(?!\w)",
                    rb"from\s+(?:\.+|" + parent_bytes + rb")\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])" + tail_bytes + rb"(?!\w)",
                ]
                if legacy.retire:
                    relative.append(rb"from\s+\.+(?:\w+\.)*" + tail_bytes + rb"(?![\w.])")
                self.relatives.append((tail.encode(), re.compile(b"|".join(relative))))

    def __call__(self, data: bytes, path: str = "") -> bool:
        if self.strong.search(data) is not None:
            return True
        if self.canonical_spellings.search(data) is not None \
                and not self._near(data, self.canonical_tail, self.canonical_import, before=self.WINDOW):
            return True
        if self.weak is not None:
            for offset in self.weak.starts(data):
                word = self.weak.pattern.match(data, offset)
                if self.contexts[word.group().decode()].match(data, word.end()):
                    return True
        for anchor, pattern in self.modules:
            if self._near(data, anchor, pattern, before=256):
                return True
        for anchor, pattern in self.relatives:
            if self._near(data, anchor, pattern, before=self.WINDOW):
                return True
        return False

    def _near(self, data: bytes, anchor: bytes, pattern: re.Pattern[bytes], before: int) -> bool:
        position = data.find(anchor)
        while position != -1:
            if pattern.search(data, max(0, position - before), position + len(anchor) + self.WINDOW):
                return True
            position = data.find(anchor, position + 1)
        return False


def interesting_names(config: Config) -> set[str]:
    """Identifiers whose bindings and uses the analysis follows."""
    names = manager_names(config)
    for module in [*config.legacy_modules, config.canonical_module]:
        names.add(module.rsplit(".", 1)[-1])
    names.update(config.factory.context_variables)
    names.discard("")
    return names


def string_markers(config: Config) -> tuple[str, ...]:
    return tuple(sorted({m.rsplit(".", 1)[-1] for m in [*config.legacy_modules, config.canonical_module]}))
