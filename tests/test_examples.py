"""Every script in ``examples/`` runs to completion on the session's backends.

The scripts are found by globbing, so a new example is tested as soon as it exists. Each runs in
a subprocess with ``--backend asyncio`` and ``--backend trio`` (one per backend the session
selects; the uvloop session skips them, as the scripts take asyncio or trio) and must exit 0.
Each finishes in a second or two; ``-m "not examples"`` leaves them out.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def test_examples_are_found() -> None:
    assert {"quickstart.py", "etl_pipeline.py", "resume_from_state.py"} <= {
        p.name for p in EXAMPLES
    }


@pytest.mark.examples
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path, anyio_backend: Any) -> None:
    if not isinstance(anyio_backend, str):
        pytest.skip("examples take --backend asyncio|trio; the asyncio session runs them")
    done = subprocess.run(
        [sys.executable, str(script), "--backend", anyio_backend],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{script.name} printed nothing"
