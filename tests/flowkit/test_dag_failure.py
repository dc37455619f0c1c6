from __future__ import annotations

import functools
import threading

import anyio
import pytest

from flowkit import DAG, StateManager, Task, task
from tests._ctrl_c import ctrl_c


class Boom(Exception):
    pass


async def test_failing_task_exception_propagates_unchanged() -> None:
    error = Boom("bad input")

    @task()
    def broken() -> None:
        raise error

    with pytest.raises(Boom) as info:
        await DAG().run_async()
    assert info.value is error


async def test_failure_starts_nothing_new_and_waits_for_running_tasks() -> None:
    running_started = threading.Event()
    running_finished = threading.Event()
    ran: list[str] = []

    @task()
    def long_running() -> None:
        running_started.set()
        # the failure happens while this runs; the run must wait for it to finish
        assert failed.wait(5)
        running_finished.set()

    failed = threading.Event()

    @task()
    async def broken() -> None:
        await anyio.to_thread.run_sync(running_started.wait, 5)
        failed.set()
        raise Boom("x")

    @task()
    def after_broken(x: None) -> None:
        ran.append("after_broken")

    @task()
    def after_long(x: None) -> None:
        ran.append("after_long")

    broken >> after_broken
    long_running >> after_long
    with pytest.raises(Boom):
        await DAG(max_workers=4).run_async()
    assert running_finished.is_set()
    assert ran == []


async def test_failure_in_a_thread_task_propagates_unchanged() -> None:
    @task()
    def first() -> int:
        return 1

    @task()
    def second(x: int) -> None:
        raise KeyError(x)

    first >> second
    with pytest.raises(KeyError) as info:
        await DAG().run_async()
    assert info.value.args == (1,)


async def test_outside_cancellation_stops_the_run_promptly() -> None:
    started = anyio.Event()
    ran: list[str] = []

    @task()
    async def forever() -> None:
        started.set()
        await anyio.sleep_forever()

    @task()
    def never(x: None) -> None:
        ran.append("never")

    forever >> never
    async with anyio.create_task_group() as tg:
        tg.start_soon(DAG().run_async)
        await started.wait()
        tg.cancel_scope.cancel()
    assert ran == []


async def test_cancellation_waits_for_a_running_sync_call_and_starts_nothing_more() -> None:
    in_thread = threading.Event()
    release = threading.Event()
    finished = threading.Event()
    ran: list[str] = []

    @task()
    def blocking() -> None:
        in_thread.set()
        release.wait(5)
        finished.set()

    @task()
    async def downstream(x: None) -> None:
        ran.append("downstream")

    blocking >> downstream
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(DAG().run_async)
            await anyio.to_thread.run_sync(in_thread.wait, 5)
            scope.cancel()
            release.set()
    assert finished.is_set()  # the run returned only once its thread was done
    assert ran == []


@pytest.mark.parametrize("retries", [0, 2])
async def test_a_sync_call_that_returned_is_stored_even_when_the_run_is_cancelled(
    retries: int,
) -> None:
    # A retried sync task runs each attempt as a job awaited by a coroutine; the coroutine is
    # cancelled while the call runs, and the call's result used to be dropped with it: a
    # resumed run called the task again (a card charged twice).
    in_thread = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    @task(retries=retries, delay=0)
    def charge() -> str:
        calls.append("charge")
        in_thread.set()
        assert release.wait(5)
        return "charged"

    state = StateManager()
    dag = DAG("pay", tasks=[charge])
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(dag.run_async, state=state))
            await anyio.to_thread.run_sync(in_thread.wait, 5)
            scope.cancel()
            release.set()
    assert scope.cancelled_caught
    assert state.get("flowkit:pay:charge") == "charged"
    assert await dag.run_async(state=state) == {"charge": "charged"}
    assert calls == ["charge"]  # the resumed run took the result from the state


async def test_a_queued_attempt_of_a_cancelled_run_is_never_called() -> None:
    in_thread = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    @task(retries=1, delay=0)
    def first() -> None:
        calls.append("first")
        in_thread.set()
        assert release.wait(5)

    @task(retries=1, delay=0)
    def second() -> None:
        calls.append("second")

    state = StateManager()
    with anyio.CancelScope() as scope:  # one thread: second waits in the queue behind first
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(DAG(max_workers=1).run_async, state=state))
            await anyio.to_thread.run_sync(in_thread.wait, 5)
            scope.cancel()
            release.set()
    assert calls == ["first"]
    assert state.get("flowkit:workflow:second", "absent") == "absent"


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_keyboard_interrupt_in_a_task_stops_the_run_at_once(kind: str) -> None:
    # The interrupt comes out bare, and a coroutine still running beside it is cancelled, not
    # waited for (a plain failure waits for what is running).
    ran: list[str] = []
    cancelled = threading.Event()
    beside_started = anyio.Event()

    @task()
    async def beside() -> None:
        beside_started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    if kind == "sync":

        @task()
        def interrupted() -> None:
            raise KeyboardInterrupt

    else:

        @task()
        async def interrupted() -> None:
            await beside_started.wait()
            raise KeyboardInterrupt

    @task()
    def after(x: None) -> None:
        ran.append("after")

    interrupted >> after
    with anyio.fail_after(5), pytest.raises(KeyboardInterrupt):
        await DAG(max_workers=4).run_async()
    assert ran == []
    assert cancelled.is_set() or not beside_started.is_set()


