"""Which files can need a change at all, decided from their raw bytes before any parsing.

Most files of a monorepo never mention the legacy managers; the prefilter rules them out at
close to memory speed so that only candidates are decoded, parsed and analysed. It must
never rule out a file that the migration would change or report: every fixture case with an
edit or a follow-up passes it (tests/test_codemod_fixtures.py).
"""

from __future__ import annotations

import os
import re

from .config import Config
from .textsearch import AnchoredNeedles


class Prefilter:
    """Decides from the raw bytes whether a file can need any change at all.

    A file qualifies if it contains a legacy-only spelling (an alias, a deprecated factory),
    a canonical spelling used the legacy way (the factory called without a context, a canonical
    class instantiated or asked for `.get_instance()`), or a reference to a legacy
    module (absolute, relative, as a module object, or in a string). A file that is already
    migrated only names the canonical module and the canonical names, so `--check` on a
    migrated tree reads it and moves on without parsing it.
    """

    WINDOW = 4096

    def __init__(self, config: Config, words: set[str] | None = None) -> None:
        factory = config.factory
        if words is None:
            from .steps import prefilter_words

            words = prefilter_words(config)
        names = set(words)
        canonical_spellings = set(config.aliases.values())
        if factory.function:
            canonical_spellings.add(factory.function)
        self.strong_words = sorted(w.encode() for w in names - canonical_spellings if w)
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
        # a canonical spelling in a file that never names the canonical module is bound some
        # other way (a legacy path, a star import, or not at all): the file needs a look
        self.spelling_words = sorted(w.encode() for w in canonical_spellings & names if w)
        self.context_words = sorted(w.encode() for w in contexts)
        canonical_tail = config.canonical_module.rsplit(".", 1)[-1].encode()
        self.canonical_tail = canonical_tail
        tail = re.escape(canonical_tail)
        self.canonical_import = re.compile(
            rb"(?:from|import)\s+[\w.]*(?<![\w])" + tail + rb"(?![\w])"
            rb"|from\s+[\w.]+\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])" + tail + rb"(?!\w)")
        self.modules: list[tuple[bytes, re.Pattern[bytes]]] = []
        self.shared_prefix = os.path.commonprefix([m.encode() for m in config.legacy_modules]) if config.legacy_modules else b""
        self.relatives: list[tuple[bytes, re.Pattern[bytes]]] = []
        parent_forms: list[tuple[bytes, bytes, re.Pattern[bytes]]] = []  # `from <parent> import <tail>`
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
                parent_forms.append((parent.encode(), tail.encode(), re.compile(
                    rb"from\s+" + parent_bytes + rb"\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])" + tail_bytes + rb"(?!\w)")))

        # Every spelling the checks look for is found through a few short anchors, each
        # searched once per file with bytes.find (memory speed); a dozen separate scans of
        # every file cost more than everything else the prefilter does.
        needles = set(self.strong_words) | set(self.spelling_words) | set(self.context_words) | {canonical_tail}
        if len(self.shared_prefix) >= 8:  # a short shared prefix would be found everywhere
            needles.add(self.shared_prefix)
        else:
            needles |= {anchor for anchor, _ in self.modules}
        relative_tails = {tail for tail, _ in self.relatives}
        # outside them, `from <parent> import <tail>` is found by whichever of the two the
        # other needles' anchors already find (no scan of its own)
        anchors = AnchoredNeedles(needles).anchors
        self.parent_forms: list[tuple[bytes, re.Pattern[bytes]]] = [
            (tail if any(anchor in tail for anchor in anchors) else parent, pattern)
            for parent, tail, pattern in parent_forms]
        self.everywhere = AnchoredNeedles(needles | {needle for needle, _ in self.parent_forms})
        # A relative import resolves inside the importing file's own top-level package (the
        # engine names modules by their path), so the legacy modules' last parts are only
        # looked for in the packages the legacy modules are in: one to three scans fewer for
        # every other file.
        self.relative_packages = frozenset(module.split(".", 1)[0] for module in config.legacy_modules if "." in module)
        self.in_legacy_packages = AnchoredNeedles(needles | relative_tails) if relative_tails else self.everywhere
        self.anchors = self.in_legacy_packages.anchors
        self.needles_by_anchor = self.in_legacy_packages.needles_by_anchor

    def __call__(self, data: bytes, path: str = "") -> bool:
        anchored = self._needles_for(path)
        found = anchored.occurrences(data)
        if not found:
            return False
        if any(self._whole_words(data, found, self.strong_words)):
            return True
        if any(self._whole_words(data, found, self.spelling_words)) and not self._imports_canonical(data, found):
            return True
        for word in self.context_words:
            context = self.contexts[word.decode()]
            for position in self._whole_words(data, found, [word]):
                if context.match(data, position + len(word)):
                    return True
        if self._names_legacy_module(data, found):
            return True
        for tail, pattern in self.relatives:
            for position in found.get(tail, ()):
                end = position + len(tail)
                if self._may_be_relative_import(data, position, end) \
                        and pattern.search(data, max(0, position - self.WINDOW), end + self.WINDOW):
                    return True
        if anchored is self.everywhere:  # the last parts were not looked for: the absolute form by its parent
            for needle, pattern in self.parent_forms:
                for position in found.get(needle, ()):
                    if pattern.search(data, max(0, position - self.WINDOW), position + len(needle) + self.WINDOW):
                        return True
        return False

    def _needles_for(self, path: str) -> "AnchoredNeedles":
        package, slash, _ = path.partition("/")
        # a file at the root is in no package: its relative imports can name any module
        if not slash or package in self.relative_packages:
            return self.in_legacy_packages
        return self.everywhere

    @staticmethod
    def _whole_words(data: bytes, found: dict[bytes, list[int]], words: list[bytes]):
        for word in words:
            for position in found.get(word, ()):
                if not _word_byte(data, position - 1) and not _word_byte(data, position + len(word)):
                    yield position

    def _imports_canonical(self, data: bytes, found: dict[bytes, list[int]]) -> bool:
        # Only occurrences that can be part of an import are tried: missing one here only
        # lets a file through, so the cheap tests may be stricter than the pattern.
        tail = self.canonical_tail
        for position in found.get(tail, ()):
            end = position + len(tail)
            if _word_byte(data, position - 1) or _word_byte(data, end):
                continue
            line_start = data.rfind(b"\n", 0, position) + 1
            line_end = data.find(b"\n", end)
            line = data[line_start:line_end if line_end != -1 else len(data)]
            if not (b"import" in line or _previous_significant(data, position) in b",("):
                continue
            for match in self.canonical_import.finditer(data, max(0, position - self.WINDOW), end):
                # the import of this occurrence, and one that starts its own line: not text
                # in a comment or a string that only quotes an import
                if match.end() == end and not data[data.rfind(b"\n", 0, match.start()) + 1:match.start()].strip():
                    return True
        return False

    def _names_legacy_module(self, data: bytes, found: dict[bytes, list[int]]) -> bool:
        shared = self.shared_prefix
        if len(shared) >= 8:
            # one scan for the part every legacy path shares, instead of one scan per module
            for position in found.get(shared, ()):
                for anchor, pattern in self.modules:
                    if data.startswith(anchor, position) \
                            and pattern.search(data, max(0, position - 256), position + len(anchor) + self.WINDOW):
                        return True
            return False
        for anchor, pattern in self.modules:
            for position in found.get(anchor, ()):
                if pattern.search(data, max(0, position - 256), position + len(anchor) + self.WINDOW):
                    return True
        return False

    def _may_be_relative_import(self, data: bytes, position: int, end: int) -> bool:
        """A necessary condition for a relative form to match with the module's last part at
        `position` (the common word `manager` is mostly something else)."""
        # every relative form has the last part as a whole word
        if _word_byte(data, position - 1) or _word_byte(data, end):
            return False
        if data[position - 1:position] == b".":
            # `from .tail import ...`, `from ..pkg.tail import ...`, `from .tail` (retired):
            # a dotted name that starts with a dot, after `from` and whitespace
            start = position
            while start > 0 and (data[start - 1] in _WORD_BYTES or data[start - 1] == 0x2E):
                start -= 1
            if data[start:start + 1] != b".":
                return False
            keyword = start
            while keyword > 0 and data[keyword - 1] in b" \t\r\n\x0c\x0b":
                keyword -= 1
            return keyword < start and data[keyword - 4:keyword] == b"from"
        # `from . import tail` / `from .. import (a, tail)`: after `import` on the same line,
        # or inside a parenthesis that `import` opened
        window_start = max(0, position - self.WINDOW)
        line_start = data.rfind(b"\n", window_start, position) + 1 or window_start
        if data.find(b"import", line_start, position) != -1:
            return True
        opening = data.rfind(b"(", window_start, position)
        return opening != -1 and data.find(b")", opening, position) == -1 \
            and data.find(b"import", window_start, opening) != -1


_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _word_byte(data: bytes, index: int) -> bool:
    return 0 <= index < len(data) and data[index] in _WORD_BYTES


def _previous_significant(data: bytes, position: int) -> bytes:
    index = position - 1
    while index >= 0 and data[index] in b" \t\r\n\\":
        index -= 1
    return data[index:index + 1] if index >= 0 else b""


def string_markers(config: Config) -> tuple[str, ...]:
    return tuple(sorted({m.rsplit(".", 1)[-1] for m in [*config.legacy_modules, config.canonical_module]}))
