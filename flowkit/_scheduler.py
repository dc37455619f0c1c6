"""The scheduler: runs a :class:`~flowkit._plan.Plan`, each task as soon as its upstream is done.

How work is placed:

* a sync task without retries, under ``executor="thread"``, runs entirely on one of a fixed set
  of worker threads. Each worker thread is entered once (one ``anyio.to_thread.run_sync`` hop for
  the whole run) and loops over a thread-safe ready queue; when it finishes a task it marks the
  downstream tasks itself and queues those that became ready. The event loop is only woken for
  work that belongs to it. This is what makes small sync tasks cheap: a thread hop per task costs
  about as much as a no-op task itself, many times over.
* everything else runs in a coroutine on the event loop, started through antflow's
  :class:`~antflow.AsyncExecutor` (capacity ``max_workers``): ``async def`` tasks, sync tasks
  under ``executor="process"`` (in the run's own worker processes, see
  :mod:`flowkit._process_pool`) and sync tasks with retries (each attempt is handed to the worker
  threads and awaited). Retries are antflow's :class:`~antflow._retry.RetryPolicy`, the one retry
  mechanism.

A mapped task (:mod:`flowkit._mapping`) is expanded on the loop when it becomes ready: its
elements go to the worker threads like tasks there (as ``_ElementCall`` items of the same
queue), or through the executor like tasks on the loop, and so share the run's limits. Each
element is reported, cached and retried as a task named ``process[3]``; the node itself is
finished by its last element, with the list of their results.

Readiness is counted per *join* (the tasks sharing one upstream tuple, see
:class:`~flowkit._plan.Plan`): a finished task counts down the joins waiting for it, and a join
whose count reaches zero gathers its upstream results once and makes all its tasks ready. A
layer of tasks fully connected to the layer before thus costs one count and one gather per
finished task, not one per edge.

Observation: the run reports each task to antflow's one observation hook
(:mod:`antflow._observe`) as an item whose ``source`` is the workflow's name and ``item_id`` the
task's name: ``ITEM_STARTED`` when a worker takes it (before its ``when`` condition is asked and
its cached result looked up), ``ITEM_RETRYING`` as each retry begins (``attempt``: the attempt
that failed), then one of ``ITEM_SKIPPED`` (its condition was false), ``ITEM_SUCCEEDED`` (it
returned, or its result came from the state) and ``ITEM_FAILED`` (for good, after its retries).
A task's last event is reported before its downstream tasks start and before the run returns.
The run itself is reported as ``RUN_STARTED`` and ``RUN_ENDED`` (``error``: the failure that
stopped it, if any), from the event loop; OpenTelemetry's observer (``antflow.telemetry``) turns
them into a ``flowkit.run`` span and each task into a ``flowkit.task.<name>`` span.
Events of tasks running on worker threads are reported from those threads, so observers of a
flowkit run must be synchronous and thread-safe. With no observer, a reporting site costs one
``is not None`` test.

Guarantees: a task starts only after all its upstream tasks finished, and without waiting for
anything else. On the first failure (after retries) nothing new starts, what is running is waited
for, and that failure's exception is raised unchanged. If the run is cancelled from outside (a
cancel scope, ``KeyboardInterrupt``), running coroutines are cancelled, queued tasks are dropped,
running sync calls are waited for (threads cannot be interrupted), and no thread, task or worker
process is left behind. A sync call that returned is kept as it would be without the
cancellation (its result stored in the state, the task reported), however it ran: on a thread,
as an attempt of a retried task, or in a process.
"""

from __future__ import annotations

import enum
import operator
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from types import CoroutineType
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread

from antflow import AsyncExecutor, FailedItem
from antflow._callbacks import CallbackErrors
from antflow._interrupts import bare_interrupts
from antflow._observe import Event, EventKind, Hook, Observer, hook_of
from antflow._validation import check_int
from antflow.telemetry import _flow_observer

from . import _logging
from ._mapping import Fanout, elements_of, recorded_result
from ._plan import Plan
from ._process_pool import ProcessPool, pickle_arguments
from ._state import StateManager
from ._task import Task, retry_logger, returned_coroutine

__all__ = ["RunResult", "default_max_workers", "run_plan"]

EXECUTORS = ("thread", "process")

#: Worker threads are named ``"flowkit-worker:<workflow name>"`` while they serve a run.
THREAD_NAME_PREFIX = "flowkit-worker:"

_STOP = object()  # tells a worker thread to return
_MISSING = object()


class RunResult(dict[str, Any]):
    """``{task name: result}`` for every task of a run that was not skipped, plus which tasks
    were skipped.

    A plain ``dict`` in every other respect. A task skipped by its ``when=`` condition has no
    entry (its downstream tasks got ``None`` for it); its name is in :attr:`skipped`. A mapped
    task's result is the list of its elements' results (``None`` for a skipped element);
    ``skipped`` names its skipped elements as ``process[3]``.
    """

    skipped: frozenset[str]

    def __init__(self, values: dict[str, Any], skipped: frozenset[str]) -> None:
        super().__init__(values)
        self.skipped = skipped


