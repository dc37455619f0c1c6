"""The file behind a StateManager: bad paths and foreign files refused early, temp files of dead
writers removed, renames made durable, torn lines ignored, and a cost per change that does not
grow with the number of entries."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from flowkit import StateManager, _state_file


def test_a_path_under_a_regular_file_fails_at_construction(tmp_path: Path) -> None:
    (tmp_path / "some_file.txt").write_text("not a directory")
    for path in ("some_file.txt/state.json", "some_file.txt/deeper/state.json"):
        with pytest.raises(ValueError, match=r"some_file.txt is a file, not a directory"):
            StateManager(storage_path=tmp_path / path)


def test_a_directory_as_path_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"is a directory: name a file, e.g. .*state.json"):
        StateManager(storage_path=tmp_path)


@pytest.mark.parametrize(
    ("entries", "what"),
    [
        ({"k": 5}, "entry 'k' is a int, not an object"),
        ({"k": {"value": 1}}, "entry 'k' has no created_at, expires_at, metadata"),
        (
            {"k": {"value": 1, "created_at": "now", "expires_at": None, "metadata": {}}},
            "entry 'k': created_at is 'now', not a number",
        ),
        (
            {"k": {"value": 1, "created_at": 1.0, "expires_at": None, "metadata": []}},
            r"entry 'k': metadata is \[\], not an object",
        ),
    ],
)
def test_entries_of_the_wrong_shape_are_refused_at_load(
    tmp_path: Path, entries: dict[str, Any], what: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 1, "entries": entries}))
    with pytest.raises(ValueError, match=rf"state.json is not a valid flowkit state file: {what}"):
        StateManager(storage_path=path)


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("garbage", "line 3 is not valid"),
        ('{"op": "put", "key": "x"}', "line 3 is not a set or del record"),
        ('{"op": "del", "key": 7}', "line 3: the key 7 is not a str"),
        ('{"op": "set", "key": "x", "value": 1}', "line 3 has no created_at"),
        (
            '{"op": "set", "key": "x", "value": {"$tuple": "ab"}, "created_at": 1,'
            ' "expires_at": null, "metadata": {}}',
            r"line 3 is not valid: bad \$tuple value",
        ),
    ],
)
def test_a_bad_line_is_refused_at_load_with_its_number(
    tmp_path: Path, line: str, what: str
) -> None:
    path = tmp_path / "state.json"
    StateManager(storage_path=path).set("a", 1)
    with path.open("a") as f:
        f.write(line + "\n")
        f.write('{"op": "del", "key": "a"}\n')
    with pytest.raises(ValueError, match=what):
        StateManager(storage_path=path)


def test_a_file_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"version": 3, "id": "x"}\n')
    with pytest.raises(ValueError, match="version 3; this flowkit reads versions 1 and 2"):
        StateManager(storage_path=path)


def test_a_version_1_file_loads_and_is_upgraded(tmp_path: Path) -> None:
    # What flowkit wrote before the journal: one JSON object, values as plain JSON.
    path = tmp_path / "state.json"
    entry = {"created_at": 1.0, "expires_at": None, "metadata": {"m": 1}}
    old = {"list": [1, 2], "tag-like": {"$tuple": [1]}, "n": None}
    entries = {k: {"value": v, **entry} for k, v in old.items()}
    path.write_text(json.dumps({"version": 1, "entries": entries}))
    state = StateManager(storage_path=path)
    assert state.get_all() == old
    assert type(state.get("tag-like")) is dict  # a version 1 value is never read as a tag
    assert json.loads(path.read_text().splitlines()[0])["version"] == 2
    assert StateManager(storage_path=path).get_all() == old
    assert StateManager(storage_path=path).get_entry("list") == {"value": [1, 2], **entry}


def test_temp_files_of_dead_writers_are_removed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    StateManager(storage_path=path).set("k", 1)
    stale = [".state.json.4242.0123abcd.tmp", ".state.json.x1y2_z3w.tmp"]  # ours, and mkstemp's
    kept = [".state.json.notes.tmp", "other.tmp", ".other.json.4242.0123abcd.tmp"]
    for name in stale + kept:
        (tmp_path / name).write_text("{")
    assert StateManager(storage_path=path).get("k") == 1
    assert sorted(os.listdir(tmp_path)) == sorted(["state.json", "state.json.lock", *kept])


def test_the_directory_is_flushed_after_each_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    replace, fsync = os.replace, os.fsync

    def record_replace(src: Any, dst: Any) -> None:
        calls.append("replace")
        replace(src, dst)

    def record_fsync(fd: int) -> None:
        calls.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        fsync(fd)

    monkeypatch.setattr(_state_file.os, "replace", record_replace)
    monkeypatch.setattr(_state_file.os, "fsync", record_fsync)
    state = StateManager(storage_path=tmp_path / "state.json")
    state.set("k", 1)  # the first change writes the file whole
    state.clear()  # so does a clear
    assert calls == ["fsync file", "replace", "fsync dir"] * 2


def test_a_torn_last_line_is_ignored_then_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    StateManager(storage_path=path).set("kept", 1)
    with path.open("ab") as f:
        f.write(b'{"op":"set","key":"torn","val')  # a writer killed mid-append
    state = StateManager(storage_path=path)
    assert state.get_all() == {"kept": 1}
    state.set("after", 2)  # appended where the torn line began
    assert b"torn" not in path.read_bytes()
    assert StateManager(storage_path=path).get_all() == {"kept": 1, "after": 2}


def test_a_failed_append_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    state = StateManager(storage_path=path)
    state.set("kept", 1)

    def half_then_fail(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(_state_file, "_write", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        state.set("lost", 2)
    monkeypatch.undo()
    assert state.get_all() == {"kept": 1}
    state.set("next", 3)
    assert StateManager(storage_path=path).get_all() == {"kept": 1, "next": 3}


def _cost_per_set(path: Path, entries: int, monkeypatch: pytest.MonkeyPatch) -> tuple[float, float]:
    """Bytes written and flushes to disk per ``set``, over ``2 * entries`` overwrites of a state
    of ``entries`` entries (enough for the file to be rewritten at least once)."""
    counted = {"bytes": 0, "syncs": 0}
    write = _state_file._write

    def count_write(fd: int, data: bytes) -> None:
        counted["bytes"] += len(data)
        write(fd, data)

    def count_sync(*args: Any) -> None:
        counted["syncs"] += 1  # and skip the flush itself: this test counts, it does not time

    monkeypatch.setattr(_state_file, "_write", count_write)
    monkeypatch.setattr(_state_file, "_sync_data", count_sync)
    monkeypatch.setattr(_state_file, "_sync_directory", count_sync)
    monkeypatch.setattr(_state_file.os, "fsync", count_sync)
    state = StateManager(storage_path=path)
    for i in range(entries):
        state.set(f"task{i:05}", i)
    counted.update(bytes=0, syncs=0)
    for i in range(2 * entries):
        state.set(f"task{i % entries:05}", i)
    monkeypatch.undo()
    assert StateManager(storage_path=path).get_all() == {
        f"task{i % entries:05}": i for i in range(entries, 2 * entries)
    }
    return counted["bytes"] / (2 * entries), counted["syncs"] / (2 * entries)


def test_a_set_costs_the_same_however_many_entries_there_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_state_file, "_REWRITE_MIN_BYTES", 0)  # rewrite as soon as it pays
    line = len(_state_file.set_line("task00000", _entry(0), tmp_path))
    small = _cost_per_set(tmp_path / "small.json", 50, monkeypatch)
    large = _cost_per_set(tmp_path / "large.json", 1000, monkeypatch)
    for bytes_per_set, syncs_per_set in (small, large):
        # One line appended and flushed, plus a share of the rewrites: bounded, whatever the size.
        assert bytes_per_set < 3 * line
        assert syncs_per_set < 1.2
    assert large[0] < 1.2 * small[0]


def test_the_file_stays_a_bounded_multiple_of_its_live_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_state_file, "_REWRITE_MIN_BYTES", 0)
    monkeypatch.setattr(_state_file, "_sync_data", lambda fd: None)  # counts bytes, not time
    monkeypatch.setattr(_state_file, "_sync_directory", lambda directory: None)
    monkeypatch.setattr(_state_file.os, "fsync", lambda fd: None)
    path = tmp_path / "state.json"
    state = StateManager(storage_path=path)
    for i in range(500):
        state.set(f"k{i % 10}", i)
    live = sum(len(_state_file.set_line(k, _entry(v), path)) for k, v in state.get_all().items())
    assert path.stat().st_size <= 2 * live + 200


def _entry(value: Any) -> dict[str, Any]:
    return {"value": value, "created_at": 1.0, "expires_at": None, "metadata": {}}
