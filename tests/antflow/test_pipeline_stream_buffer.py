"""stream(buffer_size=...): how many finished results may wait for the consumer."""

from __future__ import annotations

import pytest

from antflow import Pipeline, Stage

from ._helpers import all_parked


class Counted:
    """A task that counts the items it finished."""

    def __init__(self) -> None:
        self.finished = 0

    async def __call__(self, x: int) -> int:
        self.finished += 1
        return x


async def _consume_stepwise(
    buffer_size: int | None, items: int, workers: int
) -> list[tuple[int, int, int]]:
    """Consume one result at a time; after each (and before the first), once everything has
    parked: ``(consumed, results handed out, items finished by the last stage)``."""
    task = Counted()
    pipeline = Pipeline([Stage("S", workers, [task])])
    seen: list[tuple[int, int, int]] = []
    consumed = 0
    async with pipeline.stream(range(items), buffer_size=buffer_size) as stream:
        await all_parked()  # nothing runs before the first iteration
        assert task.finished == 0
        async for _ in stream:
            consumed += 1
            await all_parked()
            seen.append((consumed, pipeline.get_stats().items_processed, task.finished))
    assert consumed == items
    return seen


@pytest.mark.parametrize("buffer_size", [1, 3])
async def test_at_most_buffer_size_results_wait_for_the_consumer(buffer_size: int) -> None:
    seen = await _consume_stepwise(buffer_size, items=12, workers=2)
    for consumed, handed_out, finished in seen:
        # Handed out: consumed, plus a full buffer; each worker holds one more result.
        assert handed_out == min(12, consumed + buffer_size)
        assert finished == min(12, consumed + buffer_size + 2)


async def test_buffer_size_0_hands_a_result_over_only_when_asked() -> None:
    seen = await _consume_stepwise(0, items=12, workers=2)
    for consumed, handed_out, finished in seen:
        assert handed_out == consumed
        assert finished == min(12, consumed + 2)  # what the two workers hold, waiting


async def test_buffer_size_none_buffers_every_result() -> None:
    seen = await _consume_stepwise(None, items=300, workers=2)
    assert seen[0] == (1, 300, 300)  # everything ran while the consumer held the first


async def test_the_default_buffer_holds_64_results() -> None:
    task = Counted()
    pipeline = Pipeline([Stage("S", 1, [task])])
    async with pipeline.stream(range(200)) as stream:
        async for _ in stream:
            await all_parked()
            assert pipeline.get_stats().items_processed == 1 + 64
            break


@pytest.mark.parametrize(
    ("buffer_size", "error", "match"),
    [
        (-1, ValueError, "buffer_size"),
        (1.5, TypeError, "buffer_size"),
        (True, TypeError, "buffer_size"),
    ],
)
def test_a_bad_buffer_size_is_refused_at_the_call(
    buffer_size: object, error: type[Exception], match: str
) -> None:
    pipeline = Pipeline([Stage("S", 1, [abs])])
    with pytest.raises(error, match=match):
        pipeline.stream([1], buffer_size=buffer_size)  # type: ignore[arg-type]


@pytest.mark.parametrize("buffer_size", [None, 0, 1])
async def test_breaking_out_stops_the_run_whatever_the_buffer(buffer_size: int | None) -> None:
    task = Counted()
    pipeline = Pipeline([Stage("S", 3, [task])])
    async with pipeline.stream(range(1000), buffer_size=buffer_size) as stream:
        async for _ in stream:
            break
    assert not pipeline.is_running
    assert {s.status for s in pipeline.get_worker_states().values()} == {"stopped"}
    assert pipeline.results == []
