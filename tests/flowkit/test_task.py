from __future__ import annotations

import pytest

from flowkit import Task, task


def test_task_is_still_callable_like_its_function() -> None:
    @task()
    def double(x: int) -> int:
        return 2 * x

    assert isinstance(double, Task)
    assert double(21) == 42
    assert double.name == "double"


def test_bare_decorator_works_too() -> None:
    @task
    def ping() -> str:
        return "pong"

    assert ping() == "pong"


def test_tasks_register_in_creation_order_and_clear() -> None:
    @task()
    def first() -> None: ...

    @task()
    def second() -> None: ...

    assert Task.registry() == [first, second]
    Task.clear_registry()
    assert Task.registry() == []


def test_chain_links_in_order_and_returns_the_right_side() -> None:
    @task()
    def a() -> None: ...

    @task()
    def b() -> None: ...

    @task()
    def c() -> None: ...

    assert (a >> b >> c) is c
    assert b.upstream == [a]
    assert c.upstream == [b]
    assert a.downstream == [b]


def test_fan_out_and_fan_in() -> None:
    @task()
    def src() -> None: ...

    @task()
    def left() -> None: ...

    @task()
    def right() -> None: ...

    @task()
    def sink() -> None: ...

    assert src >> [left, right] == [left, right]
    assert ([left, right] >> sink) is sink
    assert sink.upstream == [left, right]
    assert src.downstream == [left, right]


def test_linking_twice_keeps_one_link() -> None:
    @task()
    def a() -> None: ...

    @task()
    def b() -> None: ...

    a >> b
    a >> b
    assert b.upstream == [a]


def test_linking_to_a_non_task_is_a_clear_type_error() -> None:
    @task()
    def a() -> None: ...

    with pytest.raises(TypeError, match="right side of >>"):
        a >> print  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"retries": -1}, "retries"),
        ({"retries": 1.5}, "retries"),
        ({"delay": -0.1}, "delay"),
        ({"delay": float("nan")}, "delay"),
        ({"backoff": 0.5}, "backoff"),
        ({"when": 3}, "when"),
    ],
)
def test_bad_options_fail_at_decoration_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=field):
        task(**kwargs)  # type: ignore[arg-type]


def test_backoff_maps_onto_the_shared_retry_policy() -> None:
    @task(retries=3, delay=0.5, backoff=3.0)
    def flaky() -> None: ...

    assert flaky.policy.attempts == 4
    assert flaky.policy.wait_initial == 0.5
    assert flaky.policy.wait_exp_base == 3.0
