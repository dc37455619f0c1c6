"""Module-level tasks for the mapping tests run in worker processes (a worker imports this)."""

from __future__ import annotations

import os

from flowkit import task


@task()
def numbers() -> list[int]:
    return [1, 2, 3, 4]


@task()
def square_in_worker(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


@task()
def fail_on_three(value: int) -> int:
    if value == 3:
        raise ValueError(f"no {value}")
    return value


@task()
def rate() -> int:
    return 3


@task()
def taxed(price: int, rate: int) -> int:
    return price * rate


@task()
def total(taxed: list[int]) -> int:
    return sum(taxed)
