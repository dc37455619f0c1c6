"""Small coroutine functions shared by the executor and pipeline tests."""

from __future__ import annotations

import anyio
import anyio.lowlevel


async def double(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x * 2


async def wait_for(event: anyio.Event) -> str:
    await event.wait()
    return "released"


class Concurrency:
    """Counts how many calls run at the same time, and the peak."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0

    async def call(self, x: int) -> int:
        self.active += 1
        self.peak = max(self.peak, self.active)
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        self.active -= 1
        return x


async def all_parked() -> None:
    """Return once every other task is blocked: ``anyio.wait_all_tasks_blocked()``, made cheap.

    On asyncio, anyio's version sleeps a real 0.1 s each time it finds a task still runnable, and
    a task just started usually is. Yielding a few times first lets such tasks reach their wait,
    so the check then passes at once; the guarantee is still ``wait_all_tasks_blocked``'s.
    """
    for _ in range(5):
        await anyio.lowlevel.checkpoint()
    await anyio.wait_all_tasks_blocked()
