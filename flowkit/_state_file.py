"""The file behind a file-backed StateManager: a snapshot and a journal in one JSON Lines file.

Layout (version 2), one JSON object per line, each line ending with ``"\\n"``::

    {"version": 2, "id": "<random hex>"}       the header; a new id each time the file is rewritten
    {"op": "set", "key": ..., "value": ..., "created_at": ..., "expires_at": ..., "metadata": ...}
    {"op": "del", "key": ...}

The state is the lines applied in order. A change appends one line and flushes it to disk
(``fdatasync``, ``fsync`` where there is none), so a change costs the same however many entries
there are. When the file has grown past twice the size of the live entries' lines (and past
``_REWRITE_MIN_BYTES``), the next change rewrites it: the header and one ``set`` line per live
entry go to a temporary file, which is flushed and then replaces the file (``os.replace``),
and the directory is flushed so that the rename itself is durable. Appended bytes thus pay for
the rewrites: the bytes written per change stay bounded (amortised).

Crash safety: a line counts only once its ``"\\n"`` is there. A writer killed mid-append leaves a
torn last line, which readers ignore and the next writer cuts off before appending. A writer
killed mid-rewrite leaves the previous file whole, and a temporary file that the next rewrite
(or the next StateManager opened on the file) removes.

Sharing: every read and change holds a lock on ``<file>.lock`` beside the state file (shared to
read, exclusive to change; ``fcntl.flock``, so it also works between StateManagers of one
process). Under it a reader brings its copy up to date, reading only the lines appended since it
last looked (the header's id says whether the file was rewritten meanwhile; then it reads the
whole file again); a writer does the same and then appends its own change. So no writer loses
another's entries, and each reader sees every change made before it took the lock. Temporary
files exist only while their writer holds the exclusive lock, so any found under the lock are
left by a writer that died.

Version 1 (one JSON object ``{"version": 1, "entries": {...}}``, values as plain JSON) still
loads; the first StateManager able to take the lock rewrites it as version 2.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._state_codec import KEPT_TYPES, Refused, decode_hook, encode

__all__ = ["Changes", "Entry", "StateFile"]

_VERSION = 2
_LEGACY_VERSION = 1
#: A file smaller than this is never rewritten: a rewrite of a small file would not pay off.
_REWRITE_MIN_BYTES = 64 * 1024
_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate line endings

Entry = dict[str, Any]  # {"value", "created_at", "expires_at", "metadata"}

if sys.platform == "win32":  # pragma: no cover - not exercised by our test suite
    import msvcrt

    def _lock(fd: int, exclusive: bool) -> None:
        # msvcrt has no shared lock: readers take it exclusively too. LK_LOCK gives up after
        # 10 attempts a second apart; keep waiting, as flock does.
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError as exc:
                if exc.errno != errno.EDEADLOCK:
                    raise

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, exclusive: bool) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@dataclass
class Changes:
    """What a read found on disk that the reader had not seen, to apply in order."""

    #: The file was read whole (first read, rewritten by another writer, removed): forget
    #: every entry before applying ``entries``.
    reset: bool = False
    #: ``(key, entry)`` set, or ``(key, None)`` deleted.
    entries: list[tuple[str, Entry | None]] = field(default_factory=list)


class StateFile:
    """One StateManager's view of its file: the lines of the live entries, and how far it read.

    Not thread-safe: the StateManager calls it under its own lock. ``read`` and ``writing``
    take the file lock; ``put``, ``delete`` and ``clear`` must be called inside ``writing``.
    """

    def __init__(self, path: Path) -> None:
        _check_path(path)
        self.path = path
        self._os_path = os.fspath(path)  # str paths: the hot calls skip pathlib
        self.lock_path = os.fspath(path.with_name(path.name + ".lock"))
        self._temp = re.compile(
            # ours (name, pid, random), and tempfile.mkstemp's of flowkit before version 2
            rf"\.{re.escape(path.name)}\.(\d+\.[0-9a-f]{{8}}|[a-z0-9_]{{8}})\.tmp"
        )
        # Invariant: ``_lines`` holds, for each live key of the file as this object last read or
        # wrote it, the line that set it and its expiry; ``_end`` is the offset just past the
        # last complete line applied; ``_header`` the header line read or written then (None:
        # no version 2 file was read, so the next read reads the whole file).
        self._lines: dict[str, tuple[bytes, float | None]] = {}
        self._live_bytes = 0  # sum of the lengths in _lines
        self._end = 0
        self._line_no = 0  # lines applied, for error messages
        self._header: bytes | None = None

    def open(self) -> Changes:
        """Load the file, removing temporary files of dead writers, and upgrade a version 1 file.

        Without permission to create the lock file (a read-only directory), loads unlocked.
        """
        if not self.path.parent.is_dir():
            return Changes()
        with self._locked(exclusive=True, required=False) as locked:
            changes = self._refresh()
            if locked:
                self._remove_stale_temps()
                if self._header is None and self.path.exists():
                    self._rewrite()
            return changes

    def read(self) -> Changes:
        """What changed on disk since this object last read or wrote it."""
        with self._locked(exclusive=False, required=False):
            return self._refresh()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Changes]:
        """Hold the exclusive lock; yields what changed on disk, to apply before changing."""
        with self._locked(exclusive=True, required=True):
            yield self._refresh()

    def put(self, key: str, line: bytes, expires_at: float | None) -> None:
        """Write the ``set`` line ``line`` (from :func:`set_line`) for ``key``."""
        previous = self._lines.get(key)
        self._lines[key] = (line, expires_at)
        self._live_bytes += len(line) - (0 if previous is None else len(previous[0]))
        try:
            self._append_or_rewrite(line)
        except BaseException:
            self._forget(key)
            if previous is not None:
                self._lines[key] = previous
                self._live_bytes += len(previous[0])
            raise

    def delete(self, key: str) -> None:
        """Write that ``key`` is gone."""
        previous = self._forget(key)
        try:
            self._append_or_rewrite(_line({"op": "del", "key": key}))
        except BaseException:
            if previous is not None:
                self._lines[key] = previous
                self._live_bytes += len(previous[0])
            raise

    def clear(self) -> None:
        """Write that every key is gone (a rewrite with no entry)."""
        previous, self._lines, self._live_bytes = self._lines, {}, 0
        try:
            self._rewrite()
        except BaseException:
            self._lines, self._live_bytes = previous, sum(len(v[0]) for v in previous.values())
            raise

    def _forget(self, key: str) -> tuple[bytes, float | None] | None:
        previous = self._lines.pop(key, None)
        if previous is not None:
            self._live_bytes -= len(previous[0])
        return previous

    @contextlib.contextmanager
    def _locked(self, exclusive: bool, required: bool) -> Iterator[bool]:
        """Hold the file lock; yields whether it is held (``required=False``: it may not be,
        when the lock file cannot be created or opened)."""
        try:
            fd = _open_lock(self.lock_path, create_directory=required)
        except OSError as exc:
            if required or exc.errno not in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            yield False
            return
        try:
            _lock(fd, exclusive)
            try:
                yield True
            finally:
                _unlock(fd)
        finally:
            os.close(fd)

    def _refresh(self) -> Changes:
        try:
            fd = os.open(self._os_path, os.O_RDONLY | _BINARY)
        except FileNotFoundError:
            if self._header is None and not self._lines:
                return Changes()
            self._reset()
            return Changes(reset=True)
        try:
            size = os.fstat(fd).st_size
            header = self._header
            if header is not None and size >= self._end and _read(fd, 0, len(header)) == header:
                return Changes(entries=self._apply(_read(fd, self._end, size - self._end)))
            data = _read(fd, 0, size)
        finally:
            os.close(fd)
        return self._load(data)

    def _reset(self) -> None:
        self._lines, self._live_bytes, self._end, self._line_no = {}, 0, 0, 0
        self._header = None

    def _load(self, data: bytes) -> Changes:
        self._reset()
        first = data[: data.find(b"\n") + 1]
        header = _parse_header(first) if first else None
        if header is None:
            return Changes(reset=True, entries=self._load_legacy(data))
        if header.get("version") != _VERSION:
            raise ValueError(
                f"{self.path} is a flowkit state file of version {header.get('version')!r}; this "
                f"flowkit reads versions {_LEGACY_VERSION} and {_VERSION}: upgrade flowkit, or "
                "point storage_path to another file"
            )
        self._header, self._end, self._line_no = first, len(first), 1
        return Changes(reset=True, entries=self._apply(data[len(first) :]))

    def _apply(self, data: bytes) -> list[tuple[str, Entry | None]]:
        """Apply the complete lines of ``data`` (read at ``_end``); a torn last one waits."""
        changes: list[tuple[str, Entry | None]] = []
        start = 0
        while (stop := data.find(b"\n", start)) >= 0:
            line = data[start : stop + 1]
            self._line_no += 1
            key, entry = self._parse_op(line)
            if entry is None:
                self._forget(key)
            else:
                previous = self._lines.get(key)
                self._lines[key] = (line, entry["expires_at"])
                self._live_bytes += len(line) - (0 if previous is None else len(previous[0]))
            changes.append((key, entry))
            start = stop + 1
        self._end += start
        return changes

    def _parse_op(self, line: bytes) -> tuple[str, Entry | None]:
        try:
            op = json.loads(line, object_hook=decode_hook)
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise self._corrupt(f"line {self._line_no} is not valid: {exc}") from None
        if not isinstance(op, dict) or op.get("op") not in ("set", "del"):
            raise self._corrupt(f"line {self._line_no} is not a set or del record: {op!r:.200}")
        key = op.get("key")
        if not isinstance(key, str):
            raise self._corrupt(f"line {self._line_no}: the key {key!r:.200} is not a str")
        if op["op"] == "del":
            return key, None
        return key, _check_entry(op, f"line {self._line_no}", self._corrupt)

    def _load_legacy(self, data: bytes) -> list[tuple[str, Entry | None]]:
        """A version 1 file: values are plain JSON (no tagged types)."""
        try:
            state = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"{self.path} is not a flowkit state file (invalid JSON: {exc}); point "
                "storage_path to another file or delete this one"
            ) from None
        if (
            not isinstance(state, dict)
            or state.get("version") != _LEGACY_VERSION
            or not isinstance(state.get("entries"), dict)
        ):
            raise ValueError(
                f"{self.path} is not a flowkit state file (expected a version {_VERSION} or "
                f"{_LEGACY_VERSION} state); point storage_path to another file or delete this one"
            )
        changes: list[tuple[str, Entry | None]] = []
        for key, raw in state["entries"].items():
            entry = _check_entry(raw, f"entry {key!r}", self._corrupt)
            self._lines[key] = (set_line(key, entry, self.path), entry["expires_at"])
            changes.append((key, entry))
        self._live_bytes = sum(len(line) for line, _ in self._lines.values())
        return changes

    def _corrupt(self, what: str) -> ValueError:
        return ValueError(
            f"{self.path} is not a valid flowkit state file: {what}; it was not written by "
            "flowkit's StateManager (or was edited): point storage_path to another file, or "
            "repair or delete this one"
        )

    def _append_or_rewrite(self, line: bytes) -> None:
        # put() has already counted ``line`` in _live_bytes; delete() has already removed the key.
        grown = self._end + len(line)
        if self._header is None or grown > max(_REWRITE_MIN_BYTES, 2 * self._live_bytes):
            self._rewrite()
            return
        fd = os.open(self._os_path, os.O_WRONLY | os.O_APPEND | _BINARY)
        try:
            if os.fstat(fd).st_size > self._end:
                os.ftruncate(fd, self._end)  # the torn last line of a writer that died
            _write(fd, line)
            _sync_data(fd)
        finally:
            os.close(fd)
        self._end = grown
        self._line_no += 1

    def _rewrite(self) -> None:
        """Replace the file by the header and the live entries' lines, atomically."""
        self._remove_stale_temps()
        now = time.time()
        live = {k: v for k, v in self._lines.items() if v[1] is None or now < v[1]}
        header = _line({"version": _VERSION, "id": secrets.token_hex(16)})
        data = header + b"".join(line for line, _ in live.values())
        directory = self.path.parent
        temp = directory / f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o600)
        try:
            try:
                _write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _sync_directory(directory)
        self._lines, self._header, self._end = live, header, len(data)
        self._live_bytes = len(data) - len(header)
        self._line_no = 1 + len(live)

    def _remove_stale_temps(self) -> None:
        """Remove temporary files of writers that died (call with the exclusive lock held)."""
        for name in os.listdir(self.path.parent):
            if self._temp.fullmatch(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path.parent / name)


