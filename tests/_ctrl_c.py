"""Pressing Ctrl-C in a real program: the test helper both packages' interrupt tests share."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Interrupted:
    """What a program printed and returned after a SIGINT."""

    out: str
    err: str
    returncode: int


def ctrl_c(program: str, backend: str, *options: str) -> Interrupted:
    """Run ``program`` (arguments: ``backend``, then ``options``) in a subprocess, send SIGINT
    once it prints ``started``, and collect its output.

    A subprocess because on asyncio an interrupt leaves the event loop itself, which would end
    the test run.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", program, backend, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "started"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return Interrupted(out, err, process.returncode)
