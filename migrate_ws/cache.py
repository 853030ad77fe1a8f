"""Results of files that need no change, remembered between runs (in the spirit of black's cache).

`--check` in a pre-commit hook or CI job runs over a tree that is already migrated, where a
few hundred files still carry manual follow-ups: without a cache each run would parse and
analyse them again only to report the same follow-ups. The cache remembers, per file, what
the engine concluded when the file needed no change (nothing at all, or only follow-ups,
or "does not parse"), and is trusted only while everything that result depends on is the
same:

- the file: its modification time and size, or else (a fresh clone, a touched file) the
  digest of its bytes; a file whose bytes differ is planned again;
- the run: migrate-ws's own code, the Python version that parses, the repository root and
  everything the workers are told about the repository (configuration, steps, canonical
  exports). Any difference selects another cache file, so a stale result is never read.

Files that change are never cached: their diff is rendered on every run. A cache that
cannot be read or written is ignored; it only ever saves time.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .findings import Finding
from .model import FileOutcome, FileResult, FileStatus, Reference, Suppressed

try:
    # the module hashlib takes BLAKE2 from; hashlib itself loads OpenSSL's libcrypto, which costs
    # a hook's run 2 ms
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python without it
    from hashlib import blake2b

CACHE_FORMAT = 5
ENVIRONMENT_VARIABLE = "MIGRATE_WS_CACHE_DIR"

FileStat = tuple[int, int]  # (st_mtime_ns, st_size), taken before the file is read


def default_directory() -> Path:
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migrate-ws"


def stable_form(value: Any) -> Any:
    """A JSON-able form of `value` that is the same in every process (sets are sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__] + [[f.name, stable_form(getattr(value, f.name))]
                                         for f in dataclasses.fields(value)]
    if isinstance(value, enum.Enum):
        return stable_form(value.value)
    if isinstance(value, dict):
        return sorted(([stable_form(k), stable_form(v)] for k, v in value.items()), key=repr)
    if isinstance(value, (set, frozenset)):
        return sorted((stable_form(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [stable_form(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> list:
    # the engine's own source: results computed by other code are not reused
    package = os.path.dirname(os.path.abspath(__file__))
    files = []
    for directory, subdirectories, names in os.walk(package):
        subdirectories[:] = [name for name in subdirectories if name != "__pycache__"]
        inside = directory[len(package) + 1:].replace(os.sep, "/")
        for name in names:
            if name.endswith((".py", ".toml")):
                try:
                    info = os.stat(os.path.join(directory, name))
                except OSError:
                    continue
                files.append([f"{inside}/{name}" if inside else name, info.st_size, info.st_mtime_ns])
    return sorted(files)


def run_key(root: str, targets) -> str:
    return key_of([CACHE_FORMAT, __version__, sys.version, sys.implementation.name, root, _code_fingerprint(),
                   stable_form(targets)])


def key_of(document: Any) -> str:
    """A short key of a JSON-able document, the same in every process: a cache file's name."""
    return blake2b(json.dumps(document, sort_keys=True).encode("utf-8"), digest_size=20).hexdigest()


def digest(data: bytes) -> str:
    return blake2b(data, digest_size=20).hexdigest()


# ----- what is remembered for one file ------------------------------------------------------
#
# A file's outcome is `[]` (nothing to say) or its result with the facts the engine uses
# across files. Only results that leave the file as it is are cacheable.

CACHEABLE = (FileStatus.UNCHANGED, FileStatus.SKIPPED)


def encode_outcome(outcome: FileOutcome) -> list | None:
    """The JSON form of a file's outcome, or None when it must not be cached."""
    result = outcome.result
    if result.status not in CACHEABLE:
        return None
    return [result.status.value, result.reason, result.line, [[f.code, f.line, f.message] for f in result.findings],
            result.code, sorted(outcome.renamed_exports.items()), sorted(outcome.depends_on),
            [[r.line, r.module, r.name, r.was_module, r.was_name] for r in outcome.references],
            [[s.line, s.code, s.message] for s in result.suppressed]]


def decode_outcome(path: str, encoded: list) -> FileOutcome:
    status, reason, line, findings, code, renamed, depends, references, suppressed = encoded
    result = FileResult(path, FileStatus(status), reason=reason, line=line, code=code,
                        findings=[Finding(f_code, path, f_line, f_message) for f_code, f_line, f_message in findings],
                        suppressed=[Suppressed(*item) for item in suppressed])
    return FileOutcome(result, dict(map(tuple, renamed)), {tuple(d) for d in depends},
                       [Reference(*item) for item in references])


class ResultCache:
    """One run configuration's remembered results: path -> [mtime_ns, size, digest, outcome]."""

    def __init__(self, file: Path | None, entries: dict[str, list]) -> None:
        self.file = file
        self.entries = entries
        self.dirty = False

    @classmethod
    def load(cls, directory: Path, root: str, targets) -> "ResultCache":
        file = directory / f"results-{run_key(root, targets)}.json"
        try:
            with open(file, encoding="utf-8") as handle:
                document = json.load(handle)
            entries = document["files"] if document.get("format") == CACHE_FORMAT else {}
            if not isinstance(entries, dict):
                entries = {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        return cls(file, entries)

    def by_stat(self, path: str, stat: FileStat | None) -> tuple[bool, list | None]:
        """(hit, encoded outcome) when the file's mtime and size are the remembered ones."""
        entry = self.entries.get(path)
        if entry is None or stat is None or entry[0] != stat[0] or entry[1] != stat[1]:
            return False, None
        return True, entry[3]

    def known_digest(self, path: str) -> tuple[str, list | None] | None:
        entry = self.entries.get(path)
        if entry is None or entry[2] is None:
            return None
        return entry[2], entry[3]

    def remember(self, path: str, stat: FileStat | None, file_digest: str | None, encoded: list | None) -> None:
        if stat is None:
            self.forget(path)
            return
        entry = [stat[0], stat[1], file_digest, encoded]
        if self.entries.get(path) != entry:
            self.entries[path] = entry
            self.dirty = True

    def forget(self, path: str) -> None:
        if self.entries.pop(path, None) is not None:
            self.dirty = True

    def keep_only(self, paths: set[str]) -> None:
        for path in [p for p in self.entries if p not in paths]:
            self.forget(path)

    def save(self) -> None:
        if not self.dirty or self.file is None:
            return
        import tempfile  # only when there is something to write

        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.file.parent, prefix=".results-", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    # dumps, not dump: only the one-shot encoding is done by the C encoder (3x faster)
                    out.write(json.dumps({"format": CACHE_FORMAT, "files": self.entries}, separators=(",", ":")))
                os.replace(temporary, self.file)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            return  # a cache that cannot be written only costs time on the next run
        self.dirty = False
