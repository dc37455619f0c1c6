"""The queue between an AsyncExecutor's submitters and its workers, and the workers parked on it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.lowlevel

from ._future import AsyncFuture

__all__ = ["WorkQueue"]


class WorkQueue:
    """Futures submitted and not yet taken by a worker; the idle workers waiting for one.

    A plain deque rather than a memory object stream: a worker takes a future with one call and
    no await (:meth:`take_nowait`), and only a worker that finds the queue empty parks, on an
    event of its own (:meth:`take`). :meth:`put` (submit's) and :meth:`put_all` (a map's
    refill) wake one parked worker per future.

    Once :meth:`close` is called no more work comes: parked workers wake up, and :meth:`take`
    returns None as soon as the queue is empty.
    """

    __slots__ = ("_closed", "_futures", "_idle", "_sleepers", "take_nowait")

    def __init__(self) -> None:
        # Invariant: written only by put, put_all, take_nowait (its popleft), take, cancel_all.
        self._futures: deque[AsyncFuture[Any]] = deque()
        # One event per parked worker. Invariant: written only by take (park) and by put,
        # put_all and close (wake).
        self._sleepers: deque[anyio.Event] = deque()
        # Workers inside take(), parked or about to park. Invariant: written only by take.
        self._idle = 0
        # Invariant: written only by close.
        self._closed = False
        #: Take the oldest queued future off the queue; IndexError if the queue is empty. The
        #: deque's own method: no Python frame on the workers' hot path (a method returning
        #: None instead cost 1.2% more instructions per call of map()).
        self.take_nowait: Callable[[], AsyncFuture[Any]] = self._futures.popleft

    def __len__(self) -> int:
        return len(self._futures)

    def put(self, future: AsyncFuture[Any]) -> bool:
        """Queue ``future`` and wake one parked worker, if any, to take it.

        Returns True when no parked worker was woken and the queue holds more futures than the
        idle workers will take: then the executor starts another worker if it has room.
        """
        futures = self._futures
        futures.append(future)
        if self._sleepers:
            self._sleepers.popleft().set()
            return False
        return len(futures) > self._idle

    def put_all(self, futures: Sequence[AsyncFuture[Any]]) -> int:
        """:meth:`put` for each of ``futures``, in order, in one call (a map's refill).

        Returns how many of those puts would have returned True: the number of workers the
        executor should start, if it has room.
        """
        queue = self._futures
        queue.extend(futures)
        left = len(futures)  # futures not yet matched with a woken worker
        sleepers = self._sleepers
        while sleepers and left:
            sleepers.popleft().set()
            left -= 1
        # put() returns True for each of the last ``left`` futures that finds the queue longer
        # than the idle workers: the queue only grows along the way, so the last ones do.
        return max(0, min(left, len(queue) - self._idle))

    async def take(self) -> AsyncFuture[Any] | None:
        """Wait until a future is queued and take it; None once closed and empty.

        Always a checkpoint unless the queue is already closed.
        """
        futures = self._futures
        self._idle += 1
        try:
            if not self._closed:
                # Work usually arrives within one turn of the event loop (a map refills its
                # window whenever its consumer runs): look again after one checkpoint, which
                # costs much less than parking on an event; park only if still nothing.
                await anyio.lowlevel.checkpoint()
            while not futures:
                if self._closed:
                    return None
                event = anyio.Event()  # set by put (one sleeper per future) or close
                self._sleepers.append(event)
                try:
                    await event.wait()
                finally:
                    if not event.is_set():  # cancelled while parked
                        self._sleepers.remove(event)
        finally:
            self._idle -= 1
        return futures.popleft()

    def close(self) -> None:
        """No more work will come: wake every parked worker. Harmless if already closed."""
        self._closed = True
        sleepers = self._sleepers
        while sleepers:
            sleepers.popleft().set()

    def cancel_all(self) -> None:
        """Take every queued future off the queue and cancel it (it never runs)."""
        futures = self._futures
        while futures:
            futures.popleft().cancel()
