"""Property: a random DAG runs as a model of it says, and a failed run resumes from its state.

A DAG of 5 to 20 tasks, each linked to a few tasks before it in a random topological order
(created in another random order), sync and ``async def``, some retried with a fault plan ("fails
on its first k attempts of a run"), some with a false ``when=``, some "broken" (failing every
attempt) in the first run only. Each task returns a value of a chosen shape (an int, a str, a
tuple, a dict with int keys, a list, None) computed from its upstream results, so a value that
came back from the state with another type changes every value downstream of it.

The first run (executor="thread", with no state, a StateManager in memory, or one in a file)
fails if a task is broken, and a second run with the same state, the tasks "fixed", resumes it:
it calls only the tasks whose result was not stored, and returns the model's results.
"""

from __future__ import annotations

import itertools
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flowkit import DAG, RunResult, StateManager, Task, task
from tests._flowkit_isolation import isolated_flowkit

from ._same import same

pytestmark = pytest.mark.usefixtures("no_retry_waits")

SHAPES = ["int", "str", "tuple", "int-keyed dict", "list", "none"]


class Broken(Exception):
    """A broken task's failure: every attempt of the first run."""


class Flaky(Exception):
    """A retried task's failure on one of its first attempts."""


@dataclass(frozen=True)
class Node:
    upstream: tuple[int, ...]  # indices of earlier nodes, in link order
    is_async: bool
    retries: int
    faults: int  # fails on its first `faults` attempts of each run (never more than retries)
    broken: bool  # fails every attempt of the first run
    skip: bool  # its when= is false
    shape: str


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[Node], list[int], bool]:
    """Nodes in a topological order (upstream indices are smaller), the order to create their
    tasks in, and whether the DAG is serial: sync tasks without retries only, which one worker
    thread runs one after the other (so the moment a run fails is known: see Probe.call)."""
    n = draw(st.integers(5, 20))
    serial = draw(st.integers(0, 3)) == 0
    nodes: list[Node] = []
    for i in range(n):
        if i and draw(st.integers(0, 3)) == 0:
            upstream = nodes[-1].upstream  # same upstream as the node before: a shared join
        elif i:
            near = st.integers(max(0, i - 5), i - 1)  # mostly near: chains, diamonds, joins
            upstream = tuple(draw(st.lists(near, max_size=3, unique=True)))
        else:
            upstream = ()
        retries = 0 if serial else draw(st.sampled_from([0, 0, 1, 2]))
        nodes.append(
            Node(
                upstream=upstream,
                is_async=not serial and draw(st.booleans()),
                retries=retries,
                faults=draw(st.integers(0, retries)),
                broken=draw(st.integers(0, 11)) == 0,
                skip=draw(st.integers(0, 5)) == 0,
                shape=draw(st.sampled_from(SHAPES)),
            )
        )
    order = draw(st.permutations(range(n)))
    return nodes, list(order), serial


def name_of(i: int) -> str:
    return f"t{i}"


def value_of(i: int, shape: str, args: tuple[Any, ...]) -> Any:
    """Node ``i``'s result: depends on the exact upstream values, types included (their repr)."""
    digest = zlib.crc32(repr(args).encode()) % 10_000
    if shape == "int":
        return digest
    if shape == "str":
        return f"{i}:{digest}"
    if shape == "tuple":
        return (i, digest, ("nested", (digest,)))
    if shape == "int-keyed dict":
        return {i: digest, -1: (digest, "x"), 2: {3: [digest]}}
    if shape == "list":
        return [i, {"k": digest}, []]
    return None


@dataclass
class Model:
    """What a complete run returns: each node's arguments, result, and whether it is skipped."""

    args: list[tuple[Any, ...]]
    values: list[Any]
    skipped: set[int]

    @classmethod
    def of(cls, nodes: list[Node]) -> Model:
        args: list[tuple[Any, ...]] = []
        values: list[Any] = []
        skipped: set[int] = set()
        for i, node in enumerate(nodes):
            args.append(tuple(values[u] for u in node.upstream))
            if node.skip:
                skipped.add(i)
                values.append(None)
            else:
                values.append(value_of(i, node.shape, args[i]))
        return cls(args, values, skipped)


class Probe:
    """The tasks' side: what each run called, with what, and what came out. Thread-safe."""

    def __init__(self, nodes: list[Node], model: Model, serial: bool) -> None:
        self.nodes = nodes
        self.model = model
        #: Tasks run one at a time on one thread: once one has failed for good, the run knows
        #: it before the thread takes the next task, and no task may start any more.
        self.serial = serial
        self.lock = threading.Lock()
        self.run = 0
        self.cached: set[int] = set()  # nodes whose result the state held when the run began
        self.calls: dict[int, int] = {}
        self.returned: set[int] = set()
        self.conditions: set[int] = set()  # nodes whose when= was asked
        self.final_errors: list[Exception] = []  # the last attempt's error of each failed node
        self.problems: list[str] = []  # what a task saw that the model forbids

    def begin(self, run: int, cached: set[int]) -> None:
        self.run, self.cached = run, cached
        self.calls, self.returned, self.conditions = {}, set(), set()
        self.final_errors = []

    def _check_start(self, i: int, args: tuple[Any, ...], what: str) -> None:
        """Under the lock: node ``i`` starts only once all its upstream succeeded (returned in
        this run, came from the state, or were skipped), and gets the model's arguments."""
        for u in self.nodes[i].upstream:
            if not (u in self.returned or u in self.cached or u in self.model.skipped):
                self.problems.append(f"{what} of {name_of(i)} before {name_of(u)} succeeded")
        if not same(args, self.model.args[i]):
            self.problems.append(f"{what} of {name_of(i)} got {args!r}")

    def condition(self, i: int, args: tuple[Any, ...]) -> bool:
        with self.lock:
            self._check_start(i, args, "when=")
            self.conditions.add(i)
        return not self.nodes[i].skip

    def call(self, i: int, args: tuple[Any, ...]) -> Any:
        node = self.nodes[i]
        with self.lock:
            self.calls[i] = attempt = self.calls.get(i, 0) + 1
            if attempt == 1:
                self._check_start(i, args, "call")
                if self.serial and self.final_errors:
                    self.problems.append(f"{name_of(i)} started after the run failed")
            if i in self.cached:
                self.problems.append(f"{name_of(i)} called though its result was stored")
            if node.skip:
                self.problems.append(f"{name_of(i)} called though its when= is false")
            error: Exception | None = None
            if node.broken and self.run == 1:
                error = Broken(name_of(i), attempt)
            elif attempt <= node.faults:
                error = Flaky(name_of(i), attempt)
            if error is not None:
                if attempt == node.retries + 1:
                    self.final_errors.append(error)
                raise error
            self.returned.add(i)
        return value_of(i, node.shape, args)


