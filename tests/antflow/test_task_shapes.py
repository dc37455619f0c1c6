"""A task that cannot work is refused before anything runs: a Stage's tasks when the Stage is
built, the function given to submit(), map() and map_iter() when they are called."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from antflow import AsyncExecutor, Pipeline, Stage, StageValidationError

from ._helpers import double


async def two(a: int, b: int) -> int:
    return a + b


async def keyword_only(value: int, *, scale: int) -> int:
    return value * scale


async def no_argument() -> int:
    return 1


async def generate(value: int) -> AsyncIterator[int]:
    yield value


def plain(value: int) -> int:
    return value


# -- Stage -----------------------------------------------------------------------------------


def test_a_stage_task_that_needs_two_arguments_is_refused() -> None:
    with pytest.raises(StageValidationError) as info:
        Stage("Sum", 1, [two])
    message = str(info.value)
    assert "Stage 'Sum': tasks[0] 'two' cannot be called with one argument" in message
    assert "missing a required argument: 'b'" in message
    assert "unpack_args=True" in message


def test_a_stage_task_with_a_required_keyword_only_argument_is_refused() -> None:
    with pytest.raises(StageValidationError, match="missing a required argument: 'scale'"):
        Stage("Scale", 1, [double, keyword_only])


def test_a_stage_task_that_takes_no_argument_is_refused() -> None:
    with pytest.raises(StageValidationError, match="tasks\\[0\\] 'no_argument' cannot be called"):
        Stage("Zero", 1, [no_argument])


def test_an_async_generator_task_is_refused() -> None:
    with pytest.raises(StageValidationError, match="'generate' is an async generator function"):
        Stage("Gen", 1, [generate])
    with pytest.raises(StageValidationError, match="async generator function"):
        Stage("Gen", 1, [functools.partial(generate)], unpack_args=True)


def test_tasks_that_can_take_the_value_are_accepted() -> None:
    class Callable:
        async def __call__(self, value: int, extra: int = 0) -> int:
            return value

    async def star(*values: int) -> int:
        return len(values)

    stage = Stage("Many", 1, [double, plain, functools.partial(two, 1), Callable(), star, len, str])
    assert len(stage.tasks) == 7
    Stage("Spread", 1, [two, keyword_only], unpack_args=True)  # known per item only


async def test_a_stage_of_checked_tasks_still_runs() -> None:
    stage = Stage("Add", 1, [functools.partial(two, 10), plain])
    results = await Pipeline([stage]).run([1, 2])
    assert [r.value for r in results] == [11, 12]


# -- submit, map, map_iter -------------------------------------------------------------------


async def test_submit_refuses_a_plain_function_at_once() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError) as info:
            executor.submit(plain, 1)  # type: ignore[arg-type]
    message = str(info.value)
    assert "submit() needs an async function (`async def`), got the plain function plain" in message
    assert "anyio.to_thread.run_sync(plain, ...)" in message


async def test_submit_refuses_an_async_generator_function() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError, match="submit\\(\\): generate is an async generator"):
            executor.submit(generate, 1)  # type: ignore[arg-type]


async def test_submit_refuses_arguments_the_signature_cannot_take() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError, match=r"two cannot be called .*missing a required argument"):
            executor.submit(two, 1)
        with pytest.raises(TypeError, match="missing a required argument: 'scale'"):
            executor.submit(keyword_only, 1)
        with pytest.raises(TypeError, match="got an unexpected keyword argument 'bogus'"):
            executor.submit(two, 1, 2, bogus=3)
        with pytest.raises(TypeError, match="too many positional arguments"):
            executor.submit(double, 1, 2)


class Client:
    async def get(self, value: int) -> int:
        return value * 2

    def parse(self, value: int) -> int:
        return value


async def test_submit_accepts_what_can_be_awaited() -> None:
    client = Client()
    async with AsyncExecutor() as executor:
        futures = [
            executor.submit(keyword_only, 2, scale=3),
            executor.submit(functools.partial(two, 1), 2),
            executor.submit(lambda: double(4)),
            executor.submit(client.get, 5),
        ]
        assert [await f.result() for f in futures] == [6, 3, 8, 10]
        with pytest.raises(TypeError, match="got the plain function parse"):
            executor.submit(client.parse, 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="get cannot be called"):
            executor.submit(client.get, 1, 2)


async def test_map_refuses_a_plain_function_and_a_wrong_arity_at_once() -> None:
    async with AsyncExecutor() as executor:
        with pytest.raises(TypeError, match="map\\(\\) needs an async function"):
            executor.map(plain, [1])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="map\\(\\): double cannot be called"):
            executor.map(double, [1], [2])
        with pytest.raises(TypeError, match="map\\(\\): generate is an async generator"):
            executor.map_iter(generate, [1])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="map\\(\\): two cannot be called"):
            executor.map_iter(two, [1])
        assert await executor.map(two, [1, 2], [10, 20]) == [11, 22]


async def test_a_signature_that_cannot_be_read_is_not_checked() -> None:
    class Opaque:
        __signature__ = "not a signature"

        async def __call__(self, *args: Any) -> int:
            return len(args)

    async with AsyncExecutor() as executor:
        assert await executor.submit(Opaque(), 1, 2).result() == 2
