"""Pressing Ctrl-C in a real program: the test helper both packages' interrupt tests share."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Interrupted:
    """What a program printed and returned after a SIGINT."""

    out: str
    err: str
    returncode: int


def _restore_default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python then installs no handler
    # of its own: the program would never see the signal. Undo that in the child.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_until_idle(pid: int, limit: float = 10.0) -> None:
    """Wait (Linux) until the program's main thread is parked in its event loop's epoll wait.

    Then no Python code is running in it, and the interrupt is handled by the event loop
    itself. Sent while the program's own code runs, trio raises it right there (as it does
    for a real Ctrl-C), and on rare timings inside trio's or anyio's own unprotected code,
    which can end the run in a ``TrioInternalError``: a property of that race, not of what
    these tests check. Elsewhere than Linux this returns at once.
    """
    wchan = Path(f"/proc/{pid}/task/{pid}/wchan")
    if not wchan.exists():
        return
    end = time.monotonic() + limit
    idle_reads = 0
    while idle_reads < 3 and time.monotonic() < end:
        try:
            idle_reads = idle_reads + 1 if "epoll" in wchan.read_text() else 0
        except OSError:  # the program exited
            return
        time.sleep(0.001)


def ctrl_c(program: str, backend: str, *options: str) -> Interrupted:
    """Run ``program`` (arguments: ``backend``, then ``options``) in a subprocess, send SIGINT
    once it prints ``started`` and waits in its event loop, and collect its output.

    A subprocess because on asyncio an interrupt leaves the event loop itself, which would end
    the test run.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", program, backend, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_restore_default_sigint if sys.platform != "win32" else None,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "started"
        _wait_until_idle(process.pid)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return Interrupted(out, err, process.returncode)