def default_max_workers(executor: str) -> int:
    """``max_workers`` when none is given: ThreadPoolExecutor's default for threads, the CPU
    count for processes."""
    cpus = os.cpu_count() or 1
    return cpus if executor == "process" else min(32, cpus + 4)


def check_executor(executor: object) -> str:
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be 'thread' or 'process', got {executor!r}")
    return str(executor)


def check_max_workers(max_workers: object) -> int | None:
    if max_workers is None:
        return None
    return check_int(
        max_workers,
        "max_workers",
        hint="tasks running at the same time, or None for the default",
    )


async def run_plan(
    plan: Plan,
    executor: str,
    max_workers: int | None,
    state: StateManager | None,
    observers: Iterable[Observer] = (),
) -> RunResult:
    """Run every task of ``plan``; see the module docstring for the guarantees.

    ``observers`` are told what happens to each task (see the module docstring); an exception
    one raises is logged on the ``"antflow"`` logger and never changes the run.
    """
    workers = max_workers if max_workers is not None else default_max_workers(executor)
    hook = hook_of([*observers, _flow_observer(plan.name)], CallbackErrors())
    return await _Run(plan, executor, workers, state, hook).main()


class _Job(enum.Enum):
    """Where a :class:`_ThreadJob` is; it moves under the run's lock."""

    QUEUED = enum.auto()  # in the ready queue; its coroutine may still call it off
    DROPPED = enum.auto()  # called off before a thread took it: never called
    RUNNING = enum.auto()  # a worker thread is calling it; its coroutine waits for it
    ORPHANED = enum.auto()  # running, and its coroutine was cancelled: the thread keeps it
    DONE = enum.auto()  # the call returned or raised


