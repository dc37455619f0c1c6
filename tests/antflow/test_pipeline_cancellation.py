"""Cancellation, shutdown and early exit stop every worker promptly and leave no task behind."""

from __future__ import annotations

import gc
from contextlib import aclosing
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import Pipeline, PipelineError, Stage


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
    with pytest.raises(PipelineError, match="not running"):
        await pipeline.feed([1])


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


async def test_feed_before_start_names_the_fix() -> None:
    pipeline = Pipeline(stages=[Stage("S", 1, [Blocker(1)])])
    with pytest.raises(PipelineError, match=r"start\(\)"):
        await pipeline.feed([1])


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


# trio warns (ResourceWarning) about any async generator finalized unexhausted; it still runs
# the generator's cleanup, which is what this test checks.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_stream_plain_break_shuts_down_when_finalized() -> None:
    async def passthrough(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [passthrough])])
    async for _ in pipeline.stream(range(100_000)):
        break
    gc.collect()
    with anyio.fail_after(5):
        while pipeline.is_running:  # noqa: ASYNC110 - the event loop's finalizer sets nothing
            await anyio.sleep(0.001)
    assert all_stopped(pipeline)


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
