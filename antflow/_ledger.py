"""The ledger of one pipeline run: which items were fed, and how each one ended.

Every fed item ends exactly once: delivered as a result (:meth:`Ledger.deliver`) or recorded as
a failure (:meth:`Ledger.fail`); ``in_flight`` counts the items in between, and
:meth:`Ledger.wait_drained` waits for it to reach zero.
"""

from __future__ import annotations

from typing import Any

import anyio

from ._inbox import Envelope
from ._records import FailedItem, PipelineResult

__all__ = ["Ledger", "split_item"]

_NO_ID = object()


def split_item(raw: Any) -> tuple[Any, Any, dict[str, Any] | None]:
    """``(id, value, metadata)`` of a fed item, by antflow 0.10's rule.

    A dict with an ``"id"`` key keeps that id; its value is its ``"value"`` if it has one,
    else the whole dict; its other keys are the result's ``metadata`` (``None`` when there are
    none). Anything else is a value (returned id ``_NO_ID``: its feed order becomes its id).
    """
    if type(raw) is dict and "id" in raw:
        metadata = {key: v for key, v in raw.items() if key != "id" and key != "value"}
        return raw["id"], raw.get("value", raw), metadata or None
    return _NO_ID, raw, None


class Ledger:
    """Counts, results and failures of one run.

        Invariant: every field is written only by this class's methods; the feeder calls
    :meth:`admit` and :meth:`unadmit`, the last stage's outlet :meth:`deliver` (or
        :meth:`handed_out`), the stage workers :meth:`fail`.
    """

    __slots__ = (
        "_drained",
        "_sequence",
        "collect",
        "failed",
        "failures",
        "fed",
        "in_flight",
        "processed",
        "results",
    )

    def __init__(self, collect: bool) -> None:
        #: Keep delivered results in :attr:`results` (a streamed run hands them out instead).
        self.collect = collect
        self.results: list[PipelineResult] = []
        self.failures: list[FailedItem] = []
        self.fed = 0
        self.processed = 0
        self.failed = 0
        self.in_flight = 0
        self._sequence = 0
        self._drained: anyio.Event | None = None

    def admit(self, raw: Any, priority: int) -> Envelope:
        """Wrap a fed item; from here on it counts as in flight."""
        sequence = self._sequence
        self._sequence = sequence + 1
        self.fed += 1
        self.in_flight += 1
        if type(raw) is dict:  # only a dict may carry an id: skip the call for anything else
            item_id, value, metadata = split_item(raw)
            if item_id is not _NO_ID:
                return Envelope(item_id, value, sequence, priority, metadata)
        return Envelope(sequence, raw, sequence, priority)

    def unadmit(self, envelope: Envelope) -> None:
        """Feeding ``envelope`` was cancelled before it entered a queue: it was never fed."""
        self.fed -= 1
        self._done_one()

    def deliver(self, envelope: Envelope) -> bool:
        """The item went through every stage: it is a result (kept if collecting).

        Returns True: the ledger is the last stage's outlet of ``run()`` and ``start()``, and
        taking a result never waits.
        """
        self.processed += 1
        if self.collect:
            self.results.append(envelope.result())
        self.in_flight -= 1  # _done_one(), inlined: called once per item of every run()
        if not self.in_flight and self._drained is not None:
            self._drained.set()
        return True

    def handed_out(self, result: PipelineResult) -> None:
        """The item went through every stage and out to the consumer of ``stream()``."""
        self.processed += 1
        self._done_one()

    def fail(self, failure: FailedItem) -> None:
        """The item failed a stage after all its attempts."""
        self.failed += 1
        self.failures.append(failure)
        self._done_one()

    def _done_one(self) -> None:
        self.in_flight -= 1
        if not self.in_flight and self._drained is not None:
            self._drained.set()

    async def wait_drained(self, stopped: anyio.Event) -> None:
        """Wait until every item fed so far has ended, or until ``stopped`` is set."""
        while self.in_flight and not stopped.is_set():
            self._drained = anyio.Event()
            await self._drained.wait()
        self._drained = None

    def wake(self) -> None:
        """Wake :meth:`wait_drained` (the run stopped: its caller looks at ``stopped``)."""
        if self._drained is not None:
            self._drained.set()
