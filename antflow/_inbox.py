"""A stage's way in: the :class:`Inbox` protocol, and the queue (:class:`QueueInbox`) that most
stages have: a memory object stream, bounded or not, entered in priority order when full.

The other kind, a pull stage's rendezvous with no queue at all, is
:class:`~antflow._rendezvous.PullInbox`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, Protocol

import anyio
import anyio.lowlevel
from anyio import WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._records import PipelineResult
from .exceptions import PipelineError

__all__ = ["Envelope", "Inbox", "QueueInbox", "withdraw"]


class Envelope:
    """An item on its way through the pipeline.

    ``metadata``: the fed dict's keys other than ``id`` and ``value`` (``None`` if none), which
    its :class:`PipelineResult` carries.
    """

    __slots__ = ("id", "metadata", "priority", "sequence", "value")

    def __init__(
        self,
        item_id: Any,
        value: Any,
        sequence: int,
        priority: int,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.id = item_id
        self.value = value
        self.sequence = sequence
        self.priority = priority
        self.metadata = metadata

    def result(self) -> PipelineResult:
        """The item's result, once it went through every stage."""
        if self.metadata is None:
            return PipelineResult(self.id, self.value, self.sequence)
        return PipelineResult(self.id, self.value, self.sequence, self.metadata)


_Abandoned = Callable[["Envelope"], None]


def withdraw(heap: list[Any], entry: object) -> None:
    """Take a waiter's ``entry`` out of ``heap`` if it is still there (``close_all()`` empties
    the heap of waiters it wakes)."""
    if entry in heap:
        heap.remove(entry)
        heapq.heapify(heap)


class Inbox(Protocol):
    """What a stage worker takes items from, and what the feeder and the stage before put into.

    Two kinds: :class:`QueueInbox` (a queue, bounded or not) and
    :class:`~antflow._rendezvous.PullInbox` (a pull stage's rendezvous: no queue).
    """

    #: The stage's name, for error messages.
    name: str

    def size(self) -> int:
        """Items waiting in front of the stage that no worker of any stage holds."""
        ...

    def take_nowait(self) -> Envelope:
        """Take the next item without waiting (not a checkpoint).

        Raises:
            anyio.WouldBlock: nothing to take now.
            anyio.EndOfStream: nothing to take, and the inbox is closed.
        """
        ...

    async def take(self) -> Envelope:
        """Take the next item, waiting for one (a checkpoint).

        Raises:
            anyio.EndOfStream: nothing to take, and the inbox is closed.
        """
        ...

    def put_nowait(self, envelope: Envelope) -> bool:
        """Put ``envelope`` in if that needs no waiting and nobody waits before it; else False."""
        ...

    async def wait_to_put(self, envelope: Envelope, abandoned: _Abandoned | None = None) -> None:
        """Put ``envelope`` in after :meth:`put_nowait` returned False, waiting (by priority).

        If cancelled before the item went in, calls ``abandoned(envelope)`` and propagates the
        cancellation; an item that went in stays in.

        Raises:
            PipelineError: the inbox was closed for good while waiting (the item is not in).
        """
        ...

    def hold(self, envelope: Envelope) -> None:
        """Keep ``envelope`` to go in, in its priority turn, without a task waiting for it.

        Only before the run's workers start (``feed()`` before ``start()``): the items wait in
        line as waiting senders would, and go in as workers take items.
        """
        ...

    def close(self) -> None:
        """No more puts: what is in (or held) drains, then takers get ``EndOfStream``."""
        ...

    def close_all(self) -> None:
        """Close for good (the run is over or abandoned): waiting senders raise."""
        ...


class _Waiter:
    """A sender waiting for room with its item; its heap entry is ``(priority, arrival, self)``.

    ``event`` is None for an item held with no task waiting for it (:meth:`QueueInbox.hold`).
    """

    __slots__ = ("admitted", "envelope", "event")

    def __init__(self, envelope: Envelope, event: anyio.Event | None) -> None:
        self.envelope = envelope
        self.event = event
        self.admitted = False


class QueueInbox:
    """At most ``capacity`` items buffered (``math.inf``: no limit); ``put`` waits while full,
    lowest priority value first.

    The buffer is a memory object stream, so the queue never holds more than ``capacity`` items
    and items leave it in the order they entered. When it is full, senders wait in a heap
    ordered by ``(priority, arrival)``. Each item a worker takes frees one slot, and that worker
    moves the item of the waiting sender with the lowest priority value (the earliest among
    equals) into it at once, then wakes that sender (as anyio's own streams hand items over).
    While any sender waits, newcomers queue behind it instead of taking a free slot. An
    unbounded queue is never full: nobody waits, and priorities play no part.
    """

    __slots__ = ("_arrivals", "_held", "_receive", "_send", "name", "waiting")

    def __init__(self, capacity: float, name: str = "") -> None:
        self.name = name  # the stage's, for error messages
        self._send: MemoryObjectSendStream[Envelope]
        self._receive: MemoryObjectReceiveStream[Envelope]
        self._send, self._receive = anyio.create_memory_object_stream[Envelope](capacity)
        #: Senders waiting for room, a heap of ``(priority, arrival, waiter)``. Invariant:
        #: written only by this class's methods.
        self.waiting: list[tuple[int, int, _Waiter]] = []
        self._arrivals = 0
        #: How many of ``waiting`` are held items (no task waits for them). Invariant: written
        #: only by :meth:`hold`, :meth:`admit_waiting` and :meth:`close_all`.
        self._held = 0

    def size(self) -> int:
        """Items in the buffer now, and items held to go in (fed before ``start()``)."""
        return self._receive.statistics().current_buffer_used + self._held

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
        event = anyio.Event()
        waiter = _Waiter(envelope, event)
        entry = (envelope.priority, self._arrivals, waiter)
        heapq.heappush(self.waiting, entry)
        try:
            await event.wait()
        except BaseException:
            if not waiter.admitted:  # leave no trace: newcomers must not queue behind it
                withdraw(self.waiting, entry)
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

    def hold(self, envelope: Envelope) -> None:
        """Keep ``envelope`` in line to go in, with no task waiting for it (see :class:`Inbox`)."""
        self._arrivals += 1
        heapq.heappush(self.waiting, (envelope.priority, self._arrivals, _Waiter(envelope, None)))
        self._held += 1

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
            if waiter.event is not None:
                waiter.event.set()
            else:
                self._held -= 1

    def close(self) -> None:
        """No more puts: workers drain what is buffered, then get ``EndOfStream``."""
        self._send.close()

    def close_all(self) -> None:
        """Close both sides (the run is over or abandoned); waiting senders raise."""
        self._send.close()
        self._receive.close()
        waiting, self.waiting = self.waiting, []
        self._held = 0  # held items stay counted in flight, as queued ones do
        for _, _, waiter in waiting:
            if waiter.event is not None:
                waiter.event.set()  # not admitted: wait_to_put raises
