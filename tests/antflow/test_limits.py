"""The leaky-bucket RateLimiter, driven by a fake clock: rate, burst, FIFO, cancellation,
has_capacity. No real time passes: waiters sleep on the fake clock, which the test advances."""

from __future__ import annotations

import math

import anyio
import anyio.abc
import pytest

from antflow._limits import ConcurrencyLimiter, RateLimiter, call_limits

from ._helpers import all_parked


class FakeClock:
    """A clock that moves only when told to; sleepers wake when it passes their deadline."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleepers: list[tuple[float, anyio.Event]] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        wake = anyio.Event()
        self.sleepers.append((self.time + seconds, wake))
        await wake.wait()

    async def advance(self, seconds: float) -> None:
        """Move time on, wake the sleepers due, and let every task run until blocked again."""
        self.time += seconds
        due = [s for s in self.sleepers if s[0] <= self.time + 1e-12]
        self.sleepers = [s for s in self.sleepers if s not in due]
        for _, wake in due:
            wake.set()
        await all_parked()


class Entries:
    """Tasks entering one limiter, each in a cancel scope of its own; who got in, in order."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.admitted: list[str] = []
        self.scopes: dict[str, anyio.CancelScope] = {}

    async def enter(self, name: str, amount: float = 1) -> None:
        with anyio.CancelScope() as scope:
            self.scopes[name] = scope
            await self.limiter.acquire(amount)
            self.admitted.append(name)


async def full_bucket_and_waiters(tg: anyio.abc.TaskGroup) -> tuple[FakeClock, Entries]:
    """A bucket of one entry per second, full, with waiters a, b and c in that order."""
    clock = FakeClock()
    limiter = RateLimiter(1, 1.0, clock=clock)
    await limiter.acquire()  # full: the next entry in 1 s
    entries = Entries(limiter)
    for name in ("a", "b", "c"):
        tg.start_soon(entries.enter, name)
        await all_parked()
    return clock, entries


async def test_a_burst_of_rate_enters_at_once_then_one_per_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, 1.0, clock=clock)  # 5 per second: one every 0.2 s
    entries = Entries(limiter)
    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(entries.enter, f"t{i}")
            await all_parked()  # in this order (trio starts tasks in random order)
        assert entries.admitted == ["t0", "t1", "t2", "t3", "t4"]
        assert limiter.waiting == 3
        await clock.advance(0.19)
        assert len(entries.admitted) == 5
        await clock.advance(0.01)
        assert entries.admitted[5:] == ["t5"]
        await clock.advance(0.2)
        assert entries.admitted[6:] == ["t6"]
        await clock.advance(0.2)
        assert entries.admitted[7:] == ["t7"]


async def test_the_long_run_rate_is_rate_per_period() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, 60.0, clock=clock)  # 10 per minute
    entries = Entries(limiter)
    async with anyio.create_task_group() as tg:
        for i in range(40):
            tg.start_soon(entries.enter, str(i))
        await all_parked()
        assert len(entries.admitted) == 10  # the burst
        for _ in range(60):
            await clock.advance(1.0)
        # One minute later: the burst plus ten more, no more.
        assert len(entries.admitted) == 20
        for _ in range(120):
            await clock.advance(1.0)
        assert len(entries.admitted) == 40


async def test_an_idle_bucket_drains_and_allows_a_new_burst_no_bigger_than_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 1.0, clock=clock)
    for _ in range(3):
        await limiter.acquire()
    assert not limiter.has_capacity()
    clock.time += 100.0  # idle far longer than needed: the bucket is empty, not negative
    assert limiter.has_capacity(3)
    assert not limiter.has_capacity(3.5)
    for _ in range(3):
        await limiter.acquire()
    assert not limiter.has_capacity()


async def test_waiters_enter_first_in_first_out() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock)
    entries = Entries(limiter)
    await limiter.acquire(2)  # the bucket is full
    async with anyio.create_task_group() as tg:
        for name in ("a", "b", "c", "d"):
            tg.start_soon(entries.enter, name)
            await all_parked()  # each starts waiting before the next arrives
        for _ in range(4):
            await clock.advance(0.5)
    assert entries.admitted == ["a", "b", "c", "d"]


