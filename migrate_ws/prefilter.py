"""Which files can need a change at all, decided from their raw bytes before any parsing.

Most files of a monorepo never mention the legacy managers; the prefilter rules them out at
close to memory speed so that only candidates are decoded, parsed and analysed. It must
never rule out a file that the migration would change or report: every fixture case with an
edit or a follow-up passes it (tests/test_codemod_fixtures.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

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
        self.placed: list[_PlacedModule] = []  # the legacy modules below a package
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
                # from a package above the parent, a relative import spells the parent's last part
                last = re.escape(parent.rpartition(".")[2].encode())
                outer = relative + [rb"from\s+\.+(?:\w+\.)*" + last + rb"\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])"
                                    + tail_bytes + rb"(?!\w)"]
                absolute = rb"from\s+" + parent_bytes + rb"\s+import\s+(?:\([^)]*?|[^\n]*?)(?<![\w.])" + tail_bytes + rb"(?!\w)"
                self.placed.append(_PlacedModule(parent, tail.encode(), re.compile(b"|".join(relative)),
                                                 re.compile(b"|".join(outer)), re.compile(absolute)))

        # Every spelling the checks look for is found through a few short anchors, each
        # searched once per file with bytes.find (memory speed); a dozen separate scans of
        # every file cost more than everything else the prefilter does.
        needles = set(self.strong_words) | set(self.spelling_words) | set(self.context_words) | {canonical_tail}
        if len(self.shared_prefix) >= 8:  # a short shared prefix would be found everywhere
            needles.add(self.shared_prefix)
        else:
            needles |= {anchor for anchor, _ in self.modules}
        self.needles = needles
        self.base_anchors = AnchoredNeedles(needles).anchors
        # A relative import resolves inside the importing file's own top-level package (the
        # engine names modules by their path). A legacy module's last part alone (`from .manager
        # import`, `from . import manager`) names it only from inside its parent package; from
        # higher up the relative path spells the parent's last part too, and from another
        # top-level package only the absolute form can name it. So each file looks for the
        # needles its place in the tree can need (Prefilter._scope_for): for most files, fewer scans.
        self._scopes: dict[tuple[str, ...], _Scope] = {}
        self._scope_of_directory: dict[str, _Scope] = {}  # what a file's place decides depends on its directory only
        root_scope = self._place("")
        self.anchors = root_scope.needles.anchors
        self.needles_by_anchor = root_scope.needles.needles_by_anchor

    def _cheaper(self, *candidates: bytes) -> bytes:
        """The first candidate the other needles' anchors already find, else the first."""
        return next((c for c in candidates if any(anchor in c for anchor in self.base_anchors)), candidates[0])

    def _scope_for(self, path: str) -> "_Scope":
        directory = path.rpartition("/")[0]
        scope = self._scope_of_directory.get(directory)
        if scope is None:
            scope = self._scope_of_directory[directory] = self._place(directory)
        return scope

    def _place(self, directory: str) -> "_Scope":
        """What a file in `directory` ("" for the root, a file in no package) is searched for."""
        package = directory.partition("/")[0]
        where = tuple("root" if not directory else "inside" if f"{directory}/".startswith(module.directory)
                      else "above" if package == module.package else "elsewhere" for module in self.placed)
        scope = self._scopes.get(where)
        if scope is None:
            checks: list[tuple[bytes, re.Pattern[bytes], bool]] = []
            for module, place in zip(self.placed, where):
                if place in ("root", "inside"):  # a file at the root is in no package: any relative import
                    checks.append((module.tail, module.relative, True))
                elif place == "above":
                    checks.append((self._cheaper(module.tail, module.parent_last), module.outer, False))
                else:  # `from <parent> import <tail>`, through whichever of the two costs no scan
                    checks.append((self._cheaper(module.tail, module.parent.encode()), module.absolute, False))
            scope = _Scope(AnchoredNeedles(self.needles | {needle for needle, _, _ in checks}), checks)
            self._scopes[where] = scope
        return scope

    def __call__(self, data: bytes, path: str = "") -> bool:
        scope = self._scope_for(path)
        found = scope.needles.occurrences(data)
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
        for needle, pattern, at_tail in scope.checks:
            for position in found.get(needle, ()):
                end = position + len(needle)
                if at_tail and not self._may_be_relative_import(data, position, end):
                    continue
                if pattern.search(data, max(0, position - self.WINDOW), end + self.WINDOW):
                    return True
        return False

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


@dataclass(frozen=True)
class _PlacedModule:
    """A legacy module below a package, with what names it from where (see Prefilter._scope_for)."""

    parent: str
    tail: bytes
    relative: re.Pattern[bytes]  # from inside the parent package (and from a file at the root)
    outer: re.Pattern[bytes]  # from above the parent, in the same top-level package
    absolute: re.Pattern[bytes]  # `from <parent> import <tail>`, from another top-level package

    @property
    def parent_last(self) -> bytes:
        return self.parent.rpartition(".")[2].encode()

    @property
    def package(self) -> str:
        return self.parent.split(".", 1)[0]

    @property
    def directory(self) -> str:
        return self.parent.replace(".", "/") + "/"


@dataclass
class _Scope:
    """The needles a file in one place of the tree is searched for, and the checks of their occurrences."""

    needles: AnchoredNeedles
    checks: list[tuple[bytes, re.Pattern[bytes], bool]]  # needle, pattern near it, whether it is a relative tail


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
