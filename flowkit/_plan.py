"""A plan: a workflow's tasks compiled into an indexed, validated, acyclic graph.

Both faces (``DAG`` with ``>>`` links, ``Flow`` with ``add``/``branch``/``merge``) compile to a
:class:`Plan`; the scheduler runs plans and never looks at how they were built.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._task import Task
from .exceptions import DAGCycleError, WorkflowDefinitionError

__all__ = ["Plan", "compile_plan", "render_mermaid", "render_text"]


@dataclass(frozen=True, slots=True)
class Plan:
    """An acyclic graph of tasks, indexed by position.

    ``order`` is a topological order. ``upstream[i]`` lists the indices task ``i`` depends on, in
    link order (its positional arguments); ``downstream[i]`` the tasks depending on it.
    ``inject[i]`` is ``None`` when upstream results are passed positionally (DAG), or the
    ``(parameter, task index)`` pairs to pass by keyword (Flow).
    """

    name: str
    tasks: tuple[Task, ...]
    upstream: tuple[tuple[int, ...], ...]
    downstream: tuple[tuple[int, ...], ...]
    inject: tuple[tuple[tuple[str, int], ...] | None, ...]
    order: tuple[int, ...]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tasks]


def compile_plan(
    name: str,
    tasks: Sequence[Task],
    upstream: Sequence[Sequence[Task]] | None = None,
    inject_by_name: bool = False,
) -> Plan:
    """Index ``tasks`` and check the graph: unique names, no missing dependency, no cycle.

    ``upstream`` gives each task's dependencies; by default the tasks' own ``>>`` links.

    Raises:
        WorkflowDefinitionError: two tasks share a name, or a task depends on one left out.
        DAGCycleError: the dependencies form a cycle.
    """
    index: dict[Task, int] = {}  # tasks hash by identity
    by_name: dict[str, Task] = {}
    for i, t in enumerate(tasks):
        if not isinstance(t, Task):
            raise TypeError(f"tasks must hold Task objects (from @task()), got {t!r}")
        if t.name in by_name:
            if by_name[t.name] is t:
                raise WorkflowDefinitionError(f"task {t.name!r} is listed twice; list it once")
            raise WorkflowDefinitionError(
                f"two tasks are named {t.name!r}; results are keyed by name, so rename one"
            )
        by_name[t.name] = t
        index[t] = i
    position = index.__getitem__
    ups: list[tuple[int, ...]] = []
    for i, t in enumerate(tasks):
        deps = t.upstream if upstream is None else upstream[i]
        try:
            ups.append(tuple(map(position, deps)))
        except KeyError:
            missing = next(dep for dep in deps if dep not in index)
            raise WorkflowDefinitionError(
                f"task {t.name!r} depends on {missing.name!r}, which is not in workflow "
                f"{name!r}; add {missing.name!r} to its tasks"
            ) from None
    downs: list[Sequence[int]]
    if upstream is None:  # >> links are symmetric: read the downstream side directly
        downs = [_positions(t.downstream, position) if t.downstream else () for t in tasks]
    else:
        downs = [[] for _ in tasks]
        for i, deps_of_i in enumerate(ups):
            for j in deps_of_i:
                downs[j].append(i)  # type: ignore[attr-defined]
    order = _topological_order(tasks, ups, downs)
    inject: list[tuple[tuple[str, int], ...] | None] = [None] * len(tasks)
    if inject_by_name:
        inject = [_injection(t, i, tasks, ups) for i, t in enumerate(tasks)]
    return Plan(
        name=name,
        tasks=tuple(tasks),
        upstream=tuple(ups),
        downstream=tuple(tuple(d) for d in downs),
        inject=tuple(inject),
        order=tuple(order),
    )


def _positions(targets: list[Task], position: Callable[[Task], int]) -> tuple[int, ...]:
    try:
        return tuple(map(position, targets))
    except KeyError:  # a downstream task left out of this workflow: it is simply not run
        found: list[int] = []
        for t in targets:
            with contextlib.suppress(KeyError):
                found.append(position(t))
        return tuple(found)


def _topological_order(
    tasks: Sequence[Task], ups: list[tuple[int, ...]], downs: list[Sequence[int]]
) -> list[int]:
    # Fast path: when every task comes after all its upstream tasks (the usual case: tasks are
    # created, hence listed, before the tasks that use them), the list order is already a
    # topological order and there can be no cycle. One C-level max() per task checks it.
    if all(not row or max(row) < i for i, row in enumerate(ups)):
        return list(range(len(tasks)))
    # Links are unique (``>>`` and Flow never link a pair twice), so counts are exact.
    waiting = [len(row) for row in ups]
    order = [i for i, w in enumerate(waiting) if w == 0]
    for i in order:  # grows while iterating: Kahn's algorithm with the output as the queue
        for d in downs[i]:
            w = waiting[d] - 1
            waiting[d] = w
            if w == 0:
                order.append(d)
    if len(order) < len(tasks):
        raise DAGCycleError([tasks[i].name for i in _find_cycle(ups, set(order))])
    return order


def _find_cycle(ups: list[tuple[int, ...]], acyclic: set[int]) -> list[int]:
    """One cycle among the nodes Kahn's algorithm could not order, first node repeated last."""
    start = next(i for i in range(len(ups)) if i not in acyclic)
    # Every unordered node has an unordered upstream: walk upstream until a node repeats.
    path: list[int] = []
    seen: dict[int, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(j for j in ups[node] if j not in acyclic)
    cycle = path[seen[node] :]
    cycle.reverse()  # walked upstream; report in dependency (>>) order
    return [*cycle, cycle[0]]


def _injection(
    t: Task, i: int, tasks: Sequence[Task], ups: list[tuple[int, ...]]
) -> tuple[tuple[str, int], ...]:
    ancestors = _ancestors(i, ups)
    by_name = {tasks[j].name: j for j in ancestors}
    pairs: list[tuple[str, int]] = []
    try:
        params = inspect.signature(t.func).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: nothing to inject
        return ()
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in by_name and p.kind is not p.POSITIONAL_ONLY:
            pairs.append((p.name, by_name[p.name]))
        elif p.default is p.empty:
            choices = ", ".join(sorted(by_name)) or "none: it is the first step"
            raise WorkflowDefinitionError(
                f"parameter {p.name!r} of task {t.name!r} names no earlier task of the flow "
                f"(earlier tasks: {choices}); rename it after the task whose result it takes, "
                "or give it a default"
            )
    return tuple(pairs)


def _ancestors(i: int, ups: list[tuple[int, ...]]) -> set[int]:
    seen: set[int] = set()
    stack = list(ups[i])
    while stack:
        j = stack.pop()
        if j not in seen:
            seen.add(j)
            stack.extend(ups[j])
    return seen


def render_text(kind: str, plan: Plan) -> str:
    """The text view: one line per task in topological order, with what it waits for."""
    lines = [f"{kind} {plan.name!r}: {len(plan.tasks)} task{'s' if len(plan.tasks) != 1 else ''}"]
    width = max((len(t.name) for t in plan.tasks), default=0)
    for i in plan.order:
        t = plan.tasks[i]
        flags = []
        if t.retries:
            flags.append(f"retries={t.retries}")
        if t.when is not None:
            flags.append("conditional")
        if t.is_async:
            flags.append("async")
        line = f"  {t.name:<{width}}"
        if plan.upstream[i]:
            line += "  <- " + ", ".join(plan.tasks[j].name for j in plan.upstream[i])
        if flags:
            line += "  [" + ", ".join(flags) + "]"
        lines.append(line.rstrip())
    return "\n".join(lines)


def render_mermaid(plan: Plan) -> str:
    """A Mermaid ``flowchart`` of the plan (node ids ``t0``, ``t1``..., labelled by name)."""
    lines = ["flowchart TD"]
    for i in plan.order:
        label = plan.tasks[i].name.replace('"', "#quot;")
        lines.append(f'    t{i}["{label}"]')
    for i in plan.order:
        for j in plan.upstream[i]:
            lines.append(f"    t{j} --> t{i}")
    return "\n".join(lines)
