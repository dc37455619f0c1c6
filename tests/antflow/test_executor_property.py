"""Property: a random AsyncExecutor schedule ends as a model of it says.

A schedule is a list of operations run in order by one driver task, on a random ``max_workers``,
inside ``async with`` or in manual use (``submit`` first, ``await executor.shutdown()`` last):
submits (calls that return or raise, after 0 to a few checkpoints, with retries and a fault plan
"fails on its first k attempts", some sharing an ``anyio.Semaphore``), maps (awaited, iterated,
or left early through ``aclosing``), ``cancel()`` of a random future, ``await result()``,
``as_completed``, ``wait`` with each strategy, pauses that let the workers run, and shutdowns.

The model knows what each call does, so it knows every outcome but one: whether a future was
already done when it was cancelled. That the schedule observes (``cancel()``'s return value, the
futures still pending when ``shutdown(cancel_futures=True)`` is called) and the model follows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from antflow import (
    AsyncExecutor,
    AsyncFuture,
    ExecutorShutdownError,
    FutureCancelledError,
    WaitStrategy,
)

pytestmark = pytest.mark.usefixtures("no_retry_waits")

WORKER_TASK_PREFIX = "antflow-executor-worker-"


class Fault(Exception):
    """What a call raises on a failing attempt (a new object each time, so that identity tells
    which attempt the future kept)."""


# -- the operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """One call: awaits ``checkpoints`` checkpoints (0: never awaits), then fails on each of its
    first ``faults`` attempts and returns after that."""

    checkpoints: int
    faults: int
    retries: int

    @property
    def succeeds(self) -> bool:
        return self.faults <= self.retries

    @property
    def attempts(self) -> int:
        """How many attempts the model says the call makes when nothing cancels it."""
        return min(self.faults, self.retries) + 1


@dataclass(frozen=True)
class Submit:
    """``copies`` submits of one call in a row (a burst, so that some wait in the queue)."""

    behaviour: Behaviour
    semaphore: bool
    copies: int


@dataclass(frozen=True)
class Map:
    """``map(fn, keys, xs)``: input ``x`` awaits ``x % 3`` checkpoints and fails on its first
    ``x // 3`` attempts. ``how``: "await", "iterate" (to the end), or "break" after ``stop``
    results (under ``aclosing``)."""

    xs: tuple[int, ...]
    retries: int
    how: str
    stop: int
    extra: int  # a third iterable this much longer than xs: zip stops at the shortest


@dataclass(frozen=True)
class Cancel:
    recent: int  # which future, counted back from the last one submitted
    after: int  # checkpoints first, so that the workers get on with it


@dataclass(frozen=True)
class Result:
    pick: int


@dataclass(frozen=True)
class Pause:
    checkpoints: int


@dataclass(frozen=True)
class AsCompleted:
    picks: tuple[int, ...]  # duplicates on purpose: each future is yielded once
    stop: int  # leave after this many futures (0: iterate to the end)


@dataclass(frozen=True)
class Wait:
    picks: tuple[int, ...]
    strategy: WaitStrategy
    by_name: bool  # give the strategy as its name
    timeout: float | None  # None or 0: a timeout that depends on the clock would be flaky


@dataclass(frozen=True)
class Shutdown:
    wait: bool
    cancel_futures: bool


def map_behaviour(x: int, retries: int) -> Behaviour:
    return Behaviour(checkpoints=x % 3, faults=x // 3, retries=retries)


behaviours = st.builds(
    Behaviour,
    checkpoints=st.integers(0, 6),
    faults=st.integers(0, 3),
    retries=st.integers(0, 2),
)
picks = st.integers(0, 1_000)
#: Each kind of operation and how often it is drawn.
OPERATIONS: list[tuple[int, st.SearchStrategy[Any]]] = [
    (4, st.builds(Submit, behaviours, st.booleans(), st.integers(1, 4))),
    (3, st.builds(Cancel, st.integers(0, 5), st.integers(0, 3))),
    (
        2,
        st.builds(
            Map,
            xs=st.lists(st.integers(0, 11), max_size=14).map(tuple),
            retries=st.integers(0, 2),
            how=st.sampled_from(["await", "iterate", "break"]),
            stop=st.integers(1, 6),
            extra=st.integers(0, 2),
        ),
    ),
    (2, st.builds(Pause, st.integers(1, 6))),
    (1, st.builds(Result, picks)),
    (1, st.builds(AsCompleted, st.lists(picks, max_size=6).map(tuple), st.integers(0, 3))),
    (
        1,
        st.builds(
            Wait,
            st.lists(picks, max_size=6).map(tuple),
            st.sampled_from(list(WaitStrategy)),
            st.booleans(),
            st.sampled_from([None, None, 0]),
        ),
    ),
    (1, st.builds(Shutdown, st.booleans(), st.booleans())),
]
operations = st.sampled_from(
    [strategy for weight, strategy in OPERATIONS for _ in range(weight)]
).flatmap(lambda strategy: strategy)


# -- the calls and what they saw ---------------------------------------------------------------


@dataclass
class Record:
    """What one call (a submit, or one input of a map) did, attempt by attempt."""

    key: Any
    behaviour: Behaviour
    attempts: int = 0
    errors: list[Fault] = field(default_factory=list)

    def value(self) -> tuple[str, Any]:
        return ("value", self.key)


class Probe:
    """The calls' side: runs them, counts how many run at once, notices a call after the end."""

    def __init__(self, semaphore_limit: int) -> None:
        self.semaphore = anyio.Semaphore(semaphore_limit)
        self.running = 0
        self.peak = 0
        self.in_semaphore = 0
        self.semaphore_peak = 0
        #: Set once shutdown(wait=True) returned or `async with` was left: no call may run after.
        self.closed = False
        self.late: list[Any] = []

    async def call(self, record: Record, uses_semaphore: bool) -> tuple[str, Any]:
        record.attempts += 1
        attempt = record.attempts
        self._seen(record)
        self.running += 1
        self.peak = max(self.peak, self.running)
        if uses_semaphore:
            self.in_semaphore += 1
            self.semaphore_peak = max(self.semaphore_peak, self.in_semaphore)
        try:
            for _ in range(record.behaviour.checkpoints):
                await anyio.lowlevel.checkpoint()
                self._seen(record)
            if attempt <= record.behaviour.faults:
                error = Fault(record.key, attempt)
                record.errors.append(error)
                raise error
            return record.value()
        finally:
            self.running -= 1
            if uses_semaphore:
                self.in_semaphore -= 1

    def _seen(self, record: Record) -> None:
        if self.closed:
            self.late.append(record.key)


