"""run(): results in input order, ids, task chaining, inputs of every kind."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import Pipeline, PipelineResult, Stage, StatusTracker


async def double(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x * 2


async def add_one(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x + 1


async def test_results_come_back_in_input_order_with_ids() -> None:
    done_first = anyio.Event()

    async def slow_first(x: int) -> int:
        if x == 0:
            await done_first.wait()  # item 0 finishes last
        elif x == 9:
            done_first.set()
        return x

    pipeline = Pipeline(stages=[Stage("S", workers=4, tasks=[slow_first])])
    results = await pipeline.run(range(10))
    assert [r.id for r in results] == list(range(10))
    assert [r.value for r in results] == list(range(10))


async def test_stages_chain_and_tasks_chain_within_a_stage() -> None:
    pipeline = Pipeline(
        stages=[Stage("A", 2, [double, add_one]), Stage("B", 3, [double])],
    )
    results = await pipeline.run(range(5))
    assert [r.value for r in results] == [(x * 2 + 1) * 2 for x in range(5)]


async def test_dict_items_keep_their_id() -> None:
    pipeline = Pipeline(stages=[Stage("S", 2, [double])])
    results = await pipeline.run([{"id": "a", "value": 1}, {"id": "b", "value": 2}])
    assert [(r.id, r.value) for r in results] == [("a", 2), ("b", 4)]


async def test_a_dict_with_an_id_keeps_it_and_its_other_keys_are_metadata() -> None:
    # antflow 0.10's rule: any dict with an "id"; without a "value" the whole dict is the value.
    async def keys(d: Any) -> Any:
        return sorted(d) if isinstance(d, dict) else d

    pipeline = Pipeline(stages=[Stage("S", 1, [keys])])
    results = await pipeline.run(
        [{"id": 1, "value": 2, "extra": 3}, {"id": "b", "name": "x"}, {"name": "no id"}]
    )
    assert results == [
        PipelineResult(1, 2, 0, {"extra": 3}),
        PipelineResult("b", ["id", "name"], 1, {"name": "x"}),
        PipelineResult(2, ["name"], 2),
    ]
    assert all(r.is_success and r.error is None for r in results)
    assert [r.sequence for r in results] == [r.sequence_id for r in results] == [0, 1, 2]


async def test_plain_function_runs_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()

    def which_thread(x: int) -> int:
        return threading.get_ident()

    pipeline = Pipeline(stages=[Stage("S", 2, [which_thread])])
    results = await pipeline.run(range(3))
    assert all(r.value != loop_thread for r in results)


async def test_unpack_args_spreads_tuples_and_dicts() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    pipeline = Pipeline(stages=[Stage("S", 2, [add], unpack_args=True)])
    results = await pipeline.run([(1, 2), {"a": 3, "b": 4}])
    assert [r.value for r in results] == [3, 7]


async def test_async_iterable_input() -> None:
    async def numbers() -> AsyncIterator[int]:
        for i in range(6):
            await anyio.lowlevel.checkpoint()
            yield i

    pipeline = Pipeline(stages=[Stage("S", 3, [double])])
    results = await pipeline.run(numbers())
    assert [r.value for r in results] == [0, 2, 4, 6, 8, 10]


async def test_input_is_consumed_lazily() -> None:
    taken = 0
    most_ahead = 0
    processed = 0

    def items() -> Any:
        nonlocal taken
        for i in range(200):
            taken += 1
            yield i

    async def count(x: int) -> int:
        nonlocal processed, most_ahead
        most_ahead = max(most_ahead, taken - processed)
        await anyio.lowlevel.checkpoint()
        processed += 1
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [count], queue_capacity=5)])
    await pipeline.run(items())
    # queued (5) + held by workers (2) + the one being put
    assert most_ahead <= 5 + 2 + 1


async def test_skip_if_passes_the_item_unchanged() -> None:
    pipeline = Pipeline(stages=[Stage("S", 2, [double], skip_if=lambda x: x % 2 == 1)])
    results = await pipeline.run(range(4))
    assert [r.value for r in results] == [0, 1, 4, 3]


@pytest.mark.parametrize("tracked", [False, True])
async def test_skip_if_that_raises_fails_the_item_with_that_exception(tracked: bool) -> None:
    boom = LookupError("skip_if bug")
    seen_by_next_stage: list[int] = []
    failures: list[tuple[object, BaseException, dict[str, object]]] = []

    def skip_if(x: int) -> bool:
        if x == 2:
            raise boom
        return False

    async def record(x: int) -> int:
        seen_by_next_stage.append(x)
        return x

    tracker = StatusTracker() if tracked else None
    pipeline = Pipeline(
        stages=[
            Stage(
                "A",
                2,
                [double],
                skip_if=skip_if,
                on_failure=lambda i, e, m: failures.append((i, e, m)),
            ),
            Stage("B", 1, [record]),
        ],
        status_tracker=tracker,
    )
    results = await pipeline.run(range(4))
    assert [(r.id, r.value) for r in results] == [(0, 0), (1, 2), (3, 6)]
    assert sorted(seen_by_next_stage) == [0, 2, 6]  # never item 2
    (failed,) = pipeline.get_error_summary().failed_items
    assert (failed.item_id, failed.stage, failed.task, failed.attempts) == (2, "A", None, 1)
    assert failed.exception is boom
    assert [(i, e, m["task"], m["attempts"]) for i, e, m in failures] == [(2, boom, None, 1)]
    if tracker is not None:
        status = tracker.get_status(2)
        assert status is not None
        assert (status.stage, status.status, status.metadata["exception"]) == ("A", "failed", boom)
        # skip_if is asked before the item is reported in progress
        assert [(e.stage, e.status) for e in tracker.get_history(2)] == [
            ("A", "queued"),
            ("A", "failed"),
        ]


async def test_results_property_after_start_feed_join() -> None:
    pipeline = Pipeline(stages=[Stage("A", 2, [double]), Stage("B", 2, [add_one])])
    await pipeline.start()
    await pipeline.feed(range(3))
    await pipeline.feed([10])
    await pipeline.join()
    assert [(r.id, r.value) for r in pipeline.results] == [(0, 1), (1, 3), (2, 5), (3, 21)]


async def test_feed_into_a_later_stage_skips_earlier_ones() -> None:
    pipeline = Pipeline(stages=[Stage("A", 1, [double]), Stage("B", 1, [add_one])])
    async with pipeline:
        await pipeline.start()
        await pipeline.feed([5], target_stage="B")
        await pipeline.join()
    assert [r.value for r in pipeline.results] == [6]


async def test_collect_results_false_keeps_nothing() -> None:
    pipeline = Pipeline(stages=[Stage("A", 1, [double])], collect_results=False)
    await pipeline.start()
    await pipeline.feed(range(3))
    await pipeline.join()
    assert pipeline.results == []
    assert pipeline.get_stats().items_processed == 3


async def test_builder_and_quick() -> None:
    results = await (
        Pipeline.create().add("A", double, workers=2).add("B", [add_one], workers=1).run(range(3))
    )
    assert [r.value for r in results] == [1, 3, 5]
    quick = await Pipeline.quick(range(3), [double, double], workers=2)
    assert [r.value for r in quick] == [0, 4, 8]
    assert list(
        Pipeline.create().add("A", double).add("A2", double).build().get_worker_names()
    ) == [
        "A",
        "A2",
    ]


async def test_pipeline_can_run_again() -> None:
    pipeline = Pipeline(stages=[Stage("S", 2, [double])])
    assert [r.value for r in await pipeline.run(range(2))] == [0, 2]
    assert [r.value for r in await pipeline.run(range(3))] == [0, 2, 4]


async def test_a_plain_function_returning_a_coroutine_is_awaited() -> None:
    async def double(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return 2 * x

    def hands_back_a_coroutine(x: int) -> Any:
        return double(x)  # a sync task that returns an awaitable, run in a worker thread

    pipeline = Pipeline([Stage("S", workers=2, tasks=[hands_back_a_coroutine], task_attempts=1)])
    results = await pipeline.run([1, 2, 3])
    assert [r.value for r in results] == [2, 4, 6]
    assert pipeline.get_error_summary().total_failed == 0
