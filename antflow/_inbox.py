"""A stage's queue: a bounded memory object stream, entered in priority order when full."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio import WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._streams import receive

__all__ = ["Envelope", "Inbox"]


class Envelope:
    """An item on its way through the pipeline."""

    __slots__ = ("id", "priority", "sequence", "value")

    def __init__(self, item_id: Any, value: Any, sequence: int, priority: int) -> None:
        self.id = item_id
        self.value = value
        self.sequence = sequence
        self.priority = priority


@dataclass(order=True)
class _Waiter:
    priority: int
    arrival: int
    event: anyio.Event = field(compare=False)
    granted: bool = field(default=False, compare=False)
    abandoned: bool = field(default=False, compare=False)


class Inbox:
    """At most ``capacity`` items buffered; ``put`` waits while full, lowest priority value first.

    The buffer is a memory object stream, so the queue never holds more than ``capacity`` items
    and items leave it in the order they entered. When it is full, senders wait in a heap
    ordered by ``(priority, arrival)``: each item a worker takes frees one slot, which is granted
    to the waiting sender with the lowest priority value (the earliest among equals). While any
    sender waits or holds a grant, newcomers queue behind instead of taking the freed slot.
    """

    __slots__ = ("_arrivals", "_granted", "receive_stream", "send_stream", "waiting")

    def __init__(self, capacity: int) -> None:
        self.send_stream: MemoryObjectSendStream[Envelope]
        self.receive_stream: MemoryObjectReceiveStream[Envelope]
        self.send_stream, self.receive_stream = anyio.create_memory_object_stream[Envelope](
            capacity
        )
        self.waiting: list[_Waiter] = []  # senders waiting for room, a heap
        self._granted = 0
        self._arrivals = 0

    def size(self) -> int:
        """Items in the buffer now."""
        return self.receive_stream.statistics().current_buffer_used

    def put_nowait(self, envelope: Envelope) -> bool:
        """Enqueue ``envelope`` if there is free room and nobody waits for it; else False."""
        if self.waiting or self._granted:
            return False
        try:
            self.send_stream.send_nowait(envelope)
        except WouldBlock:
            return False
        return True

    async def put(self, envelope: Envelope) -> None:
        """Enqueue ``envelope``, waiting (by priority) while the buffer is full."""
        if self.put_nowait(envelope):
            return
        self._arrivals += 1
        waiter = _Waiter(envelope.priority, self._arrivals, anyio.Event())
        heapq.heappush(self.waiting, waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.granted:
                self._granted -= 1
                self._grant_free_slots()  # pass the reserved slot on
            else:
                waiter.abandoned = True
            raise
        self._granted -= 1
        self.send_stream.send_nowait(envelope)
        if self.waiting:
            self._grant_free_slots()  # the item may have gone straight to a waiting worker

    async def get(self) -> Envelope:
        """Take the oldest buffered item, waiting if none.

        Raises:
            anyio.EndOfStream: the inbox is closed and empty.
        """
        envelope = await receive(self.receive_stream)
        if self.waiting:
            self._grant_free_slots()
        return envelope

    def grant_free_slots(self) -> None:
        """After taking an item from ``receive_stream`` directly: let waiting senders in."""
        if self.waiting:
            self._grant_free_slots()

    def _grant_free_slots(self) -> None:
        """Reserve each free buffer slot for the next waiting sender, lowest priority first.

        A slot is free when neither an item nor a grant holds it, so every granted sender is
        sure to find room for its ``send_nowait``.
        """
        waiting = self.waiting
        stats = self.send_stream.statistics()
        free = stats.max_buffer_size - stats.current_buffer_used - self._granted
        while waiting and free > 0:
            waiter = heapq.heappop(waiting)
            if not waiter.abandoned:
                waiter.granted = True
                self._granted += 1
                free -= 1
                waiter.event.set()

    def close(self) -> None:
        """No more puts: workers drain what is buffered, then get ``EndOfStream``."""
        self.send_stream.close()

    def close_all(self) -> None:
        """Close both sides (the run is over or abandoned)."""
        self.send_stream.close()
        self.receive_stream.close()
