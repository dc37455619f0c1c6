"""Handing items over with no buffer: a pull stage's way in, and the public RendezvousChannel.

:class:`Handoff` is the one mechanism: a giver and a taker meet, and whichever comes second moves
the item across at once, so an item is never left in between with nobody holding it. Givers
wait in a heap ordered by ``(priority, arrival)``; takers in arrival order.

Cancellation follows trio's channels: a hand-over either happened or it did not. A taker
cancelled after an item was handed to it still returns that item, and a giver cancelled after
its item was taken returns normally; in both cases the cancellation is raised at the task's
next checkpoint (anyio's cancel scopes stay cancelled until left). A wait cancelled before the
hand-over leaves no trace: the item stays with the giver.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel
from anyio import EndOfStream, WouldBlock

from ._inbox import Envelope, withdraw
from .exceptions import PipelineError

__all__ = ["PULL_CLOSED", "Handoff", "PullInbox", "RendezvousChannel"]

T = TypeVar("T")

#: What :meth:`RendezvousChannel.get` returns once the channel is closed (antflow 0.10 calls it
#: ``antflow.pipeline._PULL_CLOSED``).
PULL_CLOSED: Any = object()


class _Taker(Generic[T]):
    """A taker waiting for an item; ``served`` once one was handed to it."""

    __slots__ = ("event", "item", "served")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.served = False
        self.item: T


class _Giver(Generic[T]):
    """A giver waiting for a taker with its item (``event`` None: held, nobody waits)."""

    __slots__ = ("event", "item", "taken")

    def __init__(self, item: T, event: anyio.Event | None) -> None:
        self.item = item
        self.event = event
        self.taken = False


class Handoff(Generic[T]):
    """Direct hand-over from givers to takers, with no buffer.

    Invariant: every field is written only by this class's methods. At any moment either no
    giver waits or no taker waits (whoever arrives second hands over at once), except for
    waiters whose cancellation is under way.
    """

    __slots__ = ("_arrivals", "_givers", "_held", "_takers", "closed", "handed_over", "no_more")

    def __init__(self) -> None:
        self._takers: deque[_Taker[T]] = deque()
        self._givers: list[tuple[int, int, _Giver[T]]] = []
        self._arrivals = 0
        #: Givers in the heap with no task waiting for them (:meth:`hold`).
        self._held = 0
        #: Items handed over so far.
        self.handed_over = 0
        #: :meth:`close` was called: no more gives; takers end once the givers are served.
        self.no_more = False
        #: :meth:`close_all` was called: waiting givers were sent away.
        self.closed = False

    # -- giving ------------------------------------------------------------------------------

    def give_nowait(self, item: T) -> bool:
        """Hand ``item`` to a waiting taker if there is one and no giver waits first."""
        if self._givers or not self._takers or self.no_more:
            return False
        taker = self._takers.popleft()
        taker.item = item
        taker.served = True
        self.handed_over += 1
        taker.event.set()
        return True

    async def wait_to_give(
        self, item: T, priority: int = 0, abandoned: Callable[[T], None] | None = None
    ) -> bool:
        """Wait (by ``priority``, then arrival) until a taker takes ``item``.

        Returns True once taken (also when cancelled after that: see the module's docstring),
        False if the handoff was closed first. Whenever the item was not taken (closed, or the
        wait was interrupted first) ``abandoned(item)`` is called. Parks at once: call it after
        :meth:`give_nowait` returned False.
        """
        if self.no_more:
            if abandoned is not None:
                abandoned(item)
            return False
        self._arrivals += 1
        event = anyio.Event()
        giver = _Giver(item, event)
        entry = (priority, self._arrivals, giver)
        heapq.heappush(self._givers, entry)
        try:
            await event.wait()
        except BaseException as exc:
            if giver.taken:
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    return True  # handed over: the cancellation comes at the next checkpoint
                raise
            withdraw(self._givers, entry)
            if abandoned is not None:
                abandoned(item)
            raise
        if not giver.taken and abandoned is not None:
            abandoned(item)
        return giver.taken

    def hold(self, item: T, priority: int = 0) -> None:
        """Keep ``item`` in line as a waiting giver would, with no task waiting for it."""
        self._arrivals += 1
        heapq.heappush(self._givers, (priority, self._arrivals, _Giver(item, None)))
        self._held += 1

    # -- taking ------------------------------------------------------------------------------

    def take_nowait(self) -> T:
        """Take the item of the first waiting giver (not a checkpoint).

        Raises:
            anyio.WouldBlock: no giver waits.
            anyio.EndOfStream: no giver waits, and the handoff is closed.
        """
        givers = self._givers
        if givers:
            giver = heapq.heappop(givers)[2]
            giver.taken = True
            self.handed_over += 1
            if giver.event is None:
                self._held -= 1
            else:
                giver.event.set()
            return giver.item
        if self.no_more:
            raise EndOfStream
        raise WouldBlock

    async def take(self) -> T:
        """Take the next item, waiting for a giver (a checkpoint).

        Raises:
            anyio.EndOfStream: the handoff was closed with no giver waiting.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        try:
            item = self.take_nowait()
        except WouldBlock:
            pass
        else:
            await anyio.lowlevel.cancel_shielded_checkpoint()
            return item
        taker: _Taker[T] = _Taker()
        self._takers.append(taker)
        try:
            await taker.event.wait()
        except BaseException as exc:
            if taker.served:
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    return taker.item  # handed over: the cancellation comes at the next checkpoint
                raise
            if taker in self._takers:  # else a close emptied the line of takers it woke
                self._takers.remove(taker)
            raise
        if taker.served:
            return taker.item
        raise EndOfStream

    # -- closing -----------------------------------------------------------------------------

    def held(self) -> int:
        """Items held with no task waiting for them (:meth:`hold`)."""
        return self._held

    def close(self) -> None:
        """No more gives: waiting givers are still served, then takers get ``EndOfStream``."""
        self.no_more = True
        if not self._givers:
            self._wake_takers()

    def close_all(self) -> None:
        """Close for good: waiting takers get ``EndOfStream``, waiting givers get False."""
        self.no_more = self.closed = True
        givers, self._givers = self._givers, []
        self._held = 0
        for _, _, giver in givers:
            if giver.event is not None:
                giver.event.set()  # not taken: wait_to_give returns False
        self._wake_takers()

    def _wake_takers(self) -> None:
        takers, self._takers = self._takers, deque()
        for taker in takers:
            taker.event.set()  # not served: take raises EndOfStream


class PullInbox(Handoff[Envelope]):
    """A pull stage's way in: an item goes in only when one of the stage's workers takes it.

    The stage before (or the feeder) waits, holding its item, until a worker of this stage is
    free; waiting givers are served lowest priority value first. Nothing queues in front of the
    stage, except items fed before ``start()`` (held until a worker takes them).
    """

    __slots__ = ("name",)

    def __init__(self, name: str = "") -> None:
        super().__init__()
        self.name = name

    def size(self) -> int:
        """Items waiting with no task holding them: only items fed before ``start()``."""
        return self._held

    def put_nowait(self, envelope: Envelope) -> bool:
        """Hand ``envelope`` to a free worker of the stage, if one waits and no giver is first."""
        return self.give_nowait(envelope)

    async def wait_to_put(
        self, envelope: Envelope, abandoned: Callable[[Envelope], None] | None = None
    ) -> None:
        """Wait until a worker of the stage takes ``envelope`` (see :class:`~antflow._inbox.Inbox`).

        Raises:
            PipelineError: the run stopped while waiting; the item was not handed over.
        """
        if not await self.wait_to_give(envelope, envelope.priority, abandoned):
            raise PipelineError(
                f"the pipeline stopped (shutdown(), or its run ended) while item "
                f"{envelope.id!r} waited for a free worker of pull stage {self.name!r}; it was "
                "not handed over"
            )

    def hold(self, envelope: Envelope, priority: int | None = None) -> None:
        """Keep ``envelope`` in line for the stage's workers (``feed()`` before ``start()``)."""
        super().hold(envelope, envelope.priority if priority is None else priority)


class RendezvousChannel:
    """A channel with no buffer: ``put()`` returns once a ``get()`` has taken its item.

    antflow 0.10's public channel (``from antflow.pipeline import RendezvousChannel``), on anyio
    (asyncio and trio). Its pull stages use the same mechanism.

    - :meth:`get` waits for an item; once the channel is closed it returns
      :data:`RendezvousChannel.CLOSED` (``antflow.pipeline._PULL_CLOSED``).
    - :meth:`put` waits until a ``get()`` takes the item; several waiting ``put()`` calls are
      served in arrival order.
    - :meth:`task_done` and :meth:`join` count the items handed over and not yet marked done;
      :meth:`qsize` is that count and :meth:`empty` tells whether it is zero (nothing ever
      waits *in* a rendezvous channel).

    Cancellation: a ``get()`` cancelled after an item was handed to it returns the item, and a
    ``put()`` cancelled after its item was taken returns normally; the cancellation is raised
    at the next checkpoint. A ``get()`` or ``put()`` cancelled before the hand-over leaves no
    trace. So an item is never lost, and never delivered twice by a ``put()`` retried after a
    cancellation.
    """

    #: What :meth:`get` returns once the channel is closed.
    CLOSED: Any = PULL_CLOSED

    __slots__ = ("_all_done", "_done", "_handoff")

    def __init__(self) -> None:
        self._handoff: Handoff[Any] = Handoff()
        self._done = 0
        self._all_done: anyio.Event | None = None

    async def get(self) -> Any:
        """Wait for the next item and return it (a checkpoint); :data:`CLOSED` once closed."""
        try:
            return await self._handoff.take()
        except EndOfStream:
            return PULL_CLOSED

    async def put(self, item: Any) -> None:
        """Wait until a ``get()`` takes ``item`` (a checkpoint).

        Raises:
            PipelineError: the channel is closed, or was closed while waiting; the item was not
                delivered (antflow 0.10 dropped it silently).
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        if self._handoff.give_nowait(item):
            await anyio.lowlevel.cancel_shielded_checkpoint()
            return
        if not await self._handoff.wait_to_give(item):
            raise PipelineError(
                f"RendezvousChannel.put(): the channel is closed; {item!r} was not delivered"
            )

    def put_nowait(self, item: Any) -> None:
        """Not supported, as in antflow 0.10: a rendezvous cannot take an item without waiting.

        Raises:
            RuntimeError: always.
        """
        raise RuntimeError("RendezvousChannel does not support put_nowait; await put(item)")

    def task_done(self) -> None:
        """Mark one item handed over as processed (does nothing if none is outstanding)."""
        if self.qsize() <= 0:
            return
        self._done += 1
        if self.qsize() == 0 and self._all_done is not None:
            self._all_done.set()
            self._all_done = None

    async def join(self) -> None:
        """Wait until every item handed over so far was marked with :meth:`task_done`."""
        while self.qsize() > 0:
            if self._all_done is None:
                self._all_done = anyio.Event()
            await self._all_done.wait()

    def empty(self) -> bool:
        """True when no item handed over awaits :meth:`task_done`."""
        return self.qsize() == 0

    def qsize(self) -> int:
        """Items handed over and not yet marked done (as in antflow 0.10)."""
        return self._handoff.handed_over - self._done

    def close(self) -> None:
        """Close the channel: waiting and later ``get()`` calls return :data:`CLOSED`; waiting
        and later ``put()`` calls raise :class:`~antflow.PipelineError`."""
        self._handoff.close_all()
