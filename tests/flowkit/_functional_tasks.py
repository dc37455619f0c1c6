"""Module-level tasks for the Functional API's process-executor tests (a worker process imports
this module to find them)."""

from __future__ import annotations

import os

from flowkit import task


@task()
def base_number() -> int:
    return 6


@task()
def worker_pid(base_number: int) -> int:
    return os.getpid()


@task()
def squared(base_number: int) -> int:
    return base_number**2


@task()
async def doubled(base_number: int) -> int:
    return base_number * 2


@task()
def total(squared: int, doubled: int) -> int:
    return squared + doubled