async def test_a_newcomer_queues_behind_a_large_waiter_even_if_it_would_fit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4, 1.0, clock=clock)  # drains 4 per second
    entries = Entries(limiter)
    await limiter.acquire(3)  # 1 left
    async with anyio.create_task_group() as tg:
        tg.start_soon(entries.enter, "big", 3)  # needs 2 more: waits 0.5 s
        await all_parked()
        assert not limiter.has_capacity(1)  # someone waits: a newcomer would too
        tg.start_soon(entries.enter, "small", 1)
        await all_parked()
        assert entries.admitted == []
        await clock.advance(0.5)
        assert entries.admitted == ["big"]  # and the bucket is full again
        await clock.advance(0.25)
        assert entries.admitted == ["big", "small"]


@pytest.mark.parametrize("position", ["first", "middle"])
async def test_a_cancelled_waiter_takes_nothing_and_the_next_is_not_starved(
    position: str,
) -> None:
    async with anyio.create_task_group() as tg:
        clock, entries = await full_bucket_and_waiters(tg)
        assert entries.limiter.waiting == 3
        entries.scopes["a" if position == "first" else "b"].cancel()
        await all_parked()
        assert entries.limiter.waiting == 2
        await clock.advance(1.0)  # exactly one entry's worth: nothing was lost to the cancel
        assert entries.admitted == (["b"] if position == "first" else ["a"])
        await clock.advance(1.0)
        assert entries.admitted == (["b", "c"] if position == "first" else ["a", "c"])
    assert entries.limiter.waiting == 0


async def test_a_waiter_cancelled_as_its_turn_comes_passes_the_turn_on() -> None:
    async with anyio.create_task_group() as tg:
        clock, entries = await full_bucket_and_waiters(tg)
        await clock.advance(1.0)  # a enters, and b's turn is signalled...
        assert entries.admitted == ["a"]
        # ...c is not woken by a: only the one first in line sleeps on the clock.
        assert len(clock.sleepers) == 1
        entries.scopes["b"].cancel()
        await all_parked()
        await clock.advance(1.0)
        assert entries.admitted == ["a", "c"]


async def test_has_capacity_tells_without_taking() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock)
    assert limiter.has_capacity(2)
    assert limiter.has_capacity(2)  # asking took nothing
    await limiter.acquire()
    assert limiter.has_capacity(1)
    assert not limiter.has_capacity(1.5)
    clock.time += 0.25  # drains 0.5
    assert limiter.has_capacity(1.5)
    assert not limiter.has_capacity(3)  # more than the bucket holds: never


async def test_a_rate_below_one_still_admits_one_call_per_its_share_of_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.5, 60.0, clock=clock)  # one call per two minutes
    assert limiter.capacity == 1.0
    await limiter.acquire()
    assert not limiter.has_capacity()
    clock.time += 119.0
    assert not limiter.has_capacity()
    clock.time += 1.0
    assert limiter.has_capacity()


async def test_an_amount_the_bucket_cannot_hold_raises_at_once() -> None:
    limiter = RateLimiter(3, 1.0, clock=FakeClock())
    with pytest.raises(ValueError, match=r"amount=4.*call_rate"):
        await limiter.acquire(4)
    for bad in (0, -1, math.nan, math.inf):
        with pytest.raises(ValueError, match="amount must be a finite number > 0"):
            await limiter.acquire(bad)
        with pytest.raises(ValueError, match="amount must be a finite number > 0"):
            limiter.has_capacity(bad)
    with pytest.raises(TypeError, match="amount"):
        limiter.has_capacity(True)
    assert limiter.waiting == 0


