"""Workers: names, states, metrics, set_task_status and task concurrency limits."""

from __future__ import annotations

import anyio
import anyio.lowlevel

from antflow import Pipeline, Stage, set_task_status


async def noop(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x


def test_worker_names_by_stage() -> None:
    pipeline = Pipeline(stages=[Stage("Fetch", 3, [noop]), Stage("Process", 2, [noop])])
    assert pipeline.get_worker_names() == {
        "Fetch": ["Fetch-W0", "Fetch-W1", "Fetch-W2"],
        "Process": ["Process-W0", "Process-W1"],
    }
    assert {s.status for s in pipeline.get_worker_states().values()} == {"stopped"}


async def test_worker_state_shows_item_and_task_status() -> None:
    inside = anyio.Event()
    release = anyio.Event()

    async def upload(x: int) -> int:
        set_task_status("uploading")
        inside.set()
        await release.wait()
        return x

    pipeline = Pipeline(stages=[Stage("S", 2, [upload])])
    async with anyio.create_task_group() as tg:
        tg.start_soon(pipeline.run, [{"id": "job", "value": 1}])
        await inside.wait()
        states = pipeline.get_worker_states()
        busy = [s for s in states.values() if s.status == "busy"]
        assert len(busy) == 1
        assert (busy[0].current_item_id, busy[0].current_task) == ("job", "uploading")
        snapshot = pipeline.get_dashboard_snapshot()
        assert snapshot.pipeline_stats.items_in_flight == 1
        release.set()
    metrics = pipeline.get_worker_metrics()
    assert sum(m.items_processed for m in metrics.values()) == 1
    assert {s.status for s in pipeline.get_worker_states().values()} == {"stopped"}


def test_set_task_status_outside_a_pipeline_does_nothing() -> None:
    set_task_status("anything")


async def test_set_task_status_from_a_thread_task() -> None:
    seen: list[str | None] = []

    def in_thread(x: int) -> int:
        set_task_status("threaded")
        seen.append(pipeline.get_worker_states()["S-W0"].current_task)
        return x

    pipeline = Pipeline(stages=[Stage("S", 1, [in_thread])])
    await pipeline.run([1])
    assert seen == ["threaded"]
    assert pipeline.get_worker_states()["S-W0"].current_task is None  # reset when done


async def test_task_concurrency_limit_caps_calls_across_workers() -> None:
    active = 0
    peak = 0

    async def limited(x: int) -> int:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        active -= 1
        return x

    pipeline = Pipeline(
        stages=[Stage("S", 8, [noop, limited], task_concurrency_limits={"limited": 2})]
    )
    results = await pipeline.run(range(40))
    assert len(results) == 40
    assert peak == 2
