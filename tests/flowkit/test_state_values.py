"""A value read back from a file StateManager is equal to the one stored and of the same type,
or ``set`` refuses it (naming the key, the type and where it is) and stores nothing."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowkit import DAG, StateManager, _state_file, task

from ._same import same


def reloaded(tmp_path: Path, value: Any) -> Any:
    path = tmp_path / "state.json"
    StateManager(storage_path=path).set("k", value)
    return StateManager(storage_path=path).get("k")


KEPT = [
    (1, "two", 3.0),
    (),
    [(1, 2), [3, (4,)]],
    {1: "a", 2: "b"},
    {1.5: "x", None: "y", (1, "t"): "z"},
    {True: "yes", False: "no"},
    {"$tuple": [1, 2], "$": 0},  # str keys that look like our tags
    {"a": {1: {(2, 3): [{4}]}}},
    {1, 2, 3},
    frozenset({"a", (1, 2)}),
    set(),
    b"\x00\xff bytes",
    bytearray(b"buf"),
    dt.datetime(2024, 2, 29, 13, 45, 1, 123456),
    dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    dt.datetime(2024, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    dt.date(1999, 12, 31),
    dt.time(23, 59, 59, 999),
    dt.time(1, 2, tzinfo=dt.timezone(dt.timedelta(hours=3))),
    dt.timedelta(days=-2, seconds=5, microseconds=7),
    decimal.Decimal("1.10"),
    decimal.Decimal("-1E+3"),
    2**100,
    float("inf"),
    -0.0,
    'line\nbreak, tab\t, quote", lone surrogate \ud800, é',
    None,
    [None, True, 0, "", [], {}],
]


@pytest.mark.parametrize("value", KEPT, ids=repr)
def test_a_value_comes_back_equal_and_of_the_same_type(tmp_path: Path, value: Any) -> None:
    assert same(reloaded(tmp_path, value), value)


def test_metadata_comes_back_with_its_types_too(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    StateManager(storage_path=path).set("k", 1, metadata={"shape": (2, 3), 7: "seven"})
    entry = StateManager(storage_path=path).get_entry("k")
    assert entry is not None
    assert same(entry["metadata"], {"shape": (2, 3), 7: "seven"})


_hashable = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.datetimes()
    | st.dates()
    | st.timedeltas()
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=6,
)
_values = st.recursive(
    _hashable,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner)
        | st.dictionaries(_hashable, inner, max_size=4)
        | st.dictionaries(st.text(), inner, max_size=4)
        | st.sets(_hashable, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_values)
def test_any_nesting_of_kept_types_comes_back_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: Any
) -> None:
    # What is checked is the encoding: the flushes to disk would only slow the examples down.
    monkeypatch.setattr(_state_file, "_sync_data", lambda fd: None)
    monkeypatch.setattr(_state_file, "_sync_directory", lambda directory: None)
    monkeypatch.setattr(_state_file.os, "fsync", lambda fd: None)
    assert same(reloaded(tmp_path, value), value)


class Color(enum.IntEnum):
    RED = 1


Point = collections.namedtuple("Point", "x y")


class Local(dt.tzinfo):
    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=1)


def _contains_itself() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    ("value", "where", "what"),
    [
        (object(), "at value,", "type object is not kept"),
        ({"a": [1, Point(1, 2)]}, r"at value\['a'\]\[1\],", "Point .a subclass of tuple"),
        ([collections.OrderedDict()], r"at value\[0\],", "OrderedDict .a subclass of dict"),
        ({Color.RED: 1}, r"at value\[<Color.RED: 1>\],", "Color .a subclass of int"),
        (1 + 2j, "at value,", "type complex is not kept"),
        (dt.datetime(2024, 1, 1, tzinfo=Local()), "at value,", "tzinfo .* is not kept"),
        (
            dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(0), "GMT")),
            "at value,",
            "tzinfo",
        ),
        (_contains_itself(), r"at value\[1\],", "contains itself"),
    ],
    ids=[
        "object",
        "namedtuple",
        "OrderedDict",
        "IntEnum key",
        "complex",
        "ZoneInfo-like",
        "named tz",
        "cycle",
    ],
)
def test_a_value_that_would_come_back_changed_is_refused(
    tmp_path: Path, value: Any, where: str, what: str
) -> None:
    path = tmp_path / "state.json"
    state = StateManager(storage_path=path)
    state.set("k", "before")
    on_disk = path.read_bytes()
    with pytest.raises(TypeError, match=rf"cannot store key 'k' in .*state.json: {where} .*{what}"):
        state.set("k", value)
    assert state.get("k") == "before"  # stored nothing: not in memory...
    assert path.read_bytes() == on_disk  # ...nor on disk


def test_metadata_that_would_come_back_changed_is_refused(tmp_path: Path) -> None:
    state = StateManager(storage_path=tmp_path / "state.json")
    with pytest.raises(TypeError, match=r"at metadata\['p'\], type .*Point"):
        state.set("k", 1, metadata={"p": Point(0, 0)})
    assert not state.has("k")


def test_the_memory_store_keeps_any_value_as_it_is() -> None:
    value = Point(1, 2)
    state = StateManager()
    state.set("k", value)
    assert state.get("k") is value


async def test_a_resumed_run_feeds_downstream_tasks_the_same_types(tmp_path: Path) -> None:
    broken = True
    seen: list[Any] = []

    @task()
    def split() -> tuple[int, dict[int, str]]:
        return (3, {1: "one", 2: "two"})

    @task()
    def use(pair: tuple[int, dict[int, str]]) -> str:
        seen.append(pair)
        if broken:
            raise RuntimeError("down")
        count, names = pair
        return names[1] * count

    split >> use
    with pytest.raises(RuntimeError, match="down"):
        await DAG("resume").run_async(state=StateManager(storage_path=tmp_path / "s.json"))
    broken = False
    results = await DAG("resume").run_async(state=StateManager(storage_path=tmp_path / "s.json"))
    assert results["use"] == "oneoneone"
    assert same(seen[1], (3, {1: "one", 2: "two"}))  # from the file, not from split()
