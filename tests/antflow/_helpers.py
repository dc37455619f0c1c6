"""Small coroutine functions shared by the executor tests."""

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