def counted(items: list[int], taken: list[int]) -> Iterator[int]:
    """Yield ``items``, counting in ``taken[0]`` how many were taken."""
    for item in items:
        taken[0] += 1
        yield item


# -- the schedule and its model ----------------------------------------------------------------


@dataclass
class Submitted:
    future: AsyncFuture[Any]
    record: Record
    done_calls: int = 0  # how many times its done callback ran
    #: The model's word: cancelled before it finished (cancel() returned True, or it was not
    #: done when shutdown(cancel_futures=True) or the block's exception cancelled everything).
    cancelled: bool = False

    def on_done(self, future: AsyncFuture[Any]) -> None:
        assert future is self.future
        self.done_calls += 1


class Schedule:
    """The driver's side: runs each operation and checks it against the model as it goes."""

    def __init__(self, executor: AsyncExecutor, probe: Probe, manual: bool) -> None:
        self.executor = executor
        self.probe = probe
        self.manual = manual
        self.submitted: list[Submitted] = []
        self.maps = 0
        self.shut_down = False

    def pick(self, pick: int) -> Submitted | None:
        if not self.submitted:
            return None
        return self.submitted[pick % len(self.submitted)]

    def check_outcome(self, entry: Submitted) -> None:
        """A done future's outcome is the model's."""
        future, record = entry.future, entry.record
        assert future.done()
        if entry.cancelled:
            assert future.cancelled()
            assert record.attempts <= record.behaviour.attempts
            with pytest.raises(FutureCancelledError):
                future.exception()
            return
        assert not future.cancelled()
        assert record.attempts == record.behaviour.attempts
        if record.behaviour.succeeds:
            assert future.exception() is None  # its value: checked by await result()
        else:
            assert len(record.errors) == record.attempts
            assert future.exception() is record.errors[-1]

    async def run(self, op: Any) -> None:
        handler = getattr(self, f"do_{type(op).__name__.lower()}")
        await handler(op)

    async def do_submit(self, op: Submit) -> None:
        for _ in range(op.copies):
            await self.submit_one(op)

    async def submit_one(self, op: Submit) -> None:
        record = Record(("submit", len(self.submitted)), op.behaviour)
        kwargs: dict[str, Any] = {"retries": op.behaviour.retries, "retry_delay": 0}
        if op.semaphore:
            kwargs["semaphore"] = self.probe.semaphore
        if self.shut_down:
            with pytest.raises(ExecutorShutdownError):
                self.executor.submit(self.probe.call, record, op.semaphore, **kwargs)
            return
        future = self.executor.submit(self.probe.call, record, op.semaphore, **kwargs)
        entry = Submitted(future, record)
        future.add_done_callback(entry.on_done)
        self.submitted.append(entry)

    async def do_map(self, op: Map) -> None:
        index = self.maps
        self.maps += 1
        records = [
            Record(("map", index, i), map_behaviour(x, op.retries)) for i, x in enumerate(op.xs)
        ]
        window = 3 * self.executor.max_workers
        taken = [0]

        async def fn(i: int, x: int, _extra: int) -> tuple[str, Any]:
            assert records[i].behaviour == map_behaviour(x, op.retries)
            return await self.probe.call(records[i], False)

        arguments = (
            counted(list(range(len(op.xs))), taken),
            op.xs,
            range(len(op.xs) + op.extra),
        )
        method = self.executor.map if op.how == "await" else self.executor.map_iter
        if self.shut_down:
            with pytest.raises(ExecutorShutdownError):
                method(fn, *arguments, retries=op.retries, retry_delay=0)
            return
        failing = next((r for r in records if not r.behaviour.succeeds), None)
        ok = records if failing is None else records[: records.index(failing)]
        expected = [r.value() for r in ok]
        if op.how == "await":
            if failing is None:
                got = await self.executor.map(fn, *arguments, retries=op.retries, retry_delay=0)
                assert got == expected
            else:
                with pytest.raises(Fault) as caught:
                    await self.executor.map(fn, *arguments, retries=op.retries, retry_delay=0)
                assert caught.value is failing.errors[-1]
            handed = len(ok)
        else:
            limit = op.stop if op.how == "break" else None
            results: list[Any] = []
            error: BaseException | None = None
            stream = self.executor.map_iter(fn, *arguments, retries=op.retries, retry_delay=0)
            try:
                async with contextlib.aclosing(stream):
                    async for value in stream:
                        # Inputs are taken lazily: at most a window ahead of this result.
                        assert taken[0] <= len(results) + window
                        results.append(value)
                        if len(results) == limit:
                            break
            except Fault as exc:
                error = exc
            event(f"map_iter: {'raised' if error else 'left early' if limit else 'to the end'}")
            if limit is not None and limit <= len(ok):  # left before any failure
                expected = expected[:limit]
                assert error is None
            elif failing is not None:
                assert error is failing.errors[-1]
            else:
                assert error is None
            assert results == expected
            handed = len(results)
        for record in records[:handed]:  # handed out: ran to the end, as modelled
            assert record.attempts == record.behaviour.attempts
        for record in records[handed:]:  # cut short (cancelled) or never started
            assert record.attempts <= record.behaviour.attempts

    async def do_cancel(self, op: Cancel) -> None:
        if not self.submitted:
            return
        entry = self.submitted[-1 - op.recent % len(self.submitted)]
        for _ in range(op.after):
            await anyio.lowlevel.checkpoint()
        was_done = entry.future.done()
        state = "done" if was_done else "running" if entry.future.running() else "pending"
        event(f"cancel(): {state}")
        assert entry.future.cancel() is (not was_done)
        if not was_done:
            entry.cancelled = True
        assert entry.future.done()
        self.check_outcome(entry)

    async def do_result(self, op: Result) -> None:
        entry = self.pick(op.pick)
        if entry is None:
            return
        if entry.cancelled:
            with pytest.raises(FutureCancelledError):
                await entry.future.result()
        elif entry.record.behaviour.succeeds:
            assert await entry.future.result() == entry.record.value()
        else:
            with pytest.raises(Fault) as caught:
                await entry.future.result()
            assert caught.value is entry.record.errors[-1]
        self.check_outcome(entry)

    async def do_pause(self, op: Pause) -> None:
        for _ in range(op.checkpoints):
            await anyio.lowlevel.checkpoint()

    def futures(self, picks: tuple[int, ...]) -> list[AsyncFuture[Any]]:
        chosen = [self.pick(p) for p in picks]
        return [entry.future for entry in chosen if entry is not None]

    async def do_ascompleted(self, op: AsCompleted) -> None:
        futures = self.futures(op.picks)
        unique = list(dict.fromkeys(futures))
        already = [f for f in unique if f.done()]
        seen: list[AsyncFuture[Any]] = []
        iterator = self.executor.as_completed(futures)
        async with contextlib.aclosing(iterator):
            async for future in iterator:
                assert future.done()
                seen.append(future)
                if len(seen) == op.stop:
                    break
        assert len(seen) == len(set(seen))  # each once
        assert set(seen) <= set(unique)
        assert seen[: len(already)] == already[: len(seen)]  # done ones first, in given order
        if not op.stop or op.stop > len(unique):
            assert set(seen) == set(unique)

    async def do_wait(self, op: Wait) -> None:
        futures = self.futures(op.picks)
        strategy: WaitStrategy | str = op.strategy.value if op.by_name else op.strategy
        done, pending = await self.executor.wait(futures, op.timeout, strategy)
        assert done | pending == set(futures)
        assert not done & pending
        assert all(f.done() for f in done)
        assert not any(f.done() for f in pending)
        if op.timeout is None and pending:
            if op.strategy is WaitStrategy.ALL_COMPLETED:
                raise AssertionError("ALL_COMPLETED returned with futures pending")
            if op.strategy is WaitStrategy.FIRST_COMPLETED:
                assert done
            if op.strategy is WaitStrategy.FIRST_EXCEPTION:
                assert any(not f.cancelled() and f.exception() is not None for f in done)

    async def do_shutdown(self, op: Shutdown) -> None:
        pending = [entry for entry in self.submitted if not entry.future.done()]
        await self.executor.shutdown(wait=op.wait, cancel_futures=op.cancel_futures)
        self.shut_down = True
        event(
            f"shutdown(cancel_futures={op.cancel_futures}): {'some' if pending else 'none'} pending"
        )
        if op.cancel_futures:
            # Queued and running calls are cancelled at once, waiting or not.
            for entry in pending:
                entry.cancelled = True
            assert all(entry.future.done() for entry in self.submitted)
        if op.wait:
            self.closed()

    def closed(self) -> None:
        """The executor's end has returned: its workers have exited, no call runs."""
        self.probe.closed = True
        assert self.probe.running == 0
        assert all(entry.future.done() for entry in self.submitted)
        workers = [t for t in anyio.get_running_tasks() if worker_task(t.name)]
        assert workers == []

    def cancel_all_pending(self) -> None:
        """The model of leaving `async with` by an exception: everything not done is cancelled."""
        for entry in self.submitted:
            if not entry.future.done():
                entry.cancelled = True


