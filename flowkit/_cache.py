"""TaskCache: a function's results kept by its arguments, each for a while (TTL)."""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, Protocol, TypeVar, overload

from ._state import _check_ttl
from ._task import Task

__all__ = ["TaskCache"]

P = ParamSpec("P")
R = TypeVar("R")

_MISSING = object()

#: The clock of the TTLs (a module attribute, so a test can replace it).
_now = time.monotonic


class _Decorator(Protocol):
    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...


class TaskCache:
    """Results of functions, keyed by the function and its arguments, each kept ``ttl`` seconds.

    Decorate a function (or a :class:`~flowkit.Task`'s function) with :meth:`cached` and
    calls with arguments seen before return the stored result without calling it::

        cache = TaskCache(default_ttl=60)

        @cache.cached
        def lookup(user_id: int) -> dict: ...

    Guarantees:

    * a result is returned from the cache only while its TTL has not passed (``time.monotonic``);
      an expired entry is dropped when it is next looked at;
    * a call that raises stores nothing (the next call runs the function again);
    * safe to use from several threads: a lock guards the entries. The function itself runs
      outside the lock, so two threads that miss the same key at once may both call it (the
      last result stored wins);
    * arguments must be hashable (they form the key): an unhashable argument raises
      ``TypeError`` naming it, before the function is called.

    Args:
        default_ttl: Seconds a result lives when :meth:`cached`/:meth:`set` get no ``ttl``;
            ``None``: until :meth:`clear`/:meth:`invalidate`.
        maxsize: At most this many entries; when full, the oldest entry is dropped first.
            ``None``: no limit.

    Raises:
        ValueError: ``default_ttl`` is not a positive number or ``maxsize`` is not a positive
            int (at construction).
    """

    def __init__(self, default_ttl: float | None = None, maxsize: int | None = None) -> None:
        self.default_ttl = _check_ttl(default_ttl, "default_ttl")
        if maxsize is not None and (
            isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1
        ):
            raise ValueError(f"maxsize must be an int >= 1 or None (no limit), got {maxsize!r}")
        self.maxsize = maxsize
        self._lock = threading.Lock()
        # Insertion-ordered: the first entry is the oldest (set again moves a key to the end).
        self._entries: dict[Hashable, tuple[Any, float | None]] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        """The key of a call: the function's module and qualified name, the positional
        arguments, and the keyword arguments sorted by name.

        Raises:
            TypeError: an argument is not hashable.
        """
        name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"
        key = (name, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:
            bad = next(a for a in (*args, *kwargs.values()) if not _hashable(a))
            raise TypeError(
                f"TaskCache keys calls by their arguments, but {bad!r} (an argument of "
                f"{name}) is not hashable; pass a hashable value (a tuple, not a list)"
            ) from None
        return key

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The result stored under ``key``, or ``default`` if there is none or it expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            value, expires_at = entry
            if expires_at is not None and _now() >= expires_at:
                del self._entries[key]
                return default
            return value

    def set(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``None``: ``default_ttl``)."""
        ttl = _check_ttl(ttl, "ttl")
        if ttl is None:
            ttl = self.default_ttl
        expires_at = None if ttl is None else _now() + ttl
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (value, expires_at)
            if self.maxsize is not None and len(self._entries) > self.maxsize:
                del self._entries[next(iter(self._entries))]

    def invalidate(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Forget the result of ``func(*args, **kwargs)``; returns whether one was stored."""
        key = self.key(_unwrap(func), args, kwargs)
        with self._lock:
            return self._entries.pop(key, None) is not None

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """The number of entries, expired ones not yet dropped included."""
        with self._lock:
            return len(self._entries)

    @overload
    def cached(self, func: Callable[P, R], /) -> Callable[P, R]: ...
    @overload
    def cached(self, *, ttl: float | None = None) -> _Decorator: ...
    def cached(self, func: Callable[..., Any] | None = None, *, ttl: float | None = None) -> Any:
        """Decorate ``func`` so its results are stored here: ``@cache.cached`` or
        ``@cache.cached(ttl=10)``. Only sync functions: an ``async def`` function is refused
        (its result, a coroutine, cannot be reused).

        Raises:
            TypeError: ``func`` is not callable or is ``async def``.
            ValueError: a bad ``ttl``.
        """
        ttl = _check_ttl(ttl, "ttl")

        def decorate(fn: Callable[..., Any], /) -> Callable[..., Any]:
            return self._wrap(fn, ttl)

        return decorate if func is None else decorate(func)

    def _wrap(self, fn: Callable[P, R], ttl: float | None) -> Callable[P, R]:
        if not callable(fn):
            raise TypeError(f"TaskCache.cached needs a function, got {fn!r}")
        if inspect.iscoroutinefunction(_unwrap(fn)):
            raise TypeError(
                f"TaskCache.cached cannot cache {fn!r}: it is async def and its result, a "
                "coroutine, can be awaited only once; cache a sync function"
            )
        target = _unwrap(fn)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key = self.key(target, args, kwargs)
            value = self.get(key, _MISSING)
            if value is not _MISSING:
                with self._lock:
                    self.hits += 1
                return value  # type: ignore[no-any-return]
            with self._lock:
                self.misses += 1
            result = fn(*args, **kwargs)
            self.set(key, result, ttl)
            return result

        return wrapper

    def __repr__(self) -> str:
        return f"TaskCache({len(self)} entries, default_ttl={self.default_ttl!r})"


def _unwrap(func: Callable[..., Any]) -> Callable[..., Any]:
    """A Task's function, else ``func`` itself (both key the same calls)."""
    return func.func if isinstance(func, Task) else func


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
