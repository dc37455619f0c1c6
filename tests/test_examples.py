"""Every script in ``examples/`` runs to completion on the session's backends.

The scripts are found by globbing, so a new example is tested as soon as it exists. Each runs in
a subprocess with ``--backend asyncio`` and ``--backend trio`` (one per backend the session
selects; the uvloop session skips them, as the scripts take asyncio or trio) and must exit 0.
Each finishes in a second or two; ``-m "not examples"`` leaves them out.

Ctrl-C in an example ends it quietly: exit status 130 (the shell's status for SIGINT), no
traceback. Checked on the two longest-running scripts, one of them a live dashboard.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._ctrl_c import ctrl_c

# Runs a script as ``python script --backend BACKEND`` would, once it is about to start.
_RUN_SCRIPT = """
import runpy, sys
backend, script = sys.argv[1], sys.argv[2]
sys.argv = [script, "--backend", backend]
print("started", flush=True)
runpy.run_path(script, run_name="__main__")
"""

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def test_examples_are_found() -> None:
    assert {"quickstart.py", "etl_pipeline.py", "resume_from_state.py", "functional_api.py"} <= {
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


@pytest.mark.examples
@pytest.mark.parametrize("name", ["quickstart.py", "dashboard_levels.py"])
def test_ctrl_c_exits_quietly_with_130(name: str, anyio_backend: Any) -> None:
    if not isinstance(anyio_backend, str):
        pytest.skip("examples take --backend asyncio|trio; the asyncio session runs them")
    script = next(p for p in EXAMPLES if p.name == name)
    done = ctrl_c(_RUN_SCRIPT, anyio_backend, str(script))
    assert done.returncode == 130, f"{name} exited {done.returncode}:\n{done.err}"
    assert "Traceback" not in done.err, done.err
    assert done.err.strip() == "", done.err
