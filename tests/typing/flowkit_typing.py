"""Checked by mypy (see test_flowkit_typing.py), never run: ``@task`` keeps the function's
parameters and return type.

mypy must report exactly: on each line marked ``# E: <code>`` an error with that code, and on
each ``reveal_type`` line the type in its ``# R:`` comment.
"""

from __future__ import annotations

from typing_extensions import reveal_type

from flowkit import Task, task


@task()
def add(x: int, y: int = 0) -> str:
    return str(x + y)


@task
def bare(name: str) -> int:
    return len(name)


@task(retries=2)
async def fetch(url: str) -> bytes:
    return url.encode()


reveal_type(add(1))  # R: str
reveal_type(bare("x"))  # R: int
coroutine = fetch("u")
_ = reveal_type(coroutine)  # R: typing.Coroutine[Any, Any, bytes]
reveal_type(add)  # R: flowkit._task.Task[[x: int, y: int =], str]

add("one")  # E: arg-type
add(1, z=2)  # E: call-arg
bare()  # E: call-arg
length: str = bare("x")  # E: assignment

chained: Task = add >> bare
fanned: list[Task] = add >> [bare]
any_task: Task = fetch  # a bare Task annotation takes any task


async def main() -> bytes:
    return await coroutine
