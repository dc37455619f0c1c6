"""A writer SIGKILLed at a random moment leaves a file that loads, holding every acknowledged set,
and no temporary file once the file is opened again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flowkit import StateManager

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

KEYS = 7

#: Argv: path, first index. Cycles through KEYS keys (so that the file is rewritten often, with
#: the rewrite threshold at 0) and prints each index once its set has returned.
_WRITER = f"""
import sys
from flowkit import StateManager, _state_file
_state_file._REWRITE_MIN_BYTES = 0
state = StateManager(sys.argv[1])
i = int(sys.argv[2])
while True:
    state.set(f"k{{i % {KEYS}}}", (i, {{i: "x" * (i % 50)}}))
    print(i, flush=True)
    i += 1
"""


def test_a_killed_writer_loses_no_acknowledged_set(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    rng = random.Random(12)
    first = 0
    acknowledged: dict[str, int] = {}
    for _ in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(first)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        try:
            for _ in range(rng.randrange(1, 40)):
                i = int(writer.stdout.readline())
                acknowledged[f"k{i % KEYS}"] = i
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            rest, _ = writer.communicate(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        for line in rest.split("\n")[:-1]:  # acknowledged before the kill landed
            i = int(line)
            acknowledged[f"k{i % KEYS}"] = i
        state = StateManager(storage_path=path)  # loads, and removes a dead writer's temp file
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        found = state.get_all()
        for key, i in acknowledged.items():
            value = found[key]
            # The acknowledged set, or one the writer made after it but was killed before
            # acknowledging: never an older one.
            assert value[0] >= i
            assert value == (value[0], {value[0]: "x" * (value[0] % 50)})
        acknowledged = {key: value[0] for key, value in found.items()}
        first = max(acknowledged.values()) + 1
