"""StateManager: a key-value store for task results, in memory or in a JSON file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from antflow._validation import check_seconds

__all__ = ["StateManager"]

_FORMAT_VERSION = 1


class StateManager:
    """Caches values by key, with optional expiry, in memory or persisted to a JSON file.

    ``DAG.run(state=...)`` and ``Flow.run(state=...)`` use it to cache each task's result under
    the key ``"flowkit:<workflow name>:<task name>"``, so a re-run skips what already succeeded.

    Guarantees:

    * an entry whose ``ttl`` has passed is gone: ``get`` returns the default, ``has`` is false,
      ``get_all`` leaves it out (it is deleted the next time it is looked at);
    * with ``storage_path``, every change is written before the method returns, atomically: the
      new content goes to a temporary file in the same directory, is flushed to disk (fsync), then
      replaces the old file (``os.replace``). A crash mid-write leaves the previous file whole;
    * values must then be JSON-serialisable (``set`` raises ``TypeError`` otherwise, and stores
      nothing); expiry uses the wall clock (``time.time()``) so it holds across processes;
    * safe to use from several threads (a lock guards every operation).

    Args:
        storage_path: JSON file to load from (if it exists) and write to; ``None`` keeps the
            state in memory only. Missing parent directories are created on the first write.
        default_ttl: Seconds an entry lives when ``set`` gets no ``ttl``; ``None``: forever.

    Raises:
        ValueError: ``default_ttl`` is not a positive number, or the file exists but is not a
            state file written by this class.
    """

    def __init__(
        self, storage_path: str | os.PathLike[str] | None = None, default_ttl: float | None = None
    ) -> None:
        self.default_ttl = _check_ttl(default_ttl, "default_ttl")
        self.storage_path = Path(storage_path) if storage_path is not None else None
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        if self.storage_path is not None and self.storage_path.exists():
            self._entries = _load(self.storage_path)

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
        with self._lock:
            previous = self._entries.get(key)
            self._entries[key] = entry
            try:
                self._save()
            except TypeError:
                if previous is None:
                    del self._entries[key]
                else:
                    self._entries[key] = previous
                raise TypeError(
                    f"the value for key {key!r} cannot be stored in {self.storage_path}: it is "
                    "not JSON-serialisable; store JSON types (dict, list, str, int, float, bool, "
                    "None) or use an in-memory StateManager()"
                ) from None

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` if there is none or it expired."""
        with self._lock:
            entry = self._live(key)
            return default if entry is None else entry["value"]

    def get_entry(self, key: str) -> dict[str, Any] | None:
        """A copy of the whole entry (``value``, ``created_at``, ``expires_at``, ``metadata``)."""
        with self._lock:
            entry = self._live(key)
            return None if entry is None else dict(entry)

    def has(self, key: str) -> bool:
        """Whether ``key`` holds a value that has not expired."""
        with self._lock:
            return self._live(key) is not None

    def delete(self, key: str) -> bool:
        """Remove ``key``; returns whether it held a (non-expired) value."""
        with self._lock:
            existed = self._live(key) is not None
            if existed:
                del self._entries[key]
                self._save()
            return existed

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock:
            self._entries.clear()
            self._save()

    def get_all(self) -> dict[str, Any]:
        """``{key: value}`` for every entry that has not expired."""
        with self._lock:
            now = time.time()
            expired = [k for k, e in self._entries.items() if _expired(e, now)]
            for k in expired:
                del self._entries[k]
            if expired:
                self._save()
            return {k: e["value"] for k, e in self._entries.items()}

    def __repr__(self) -> str:
        where = "memory" if self.storage_path is None else str(self.storage_path)
        return f"StateManager({where}, {len(self._entries)} entries)"

    def _live(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is not None and _expired(entry, time.time()):
            del self._entries[key]
            self._save()
            return None
        return entry

    def _save(self) -> None:
        path = self.storage_path
        if path is None:
            return
        data = json.dumps({"version": _FORMAT_VERSION, "entries": self._entries})
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _expired(entry: Mapping[str, Any], now: float) -> bool:
    expires_at = entry.get("expires_at")
    return expires_at is not None and now >= expires_at


def _check_ttl(ttl: object, field: str) -> float | None:
    if ttl is None:
        return None
    return check_seconds(ttl, field, positive=True, hint="or None: no expiry")


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a flowkit state file (invalid JSON: {exc})") from None
    if (
        not isinstance(data, dict)
        or data.get("version") != _FORMAT_VERSION
        or not isinstance(data.get("entries"), dict)
    ):
        raise ValueError(
            f"{path} is not a flowkit state file (expected a version {_FORMAT_VERSION} state); "
            "point storage_path to another file or delete this one"
        )
    entries: dict[str, dict[str, Any]] = data["entries"]
    return entries
