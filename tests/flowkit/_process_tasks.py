"""Module-level tasks for the process-executor tests (a worker process imports this module)."""

from __future__ import annotations

import os

from flowkit import task


@task()
def pid_of_worker() -> int:
    return os.getpid()


@task()
def square_of_seven() -> int:
    return 7 * 7


@task()
def plus_one(value: int) -> int:
    return value + 1


square_of_seven >> plus_one
