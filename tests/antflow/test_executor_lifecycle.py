"""AsyncExecutor lifecycle: async with, manual use, shutdown, cancellation, no leaked tasks."""

from __future__ import annotations

import subprocess
import sys

import anyio
import anyio.lowlevel
import pytest

from antflow import AsyncExecutor, ExecutorShutdownError, FutureCancelledError
from tests._ctrl_c import ctrl_c

from ._helpers import double, wait_for


def task_count() -> int:
    return len(anyio.get_running_tasks())


async def test_leaving_async_with_waits_for_submitted_work() -> None:
    finished: list[int] = []

    async def work(x: int) -> None:
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        finished.append(x)

    async with AsyncExecutor(max_workers=2) as executor:
        for i in range(6):
            executor.submit(work, i)
    assert sorted(finished) == list(range(6))


async def test_workers_do_not_outlive_the_block() -> None:
    before = task_count()
    async with AsyncExecutor(max_workers=5) as executor:
        await executor.map(double, range(50))
        assert task_count() > before
    assert task_count() == before


async def test_an_exception_in_the_body_cancels_queued_and_running_calls() -> None:
    release = anyio.Event()
    before = task_count()
    with pytest.raises(ZeroDivisionError):
        async with AsyncExecutor(max_workers=2) as executor:
            running = [executor.submit(wait_for, release) for _ in range(2)]
            queued = executor.submit(double, 1)
            await anyio.lowlevel.checkpoint()
            1 / 0  # noqa: B018
    assert all(f.cancelled() for f in [*running, queued])
    assert task_count() == before


async def test_cancelling_the_caller_cancels_everything_promptly() -> None:
    before = task_count()
    with anyio.move_on_after(0.01) as scope:
        async with AsyncExecutor(max_workers=3) as executor:
            futures = [executor.submit(wait_for, anyio.Event()) for _ in range(5)]
    assert scope.cancelled_caught
    assert all(f.cancelled() for f in futures)
    assert task_count() == before
    with pytest.raises(FutureCancelledError):
        await futures[0].result()


