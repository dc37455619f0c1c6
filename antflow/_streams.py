"""The fast path over anyio memory object streams, in one place.

anyio's ``send()`` and ``receive()`` are checkpoints: each one yields to the event loop, even when
the stream could hand an item over at once. In a tight producer/consumer loop that costs several
times the work itself (anyio issue #1005). The helpers here try ``send_nowait``/``receive_nowait``
first and await only when the stream would block.

Because the fast path does not checkpoint, a loop built on these helpers must reach a checkpoint
some other way (the user's coroutine, or an explicit ``anyio.lowlevel.checkpoint()``) to stay fair
and cancellable.
"""

from __future__ import annotations

from typing import TypeVar

from anyio import WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["receive", "send"]

T = TypeVar("T")


async def receive(stream: MemoryObjectReceiveStream[T]) -> T:
    """Take the next item, awaiting only if none is buffered.

    Raises:
        anyio.EndOfStream: the stream is empty and every send side is closed.
    """
    try:
        return stream.receive_nowait()
    except WouldBlock:
        return await stream.receive()


async def send(stream: MemoryObjectSendStream[T], item: T) -> None:
    """Put an item in, awaiting only if the buffer is full.

    Raises:
        anyio.BrokenResourceError: every receive side is closed.
    """
    try:
        stream.send_nowait(item)
    except WouldBlock:
        await stream.send(item)
