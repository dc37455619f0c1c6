"""A stage's queue: a bounded memory object stream, entered in priority order when full."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
from anyio import WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .exceptions import PipelineError

__all__ = ["Envelope", "Inbox"]


class Envelope:
    """An item on its way through the pipeline."""

    __slots__ = ("id", "priority", "sequence", "value")

    def __init__(self, item_id: Any, value: Any, sequence: int, priority: int) -> None:
        self.id = item_id
        self.value = value
        self.sequence = sequence
        self.priority = priority


_Abandoned = Callable[["Envelope"], None]


class _Waiter:
    """A sender waiting for room with its item; its heap entry is ``(priority, arrival, self)``."""

    __slots__ = ("admitted", "envelope", "event")

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope
        self.event = anyio.Event()
        self.admitted = False


class Inbox:
    """At most ``capacity`` items buffered; ``put`` waits while full, lowest priority value first.

    The buffer is a memory object stream, so the queue never holds more than ``capacity`` items
    and items leave it in the order they entered. When it is full, senders wait in a heap
    ordered by ``(priority, arrival)``. Each item a worker takes frees one slot, and that worker
    moves the item of the waiting sender with the lowest priority value (the earliest among
    equals) into it at once, then wakes that sender (as anyio's own streams hand items over).
    While any sender waits, newcomers queue behind it instead of taking a free slot.
    """

    __slots__ = ("_arrivals", "_receive", "_send", "name", "waiting")

    def __init__(self, capacity: int, name: str = "") -> None:
        self.name = name  # the stage's, for error messages
        self._send: MemoryObjectSendStream[Envelope]
        self._receive: MemoryObjectReceiveStream[Envelope]
        self._send, self._receive = anyio.create_memory_object_stream[Envelope](capacity)
        #: Senders waiting for room, a heap of ``(priority, arrival, waiter)``. Invariant:
        #: written only by this class's methods.
        self.waiting: list[tuple[int, int, _Waiter]] = []
        self._arrivals = 0

    def size(self) -> int:
        """Items in the buffer now."""
        return self._receive.statistics().current_buffer_used

    def take_nowait(self) -> Envelope:
        """Take the next item without waiting (not a checkpoint), moving a waiting one in.

        Raises:
            anyio.WouldBlock: the queue is empty.
            anyio.EndOfStream: the queue is empty and closed.
        """
        envelope = self._receive.receive_nowait()
        if self.waiting:
            self.admit_waiting()
        return envelope

    async def take(self) -> Envelope:
        """Take the next item, waiting for one (a checkpoint), moving a waiting one in.

        Raises:
            anyio.EndOfStream: the queue is empty and closed.
        """
        envelope = await self._receive.receive()
        if self.waiting:
            self.admit_waiting()
        return envelope

    def put_nowait(self, envelope: Envelope) -> bool:
        """Enqueue ``envelope`` if there is free room and nobody waits for it; else False."""
        if self.waiting:
            return False
        try:
            self._send.send_nowait(envelope)
        except WouldBlock:
            return False
        return True

    async def put(self, envelope: Envelope, abandoned: _Abandoned | None = None) -> None:
        """Enqueue ``envelope``, waiting (by priority) while the buffer is full."""
        if not self.put_nowait(envelope):
            await self.wait_to_put(envelope, abandoned)

    async def wait_to_put(self, envelope: Envelope, abandoned: _Abandoned | None = None) -> None:
        """:meth:`put` for a caller whose :meth:`put_nowait` just returned False.

        Saves trying the stream again: a failed ``send_nowait`` raises ``WouldBlock``, and
        raising costs more than anything else on the feeding path.

        If the wait is cancelled, the cancellation propagates. An item a worker had already
        moved in stays queued (it will be processed, as with anyio's ``send()``); otherwise the
        item was not queued, and ``abandoned(envelope)`` is called to say so.

        Raises:
            PipelineError: the inbox was closed for good (the run stopped) while waiting; the
                item was not queued, and ``abandoned(envelope)`` was called.
        """
        # Yield once before parking: the workers usually make room meanwhile, and a yield
        # costs far less than parking on an event and being woken.
        try:
            await anyio.lowlevel.checkpoint()
        except BaseException:
            if abandoned is not None:
                abandoned(envelope)
            raise
        if self.put_nowait(envelope):
            return
        self._arrivals += 1
        waiter = _Waiter(envelope)
        entry = (envelope.priority, self._arrivals, waiter)
        heapq.heappush(self.waiting, entry)
        try:
            await waiter.event.wait()
        except BaseException:
            if not waiter.admitted:  # leave no trace: newcomers must not queue behind it
                self.waiting.remove(entry)
                heapq.heapify(self.waiting)
                if abandoned is not None:
                    abandoned(envelope)
            raise
        if not waiter.admitted:  # woken by close_all(): the run is over
            if abandoned is not None:
                abandoned(envelope)
            raise PipelineError(
                f"the pipeline stopped (shutdown(), or its run ended) while item "
                f"{envelope.id!r} waited for room in stage {self.name!r}; it was not fed"
            )

    def admit_waiting(self) -> None:
        """After an item was taken: move waiting items in.

        Call it when :attr:`waiting` is not empty. Moves in as many waiting items as there is
        room for (normally the one slot just freed), lowest priority value first.
        """
        waiting = self.waiting
        send_nowait = self._send.send_nowait
        while waiting:
            waiter = waiting[0][2]
            try:
                send_nowait(waiter.envelope)
            except WouldBlock:
                return
            heapq.heappop(waiting)
            waiter.admitted = True
            waiter.event.set()

    def close(self) -> None:
        """No more puts: workers drain what is buffered, then get ``EndOfStream``."""
        self._send.close()

    def close_all(self) -> None:
        """Close both sides (the run is over or abandoned); waiting senders raise."""
        self._send.close()
        self._receive.close()
        waiting, self.waiting = self.waiting, []
        for _, _, waiter in waiting:
            waiter.event.set()  # not admitted: wait_to_put raises
