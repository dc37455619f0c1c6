"""TaskCache: results by arguments, expiring after their TTL, safe across threads."""

from __future__ import annotations

import threading

import pytest

import flowkit._cache
from flowkit import TaskCache, task


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(flowkit._cache, "_now", fake)
    return fake


def test_a_call_with_the_same_arguments_is_answered_from_the_cache() -> None:
    cache = TaskCache()
    calls: list[tuple[int, int]] = []

    @cache.cached
    def add(x: int, y: int = 0) -> int:
        calls.append((x, y))
        return x + y

    assert [add(1, 2), add(1, 2), add(1, y=2), add(2)] == [3, 3, 3, 2]
    assert calls == [(1, 2), (1, 2), (2, 0)]  # positional and keyword calls are other keys
    assert (cache.hits, cache.misses, len(cache)) == (1, 3, 3)


def test_an_entry_expires_after_its_ttl(clock: Clock) -> None:
    cache = TaskCache(default_ttl=10)
    calls: list[int] = []

    @cache.cached
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @cache.cached(ttl=100)
    def cube(x: int) -> int:
        calls.append(-x)
        return x**3

    square(3), cube(3)
    clock.now += 9.9
    square(3), cube(3)
    assert calls == [3, -3]
    clock.now += 0.1
    square(3), cube(3)
    assert calls == [3, -3, 3]


def test_a_failing_call_stores_nothing() -> None:
    cache = TaskCache()
    calls: list[int] = []

    @cache.cached
    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return x

    with pytest.raises(RuntimeError):
        flaky(1)
    assert flaky(1) == 1
    assert flaky(1) == 1
    assert calls == [1, 1]


def test_an_unhashable_argument_is_refused_before_the_call() -> None:
    cache = TaskCache()
    calls: list[object] = []

    @cache.cached
    def total(values: list[int]) -> int:
        calls.append(values)
        return sum(values)

    with pytest.raises(TypeError, match=r"\[1, 2\].*not hashable.*tuple"):
        total([1, 2])
    assert calls == []


def test_invalidate_clear_and_maxsize() -> None:
    cache = TaskCache(maxsize=2)

    @cache.cached
    def ident(x: int) -> int:
        return x

    ident(1), ident(2), ident(3)
    assert len(cache) == 2
    assert cache.get(cache.key(ident.__wrapped__, (1,), {}), "gone") == "gone"  # oldest dropped
    assert cache.invalidate(ident.__wrapped__, 3) is True
    assert cache.invalidate(ident.__wrapped__, 3) is False
    cache.clear()
    assert len(cache) == 0


def test_a_task_can_be_cached_and_keeps_its_condition() -> None:
    cache = TaskCache()
    calls: list[int] = []

    @task(when=lambda x: x > 0)
    def positive(x: int) -> int:
        calls.append(x)
        return x

    cached_positive = cache.cached(positive)
    assert [cached_positive(-1), cached_positive(2), cached_positive(2)] == [None, 2, 2]
    assert calls == [2]
    assert cache.invalidate(positive, 2) is True


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"default_ttl": 0}, "default_ttl"),
        ({"maxsize": 0}, "maxsize"),
        ({"maxsize": 1.5}, "maxsize"),
    ],
)
def test_bad_settings_are_refused_at_construction(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TaskCache(**kwargs)  # type: ignore[arg-type]


def test_async_functions_are_refused() -> None:
    async def fetch() -> int:
        return 1

    with pytest.raises(TypeError, match="async def"):
        TaskCache().cached(fetch)


def test_threads_sharing_a_cache_see_one_value_per_key() -> None:
    cache = TaskCache()
    barrier = threading.Barrier(8)

    @cache.cached
    def ident(x: int) -> int:
        return x

    results: list[list[int]] = []

    def worker() -> None:
        barrier.wait()
        results.append([ident(i % 50) for i in range(2_000)])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == [i % 50 for i in range(2_000)] for r in results)
    assert len(cache) == 50
    assert cache.hits + cache.misses == 8 * 2_000
