"""``run()`` inside a running event loop (a Jupyter cell): the run gets a thread of its own."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import sniffio

from flowkit import DAG, Flow, task
from tests._ctrl_c import _restore_default_sigint


async def test_run_inside_a_loop_runs_on_a_new_thread_with_the_same_library() -> None:
    here = threading.current_thread()
    seen: dict[str, object] = {}

    @task()
    def source() -> int:
        return 20

    @task()
    async def double(x: int) -> int:
        seen["library"] = sniffio.current_async_library()
        seen["thread"] = threading.current_thread()
        return x * 2

    source >> double
    before = set(threading.enumerate())
    assert DAG("cell").run() == {"source": 20, "double": 40}
    assert seen["library"] == sniffio.current_async_library()
    assert seen["thread"] is not here
    assert seen["thread"] not in threading.enumerate()  # the run's thread has ended
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("flowkit")]


async def test_a_flow_runs_inside_a_loop_too_and_failures_propagate_unchanged() -> None:
    error = LookupError("no such row")

    @task()
    def first() -> int:
        return 1

    @task()
    def second(first: int) -> int:
        raise error

    with pytest.raises(LookupError) as info:
        Flow("cell").add(first).add(second).run()
    assert info.value is error


async def test_an_explicit_backend_is_used_inside_a_loop() -> None:
    @task()
    async def library() -> str:
        return sniffio.current_async_library()

    assert DAG("cell").run(backend="trio") == {"library": "trio"}
    assert DAG("cell").run(backend="asyncio") == {"library": "asyncio"}


def test_outside_a_loop_run_stays_on_the_calling_thread() -> None:
    @task()
    async def where() -> threading.Thread:
        return threading.current_thread()

    assert DAG("plain").run()["where"] is threading.current_thread()


_INTERRUPTED_CELL = """
import os, signal, sys, threading
import anyio
from flowkit import DAG, task

@task()
async def slow():
    print("started", flush=True)
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the cell waits for the run
    try:
        await anyio.sleep_forever()
    finally:
        print("cancelled", flush=True)

async def cell():
    DAG("cell").run()

try:
    if sys.argv[1] == "trio":
        import trio
        trio.run(cell)
    else:  # a loop whose Ctrl-C raises KeyboardInterrupt where the code is, as in Jupyter
        import asyncio
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(cell())
        finally:
            loop.close()
except KeyboardInterrupt:
    print("interrupted", [t.name for t in threading.enumerate() if t.name.startswith("flowkit")])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to itself")
@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_ctrl_c_while_waiting_cancels_the_run_and_ends_its_thread(library: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_CELL, library],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_restore_default_sigint,
    )
    assert out.stdout.split("\n") == ["started", "cancelled", "interrupted []", ""], out.stderr
