"""RendezvousChannel: 0.10's zero-buffer channel, on anyio; hand-overs under cancellation."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from antflow import PipelineError
from antflow.pipeline import _PULL_CLOSED, RendezvousChannel

from ._helpers import all_parked


async def test_put_waits_until_a_get_takes_the_item() -> None:
    channel = RendezvousChannel()
    delivered: list[str] = []

    async def put() -> None:
        await channel.put("a")
        delivered.append("a")

    async with anyio.create_task_group() as tg:
        tg.start_soon(put)
        await all_parked()
        assert delivered == []  # nobody asked: the putter still holds it
        assert await channel.get() == "a"
    assert delivered == ["a"]


async def test_get_waits_until_a_put() -> None:
    channel = RendezvousChannel()
    got: list[Any] = []

    async def get() -> None:
        got.append(await channel.get())

    async with anyio.create_task_group() as tg:
        tg.start_soon(get)
        await all_parked()
        assert got == []
        await channel.put(1)
    assert got == [1]


async def test_waiting_puts_are_served_in_arrival_order() -> None:
    channel = RendezvousChannel()
    async with anyio.create_task_group() as tg:
        for value in range(4):
            tg.start_soon(channel.put, value)
            await all_parked()
        assert [await channel.get() for _ in range(4)] == [0, 1, 2, 3]


async def test_task_done_join_qsize_and_empty_count_items_handed_over() -> None:
    channel = RendezvousChannel()
    joined: list[bool] = []

    async def join() -> None:
        await channel.join()
        joined.append(True)

    assert channel.empty()
    assert channel.qsize() == 0
    async with anyio.create_task_group() as tg:
        tg.start_soon(channel.put, "a")
        tg.start_soon(channel.put, "b")
        await all_parked()
        assert channel.qsize() == 0  # nothing handed over: nothing waits *in* the channel
        await channel.get()
        await channel.get()
        assert channel.qsize() == 2
        assert not channel.empty()
        tg.start_soon(join)
        channel.task_done()
        await all_parked()
        assert joined == []
        channel.task_done()
        await all_parked()
        assert joined == [True]
    channel.task_done()  # more task_done() than items: ignored, as in 0.10
    assert channel.qsize() == 0
    assert channel.empty()


async def test_close_ends_gets_and_refuses_puts() -> None:
    channel = RendezvousChannel()
    got: list[Any] = []
    refused: list[str] = []

    async def get() -> None:
        got.append(await channel.get())

    async def put(value: str) -> None:
        with pytest.raises(PipelineError, match=f"closed; '{value}' was not delivered"):
            await channel.put(value)
        refused.append(value)

    async with anyio.create_task_group() as tg:
        tg.start_soon(get)
        tg.start_soon(get)
        await all_parked()
        channel.close()  # waiting gets end
    assert got == [_PULL_CLOSED, _PULL_CLOSED]
    assert await channel.get() is RendezvousChannel.CLOSED  # so do later ones
    await put("late")  # a put after close

    channel = RendezvousChannel()
    async with anyio.create_task_group() as tg:
        tg.start_soon(put, "waiting")
        await all_parked()
        channel.close()  # a waiting put
    assert refused == ["late", "waiting"]
    assert channel.qsize() == 0


def test_put_nowait_is_refused_as_in_0_10() -> None:
    with pytest.raises(RuntimeError, match="put_nowait"):
        RendezvousChannel().put_nowait(1)


async def test_a_get_cancelled_before_the_hand_over_leaves_no_trace() -> None:
    channel = RendezvousChannel()
    got: list[Any] = []
    async with anyio.create_task_group() as tg:
        doomed = anyio.CancelScope()

        async def doomed_get() -> None:
            with doomed:
                got.append(await channel.get())

        tg.start_soon(doomed_get)
        await all_parked()
        doomed.cancel()
        await all_parked()
        tg.start_soon(channel.put, 1)  # nobody is left in line: the put waits
        await all_parked()
        assert channel.qsize() == 0
        assert await channel.get() == 1
    assert got == []
    assert doomed.cancelled_caught


async def test_a_get_cancelled_as_the_channel_closes_is_cancelled() -> None:
    # Found by the property test: the close had already taken the getter out of line.
    channel = RendezvousChannel()
    got: list[Any] = []
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def get() -> None:
            with scope:
                got.append(await channel.get())

        tg.start_soon(get)
        await all_parked()
        scope.cancel()
        channel.close()
    assert got == []
    assert scope.cancelled_caught


async def test_a_get_cancelled_after_the_hand_over_still_returns_the_item() -> None:
    channel = RendezvousChannel()
    got: list[Any] = []
    reached_checkpoint: list[bool] = []

    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def get() -> None:
            with scope:
                got.append(await channel.get())
                reached_checkpoint.append(True)
                await anyio.lowlevel.checkpoint()  # the cancellation arrives here
                got.append("not reached")

        tg.start_soon(get)
        await all_parked()
        scope.cancel()  # the getter is cancelled ...
        await channel.put("item")  # ... and handed the item before it runs again
    assert got == ["item"]
    assert reached_checkpoint == [True]
    assert scope.cancelled_caught


async def test_a_put_cancelled_before_the_hand_over_delivers_nothing() -> None:
    channel = RendezvousChannel()
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def put() -> None:
            with scope:
                await channel.put("withdrawn")

        tg.start_soon(put)
        await all_parked()
        scope.cancel()
        await all_parked()
        tg.start_soon(channel.put, "kept")
        await all_parked()
        assert await channel.get() == "kept"
    assert channel.qsize() == 1  # one item handed over in all


async def test_a_put_cancelled_after_the_hand_over_returns_normally() -> None:
    # So a caller that retries a put() which raised never delivers the item twice.
    channel = RendezvousChannel()
    outcome: list[str] = []
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def put() -> None:
            with scope:
                try:
                    await channel.put("item")
                except anyio.get_cancelled_exc_class():
                    outcome.append("raised")
                    raise
                outcome.append("returned")
                await anyio.lowlevel.checkpoint()  # the cancellation arrives here

        tg.start_soon(put)
        await all_parked()
        scope.cancel()  # the putter is cancelled ...
        assert await channel.get() == "item"  # ... and its item taken before it runs again
    assert outcome == ["returned"]
    assert scope.cancelled_caught
    assert channel.qsize() == 1


async def test_many_putters_and_getters_lose_and_duplicate_nothing() -> None:
    channel = RendezvousChannel()
    got: list[int] = []

    async def producer(start: int) -> None:
        for value in range(start, start + 50):
            await channel.put(value)

    async def consumer() -> None:
        while (value := await channel.get()) is not _PULL_CLOSED:
            got.append(value)
            channel.task_done()

    async with anyio.create_task_group() as consumers:
        for _ in range(7):
            consumers.start_soon(consumer)
        async with anyio.create_task_group() as producers:
            for start in range(0, 500, 50):
                producers.start_soon(producer, start)
        await channel.join()
        channel.close()
    assert sorted(got) == list(range(500))
