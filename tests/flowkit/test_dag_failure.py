from __future__ import annotations

import threading

import anyio
import pytest

from flowkit import DAG, task


class Boom(Exception):
    pass


async def test_failing_task_exception_propagates_unchanged() -> None:
    error = Boom("bad input")

    @task()
    def broken() -> None:
        raise error

    with pytest.raises(Boom) as info:
        await DAG().run_async()
    assert info.value is error


async def test_failure_starts_nothing_new_and_waits_for_running_tasks() -> None:
    running_started = threading.Event()
    running_finished = threading.Event()
    ran: list[str] = []

    @task()
    def long_running() -> None:
        running_started.set()
        # the failure happens while this runs; the run must wait for it to finish
        assert failed.wait(5)
        running_finished.set()

    failed = threading.Event()

    @task()
    async def broken() -> None:
        await anyio.to_thread.run_sync(running_started.wait, 5)
        failed.set()
        raise Boom("x")

    @task()
    def after_broken(x: None) -> None:
        ran.append("after_broken")

    @task()
    def after_long(x: None) -> None:
        ran.append("after_long")

    broken >> after_broken
    long_running >> after_long
    with pytest.raises(Boom):
        await DAG(max_workers=4).run_async()
    assert running_finished.is_set()
    assert ran == []


async def test_failure_in_a_thread_task_propagates_unchanged() -> None:
    @task()
    def first() -> int:
        return 1

    @task()
    def second(x: int) -> None:
        raise KeyError(x)

    first >> second
    with pytest.raises(KeyError) as info:
        await DAG().run_async()
    assert info.value.args == (1,)


async def test_outside_cancellation_stops_the_run_promptly() -> None:
    started = anyio.Event()
    ran: list[str] = []

    @task()
    async def forever() -> None:
        started.set()
        await anyio.sleep_forever()

    @task()
    def never(x: None) -> None:
        ran.append("never")

    forever >> never
    async with anyio.create_task_group() as tg:
        tg.start_soon(DAG().run_async)
        await started.wait()
        tg.cancel_scope.cancel()
    assert ran == []


async def test_cancellation_waits_for_a_running_sync_call_and_starts_nothing_more() -> None:
    in_thread = threading.Event()
    release = threading.Event()
    finished = threading.Event()
    ran: list[str] = []

    @task()
    def blocking() -> None:
        in_thread.set()
        release.wait(5)
        finished.set()

    @task()
    async def downstream(x: None) -> None:
        ran.append("downstream")

    blocking >> downstream
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(DAG().run_async)
            await anyio.to_thread.run_sync(in_thread.wait, 5)
            scope.cancel()
            release.set()
    assert finished.is_set()  # the run returned only once its thread was done
    assert ran == []
