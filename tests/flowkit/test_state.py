from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowkit import DAG, Flow, StateManager, _state, _state_file, task


def test_set_get_has_delete_clear_in_memory() -> None:
    state = StateManager()
    state.set("a", {"x": 1}, metadata={"by": "test"})
    assert state.get("a") == {"x": 1}
    assert state.has("a")
    assert state.get("missing", "default") == "default"
    assert state.get_all() == {"a": {"x": 1}}
    assert state.delete("a") is True
    assert state.delete("a") is False
    state.set("b", 2)
    state.clear()
    assert state.get_all() == {}


def test_expired_entries_vanish(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(_state.time, "time", lambda: now[0])
    state = StateManager(default_ttl=10)
    state.set("short", 1, ttl=1)
    state.set("default", 2)
    forever = StateManager()  # no default_ttl: entries without ttl never expire
    forever.set("kept", 3)
    now[0] += 5
    assert state.get_all() == {"default": 2}
    assert not state.has("short")
    now[0] += 10
    assert state.get("default") is None
    assert state.get_all() == {}
    assert forever.get_all() == {"kept": 3}


def test_file_store_survives_a_new_manager(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    StateManager(storage_path=str(path)).set("k", [1, 2], metadata={"m": True})
    reloaded = StateManager(storage_path=path)
    assert reloaded.get("k") == [1, 2]
    assert reloaded.get_entry("k")["metadata"] == {"m": True}  # type: ignore[index]


def test_a_crash_mid_rewrite_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    state = StateManager(storage_path=path)
    state.set("kept", "old")

    def crash(src: str, dst: str) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(_state_file.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        state.clear()  # a clear rewrites the file
    monkeypatch.undo()
    assert state.get_all() == {"kept": "old"}  # a change that raised changed nothing
    assert StateManager(storage_path=path).get_all() == {"kept": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.lock"]


def test_a_value_the_file_cannot_keep_is_a_clear_error(tmp_path: Path) -> None:
    state = StateManager(storage_path=tmp_path / "s.json")
    with pytest.raises(TypeError, match=r"cannot store key 'bad' .*type object is not kept"):
        state.set("bad", object())
    assert not state.has("bad")


def test_a_foreign_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a flowkit state file"):
        StateManager(storage_path=path)


@pytest.mark.parametrize("ttl", [0, -1, float("inf"), "1"])
def test_bad_ttl_names_the_field(ttl: object) -> None:
    with pytest.raises(ValueError, match="default_ttl"):
        StateManager(default_ttl=ttl)  # type: ignore[arg-type]


async def test_rerun_resumes_at_the_failed_task(tmp_path: Path) -> None:
    calls = {"extract": 0, "transform": 0, "load": 0}
    broken = True

    @task()
    def extract() -> int:
        calls["extract"] += 1
        return 5

    @task()
    async def transform(x: int) -> int:
        calls["transform"] += 1
        return x * 2

    @task()
    def load(x: int) -> str:
        calls["load"] += 1
        if broken:
            raise RuntimeError("database down")
        return f"loaded {x}"

    extract >> transform >> load
    state = StateManager(storage_path=tmp_path / "state.json")
    with pytest.raises(RuntimeError, match="database down"):
        await DAG("etl").run_async(state=state)
    broken = False  # "fix" the problem, then re-run
    results = await DAG("etl").run_async(state=StateManager(storage_path=tmp_path / "state.json"))
    assert results == {"extract": 5, "transform": 10, "load": "loaded 10"}
    assert calls == {"extract": 1, "transform": 1, "load": 2}


async def test_flow_results_are_cached_under_the_flow_name() -> None:
    @task()
    def step() -> int:
        return 1

    state = StateManager()
    await Flow("f").add(step).run_async(state=state)
    assert state.get_all() == {"flowkit:f:step": 1}


def test_leftover_temp_files_are_not_created_on_success(tmp_path: Path) -> None:
    state = StateManager(storage_path=tmp_path / "s.json")
    for i in range(3):
        state.set(str(i), i)
    assert sorted(os.listdir(tmp_path)) == ["s.json", "s.json.lock"]
