"""Several StateManagers on one file, in one process or in several: no writer loses another's
entries, and a reader sees what the others wrote."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from flowkit import StateManager

#: Argv: path, prefix, count. Waits for a line on stdin, so that writers start together.
_WRITER = """
import sys
from flowkit import StateManager
path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
state = StateManager(path)
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    state.set(f"{prefix}{i}", (prefix, i))
    assert state.get(f"{prefix}{i}") == (prefix, i)
print("done", flush=True)
"""


def test_two_managers_in_one_process_keep_each_others_entries(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    a, b = StateManager(storage_path=path), StateManager(storage_path=path)
    a.set("a1", 1)
    b.set("b1", 2)  # b had not seen a1: it must not write it away
    a.set("a2", 3)
    assert b.get("a1") == 1  # b sees a's entries...
    assert a.get_all() == {"a1": 1, "b1": 2, "a2": 3}  # ...and a sees b's
    assert b.delete("a2") is True
    assert not a.has("a2")
    assert StateManager(storage_path=path).get_all() == {"a1": 1, "b1": 2}
    b.clear()
    assert a.get_all() == {}


def test_a_reader_sees_a_writer_that_rewrote_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    reader, writer = StateManager(storage_path=path), StateManager(storage_path=path)
    writer.set("k", 1)
    assert reader.get("k") == 1
    writer.clear()  # a rewrite: a new file with a new header
    writer.set("k", 2)
    assert reader.get("k") == 2
    assert reader.get_all() == {"k": 2}


def test_threads_writing_through_two_managers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.json"

    def write(prefix: str) -> None:
        state = StateManager(storage_path=path)
        for i in range(25):
            state.set(f"{prefix}{i}", i)

    threads = [threading.Thread(target=write, args=(p,)) for p in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {f"{p}{i}": i for p in "ab" for i in range(25)}
    assert StateManager(storage_path=path).get_all() == expected


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    count = 40
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), prefix, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for prefix in ("p", "q")
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready"
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            out, _ = writer.communicate(timeout=60)
            assert writer.returncode == 0
            assert out.strip() == "done"
    finally:
        for writer in writers:
            writer.kill()
    expected = {f"{p}{i}": (p, i) for p in ("p", "q") for i in range(count)}
    assert StateManager(storage_path=path).get_all() == expected