async def test_the_real_clock_admits_at_once_within_the_burst() -> None:
    limiter = RateLimiter(1000, 3600.0)  # drains one entry every 3.6 s
    for _ in range(1000):
        async with limiter:
            pass
    assert not limiter.has_capacity(2)  # unless 3.6 s passed in that loop


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"call_rate": 0}, "call_rate must be a finite number of calls per call_rate_period > 0"),
        ({"call_rate": math.inf}, "call_rate must be"),
        ({"call_rate_period": 0}, "call_rate_period must be a finite number of seconds > 0"),
        ({"call_concurrency": 0}, "call_concurrency must be an int >= 1"),
    ],
)
def test_limit_fields_are_checked_naming_the_field(kwargs: dict[str, float], message: str) -> None:
    fields: dict[str, float | None] = {
        "call_rate": None,
        "call_rate_period": 60.0,
        "call_concurrency": None,
    }
    fields.update(kwargs)
    with pytest.raises(ValueError, match=f"^Where: {message}"):
        call_limits("Where", "Owner", **fields)  # type: ignore[arg-type]


class Holders:
    """Tasks holding one ConcurrencyLimiter slot each until released; who got in, in order."""

    def __init__(self, limiter: ConcurrencyLimiter) -> None:
        self.limiter = limiter
        self.entered: list[str] = []
        self.release: dict[str, anyio.Event] = {}
        self.scopes: dict[str, anyio.CancelScope] = {}

    async def hold(self, name: str) -> None:
        self.release[name] = anyio.Event()
        with anyio.CancelScope() as scope:
            self.scopes[name] = scope
            async with self.limiter:
                self.entered.append(name)
                await self.release[name].wait()

    async def arrive(self, tg: anyio.abc.TaskGroup, names: str) -> None:
        """Start a holder per name, each waiting (or holding) before the next one starts."""
        for name in names:
            tg.start_soon(self.hold, name)
            await all_parked()


async def test_concurrency_slots_go_to_waiters_first_in_first_out() -> None:
    limiter = ConcurrencyLimiter(2)
    holders = Holders(limiter)
    async with anyio.create_task_group() as tg:
        await holders.arrive(tg, "abcde")
        assert holders.entered == ["a", "b"]
        assert (limiter.in_use, limiter.waiting) == (2, 3)
        for name, then in [("b", "abc"), ("a", "abcd"), ("c", "abcde")]:
            holders.release[name].set()
            await all_parked()
            assert holders.entered == list(then)
        for name in "de":
            holders.release[name].set()
    assert (limiter.in_use, limiter.waiting) == (0, 0)


async def test_a_newcomer_does_not_take_a_slot_freed_for_a_waiter() -> None:
    limiter = ConcurrencyLimiter(1)
    holders = Holders(limiter)
    async with anyio.create_task_group() as tg:
        await holders.arrive(tg, "ab")
        holders.release["a"].set()
        tg.start_soon(holders.hold, "c")  # arrives before b has resumed
        await all_parked()
        assert holders.entered == ["a", "b"]
        holders.release["b"].set()
        await all_parked()
        assert holders.entered == ["a", "b", "c"]
        holders.release["c"].set()


async def test_a_cancelled_concurrency_waiter_takes_no_slot() -> None:
    limiter = ConcurrencyLimiter(1)
    holders = Holders(limiter)
    async with anyio.create_task_group() as tg:
        await holders.arrive(tg, "abc")
        holders.scopes["b"].cancel()
        await all_parked()
        assert limiter.waiting == 1
        holders.release["a"].set()
        await all_parked()
        assert holders.entered == ["a", "c"]
        holders.release["c"].set()
    assert limiter.in_use == 0


async def test_a_waiter_cancelled_once_handed_a_slot_hands_it_on() -> None:
    limiter = ConcurrencyLimiter(1)
    holders = Holders(limiter)
    release_a = anyio.Event()

    async def a_then_cancel_b() -> None:
        async with limiter:
            holders.entered.append("a")
            await release_a.wait()
        # The slot was just handed to b, which has not resumed yet: cancel it now.
        holders.scopes["b"].cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(a_then_cancel_b)
        await all_parked()
        await holders.arrive(tg, "bc")
        release_a.set()
        await all_parked()
        # Whether b's cancellation lands before it resumes (it hands the slot on) or after
        # (it enters, and leaves at its next await), the slot is not lost: c follows.
        assert holders.entered[-1] == "c"
        assert (limiter.in_use, limiter.waiting) == (1, 0)
        holders.release["c"].set()
    assert (limiter.in_use, limiter.waiting) == (0, 0)
