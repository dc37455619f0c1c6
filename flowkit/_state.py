"""StateManager: a key-value store for task results, in memory or in a file."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from antflow._validation import check_seconds

from ._state_file import Changes, Entry, StateFile, set_line

__all__ = ["StateManager"]


class StateManager:
    """Caches values by key, with optional expiry, in memory or persisted to a file.

    ``DAG.run(state=...)`` and ``Flow.run(state=...)`` use it to cache each task's result under
    the key ``"flowkit:<workflow name>:<task name>"``, so a re-run skips what already succeeded.

    Guarantees:

    * an entry whose ``ttl`` has passed is gone: ``get`` returns the default, ``has`` is false,
      ``get_all`` leaves it out (it is dropped from memory the next time it is looked at, and
      from the file the next time the file is rewritten);
    * with ``storage_path``, every change is on disk before the method returns (appended to the
      file as one line and flushed: ``fdatasync``, or ``fsync`` where there is none), and costs
      the same however many entries there are; the file is rewritten whole, atomically (temp
      file, fsync, ``os.replace``, fsync of the directory), only once it has grown past twice
      its live entries. A crash at any moment (even ``SIGKILL``) leaves a file that loads, with
      every change that returned; a change cut off mid-write is ignored;
    * a value read back from the file is equal to the one stored and of the same type, nested
      values included: JSON's types, ``tuple``, ``dict`` with keys of any of these types,
      ``set``, ``frozenset``, ``bytes``, ``bytearray``, ``datetime``/``date``/``time`` (naive
      or with a fixed offset), ``timedelta``, ``Decimal``. ``set`` raises ``TypeError`` for
      anything else (subclasses too: a namedtuple would come back a tuple), naming the key and
      where in the value, and stores nothing. Expiry uses the wall clock (``time.time()``) so
      it holds across processes;
    * several StateManagers, in one process or in several, may share one file: each change
      holds an exclusive lock on ``<storage_path>.lock`` (``fcntl.flock``; ``msvcrt.locking``
      on Windows) and applies only itself to what is on disk, so no writer loses another's
      entries; each read holds the lock shared and first applies what others wrote since;
    * safe to use from several threads (a lock guards every operation).

    Args:
        storage_path: File to load from (if it exists) and write to; ``None`` keeps the state
            in memory only. Missing parent directories are created on the first write.
        default_ttl: Seconds an entry lives when ``set`` gets no ``ttl``; ``None``: forever.

    Raises:
        ValueError: ``default_ttl`` is not a positive number; ``storage_path`` is a directory
            or lies under a regular file; or the file exists but is not a state file written by
            this class (the message says what is wrong and where).
    """

    def __init__(
        self, storage_path: str | os.PathLike[str] | None = None, default_ttl: float | None = None
    ) -> None:
        self.default_ttl = _check_ttl(default_ttl, "default_ttl")
        self.storage_path = Path(storage_path) if storage_path is not None else None
        self._lock = threading.Lock()
        # Invariant: with a file, _entries is what the file held when _file last read or wrote
        # it (plus, for a key set here, the very objects given to set), less expired entries.
        self._entries: dict[str, Entry] = {}
        self._file = None if self.storage_path is None else StateFile(self.storage_path)
        if self._file is not None:
            self._apply(self._file.open())

    def set(
        self,
        key: str,
        value: Any,
        ttl: float | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Store ``value`` under ``key`` (replacing any previous entry) for ``ttl`` seconds.

        ``ttl=None`` uses ``default_ttl``. ``metadata`` is kept beside the value (see
        :meth:`get_entry`).
        """
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {key!r}")
        ttl = _check_ttl(ttl, "ttl")
        if ttl is None:
            ttl = self.default_ttl
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(f"metadata must be a dict or None, got {metadata!r}")
        now = time.time()
        entry = {
            "value": value,
            "created_at": now,
            "expires_at": None if ttl is None else now + ttl,
            "metadata": dict(metadata or {}),
        }
        # Encoded before any lock is taken: a value the file cannot keep changes nothing.
        line = None if self.storage_path is None else set_line(key, entry, self.storage_path)
        with self._changing() as file:
            if file is not None and line is not None:
                file.put(key, line, entry["expires_at"])
            self._entries[key] = entry

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` if there is none or it expired."""
        with self._lock:
            self._catch_up()
            entry = self._live(key)
            return default if entry is None else entry["value"]

    def get_entry(self, key: str) -> dict[str, Any] | None:
        """A copy of the whole entry (``value``, ``created_at``, ``expires_at``, ``metadata``)."""
        with self._lock:
            self._catch_up()
            entry = self._live(key)
            return None if entry is None else dict(entry)

    def has(self, key: str) -> bool:
        """Whether ``key`` holds a value that has not expired."""
        with self._lock:
            self._catch_up()
            return self._live(key) is not None

    def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it held a (non-expired) value."""
        with self._changing() as file:
            existed = self._live(key) is not None
            if existed:
                if file is not None:
                    file.delete(key)
                del self._entries[key]
            return existed

    def clear(self) -> None:
        """Remove every entry."""
        with self._changing() as file:
            if file is not None:
                file.clear()
            self._entries.clear()

    def get_all(self) -> dict[str, Any]:
        """``{key: value}`` for every entry that has not expired."""
        with self._lock:
            self._catch_up()
            now = time.time()
            for k in [k for k, e in self._entries.items() if _expired(e, now)]:
                del self._entries[k]
            return {k: e["value"] for k, e in self._entries.items()}

    def __repr__(self) -> str:
        where = "memory" if self.storage_path is None else str(self.storage_path)
        return f"StateManager({where}, {len(self._entries)} entries)"

    def _catch_up(self) -> None:
        """Apply what other writers put in the file since we last looked (hold ``_lock``)."""
        if self._file is not None:
            self._apply(self._file.read())

    @contextlib.contextmanager
    def _changing(self) -> Iterator[StateFile | None]:
        """Hold the lock (and the file's exclusive lock), with the file's changes applied."""
        with self._lock:
            if self._file is None:
                yield None
                return
            with self._file.writing() as changes:
                self._apply(changes)
                yield self._file

    def _apply(self, changes: Changes) -> None:
        if changes.reset:
            self._entries.clear()
        for key, entry in changes.entries:
            if entry is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = entry

    def _live(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None and _expired(entry, time.time()):
            del self._entries[key]
            return None
        return entry


def _expired(entry: Mapping[str, Any], now: float) -> bool:
    expires_at = entry.get("expires_at")
    return expires_at is not None and now >= expires_at


def _check_ttl(ttl: object, field: str) -> float | None:
    if ttl is None:
        return None
    return check_seconds(ttl, field, positive=True, hint="or None: no expiry")