class _ThreadJob:
    """One attempt of a retried sync task, handed to a worker thread and awaited on the loop.

    Invariant: ``state`` is written only under the run's lock, by :meth:`run_on_thread` (the
    thread) and :meth:`call_off` (the awaiting coroutine, cancelled). A call that returned is
    kept exactly once, whichever side sees it end last: by the coroutine when it is told (the
    usual way), by the thread when the coroutine is gone (``ORPHANED``), by the cancelled
    coroutine when the call had already ended (``DONE``).
    """

    __slots__ = ("args", "attempt", "done", "error", "kwargs", "result", "state")

    def __init__(self, attempt: _Attempt, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.attempt = attempt
        self.args = args
        self.kwargs = kwargs
        self.done = anyio.Event()
        self.state = _Job.QUEUED
        self.result: Any = None
        self.error: BaseException | None = None

    def run_on_thread(self) -> None:
        """On a worker thread: call the task, unless called off or the run is stopping."""
        attempt = self.attempt
        run = attempt.run
        with run.lock:
            if self.state is not _Job.QUEUED or run.stopping:
                return
            self.state = _Job.RUNNING
        try:
            result = attempt.task.func(*self.args, **self.kwargs)
            if type(result) is CoroutineType:
                attempt.unusable = returned_coroutine(attempt.task, result)
            else:
                self.result = result
        except BaseException as exc:
            self.error = exc
        with run.lock:
            orphaned = self.state is _Job.ORPHANED
            self.state = _Job.DONE
        if orphaned:
            attempt.keep(self, in_loop=False)
        else:
            run._post(self)

    def call_off(self) -> bool:
        """In the loop: the coroutine awaiting this job is cancelled (the run is ending).

        Returns whether the call ran (or runs) and is kept (see :meth:`_Attempt.keep`); if not,
        the coroutine accounts for the task as dropped.
        """
        run = self.attempt.run
        run.stopping = True  # a task coroutine is cancelled only when the run ends
        with run.lock:
            state = self.state
            if state is _Job.QUEUED:
                self.state = _Job.DROPPED
            elif state is _Job.RUNNING:
                self.state = _Job.ORPHANED
        if state is _Job.DONE:
            self.attempt.keep(self, in_loop=True)
        return state is _Job.RUNNING or state is _Job.DONE


class _Run:
    """One run of a plan. Shared between the event loop and the worker threads under ``lock``.

    Slots, not a ``__dict__``: past 30 attributes an instance dict stops sharing its keys, and
    every attribute read on the tasks' path gets slower.
    """

    __slots__ = (
        "async_executor",
        "executor_kind",
        "failure",
        "gather",
        "hook",
        "inbox",
        "inject",
        "join_args",
        "join_members",
        "join_of",
        "lock",
        "log",
        "mapped",
        "notified",
        "on_thread",
        "other_failures",
        "pending",
        "plan",
        "processes",
        "queue",
        "remaining",
        "results",
        "skipped",
        "skipped_elements",
        "state",
        "state_prefix",
        "stopping",
        "tasks",
        "waiting",
        "waiting_joins",
        "wake",
        "workers",
    )

    def __init__(
        self,
        plan: Plan,
        executor: str,
        workers: int,
        state: StateManager | None,
        hook: Hook | None = None,
    ) -> None:
        self.plan = plan
        self.executor_kind = executor
        self.workers = workers
        self.state = state
        self.state_prefix = f"flowkit:{plan.name}:"
        n = len(plan.tasks)
        self.tasks = plan.tasks
        self.inject = plan.inject
        self.results: list[Any] = [None] * n
        self.skipped: set[int] = set()
        #: Mapped tasks (index -> index of the task they map over), and the names of the
        #: skipped elements (``process[3]``).
        self.mapped = plan.mapped
        self.skipped_elements: list[str] = []
        # Per join (tasks sharing an upstream tuple, see Plan): its upstream tasks not finished
        # yet, and once they are, their results, gathered once for all its members. Gathering
        # is a C-level itemgetter call, not a Python loop over the links.
        self.join_of = plan.join_of
        self.join_members = plan.join_members
        self.waiting_joins = plan.waiting_joins
        self.waiting = [len(row) for row in plan.join_upstream]
        self.gather = [_gatherer(row) for row in plan.join_upstream]
        self.join_args: list[tuple[Any, ...]] = [()] * len(plan.join_upstream)
        # Which tasks run wholly on a worker thread; the others run in coroutines on the loop.
        # A mapped task is expanded on the loop; its elements may then run on the threads.
        self.on_thread = [
            executor == "thread" and not t.is_async and t.retries == 0 for t in plan.tasks
        ]
        for i in self.mapped:
            self.on_thread[i] = False
        self.lock = threading.Lock()
        self.remaining = n  # tasks not finished
        self.pending = 0  # tasks made ready (queued or running) and not finished or dropped
        self.failure: BaseException | None = None
        #: Failures after the first, while the running tasks were waited for: (task, error).
        self.other_failures: list[tuple[str, BaseException]] = []
        self.stopping = False  # cancelled from outside: drop whatever is queued
        self.inbox: list[Any] = []  # for the loop: task indices to start, or finished jobs
        self.notified = False  # the loop has been woken for the inbox and has not emptied it
        self.wake = anyio.Event()
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.async_executor: AsyncExecutor | None = None
        #: The run's worker processes (executor="process" with sync tasks), shut down at its end.
        self.processes: ProcessPool | None = None
        self.log = _logging.run_logger()
        #: Where tasks are reported; None when nothing observes (only ITEM_* events are made).
        self.hook = hook if hook is not None and hook.items else None

    # -- the event loop side -----------------------------------------------------------------

    async def main(self) -> RunResult:
        plan, log = self.plan, self.log
        # A sync mapped task may keep every worker busy with its elements.
        n_sync = sum(
            self.workers if i in self.mapped else 1
            for i, t in enumerate(plan.tasks)
            if not t.is_async
        )
        n_threads = min(self.workers, n_sync) if self.executor_kind == "thread" else 0
        if self.executor_kind == "process" and n_sync:
            self.processes = ProcessPool(self.workers)
        if log is not None:
            log.system(f"run of {plan.name!r} started: {len(plan.tasks)} tasks", dag=plan.name)
        thread_limiter = anyio.CapacityLimiter(max(1, n_threads))
        if self.hook is not None:
            self.hook.emit_nowait(self.event(EventKind.RUN_STARTED))
        try:
            with bare_interrupts():
                await self._serve(n_threads, thread_limiter)
        except BaseException:
            if log is not None and self.failure is None:
                log.warning(f"run of {plan.name!r} cancelled", dag=plan.name)
            raise
        finally:
            if self.processes is not None:
                await self.processes.aclose()
            if self.hook is not None:
                self.hook.emit_nowait(self.event(EventKind.RUN_ENDED, error=self.failure))
        if self.failure is not None:
            failure = self.failure
            if log is not None:
                log.error(f"run of {plan.name!r} failed: {failure!r}", dag=plan.name)
            if self.other_failures and hasattr(failure, "add_note"):  # Python >= 3.11
                for name, other in self.other_failures:
                    failure.add_note(f"flowkit: task {name!r} also failed: {other!r}")
            raise failure
        if log is not None:
            log.success(
                f"run of {plan.name!r} finished: {len(plan.tasks)} tasks, "
                f"{len(self.skipped)} skipped",
                dag=plan.name,
            )
        names, skipped = plan.names, self.skipped
        return RunResult(
            {names[i]: self.results[i] for i in plan.order if i not in skipped},
            frozenset([*(names[i] for i in skipped), *self.skipped_elements]),
        )

    async def _serve(self, n_threads: int, thread_limiter: anyio.CapacityLimiter) -> None:
        """The run itself: its worker threads, and the loop's side until it ends or fails."""
        plan = self.plan
        async with anyio.create_task_group() as tg, AsyncExecutor(self.workers) as ex:
            self.async_executor = ex
            ex._telemetry = None  # its calls are this run's tasks, which have spans of their own
            for _ in range(n_threads):
                tg.start_soon(self._host_thread, thread_limiter)
            try:
                roots = [i for i, row in enumerate(plan.upstream) if not row]
                with self.lock:
                    self.pending += len(roots)
                    done = self.remaining == 0
                self._dispatch(roots, in_loop=True)
                while not done:
                    with self.lock:
                        items, self.inbox = self.inbox, []
                        self.notified = False
                        urgent = _is_urgent(self.failure)
                        done = (
                            self.remaining == 0
                            or urgent
                            or (self.failure is not None and self.pending == 0)
                        )
                    if urgent:
                        # KeyboardInterrupt or SystemExit from a task: stop at once, not
                        # after the running tasks (threads still finish their call).
                        self.stopping = True
                        await ex.shutdown(wait=False, cancel_futures=True)
                    elif items:
                        self._handle_inbox(items)
                        done = False  # look again: handling may have finished tasks
                    elif not done:
                        await self.wake.wait()
                        self.wake = anyio.Event()
            finally:
                self.stopping = True
                for _ in range(n_threads):
                    self.queue.put(_STOP)

    def _handle_inbox(self, items: list[Any]) -> None:
        ex = self.async_executor
        assert ex is not None
        for item in items:
            if type(item) is int:
                ex.submit(self._run_on_loop, item)
            else:
                item.done.set()

    def _wake_loop(self) -> None:
        self.wake.set()

    async def _run_on_loop(self, i: int) -> None:
        if i in self.mapped:
            self._fan_out(i)
            return
        t = self.tasks[i]
        attempt: _Attempt | None = None
        try:
            call = self._start(i, in_loop=True)
            if call is None:
                return
            args, kwargs = call
            if t.is_async and t.retries == 0:  # the common case, without the retry machinery
                result = await t.func(*args, **kwargs)
            else:
                attempt = _Attempt(self, i, args, kwargs)
                result = await t.policy.call(
                    attempt,
                    attempt.on_retry if self.hook is not None else None,
                    label=attempt.label,
                    logger=retry_logger,
                )
                if attempt.unusable is not None:
                    raise attempt.unusable  # the call ran: not retried, that would run it again
            if self.state is not None and self.state.storage_path is not None:
                # A file store flushes to disk on each set: never on the event loop's thread.
                # Not cancellable: a result that came back is stored even if the run is ending.
                await anyio.to_thread.run_sync(self._store, i, result)
            else:
                self._store(i, result)
            if self.hook is not None:
                await self.hook.emit(self.event(EventKind.ITEM_SUCCEEDED, t, value=result))
        except anyio.get_cancelled_exc_class():
            # Cancelled from outside: the run is ending anyway. A sync call on a thread that
            # ran is kept all the same (see _ThreadJob); anything else is dropped.
            if attempt is None or attempt.job is None or not attempt.job.call_off():
                self._drop(i, in_loop=True)
            raise
        except BaseException as exc:  # the task's own, KeyboardInterrupt included
            if self.hook is not None:
                attempts = 1 if attempt is None else attempt.count
                await self.hook.emit(self.failed_event(t.name, exc, attempts))
            self._fail(i, exc, in_loop=True)
            return
        self._finish(i, result, skipped=False, in_loop=True)

    # -- the worker threads ------------------------------------------------------------------

    async def _host_thread(self, limiter: anyio.CapacityLimiter) -> None:
        await anyio.to_thread.run_sync(self._thread_loop, limiter=limiter)

    def _thread_loop(self) -> None:
        # The thread is anyio's; while it serves this run it is named after it, so that a
        # debugger, a profiler or a test can tell flowkit's threads apart.
        thread = threading.current_thread()
        previous = thread.name
        thread.name = f"{THREAD_NAME_PREFIX}{self.plan.name}"
        try:
            get = self.queue.get
            while True:
                item = get()
                if item is _STOP:
                    return
                if type(item) is int:
                    self._run_on_thread(item)
                else:
                    item.run_on_thread()
        finally:
            thread.name = previous

    def _run_on_thread(self, i: int) -> None:
        try:
            call = self._start(i, in_loop=False)
            if call is None:
                return
            args, kwargs = call
            t = self.tasks[i]
            result = t.func(*args, **kwargs)
            if type(result) is CoroutineType:
                raise returned_coroutine(t, result)
        except BaseException as exc:
            self._failed(i, exc, 1, in_loop=False)
            return
        self._succeeded(i, result, 1, in_loop=False)

    def _succeeded(self, i: int, result: Any, attempts: int, in_loop: bool) -> None:
        """Task ``i``'s call returned ``result`` (a sync call, outside the event loop's await):
        store it, report it, finish the task. A failure to store fails the task."""
        try:
            self._store(i, result)
        except BaseException as exc:
            self._failed(i, exc, attempts, in_loop)
            return
        if self.hook is not None:
            self.hook.emit_nowait(self.event(EventKind.ITEM_SUCCEEDED, self.tasks[i], value=result))
        self._finish(i, result, skipped=False, in_loop=in_loop)

    def _failed(self, i: int, exc: BaseException, attempts: int, in_loop: bool) -> None:
        """Task ``i`` failed for good with ``exc`` after ``attempts`` attempts: report it."""
        if self.hook is not None:
            self.hook.emit_nowait(self.failed_event(self.tasks[i].name, exc, attempts))
        self._fail(i, exc, in_loop)

    def _post(self, item: Any) -> None:
        """From a worker thread: hand ``item`` to the loop, waking it unless already woken."""
        with self.lock:
            self.inbox.append(item)
            if self.notified:
                return
            self.notified = True
        anyio.from_thread.run_sync(self._wake_loop)

    # -- either side -------------------------------------------------------------------------

    def _start(self, i: int, in_loop: bool) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """Everything before calling task ``i``, on either side: its arguments, or ``None`` when
        it is not to be called and has been accounted for: dropped (the run is failing or
        stopping), skipped by its condition, or finished with its cached result."""
        if self.failure is not None or self.stopping:
            self._drop(i, in_loop)
            return None
        t = self.tasks[i]
        hook = self.hook
        if hook is not None:
            hook.emit_nowait(self.event(EventKind.ITEM_STARTED, t))
        args, kwargs = self._arguments(i)
        if t.when is not None and not t.when(*self._upstream_results(i)):
            if hook is not None:
                hook.emit_nowait(self.event(EventKind.ITEM_SKIPPED, t))
            self._finish(i, None, skipped=True, in_loop=in_loop)
            return None
        cached = self._cached(i)
        if cached is not _MISSING:
            if hook is not None:
                hook.emit_nowait(self.event(EventKind.ITEM_SUCCEEDED, t, value=cached))
            self._finish(i, cached, skipped=False, in_loop=in_loop)
            return None
        if self.log is not None:
            self.log.debug(f"task {t.name!r} started", task=t.name, dag=self.plan.name)
        return args, kwargs

    def event(self, kind: EventKind, t: Task | str | None = None, **fields: Any) -> Event:
        """Task ``t``'s event of ``kind`` (``t`` a task, or an element's name), or the run's
        without ``t`` (made only when a hook is there to take it)."""
        name = t if t is None or isinstance(t, str) else t.name
        return Event(kind, self.plan.name, name, timestamp=time.time(), **fields)

    def failed_event(self, name: str, exc: BaseException, attempts: int) -> Event:
        """The ITEM_FAILED event of task (or element) ``name``: ``exc`` after ``attempts``
        attempts."""
        now = time.time()
        failure = FailedItem.of(name, self.plan.name, name, attempts, exc, None, now)
        return Event(
            EventKind.ITEM_FAILED,
            self.plan.name,
            name,
            task=name,
            attempt=attempts,
            error=exc,
            failure=failure,
            timestamp=now,
        )

    def _upstream_results(self, i: int) -> tuple[Any, ...]:
        """Task ``i``'s upstream results, in link order (gathered when it became ready)."""
        return self.join_args[self.join_of[i]]

    def _arguments(self, i: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        inject = self.inject[i]
        if inject is None:
            return self.join_args[self.join_of[i]], {}
        results = self.results
        return (), {name: results[j] for name, j in inject}

    def _cached(self, i: int) -> Any:
        if self.state is None:
            return _MISSING
        return self.state.get(self.state_prefix + self.tasks[i].name, _MISSING)

    def _store(self, i: int, result: Any) -> None:
        if self.state is not None:
            self.state.set(self.state_prefix + self.tasks[i].name, result)

    def _finish(self, i: int, result: Any, skipped: bool, in_loop: bool) -> None:
        ready: list[int] = []
        with self.lock:
            self.results[i] = result
            if skipped:
                self.skipped.add(i)
            self.remaining -= 1
            self.pending -= 1
            if self.failure is None and not self.stopping:
                waiting = self.waiting
                for k in self.waiting_joins[i]:
                    w = waiting[k] - 1
                    waiting[k] = w
                    if w == 0:  # its upstream is done: gather its arguments, start its tasks
                        self.join_args[k] = self.gather[k](self.results)
                        ready.extend(self.join_members[k])
                self.pending += len(ready)
            done = self.remaining == 0 or (self.failure is not None and self.pending == 0)
        log = self.log
        if log is not None:
            name = self.tasks[i].name
            if skipped:
                log.info(f"task {name!r} skipped: its condition is false", task=name)
            else:
                log.debug(f"task {name!r} finished", task=name, dag=self.plan.name)
        if ready:
            self._dispatch(ready, in_loop)
        if done:
            self._signal_done(in_loop)

    def _fail(self, i: int, exc: BaseException, in_loop: bool) -> None:
        name = self.tasks[i].name
        with self.lock:
            first = self.failure is None
            if first:
                self.failure = exc
            else:
                self.other_failures.append((name, exc))
            self.pending -= 1
            done = self.pending == 0 or _is_urgent(exc)
        if self.log is not None:
            self.log.error(f"task {name!r} failed: {exc!r}", task=name, dag=self.plan.name)
        if done:
            self._signal_done(in_loop)

    def _drop(self, i: int, in_loop: bool) -> None:
        """Account for task ``i`` made ready but never started (a failure or cancellation)."""
        with self.lock:
            self.pending -= 1
            done = self.pending == 0
        if done:
            self._signal_done(in_loop)

    def _signal_done(self, in_loop: bool) -> None:
        if in_loop:
            self.wake.set()
        elif not self.stopping:
            self._post_wake()

    def _post_wake(self) -> None:
        with self.lock:
            if self.notified:
                return
            self.notified = True
        anyio.from_thread.run_sync(self._wake_loop)

    def _dispatch(self, ready: list[int], in_loop: bool) -> None:
        on_thread = self.on_thread
        put = self.queue.put
        to_loop: list[int] = []
        for i in ready:
            if on_thread[i]:
                put(i)
            else:
                to_loop.append(i)
        if not to_loop:
            return
        if in_loop:
            self._handle_inbox(to_loop)
            return
        with self.lock:
            self.inbox.extend(to_loop)
            if self.notified:
                return
            self.notified = True
        anyio.from_thread.run_sync(self._wake_loop)

    # -- mapped tasks (see flowkit._mapping) -------------------------------------------------

    def _fan_out(self, i: int) -> None:
        """In the loop: mapped task ``i`` is ready. Read its input and start one task instance
        per element (on the worker threads, or through the executor), or finish it at once."""
        if self.failure is not None or self.stopping:
            self._drop(i, in_loop=True)
            return
        t, source, hook = self.tasks[i], self.mapped[i], self.hook
        if source in self.skipped:  # nothing to map over: skipped like its input
            if hook is not None:
                hook.emit_nowait(self.event(EventKind.ITEM_SKIPPED, t))
            self._finish(i, None, skipped=True, in_loop=True)
            return
        args, kwargs = self._arguments(i)
        if self.inject[i] is None:  # DAG: the input is one of the positional results
            p = self.plan.upstream[i].index(source)
            args = args[:p] + args[p + 1 :]
        try:
            items = elements_of(t, self.tasks[source].name, self.results[source])
        except BaseException as exc:  # not iterable, or the iterable's own error
            if hook is not None:
                hook.emit_nowait(self.failed_event(t.name, exc, 1))
            self._fail(i, exc, in_loop=True)
            return
        if not items:
            self._finish(i, [], skipped=False, in_loop=True)
            return
        fan = Fanout(i, t, items, args, kwargs)
        if self.executor_kind == "thread" and not t.is_async and t.retries == 0:
            put = self.queue.put
            for k in range(len(items)):
                put(_ElementCall(self, fan, k))
        else:
            ex = self.async_executor
            assert ex is not None
            for k in range(len(items)):
                ex.submit(self._run_element, fan, k)

    def _start_element(
        self, fan: Fanout, k: int, in_loop: bool
    ) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """:meth:`_start` for element ``k`` of ``fan``; its cached result counts only if the
        recorded element equals this one."""
        if self.failure is not None or self.stopping:
            self._element_ended(fan, k, None, in_loop, dropped=True)
            return None
        t, hook, name = fan.task, self.hook, fan.name(k)
        if hook is not None:
            hook.emit_nowait(self.event(EventKind.ITEM_STARTED, name))
        args = fan.arguments(k)
        if t.when is not None and not t.when(*args):
            if hook is not None:
                hook.emit_nowait(self.event(EventKind.ITEM_SKIPPED, name))
            self._element_ended(fan, k, None, in_loop, skipped=True)
            return None
        if self.state is not None:
            found, cached = recorded_result(self.state, self.state_prefix + name, args[0])
            if found:
                if hook is not None:
                    hook.emit_nowait(self.event(EventKind.ITEM_SUCCEEDED, name, value=cached))
                self._element_ended(fan, k, cached, in_loop)
                return None
        if self.log is not None:
            self.log.debug(f"task {name!r} started", task=name, dag=self.plan.name)
        return args, fan.kwargs

    def _run_element_on_thread(self, fan: Fanout, k: int) -> None:
        """On a worker thread: element ``k`` of ``fan``, wholly (see :meth:`_run_on_thread`)."""
        try:
            call = self._start_element(fan, k, in_loop=False)
            if call is None:
                return
            args, kwargs = call
            result = fan.task.func(*args, **kwargs)
            if type(result) is CoroutineType:
                raise returned_coroutine(fan.task, result)
        except BaseException as exc:
            self._element_failed(fan, k, exc, 1, in_loop=False)
            return
        self._element_succeeded(fan, k, result, 1, in_loop=False)

    async def _run_element(self, fan: Fanout, k: int) -> None:
        """In the executor: element ``k`` of ``fan`` (see :meth:`_run_on_loop`)."""
        t = fan.task
        attempt: _Attempt | None = None
        try:
            call = self._start_element(fan, k, in_loop=True)
            if call is None:
                return
            args, kwargs = call
            if t.is_async and t.retries == 0:
                result = await t.func(*args, **kwargs)
            else:
                attempt = _Attempt(self, fan.index, args, kwargs, element=(fan, k))
                result = await t.policy.call(
                    attempt,
                    attempt.on_retry if self.hook is not None else None,
                    label=attempt.label,
                    logger=retry_logger,
                )
                if attempt.unusable is not None:
                    raise attempt.unusable  # the call ran: not retried, that would run it again
        except anyio.get_cancelled_exc_class():
            if attempt is None or attempt.job is None or not attempt.job.call_off():
                self._element_ended(fan, k, None, in_loop=True, dropped=True)
            raise
        except BaseException as exc:
            self._element_failed(fan, k, exc, 1 if attempt is None else attempt.count, True)
            return
        attempts = 1 if attempt is None else attempt.count
        if self.state is not None and self.state.storage_path is not None:
            # As in _run_on_loop: a file store flushes on each set, never on the loop's thread.
            await anyio.to_thread.run_sync(self._element_succeeded, fan, k, result, attempts, False)
        else:
            self._element_succeeded(fan, k, result, attempts, in_loop=True)

    def _element_succeeded(
        self, fan: Fanout, k: int, result: Any, attempts: int, in_loop: bool
    ) -> None:
        """Element ``k``'s call returned ``result``: store it with the element, report it,
        count it done (see :meth:`_succeeded`). A failure to store fails the element."""
        name = fan.name(k)
        try:
            if self.state is not None:
                self.state.set(self.state_prefix + name, (fan.items[k], result))
        except BaseException as exc:
            self._element_failed(fan, k, exc, attempts, in_loop)
            return
        if self.hook is not None:
            self.hook.emit_nowait(self.event(EventKind.ITEM_SUCCEEDED, name, value=result))
        self._element_ended(fan, k, result, in_loop)

    def _element_failed(
        self, fan: Fanout, k: int, exc: BaseException, attempts: int, in_loop: bool
    ) -> None:
        """Element ``k`` failed for good: report it under its name (``process[3]``) and fail
        the run with ``exc``, as :meth:`_fail` does for a task."""
        name = fan.name(k)
        if self.hook is not None:
            self.hook.emit_nowait(self.failed_event(name, exc, attempts))
        with self.lock:
            if self.failure is None:
                self.failure = exc
                if hasattr(exc, "add_note"):  # Python >= 3.11: say which element raised it
                    exc.add_note(f"flowkit: raised by task {name!r}")
            else:
                self.other_failures.append((name, exc))
        if self.log is not None:
            self.log.error(f"task {name!r} failed: {exc!r}", task=name, dag=self.plan.name)
        if _is_urgent(exc):
            self._signal_done(in_loop)
        self._element_ended(fan, k, None, in_loop, dropped=True)

    def _element_ended(
        self,
        fan: Fanout,
        k: int,
        value: Any,
        in_loop: bool,
        skipped: bool = False,
        dropped: bool = False,
    ) -> None:
        """Count element ``k`` of ``fan`` off: finished with ``value`` (``None`` if skipped),
        or dropped or failed. The last one finishes the mapped task with the list of values, or
        drops it when any element did not finish (the run is failing or stopping)."""
        with self.lock:
            fan.values[k] = value
            if skipped:
                self.skipped_elements.append(fan.name(k))
            if dropped:
                fan.incomplete = True
            fan.outstanding -= 1
            last = fan.outstanding == 0
        if self.log is not None and not dropped:
            name = fan.name(k)
            if skipped:
                self.log.info(f"task {name!r} skipped: its condition is false", task=name)
            else:
                self.log.debug(f"task {name!r} finished", task=name, dag=self.plan.name)
        if not last:
            return
        if fan.incomplete:
            self._drop(fan.index, in_loop)
        else:
            self._finish(fan.index, fan.values, skipped=False, in_loop=in_loop)


class _ElementCall:
    """One element of a sync mapped task, queued for a worker thread (like a task index)."""

    __slots__ = ("fan", "k", "run")

    def __init__(self, run: _Run, fan: Fanout, k: int) -> None:
        self.run = run
        self.fan = fan
        self.k = k

    def run_on_thread(self) -> None:
        self.run._run_element_on_thread(self.fan, self.k)


class _Attempt:
    """One call of a task that goes through its retry policy (``policy.call(attempt)``): an
    ``async def`` task with retries, a sync task with retries, or a sync task in a process."""

    __slots__ = (
        "args",
        "arguments",
        "count",
        "duration",
        "element",
        "index",
        "job",
        "kwargs",
        "name",
        "run",
        "task",
        "unusable",
    )

    def __init__(
        self,
        run: _Run,
        i: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        element: tuple[Fanout, int] | None = None,
    ) -> None:
        self.run = run
        self.index = i
        self.task = t = run.tasks[i]
        #: For an element of mapped task ``i``: its fanout and position.
        self.element = element
        self.name = t.name if element is None else element[0].name(element[1])
        self.args = args
        self.kwargs = kwargs
        #: For a worker process: the arguments pickled once, for every attempt (raises
        #: TaskNotPicklableError, naming the task, before the first attempt).
        self.arguments = (
            pickle_arguments(t, args, kwargs)
            if run.processes is not None and not t.is_async
            else b""
        )
        #: Attempts begun so far.
        self.count = 0
        #: Seconds the last attempt took (measured only when a hook listens).
        self.duration = 0.0
        #: The last attempt on a worker thread (None until one is handed over).
        self.job: _ThreadJob | None = None
        #: Why the result of an attempt that ran cannot be used (a sync task returned a
        #: coroutine, or its result does not pickle): the task fails with it, without a retry.
        self.unusable: BaseException | None = None

    async def __call__(self) -> Any:
        self.count += 1
        run = self.run
        if run.hook is None:
            return await self._call()
        began = time.monotonic()
        try:
            return await self._call()
        finally:
            self.duration = time.monotonic() - began

    def label(self) -> str:
        """What is retried, for the retry's log record (made only when one is logged)."""
        return f"task {self.name!r} in workflow {self.run.plan.name!r}"

    async def on_retry(self, failed_attempt: int, error: Exception, wait: float) -> None:
        """``RetryPolicy.call``'s report, before the wait: tell the hook (as a pipeline does)."""
        run = self.run
        assert run.hook is not None
        await run.hook.emit(
            run.event(
                EventKind.ITEM_RETRYING,
                self.name,
                task=self.name,
                attempt=failed_attempt,
                error=error,
                duration=self.duration,
                wait=wait,
            )
        )

    async def _call(self) -> Any:
        run, t = self.run, self.task
        if t.is_async:
            return await t.func(*self.args, **self.kwargs)
        if run.processes is not None:
            ok, value = await run.processes.call(t, self.arguments)
            if not ok:
                self.unusable = value
                return None
            return value
        self.job = job = _ThreadJob(self, self.args, self.kwargs)
        run.queue.put(job)
        await job.done.wait()  # cancelled: _run_on_loop calls the job off
        self.job = None  # its outcome is taken here
        if job.error is not None:
            raise job.error
        return job.result

    def keep(self, job: _ThreadJob, in_loop: bool) -> None:
        """The run is being cancelled and ``job``, which ran, ended after its coroutine stopped
        waiting: finish the task as if it had run wholly on a thread (see _run_on_thread), so a
        call that returned has its result stored; one that raised is dropped (it is not retried
        while the run ends)."""
        run = self.run
        ran = job.error is None and self.unusable is None
        if self.element is not None:
            fan, k = self.element
            if ran:
                run._element_succeeded(fan, k, job.result, self.count, in_loop)
            else:
                run._element_ended(fan, k, None, in_loop, dropped=True)
        elif ran:
            run._succeeded(self.index, job.result, self.count, in_loop)
        else:
            run._drop(self.index, in_loop)


def _is_urgent(failure: BaseException | None) -> bool:
    """A failure that must stop the run at once: KeyboardInterrupt, SystemExit (not Exception)."""
    return failure is not None and not isinstance(failure, Exception)


def _gatherer(indices: tuple[int, ...]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """``lambda results: tuple(results[j] for j in indices)``, at C speed when it counts."""
    if len(indices) >= 2:
        return operator.itemgetter(*indices)  # returns a tuple for two or more indices
    if indices:
        (j,) = indices
        return lambda results: (results[j],)
    return lambda results: ()
