"""Atomic file writes with a journal that can put every touched file back exactly.

Each write goes to a temporary file in the target's own directory, is flushed to disk
and then renamed over the target with `os.replace`, so a reader (or a crash) sees either
the old or the new content, never half of it. Before the first change to a path, the
journal records its original bytes and permission bits (or that it did not exist);
`Journal.restore()` puts all of them back, removes files that did not exist before and
any temporary file left behind, so an interrupted or failed `--apply` leaves no trace.
A file another program changed after the journal last wrote it is the exception: it is
left as that program wrote it (`Journal.left_alone`), never overwritten.

This module knows nothing about git or the terminal.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import stat
from dataclasses import dataclass
from typing import Callable

TEMP_SUFFIX = ".migrate-ws.tmp"

# Test seam (see migrate_ws/applying/test_pause.py): called with the target's path once its
# temporary file is complete, just before the rename. None outside tests.
before_replace: "Callable[[str], None] | None" = None

_counter = itertools.count()


class ReadOnlyFile(PermissionError):
    """The target exists and has no write permission: it is not overwritten."""


@dataclass(frozen=True)
class Original:
    existed: bool
    data: bytes = b""
    mode: int | None = None  # permission bits (stat.S_IMODE)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def read_or_none(path: str | os.PathLike) -> bytes | None:
    """The file's bytes, or None when it cannot be read (missing, a directory, no permission)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def fsync_directory(directory: str | os.PathLike) -> None:
    """Make the entries of `directory` (a rename, a new or removed file) durable, where the file system can."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not support it; the rename itself is still atomic
    finally:
        os.close(fd)


def _check_writable(path: str, info: os.stat_result) -> None:
    bits = stat.S_IMODE(info.st_mode)
    if not bits & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise ReadOnlyFile(errno.EACCES, "file is read-only", path)


# A file name may hold 255 bytes on the usual file systems (ext4, xfs, btrfs, tmpfs; eCryptfs
# 143): the temporary name of a target whose own name is near that limit must be shortened.
NAME_MAX = 255
_SAFE_NAME = 143  # every file system in use takes a name this long without asking


def name_max(directory: str) -> int:
    try:
        return os.pathconf(directory or ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX


def fit_name(name: str, budget: int) -> str:
    """`name`, cut to at most `budget` bytes (as the file system stores it) at a character boundary."""
    data = os.fsencode(name)
    if len(data) <= budget:
        return name
    cut = max(budget, 0)
    while 0 < cut < len(data) and data[cut] & 0xC0 == 0x80:  # not inside a UTF-8 sequence
        cut -= 1
    return os.fsdecode(data[:cut])


def temp_path_for(path: str) -> str:
    """`.<name>.<pid>-<n>.migrate-ws.tmp` next to `path`; `<name>` is shortened as far as the
    directory's name limit requires, so the temporary file can be made whatever the target's name."""
    directory, name = os.path.split(path)
    tail = f".{os.getpid()}-{next(_counter)}{TEMP_SUFFIX}"
    if len(os.fsencode(name)) + 1 + len(tail) > _SAFE_NAME:
        name = fit_name(name, name_max(directory) - 1 - len(tail))
    return os.path.join(directory, f".{name}{tail}")


_TEMP_OWNER = re.compile(r"\.(\d+)-\d+" + re.escape(TEMP_SUFFIX) + "$")


def temp_file_pid(name: str) -> int | None:
    """The pid of the process that made `name`, when it is a temporary name `temp_path_for` gives
    (None for any other name: only this module's temporary files are ever recognised)."""
    if not name.startswith(".") or not name.endswith(TEMP_SUFFIX):
        return None
    match = _TEMP_OWNER.search(name)
    return int(match.group(1)) if match else None


_STAT = object()  # atomic_write: stat the target itself


def atomic_write(path: str | os.PathLike, data: bytes, mode: int | None = None,
                 temps: set[str] | None = None, directories: set[str] | None = None, sync: bool = True,
                 existing: "os.stat_result | None | object" = _STAT) -> None:
    """Replace `path` with `data` atomically; `mode` defaults to the file's current mode.

    `temps` (if given) holds the temporary file's name for as long as it may exist, so
    whoever owns the set can remove it after an interruption at any point. With
    `directories`, the directory is added to it for one fsync later (`Journal.flush`)
    instead of being synced after every file. Without `sync` the data is not synced before the
    rename: whoever writes so must sync the file later (`Journal.flush`) and be able to restore
    the original should the machine stop before that. `existing` is the target's `os.stat`
    result (None: it does not exist) when the caller has just taken it.
    """
    target = os.fspath(path)
    if existing is _STAT:
        try:
            existing = os.stat(target)
        except FileNotFoundError:
            existing = None
    assert existing is None or isinstance(existing, os.stat_result)
    if mode is None:
        mode = stat.S_IMODE(existing.st_mode) if existing is not None else _default_mode()
    temp = temp_path_for(target)
    if temps is not None:
        temps.add(temp)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if existing is not None and (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
                try:  # keep the owner where allowed (the new file is a new inode)
                    os.fchown(fd, existing.st_uid, existing.st_gid)
                except OSError:
                    pass
            os.fchmod(fd, mode)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if before_replace is not None:
            before_replace(target)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if temps is not None:
            temps.discard(temp)
        raise
    if temps is not None:
        temps.discard(temp)
    if directories is not None:
        directories.add(os.path.dirname(target) or ".")
    else:
        fsync_directory(os.path.dirname(target) or ".")


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # a full disk often shows first here, when the data reaches it: say which file
        raise type(exc)(exc.errno, exc.strerror, path) from None
    finally:
        os.close(fd)


class Journal:
    """Every path changed through it, with its original state, in the order first touched."""

    def __init__(self, deferred_sync: bool = False) -> None:
        self._originals: dict[str, Original] = {}
        self._temps: set[str] = set()
        self._created_dirs: list[str] = []
        self._unsynced: set[str] = set()  # directories written in since the last flush
        # With `deferred_sync` (the caller keeps the originals on disk until it is done, so a
        # crash is undone from there), files are synced at `flush`, many at once, and only
        # the writes marked durable: a file written again by a later step need not be.
        self.deferred_sync = deferred_sync
        self._unsynced_files: set[str] = set()
        self._written: dict[str, bytes | None] = {}  # what this journal last wrote to each file (None: deleted)
        self.left_alone: list[str] = []  # files restore() did not put back: another program changed them

    # ----- recording ---------------------------------------------------------------------

    def remember(self, path: str | os.PathLike, content: bytes | None = None) -> Original:
        """Record `path`'s current state (once); later writes do not change the record.

        `content`: the file's bytes, read by the caller just before (not read again)."""
        key = os.path.abspath(os.fspath(path))
        original = self._originals.get(key)
        if original is not None:
            return original
        try:
            info = os.lstat(key)
        except FileNotFoundError:
            original = Original(existed=False)
        else:
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
                raise IsADirectoryError(errno.EINVAL, "not a regular file", key)
            if content is None:
                with open(key, "rb") as handle:
                    content = handle.read()
            original = Original(existed=True, data=content, mode=stat.S_IMODE(info.st_mode))
        self._originals[key] = original
        return original

    def original(self, path: str | os.PathLike) -> Original | None:
        return self._originals.get(os.path.abspath(os.fspath(path)))

    def last_written(self, path: str | os.PathLike) -> tuple[bool, bytes | None]:
        """(True, what this journal last wrote to `path`, None if it deleted it), or (False, None)."""
        key = os.path.abspath(os.fspath(path))
        return (key in self._written, self._written.get(key))

    # ----- changing files ----------------------------------------------------------------

    def write(self, path: str | os.PathLike, data: bytes, mode: int | None = None, durable: bool = True) -> None:
        """Write `data` atomically, keeping the file's mode unless `mode` is given.

        A read-only file is not overwritten (`ReadOnlyFile`). With `deferred_sync`, a `durable`
        write is synced at the next `flush`, and one that is not (a state a later write replaces)
        is never synced.
        """
        key = os.path.abspath(os.fspath(path))
        self._make_parents(os.path.dirname(key))
        original = self.remember(key)
        try:
            info = os.stat(key)
        except FileNotFoundError:
            info = None
        if info is not None:
            _check_writable(key, info)
        if mode is None:
            mode = stat.S_IMODE(info.st_mode) if info is not None else (original.mode or _default_mode())
        atomic_write(key, data, mode, self._temps, self._unsynced, sync=not self.deferred_sync, existing=info)
        self._written[key] = data
        if self.deferred_sync:
            if durable:
                self._unsynced_files.add(key)
            else:
                self._unsynced_files.discard(key)

    def delete(self, path: str | os.PathLike) -> None:
        key = os.path.abspath(os.fspath(path))
        original = self.remember(key)
        if not original.existed:
            return
        try:
            info = os.stat(key)
        except FileNotFoundError:
            return
        _check_writable(key, info)
        os.unlink(key)
        self._written[key] = None
        self._unsynced_files.discard(key)
        self._unsynced.add(os.path.dirname(key))

    def flush(self) -> None:
        """Sync the files whose sync was deferred, then every directory written in since the last
        flush (once each): the contents and the renames are durable."""
        if self._unsynced_files:
            files = sorted(self._unsynced_files)
            if len(files) < 16:
                for file in files:
                    _fsync_file(file)
            else:
                from concurrent.futures import ThreadPoolExecutor

                # the device takes many syncs at once far faster than one after the other
                with ThreadPoolExecutor(max_workers=8) as pool:
                    list(pool.map(_fsync_file, files))
            self._unsynced_files.clear()
        for directory in sorted(self._unsynced):
            fsync_directory(directory)
        self._unsynced.clear()

    def _make_parents(self, directory: str) -> None:
        missing = []
        current = directory
        while current and not os.path.isdir(current):
            missing.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for folder in reversed(missing):
            os.mkdir(folder)
            self._created_dirs.append(folder)

    # ----- undoing -----------------------------------------------------------------------

    def restore(self) -> list[str]:
        """Put every recorded path back as it was; return what could not be restored.

        Files already equal to their original (bytes and mode) are left alone, so their
        timestamps do not change either. So is a file that is neither what this journal last
        wrote there nor its original: another program wrote it in the meantime, and its bytes
        are kept (listed in `left_alone`).
        """
        problems: list[str] = []
        for temp in sorted(self._temps):
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            except OSError as exc:
                problems.append(f"{temp}: cannot remove temporary file: {exc.strerror}")
        self._temps.clear()
        for key in reversed(list(self._originals)):
            original = self._originals[key]
            try:
                if key in self._written and self._changed_by_another(key, original, self._written[key]):
                    self.left_alone.append(key)
                    del self._originals[key]
                    continue
                self._restore_one(key, original)
            except OSError as exc:
                problems.append(f"{key}: cannot restore: {exc.strerror or exc}")
        for folder in reversed(self._created_dirs):
            try:
                os.rmdir(folder)
            except FileNotFoundError:
                pass
            except OSError as exc:
                problems.append(f"{folder}: cannot remove directory: {exc.strerror}")
        self._created_dirs.clear()
        if not problems:
            self._originals.clear()
            self._written.clear()
        return problems

    @staticmethod
    def _changed_by_another(key: str, original: Original, last: bytes | None) -> bool:
        """Whether the file is neither what this journal last wrote there nor its original: someone
        else wrote it since (their bytes are kept)."""
        try:
            info = os.lstat(key)
        except FileNotFoundError:
            current = None
        else:
            if not stat.S_ISREG(info.st_mode):
                return False
            current = read_or_none(key)
            if current is None:
                return False  # cannot be read: restored as usual
        return current != last and current != (original.data if original.existed else None)

    def _restore_one(self, key: str, original: Original) -> None:
        try:
            info = os.lstat(key)
        except FileNotFoundError:
            info = None
        if not original.existed:
            if info is not None:
                os.unlink(key)
            return
        if info is not None and stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == original.mode:
            try:
                with open(key, "rb") as handle:
                    if handle.read() == original.data:
                        return
            except OSError:
                pass
        atomic_write(key, original.data, original.mode, self._temps)

    def discard(self) -> None:
        """Forget the records (the changes are kept)."""
        self._originals.clear()
        self._written.clear()
        self._temps.clear()
        self._created_dirs.clear()
