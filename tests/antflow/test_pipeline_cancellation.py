"""Cancellation, shutdown and early exit stop every worker promptly and leave no task behind."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import Pipeline, PipelineError, Stage
from tests._ctrl_c import ctrl_c


class Blocker:
    """A task that parks every item until cancelled, counting the calls that began."""

    def __init__(self, started_after: int) -> None:
        self.started = 0
        self.enough = anyio.Event()
        self.cancelled = 0
        self.started_after = started_after

    async def __call__(self, x: Any) -> Any:
        self.started += 1
        if self.started >= self.started_after:
            self.enough.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise


def all_stopped(pipeline: Pipeline) -> bool:
    return all(s.status == "stopped" for s in pipeline.get_worker_states().values())


async def test_cancelling_run_stops_every_worker() -> None:
    blocker = Blocker(started_after=3)
    pipeline = Pipeline(stages=[Stage("S", 3, [blocker])])
    async with anyio.create_task_group() as tg:

        async def cancel_when_busy() -> None:
            await blocker.enough.wait()
            tg.cancel_scope.cancel()

        tg.start_soon(cancel_when_busy)
        await pipeline.run(range(10))
    assert blocker.cancelled == 3
    assert all_stopped(pipeline)
    assert not pipeline.is_running
    assert pipeline.get_stats().items_in_flight == 10  # abandoned, and reported as such


async def test_move_on_after_stops_run() -> None:
    pipeline = Pipeline(stages=[Stage("S", 2, [Blocker(1)])])
    with anyio.move_on_after(0.01):
        await pipeline.run(range(5))
    assert all_stopped(pipeline)


async def test_shutdown_stops_a_started_pipeline() -> None:
    blocker = Blocker(started_after=2)
    pipeline = Pipeline(stages=[Stage("S", 2, [blocker]), Stage("T", 2, [blocker])])
    async with pipeline:
        await pipeline.start()
        await pipeline.feed(range(4))
        await blocker.enough.wait()
        await pipeline.shutdown()
        assert all_stopped(pipeline)
        assert blocker.cancelled == 2
    await pipeline.feed([1])  # idle again: the item waits for the next start()
    assert pipeline.get_stats().items_fed == 1
    assert not pipeline.is_running
    await pipeline.shutdown()  # drops it


async def test_leaving_async_with_shuts_down() -> None:
    blocker = Blocker(started_after=1)
    pipeline = Pipeline(stages=[Stage("S", 1, [blocker])])
    async with pipeline:
        await pipeline.start()
        await pipeline.feed([1])
        await blocker.enough.wait()
    assert blocker.cancelled == 1
    assert all_stopped(pipeline)


async def test_start_twice_is_an_error() -> None:
    pipeline = Pipeline(stages=[Stage("S", 1, [Blocker(1)])])
    async with pipeline:
        await pipeline.start()
        with pytest.raises(PipelineError, match="already running"):
            await pipeline.start()
        with pytest.raises(PipelineError, match="already running"):
            await pipeline.run([1])


async def test_run_while_items_wait_for_start_names_the_fix() -> None:
    pipeline = Pipeline(stages=[Stage("S", 1, [Blocker(1)])])
    await pipeline.feed([1])  # waits for start()
    with pytest.raises(PipelineError, match=r"fed before start\(\).*pipeline.start\(\)"):
        await pipeline.run([2])
    await pipeline.shutdown()


async def test_feed_unknown_stage_is_value_error() -> None:
    pipeline = Pipeline(stages=[Stage("S", 1, [Blocker(1)])])
    async with pipeline:
        await pipeline.start()
        with pytest.raises(ValueError, match="'Nope' is not a stage"):
            await pipeline.feed([1], target_stage="Nope")


async def test_stream_break_with_aclosing_shuts_down_at_once() -> None:
    async def passthrough(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x

    pipeline = Pipeline(stages=[Stage("S", 3, [passthrough]), Stage("T", 2, [passthrough])])
    async with aclosing(pipeline.stream(range(100_000))) as results:
        async for _ in results:
            break
    assert all_stopped(pipeline)
    assert not pipeline.is_running
    assert pipeline.get_stats().items_fed < 1_000  # the input was not drained


async def test_stream_plain_break_cancels_the_workers_at_once() -> None:
    # No aclosing: CPython drops the stream at the break, which cancels the workers; no
    # ResourceWarning (pytest turns warnings into errors) and no wait for garbage collection.
    async def passthrough(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [passthrough])])
    async for _ in pipeline.stream(range(100_000)):
        break
    for _ in range(100):
        if not pipeline.is_running:
            break
        await anyio.lowlevel.checkpoint()
    assert not pipeline.is_running
    assert all_stopped(pipeline)
    assert pipeline.get_stats().items_fed < 1_000  # the input was not drained


async def test_error_in_input_propagates_and_stops_workers() -> None:
    def items() -> Any:
        yield 1
        raise KeyError("bad input")

    pipeline = Pipeline(stages=[Stage("S", 2, [Blocker(1)])])
    with pytest.raises(KeyError, match="bad input"):
        await pipeline.run(items())
    assert all_stopped(pipeline)
    async with aclosing(pipeline.stream(items())) as results:
        with pytest.raises(KeyError, match="bad input"):
            async for _ in results:
                pass
    assert all_stopped(pipeline)


async def test_an_exception_in_the_async_with_body_propagates_unwrapped() -> None:
    async def identity(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="body"):
        async with Pipeline(stages=[Stage(name="S", workers=2, tasks=[identity])]) as pipeline:
            await pipeline.run(range(3))
            raise ValueError("body")


async def test_stream_as_async_context_manager_waits_for_the_workers() -> None:
    async def passthrough(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x

    pipeline = Pipeline(stages=[Stage("S", 3, [passthrough])])
    async with pipeline.stream(range(100_000)) as results:
        async for _ in results:
            break
        assert pipeline.is_running  # left the loop, not the block: still going
    assert not pipeline.is_running
    assert all_stopped(pipeline)
    assert [r async for r in results] == []  # a closed stream yields nothing more


async def test_stream_that_is_never_iterated_starts_nothing() -> None:
    task = Blocker(1)
    pipeline = Pipeline(stages=[Stage("S", 1, [task])])
    results = pipeline.stream(range(3))
    await results.aclose()
    assert not pipeline.is_running
    assert pipeline.get_stats().items_fed == 0
    assert await pipeline.run([]) == []  # the pipeline is free for another run


async def test_stream_rejects_a_second_concurrent_run_at_first_iteration() -> None:
    async def passthrough(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x

    pipeline = Pipeline(stages=[Stage("S", 1, [passthrough])])
    async with pipeline.stream(range(10)) as first:
        await first.__anext__()
        second = pipeline.stream(range(10))
        with pytest.raises(PipelineError, match="already running"):
            await second.__anext__()


_CTRL_C_PROGRAM = """
import sys, anyio
from antflow import Pipeline, Stage

