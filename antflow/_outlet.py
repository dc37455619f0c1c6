"""Where a stage worker sends an item it is done with: the next stage, or out of the pipeline.

A worker knows nothing of the run beyond its outlet: :meth:`~Outlet.pass_on_nowait` (the fast
path, no await) or :meth:`~Outlet.pass_on` for an item that completed the stage, and
:meth:`~Outlet.fail` for one that failed it.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.lowlevel
from anyio import WouldBlock
from anyio.streams.memory import MemoryObjectSendStream

from ._inbox import Envelope, Inbox
from ._ledger import Ledger
from ._observe import Event, EventKind, Hook, now
from ._records import FailedItem, PipelineResult

__all__ = ["Delivery", "NextStage", "Outlet", "StreamDelivery"]


def _refuse(envelope: Envelope) -> bool:
    return False


class Outlet:
    """The base: failures go to the run's ledger; subclasses say where results go.

    Attributes:
        pass_on_nowait: ``pass_on_nowait(envelope) -> bool``: send the item on if that needs
            no waiting and nothing to report, else return False (then await :meth:`pass_on`).
            Each outlet picks the function once, at construction: it is called once per item
            per stage, and a direct call (no method in between) is worth 3-4% of
            ``pipeline_throughput``.
    """

    __slots__ = ("ledger", "pass_on_nowait")

    def __init__(self, ledger: Ledger, pass_on_nowait: Callable[[Envelope], bool]) -> None:
        self.ledger = ledger
        self.pass_on_nowait = pass_on_nowait

    async def pass_on(self, envelope: Envelope) -> None:
        """Send the item on, waiting for room (and reporting it to the hook) if need be."""
        raise NotImplementedError

    def fail(self, failure: FailedItem) -> None:
        """The item failed the stage: record it; it goes no further."""
        self.ledger.fail(failure)


class NextStage(Outlet):
    """Into the next stage's inbox: its queue (entered in priority order when full), or a pull
    stage's rendezvous (entered when one of its workers takes the item)."""

    __slots__ = ("hook", "inbox", "stage")

    def __init__(self, ledger: Ledger, inbox: Inbox, stage: str, hook: Hook | None) -> None:
        self.inbox = inbox
        self.stage = stage
        self.hook = hook if hook is not None and hook.items else None
        # An observed item must be reported queued first, which takes an await.
        super().__init__(ledger, inbox.put_nowait if self.hook is None else _refuse)

    async def pass_on(
        self,
        envelope: Envelope,
        abandoned: Callable[[Envelope], None] | None = None,
        *,
        hold: bool = False,
    ) -> None:
        """Report the item queued (if observed), then put it in, waiting while full.

        With ``hold`` (``feed()`` before ``start()``), an item that does not go in at once is
        held in line instead (:meth:`Inbox.hold <antflow._inbox.Inbox.hold>`): no waiting.
        If cancelled before the item entered the queue, calls ``abandoned(envelope)``.
        """
        if self.hook is not None:
            try:
                await self.hook.emit(
                    Event(EventKind.ITEM_QUEUED, self.stage, envelope.id, timestamp=now())
                )
            except BaseException:
                if abandoned is not None:
                    abandoned(envelope)
                raise
            if self.inbox.put_nowait(envelope):
                return
        if hold:
            self.inbox.hold(envelope)
            return
        await self.inbox.wait_to_put(envelope, abandoned)


class Delivery(Outlet):
    """Out of the pipeline, into the ledger's results (``run()``, ``start()``/``join()``)."""

    __slots__ = ()

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(ledger, ledger.deliver)

    async def pass_on(self, envelope: Envelope) -> None:
        self.ledger.deliver(envelope)


class StreamDelivery(Outlet):
    """Out of the pipeline, to the consumer of ``stream()``, waiting while it lags behind."""

    __slots__ = ("cancel_run", "output")

    def __init__(
        self,
        ledger: Ledger,
        output: MemoryObjectSendStream[PipelineResult],
        cancel_run: Callable[[], None],
    ) -> None:
        super().__init__(ledger, self._send_nowait)
        self.output = output
        self.cancel_run = cancel_run

    def _send_nowait(self, envelope: Envelope) -> bool:
        result = envelope.result()
        try:
            self.output.send_nowait(result)
        except (WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return False
        self.ledger.handed_out(result)
        return True

    async def pass_on(self, envelope: Envelope) -> None:
        result = envelope.result()
        try:
            await self.output.send(result)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            # The consumer closed the stream: the run is over. Stop at the checkpoint.
            self.cancel_run()
            await anyio.lowlevel.checkpoint()
            raise  # not reached: the checkpoint raises the cancellation
        self.ledger.handed_out(result)
