"""Module-level tasks for the process-executor tests (a worker process imports this module)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

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


#: The folder where the tasks below signal the test (set by the test before the run).
SIGNALS = "FLOWKIT_TEST_SIGNALS"


def _held_until_released() -> int:
    """Say "started" (a file named after this process), then wait for the test's "release"."""
    folder = Path(os.environ[SIGNALS])
    (folder / f"started-{os.getpid()}").touch()
    deadline = time.monotonic() + 30
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    return os.getpid()


@task()
def held_first() -> int:
    return _held_until_released()


@task()
def held_second() -> int:
    return _held_until_released()


@task()
async def a_lock() -> object:
    return threading.Lock()


@task()
def given_a_lock(lock: object) -> None:
    raise AssertionError("a lock cannot reach a worker process")


a_lock >> given_a_lock


@task(retries=2, delay=0)
def returns_a_lock() -> object:
    return threading.Lock()


async def _coroutine() -> int:
    return 1


@task()
def returns_a_coroutine() -> object:
    return _coroutine()
