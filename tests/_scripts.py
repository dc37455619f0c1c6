"""Run a short Python program in a fresh interpreter: what a user's program prints, untouched
by pytest's capture and logging setup."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_script(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (dedented) with this interpreter; it must exit 0 within a minute."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