def _raising(exc: BaseException, kind: str) -> Task:
    """A task named ``raises`` that raises ``exc``: a plain function or a coroutine function."""

    def raises() -> None:
        raise exc

    async def raises_async() -> None:
        raise exc

    made = task()(raises if kind == "sync" else raises_async)
    made.name = "raises"
    return made


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_system_exit_from_a_task_propagates_unchanged(kind: str) -> None:
    exit_code = SystemExit(3)
    _raising(exit_code, kind)
    with anyio.fail_after(5), pytest.raises(SystemExit) as info:
        await DAG(max_workers=2).run_async()
    assert info.value is exit_code


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_keyboard_interrupt_in_a_task_comes_out_of_the_sync_run_bare(
    backend: str, kind: str
) -> None:
    # The sync entry point runs the async core under the chosen backend: the interrupt must not
    # come out wrapped in an exception group on either.
    ran: list[str] = []
    interrupt = KeyboardInterrupt()

    @task()
    def after(x: None) -> None:
        ran.append("after")

    _raising(interrupt, kind) >> after
    with pytest.raises(KeyboardInterrupt) as info:
        DAG(max_workers=2).run(backend=backend)
    assert info.value is interrupt
    assert ran == []
    assert flowkit_threads() == []


def flowkit_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("flowkit-worker:")]


@pytest.mark.parametrize("fails", [False, True])
async def test_no_flowkit_thread_is_left_after_a_run(fails: bool) -> None:
    seen: list[str] = []

    @task()
    def first() -> int:
        seen.append(threading.current_thread().name)
        return 1

    @task()
    def second(x: int) -> int:
        if fails:
            raise Boom("second")
        return x + 1

    first >> second
    if fails:
        with pytest.raises(Boom):
            await DAG("named", max_workers=3).run_async()
    else:
        assert (await DAG("named", max_workers=3).run_async())["second"] == 2
    assert seen == ["flowkit-worker:named"]  # the task ran on one of the run's threads
    assert flowkit_threads() == []


async def test_later_failures_are_noted_on_the_first_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    both_running = threading.Barrier(2, timeout=5)

    @task()
    def left() -> None:
        both_running.wait()
        raise Boom("left")

    @task()
    def right() -> None:
        both_running.wait()
        raise KeyError("right")

    with caplog.at_level("ERROR", logger="flowkit"), pytest.raises((Boom, KeyError)) as info:
        await DAG("pair", max_workers=2).run_async()
    other = "right" if isinstance(info.value, Boom) else "left"
    if hasattr(info.value, "add_note"):  # Python >= 3.11
        notes: list[str] = getattr(info.value, "__notes__", [])
        assert any(f"task {other!r} also failed" in note for note in notes), notes
    logged = caplog.text
    assert "task 'left' failed" in logged
    assert "task 'right' failed" in logged


_CTRL_C_PROGRAM = """
import io, sys, time, anyio
from rich.console import Console
from flowkit import DAG, task

@task()
async def waits() -> None:
    print("started", flush=True)
    await anyio.sleep(30)

@task()
def blocks() -> None:
    time.sleep(0.2)

progress = sys.argv[2:] == ["progress"]  # a live bar, drawn where the test does not look
console = Console(file=io.StringIO(), force_terminal=True)
try:
    DAG("interrupted", tasks=[waits, blocks]).run(
        backend=sys.argv[1], progress=progress, console=console
    )
except KeyboardInterrupt:
    print("caught a bare KeyboardInterrupt", flush=True)
    raise
"""


@pytest.mark.parametrize("progress", [False, True])
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_during_a_run_comes_out_as_a_bare_keyboard_interrupt(
    backend: str, progress: bool
) -> None:
    # A real SIGINT, in a subprocess: on trio it arrives inside the run's task group (and, with
    # progress=True, the bar's), which used to wrap it in a BaseExceptionGroup that
    # `except KeyboardInterrupt` does not catch.
    result = ctrl_c(_CTRL_C_PROGRAM, backend, *(["progress"] if progress else []))
    out, err = result.out, result.err
    assert "caught a bare KeyboardInterrupt" in out
    assert "ExceptionGroup" not in err
    assert err.rstrip().endswith("KeyboardInterrupt")