_INTERRUPT_PROGRAM = """
import sys, anyio, anyio.lowlevel
from antflow import AsyncExecutor

async def interrupt():
    await anyio.lowlevel.checkpoint()
    raise KeyboardInterrupt

async def main():
    release = anyio.Event()
    futures = []
    try:
        async with AsyncExecutor(max_workers=4) as executor:
            futures = [executor.submit(release.wait) for _ in range(3)]
            executor.submit(interrupt)
            await futures[0].result()
    finally:
        print("cancelled:", all(f.cancelled() for f in futures), flush=True)

anyio.run(main, backend=sys.argv[1])
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_keyboard_interrupt_in_a_call_stops_everything(backend: str) -> None:
    # In a subprocess: on asyncio a KeyboardInterrupt raised in a task leaves the event loop
    # itself, which would end the test run.
    completed = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_PROGRAM, backend],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "cancelled: True" in completed.stdout
    assert "ExceptionGroup" not in completed.stderr  # bare, as Pipeline.run and flowkit do
    assert completed.stderr.rstrip().endswith("KeyboardInterrupt")
    assert completed.returncode != 0


async def test_submit_after_leaving_the_block_raises() -> None:
    async with AsyncExecutor() as executor:
        pass
    with pytest.raises(ExecutorShutdownError, match="no longer accepts work"):
        executor.submit(double, 1)
    with pytest.raises(ExecutorShutdownError):
        executor.map(double, [1])


async def test_submit_after_shutdown_raises() -> None:
    async with AsyncExecutor() as executor:
        await executor.shutdown()
        with pytest.raises(ExecutorShutdownError):
            executor.submit(double, 1)


async def test_shutdown_wait_waits_for_running_and_queued_calls() -> None:
    async with AsyncExecutor(max_workers=1) as executor:
        futures = [executor.submit(double, i) for i in range(5)]
        await executor.shutdown(wait=True)
        assert all(f.done() and not f.cancelled() for f in futures)


async def test_shutdown_cancel_futures_cancels_queued_and_running_calls() -> None:
    started = anyio.Event()

    async def long_call() -> None:
        started.set()
        await anyio.sleep_forever()

    async with AsyncExecutor(max_workers=1) as executor:
        running = executor.submit(long_call)
        queued = executor.submit(double, 1)
        await started.wait()
        await executor.shutdown(wait=False, cancel_futures=True)
        assert running.cancelled()
        assert queued.cancelled()


async def test_shutdown_twice_is_harmless() -> None:
    async with AsyncExecutor() as executor:
        await executor.shutdown()
        await executor.shutdown(wait=True, cancel_futures=True)


async def test_manual_use_as_documented() -> None:
    executor = AsyncExecutor(max_workers=3)
    future = executor.submit(double, 21)
    assert await future.result() == 42
    assert await executor.map(double, range(4)) == [0, 2, 4, 6]
    await executor.shutdown(wait=True)
    with pytest.raises(ExecutorShutdownError):
        executor.submit(double, 1)


async def test_manual_shutdown_cancel_futures_leaves_no_task_behind() -> None:
    before = task_count()
    executor = AsyncExecutor(max_workers=2)
    futures = [executor.submit(wait_for, anyio.Event()) for _ in range(4)]
    await anyio.lowlevel.checkpoint()
    await executor.shutdown(wait=True, cancel_futures=True)
    assert all(f.cancelled() for f in futures)
    for _ in range(3):  # let the background serve task return
        await anyio.lowlevel.checkpoint()
    assert task_count() == before


async def test_async_with_after_manual_use_is_refused() -> None:
    executor = AsyncExecutor()
    executor.submit(double, 1)
    with pytest.raises(RuntimeError, match="already running in the background"):
        async with executor:
            pass
    await executor.shutdown()


async def test_an_executor_is_used_once() -> None:
    executor = AsyncExecutor()
    async with executor:
        pass
    with pytest.raises(ExecutorShutdownError):
        async with executor:
            pass


async def test_entering_an_executor_twice_at_once_is_refused() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(RuntimeError, match="already open in another `async with`"):
            async with executor:
                pass


async def test_repr_shows_the_lifecycle() -> None:
    executor = AsyncExecutor(max_workers=2)
    assert repr(executor) == "<AsyncExecutor max_workers=2 idle>"
    async with executor:
        assert repr(executor) == "<AsyncExecutor max_workers=2 structured>"
    assert repr(executor) == "<AsyncExecutor max_workers=2 shut down>"


def test_submit_outside_an_event_loop_is_a_clear_error() -> None:
    executor = AsyncExecutor()
    with pytest.raises(RuntimeError, match="inside a running asyncio or trio event loop"):
        executor.submit(double, 1)


async def test_manual_shutdown_right_after_submit_waits_for_the_call() -> None:
    # Without `async with`, the first submit starts serving in the background; the serving
    # task has not run yet when shutdown(wait=True) is awaited right after.
    ran: list[int] = []

    async def record(x: int) -> int:
        ran.append(x)
        return x

    executor = AsyncExecutor(max_workers=2)
    futures = [executor.submit(record, i) for i in range(3)]
    await executor.shutdown(wait=True)
    assert sorted(ran) == [0, 1, 2]
    assert all(f.done() for f in futures)
    assert [await f.result() for f in futures] == [0, 1, 2]
    await anyio.lowlevel.checkpoint()
    assert sorted(ran) == [0, 1, 2]  # nothing ran after shutdown returned


_MAP_CTRL_C_PROGRAM = """
import sys, anyio
from rich.console import Console
from antflow import AsyncExecutor

async def slow(x):
    if x == 0:
        print("started", flush=True)
    await anyio.sleep(30)
    return x

async def main():
    try:
        async with AsyncExecutor(2) as executor:
            await executor.map(slow, range(10), progress=True, console=Console(stderr=True))
    except KeyboardInterrupt:
        print("caught a bare KeyboardInterrupt", flush=True)
        raise

anyio.run(main, backend=sys.argv[1])
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_during_a_map_with_a_progress_bar_comes_out_bare(backend: str) -> None:
    # trio delivers the SIGINT inside the bar's task group, which wrapped it in a group.
    result = ctrl_c(_MAP_CTRL_C_PROGRAM, backend)
    if backend == "trio":
        assert "caught a bare KeyboardInterrupt" in result.out
    assert "ExceptionGroup" not in result.err
    assert result.err.rstrip().endswith("KeyboardInterrupt")
    assert result.returncode != 0
