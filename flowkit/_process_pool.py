"""The worker processes of one run (``executor="process"``): started for it, gone when it returns.

Why flowkit does not call ``anyio.to_process.run_sync``: anyio keeps its worker processes in one
pool per event loop (``anyio/to_process.py``: the ``_process_pool_workers`` run variable), keeps
idle ones for reuse for up to five minutes, and kills them only when the event loop shuts down
(``setup_process_pool_exit_at_shutdown``). A cancelled call leaves its worker idle in that pool,
so the processes outlive the run: on asyncio until the parent process exits, with "Event loop is
closed" tracebacks from the late shutdown (seen 10 times of 10 with a plain ``run_sync`` under
``move_on_after``); on trio until the loop's system task gets to them. A flowkit run promises to
leave nothing behind, so it owns its processes: a :class:`~concurrent.futures.ProcessPoolExecutor`
made for the run and shut down (its processes joined) when the run ends, however it ends.

Arguments and results cross the process boundary pickled by flowkit itself, so that a value
which does not pickle is reported with the task's name (:class:`TaskNotPicklableError`) instead
of a bare ``PicklingError``.
"""

from __future__ import annotations

import pickle
from types import CoroutineType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from ._task import returned_coroutine
from .exceptions import TaskNotPicklableError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from ._task import Task

__all__ = ["ProcessPool", "pickle_arguments"]

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class ProcessPool:
    """At most ``workers`` worker processes for one run, started as calls need them.

    Use :meth:`call` to run a task in one, and :meth:`aclose` once, when the run ends.
    """

    __slots__ = ("_executor", "_limiter", "_waiters", "_workers")

    def __init__(self, workers: int) -> None:
        self._workers = workers
        #: Calls in a worker process: a call waits here for a free process, so that one the run
        #: no longer wants (it was cancelled) is never handed to the pool.
        self._limiter = anyio.CapacityLimiter(workers)
        #: The threads that wait for the pool's futures (one per call in a process).
        self._waiters = anyio.CapacityLimiter(workers)
        self._executor: ProcessPoolExecutor | None = None  # made on the first call

    async def call(self, t: Task, arguments: bytes) -> tuple[bool, Any]:
        """Call ``t`` in a worker process with ``arguments`` (from :func:`pickle_arguments`).

        Returns ``(True, result)``, or ``(False, error)`` when the call ran but its result cannot
        be used (a coroutine, or a value that does not pickle): an error that a retry must not
        follow, since it would call the task again. The task's own exception is raised.

        Once the call is in a process it is waited for, even if the caller is cancelled (as a
        call on a thread is), and its outcome is returned: a call that completed is not lost.
        """
        async with self._limiter:
            future = self._pool().submit(_call_in_worker, t, arguments)
            ok, value = await anyio.to_thread.run_sync(future.result, limiter=self._waiters)
        return (True, pickle.loads(value)) if ok else (False, value)

    async def aclose(self) -> None:
        """Shut the pool down and join its processes; shielded from cancellation. Every call
        has returned by then (they are waited for), so this only stops idle processes."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(executor.shutdown)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # Imported here: ``import flowkit`` should not pay for multiprocessing.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # "spawn": a fresh interpreter per process (as anyio's workers are), never a fork of
            # a process whose other threads may hold locks.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(self._workers, mp_context=context)
        return self._executor


def pickle_arguments(t: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """``(args, kwargs)`` pickled for :meth:`ProcessPool.call`, once for all the attempts.

    Raises:
        TaskNotPicklableError: they do not pickle (naming the task).
    """
    try:
        return pickle.dumps((args, kwargs), protocol=_PROTOCOL)
    except Exception as exc:
        raise TaskNotPicklableError(
            f"task {t.name!r} cannot run in a worker process: its arguments (its upstream "
            f"tasks' results) cannot be pickled ({exc!r}); return picklable values upstream, "
            "or use executor='thread'"
        ) from exc


def _call_in_worker(t: Task, arguments: bytes) -> tuple[bool, Any]:
    """In a worker process: call the task, and pickle its result here, where a failure can
    still name the task."""
    args, kwargs = pickle.loads(arguments)
    result = t.func(*args, **kwargs)
    if type(result) is CoroutineType:
        return False, returned_coroutine(t, result)
    try:
        return True, pickle.dumps(result, protocol=_PROTOCOL)
    except Exception as exc:
        return False, TaskNotPicklableError(
            f"task {t.name!r} ran in a worker process, but its result cannot be pickled to "
            f"come back ({exc!r}); return a picklable value, or use executor='thread'"
        )