def make_task(i: int, node: Node, probe: Probe) -> Task:
    name = name_of(i)
    body: Callable[..., Any]
    if node.is_async:

        async def body(*args: Any) -> Any:
            await anyio.lowlevel.checkpoint()
            return probe.call(i, args)

    else:

        def body(*args: Any) -> Any:
            return probe.call(i, args)

    body.__name__ = body.__qualname__ = name

    def when(*args: Any) -> bool:
        return probe.condition(i, args)

    return task(retries=node.retries, delay=0.01, when=when)(body)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dag=dags(),
    max_workers=st.integers(1, 4),
    store=st.sampled_from(["none", "memory", "file", "file, reopened"]),
)
async def test_a_random_dag_runs_and_resumes_as_the_model_says(
    tmp_path: Path, dag: tuple[list[Node], list[int], bool], max_workers: int, store: str
) -> None:
    nodes, order, serial = dag
    if serial:
        max_workers = 1
    model = Model.of(nodes)
    probe = Probe(nodes, model, serial)
    path = tmp_path / f"state-{next(_examples)}.json"
    state = None if store == "none" else StateManager(path if "file" in store else None)
    with isolated_flowkit():
        tasks: dict[int, Task] = {i: make_task(i, nodes[i], probe) for i in order}
        for i, node in enumerate(nodes):
            if node.upstream:
                [tasks[u] for u in node.upstream] >> tasks[i]
        workflow = DAG("prop", max_workers=max_workers, tasks=list(tasks.values()))
        # A broken task that gets to run makes the first run fail; one that is skipped does not.
        fails = any(node.broken and not node.skip for node in nodes)
        event(f"first run fails: {fails}")
        probe.begin(1, set())
        if fails:
            with pytest.raises(Broken) as caught:
                await workflow.run_async(executor="thread", state=state)
            assert any(caught.value is error for error in probe.final_errors)
        else:
            check_results(await workflow.run_async(executor="thread", state=state), model)
        check_calls(probe, nodes)
        stored = check_state(state, model)
        assert stored == (set() if state is None else probe.returned)
        # The second run: the same state (reopened from its file, maybe), the tasks fixed.
        if store == "file, reopened":
            state = StateManager(path)
            assert check_state(state, model) == stored
        probe.begin(2, stored)
        check_results(await workflow.run_async(executor="thread", state=state), model)
        check_calls(probe, nodes)
        ran = set(range(len(nodes))) - model.skipped - stored
        assert set(probe.calls) == ran  # the stored ones are not called again
        if state is not None:
            assert check_state(state, model) == set(range(len(nodes))) - model.skipped
        event(f"second run calls: {'none' if not ran else 'all' if not stored else 'some'}")
    assert probe.problems == []


_examples = itertools.count()


def check_results(results: RunResult, model: Model) -> None:
    expected = {name_of(i): value for i, value in enumerate(model.values) if i not in model.skipped}
    assert results == expected
    assert all(same(results[name], value) for name, value in expected.items())
    assert results.skipped == frozenset(name_of(i) for i in model.skipped)


def check_calls(probe: Probe, nodes: list[Node]) -> None:
    """Each node called made all its attempts: a failure the run waited for, or a success."""
    for i, calls in probe.calls.items():
        node = nodes[i]
        if node.broken and probe.run == 1:
            assert calls == node.retries + 1
        else:
            assert calls == node.faults + 1
            assert i in probe.returned
    assert probe.conditions <= probe.model.skipped | set(probe.calls) | probe.cached
    assert set(probe.calls) <= probe.conditions  # when= is asked before the call
    assert probe.model.skipped.isdisjoint(probe.calls)


def check_state(state: StateManager | None, model: Model) -> set[int]:
    """The results the state holds are the model's, equal and of the same type; return the
    nodes it holds."""
    if state is None:
        return set()
    entries = state.get_all()
    held = {int(key.rsplit(":t", 1)[1]) for key in entries}
    for key, value in entries.items():
        i = int(key.rsplit(":t", 1)[1])
        assert key == f"flowkit:prop:{name_of(i)}"
        assert same(value, model.values[i])
    assert held.isdisjoint(model.skipped)  # skipped tasks are not cached
    return held