async def slow(x):
    if x == 0:
        print("started", flush=True)
    await anyio.sleep(30)
    return x

async def main():
    try:
        await Pipeline(stages=[Stage("S", 2, [slow])]).run(range(10))
    except KeyboardInterrupt:
        print("caught a bare KeyboardInterrupt", flush=True)
        raise

anyio.run(main, backend=sys.argv[1])
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_during_run_comes_out_as_a_bare_keyboard_interrupt(backend: str) -> None:
    # A real SIGINT, in a subprocess. trio raises it inside the run's task group, which used to
    # wrap it in a BaseExceptionGroup that `except KeyboardInterrupt` does not catch. asyncio
    # turns it into a cancellation of the main task and raises KeyboardInterrupt from the event
    # loop once the run has stopped.
    result = ctrl_c(_CTRL_C_PROGRAM, backend)
    out, err = result.out, result.err
    if backend == "trio":
        assert "caught a bare KeyboardInterrupt" in out
    assert "ExceptionGroup" not in err
    assert err.rstrip().endswith("KeyboardInterrupt")
    assert result.returncode != 0


async def test_an_item_failing_while_the_run_is_cancelled_is_recorded_as_failed() -> None:
    reporting = anyio.Event()

    async def broken(x: int) -> int:
        raise ValueError(f"bad {x}")

    async def slow_on_failure(item_id: Any, error: Exception, metadata: dict[str, Any]) -> None:
        reporting.set()
        await anyio.sleep_forever()  # the run is cancelled while the failure is being told

    pipeline = Pipeline(
        [Stage("S", workers=1, tasks=[broken], task_attempts=1, on_failure=slow_on_failure)]
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(pipeline.run, [7])
        await reporting.wait()
        tg.cancel_scope.cancel()
    stats = pipeline.get_stats()
    assert (stats.items_failed, stats.items_in_flight) == (1, 0)
    [failure] = pipeline.get_error_summary().failed_items
    assert (failure.item_id, str(failure.error)) == (0, "bad 7")