def set_line(key: str, entry: Entry, path: Path) -> bytes:
    """The journal line that sets ``key`` to ``entry``; ``TypeError`` if a part of the value
    or metadata would not come back unchanged (see :mod:`flowkit._state_codec`)."""
    parts = {}
    for part in ("value", "metadata"):
        try:
            parts[part] = encode(entry[part])
        except Refused as exc:
            where = part + "".join(reversed(exc.where))
            raise TypeError(
                f"cannot store key {key!r} in {path}: at {where}, {exc.reason}. The file store "
                f"keeps {KEPT_TYPES} (nested as you like; dict keys of any of these hashable "
                "types); convert the value, or use an in-memory StateManager()"
            ) from None
    return _line(
        {
            "op": "set",
            "key": key,
            "value": parts["value"],
            "created_at": entry["created_at"],
            "expires_at": entry["expires_at"],
            "metadata": parts["metadata"],
        }
    )


def _line(record: dict[str, Any]) -> bytes:
    # ensure_ascii: no raw newline can appear inside a line, and lone surrogates survive.
    return json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"


def _parse_header(line: bytes) -> dict[str, Any] | None:
    try:
        header = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(header, dict) and "id" in header and "entries" not in header:
        return header
    return None


def _check_entry(raw: Any, where: str, corrupt: Callable[[str], ValueError]) -> Entry:
    """The entry ``raw`` holds, if it has the shape StateManager writes; else raise
    ``corrupt(what is wrong)``."""
    if not isinstance(raw, dict):
        raise corrupt(f"{where} is a {type(raw).__name__}, not an object")
    missing = {"value", "created_at", "expires_at", "metadata"} - raw.keys()
    if missing:
        raise corrupt(f"{where} has no {', '.join(sorted(missing))}")
    created, expires, metadata = raw["created_at"], raw["expires_at"], raw["metadata"]
    if not _is_number(created):
        raise corrupt(f"{where}: created_at is {created!r:.100}, not a number")
    if expires is not None and not _is_number(expires):
        raise corrupt(f"{where}: expires_at is {expires!r:.100}, not a number or null")
    if not isinstance(metadata, dict):
        raise corrupt(f"{where}: metadata is {metadata!r:.100}, not an object")
    return {
        "value": raw["value"],
        "created_at": created,
        "expires_at": expires,
        "metadata": metadata,
    }


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_path(path: Path) -> None:
    """Fail now, not at the first write, when ``path`` can never be a file."""
    if path.is_dir():
        raise ValueError(
            f"storage_path {path} is a directory: name a file, e.g. {path / 'state.json'}"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(
                    f"storage_path {path} cannot be created: {parent} is a file, not a "
                    "directory; choose a path in a directory (or move that file away)"
                )
            return


def _open_lock(path: str, create_directory: bool) -> int:
    flags = os.O_RDWR | os.O_CREAT | _BINARY
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:
        if not create_directory:
            raise
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, flags, 0o600)


def _read(fd: int, offset: int, size: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    chunks = []
    while size > 0 and (chunk := os.read(fd, size)):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_data(fd: int) -> None:
    # An appended line needs its bytes and the new size on disk, not the times: fdatasync
    # (Linux) does that in one flush; macOS and Windows have only fsync.
    sync = getattr(os, "fdatasync", None) or os.fsync
    sync(fd)


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where a directory can be opened: not Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