def worker_task(name: str | None) -> bool:
    return name is not None and WORKER_TASK_PREFIX in name


class BodyError(Exception):
    """Raised by the body of `async with` to leave it by an exception."""


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    max_workers=st.integers(1, 4),
    semaphore_limit=st.integers(1, 3),
    ops=st.lists(operations, min_size=3, max_size=30),
    use=st.sampled_from(["async with", "async with, body raises", "manual"]),
)
async def test_a_random_schedule_ends_as_the_model_says(
    max_workers: int, semaphore_limit: int, ops: list[Any], use: str
) -> None:
    tasks_before = len(anyio.get_running_tasks())
    probe = Probe(semaphore_limit)
    executor = AsyncExecutor(max_workers=max_workers)
    schedule = Schedule(executor, probe, manual=use == "manual")
    if use == "manual":
        for op in ops:
            await schedule.run(op)
        await executor.shutdown()
        schedule.closed()
    elif use == "async with":
        async with executor:
            for op in ops:
                await schedule.run(op)
        schedule.closed()
    else:
        body_error = BodyError()
        with pytest.raises(BodyError) as caught:
            async with executor:
                for op in ops:
                    await schedule.run(op)
                schedule.cancel_all_pending()
                raise body_error
        assert caught.value is body_error  # unchanged, not wrapped in a group
        schedule.closed()
    if use != "manual":
        assert len(anyio.get_running_tasks()) == tasks_before
    # Nothing runs afterwards: a few turns of the loop see no call wake up.
    for _ in range(5):
        await anyio.lowlevel.checkpoint()
    assert probe.late == []
    assert probe.running == 0
    assert probe.peak <= max_workers
    assert probe.semaphore_peak <= semaphore_limit
    for entry in schedule.submitted:
        assert entry.done_calls == 1  # done exactly once
        future = entry.future
        outcomes = [future.cancelled(), not future.cancelled() and future.exception() is not None]
        outcomes.append(not any(outcomes))  # returned a value
        assert sum(outcomes) == 1
        schedule.check_outcome(entry)
        if outcomes[2]:
            assert await future.result() == entry.record.value()
    if use == "manual":
        assert len(anyio.get_running_tasks()) == tasks_before
