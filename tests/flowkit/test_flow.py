from __future__ import annotations

import pytest

from flowkit import Flow, WorkflowDefinitionError, task


def _user_flow() -> Flow:
    @task()
    def fetch_user() -> dict[str, object]:
        return {"id": 1}

    @task()
    def fetch_orders(fetch_user: dict[str, object]) -> list[str]:
        return [f"order-of-{fetch_user['id']}"]

    @task()
    async def fetch_recommendations() -> list[str]:
        return ["item"]

    @task()
    def combine(
        fetch_user: dict[str, object], fetch_orders: list[str], fetch_recommendations: list[str]
    ) -> dict[str, object]:
        return {"user": fetch_user, "orders": fetch_orders, "recs": fetch_recommendations}

    return (
        Flow("user_pipeline", max_workers=5)
        .add(fetch_user)
        .branch(fetch_orders, fetch_recommendations)
        .merge(combine)
    )


async def test_arguments_are_injected_by_parameter_name() -> None:
    results = await _user_flow().run_async()
    assert results["combine"] == {"user": {"id": 1}, "orders": ["order-of-1"], "recs": ["item"]}


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sync_run_under_the_chosen_backend(backend: str) -> None:
    assert _user_flow().run(backend=backend)["fetch_orders"] == ["order-of-1"]


async def test_add_chains_sequential_steps() -> None:
    @task()
    def extract() -> int:
        return 3

    @task()
    def transform(extract: int) -> int:
        return extract * 2

    @task()
    def load(transform: int, extract: int) -> str:
        return f"{extract}->{transform}"

    results = await Flow("etl").add(extract).add(transform).add(load).run_async()
    assert results == {"extract": 3, "transform": 6, "load": "3->6"}


def test_branch_before_add_is_a_value_error() -> None:
    @task()
    def a() -> None: ...

    with pytest.raises(ValueError, match="start the flow with add"):
        Flow().branch(a)


def test_merge_without_branch_is_a_value_error() -> None:
    @task()
    def a() -> None: ...

    @task()
    def b() -> None: ...

    with pytest.raises(ValueError, match="call branch"):
        Flow().add(a).merge(b)


async def test_parameter_naming_no_earlier_task_fails_before_running() -> None:
    ran: list[str] = []

    @task()
    def first() -> None:
        ran.append("first")

    @task()
    def second(data: int) -> None: ...

    with pytest.raises(WorkflowDefinitionError, match="parameter 'data' of task 'second'"):
        await Flow().add(first).add(second).run_async()
    assert ran == []


async def test_flow_ignores_the_tasks_own_links() -> None:
    @task()
    def a() -> int:
        return 1

    @task()
    def b() -> int:
        return 2

    b >> a  # irrelevant inside a Flow
    assert await Flow().add(a).add(b).run_async() == {"a": 1, "b": 2}


def test_flow_visualize() -> None:
    assert _user_flow().visualize() == (
        "Flow: user_pipeline\n"
        + "=" * 40
        + "\n\nTask: fetch_user\n  Downstream: fetch_orders, fetch_recommendations\n"
        + "\nTask: fetch_orders\n  Upstream: fetch_user\n  Downstream: combine\n"
        + "\nTask: fetch_recommendations  [async]\n  Upstream: fetch_user\n"
        + "  Downstream: combine\n"
        + "\nTask: combine\n  Upstream: fetch_orders, fetch_recommendations"
    )
