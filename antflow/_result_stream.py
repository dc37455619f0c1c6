"""What ``Pipeline.stream()`` returns: results as they complete, and the handle to stop the run."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

import anyio
from anyio import EndOfStream, WouldBlock
from anyio.streams.memory import MemoryObjectReceiveStream

from ._records import PipelineResult
from ._run import RunState

__all__ = ["ResultStream", "StreamRun"]


@dataclass
class StreamRun:
    """A started streaming run, as :class:`ResultStream` needs it.

    Attributes:
        state: The run (its workers stop when it is cancelled or drained).
        results: The receiving end of the run's output.
        release: Marks the pipeline free for another run (also called by the run itself when
            its workers have stopped).
        finish: Finishes the run's display, if any.
    """

    state: RunState
    results: MemoryObjectReceiveStream[PipelineResult]
    release: Callable[[], None]
    finish: Callable[[], Awaitable[None]]


class ResultStream:
    """The results of :meth:`Pipeline.stream() <antflow.Pipeline.stream>`, in completion order.

    An async iterator (``async for result in pipeline.stream(items)``) and an async context
    manager. The run starts at the first iteration. Once every item is done the iteration ends,
    then raises the exception that stopped the run, if any (iterating the inputs raised, or the
    pipeline's own machinery failed).

    Leaving early stops the run: :meth:`aclose` (or leaving ``async with``) cancels the workers
    and waits for them. A stream left without closing it, e.g. by ``break`` in a plain
    ``async for``, cancels the workers the moment it is garbage collected, which in CPython is
    at the ``break`` itself; the workers then stop at their next checkpoint, in the background,
    and the pipeline counts as running until they have.
    """

    __slots__ = ("_closed", "_open", "_run", "_thread")

    def __init__(self, open_run: Callable[[], Awaitable[StreamRun]]) -> None:
        self._open = open_run
        self._run: StreamRun | None = None
        self._closed = False
        self._thread = threading.get_ident()

    def __aiter__(self) -> ResultStream:
        return self

    async def __anext__(self) -> PipelineResult:
        run = self._run
        if self._closed:
            raise StopAsyncIteration
        if run is None:
            run = self._run = await self._open()
        # receive_nowait first: receive() is a checkpoint even when a result is ready, which
        # costs more than the result (anyio issue #1005). Not a checkpoint, then; the workers
        # checkpoint while they fill the buffer, and an empty buffer makes us wait.
        try:
            return run.results.receive_nowait()
        except WouldBlock:
            try:
                return await run.results.receive()
            except EndOfStream:
                pass
        except EndOfStream:
            pass
        await self.aclose()
        run.state.raise_if_stopped_by_error()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the run (if still going) and wait until every worker has stopped.

        Idempotent. Does not raise the run's own errors: iterate to the end for those.
        """
        if self._closed:
            return
        self._closed = True
        run = self._run
        if run is None:
            return
        run.state.cancel()
        run.results.close()
        with anyio.CancelScope(shield=True):
            await run.state.stopped.wait()
        run.release()
        await run.finish()

    async def __aenter__(self) -> ResultStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        run = self._run
        if self._closed or run is None:
            return
        self._closed = True
        # Only the event loop's thread may cancel its tasks; a collection on another thread
        # (rare: the stream would have to be in a reference cycle) leaves the workers to stop
        # when the event loop ends.
        if threading.get_ident() != self._thread:
            return
        run.state.cancel()
        run.results.close()
