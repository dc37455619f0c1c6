"""A plan: a workflow's tasks compiled into an indexed, validated, acyclic graph.

Both faces (``DAG`` with ``>>`` links, ``Flow`` with ``add``/``branch``/``merge``) compile to a
:class:`Plan`; the scheduler runs plans and never looks at how they were built.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ._task import MappedTask, Task
from .exceptions import DAGCycleError, TaskNotFoundError, WorkflowDefinitionError

__all__ = ["Plan", "compile_plan", "render_mermaid", "render_text"]


@dataclass(frozen=True, slots=True)
class Plan:
    """An acyclic graph of tasks, indexed by position.

    ``order`` is a topological order. ``upstream[i]`` lists the indices task ``i`` depends on, in
    link order (its positional arguments). ``inject[i]`` is ``None`` when upstream results are
    passed positionally (DAG), or the ``(parameter, task index)`` pairs to pass by keyword (Flow).

    For the scheduler, tasks with the same upstream tuple form one *join*: they become ready
    together and receive the same arguments. ``join_of[i]`` is task ``i``'s join,
    ``join_members[k]`` the tasks of join ``k`` (ascending), ``join_upstream[k]`` their shared
    upstream tuple, and ``waiting_joins[i]`` the joins waiting for task ``i``. Finishing a task
    then costs one step per join waiting for it, not one per task: in a layer of 50 tasks that
    each depend on all 50 tasks of the layer before, the layer is one join.

    ``mapped`` maps each :class:`~flowkit._task.MappedTask`'s index to the index of the task
    whose result it fans out over (an upstream task in a DAG, an earlier step in a Flow).
    """

    name: str
    tasks: tuple[Task, ...]
    upstream: tuple[tuple[int, ...], ...]
    inject: tuple[tuple[tuple[str, int], ...] | None, ...]
    order: tuple[int, ...]
    join_of: tuple[int, ...]
    join_members: tuple[tuple[int, ...], ...]
    join_upstream: tuple[tuple[int, ...], ...]
    waiting_joins: tuple[tuple[int, ...], ...]
    mapped: Mapping[int, int] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tasks]


def compile_plan(
    name: str,
    tasks: Sequence[Task],
    upstream: Sequence[Sequence[Task]] | None = None,
    inject_by_name: bool = False,
    keywords: Sequence[Sequence[tuple[str, int]]] | None = None,
) -> Plan:
    """Index ``tasks`` and check the graph: unique names, no missing dependency, no cycle.

    ``upstream`` gives each task's dependencies; by default the tasks' own ``>>`` links. A task
    left out of ``tasks`` that depends on one of them is simply not part of this plan.
    Upstream results are passed positionally, unless ``inject_by_name`` (a parameter named after
    an ancestor gets its result) or ``keywords`` (each task's ``(parameter, task index)`` pairs,
    as the caller checked them) pass them by keyword.

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
    # Group the tasks by their upstream tuple (hashed by task identity, in C), then resolve
    # each group's positions once: most of the links of a wide DAG are resolved in bulk.
    join_by_deps: dict[tuple[Task, ...], int] = {}
    new_join = join_by_deps.setdefault
    all_deps = (t.upstream for t in tasks) if upstream is None else upstream
    # len() is taken before setdefault inserts: an unseen upstream tuple gets the next number.
    join_of = [new_join(deps, len(join_by_deps)) for deps in map(tuple, all_deps)]
    join_members: tuple[tuple[int, ...], ...]
    if len(join_by_deps) == len(tasks):  # no two tasks share an upstream: join k is task k
        join_members = tuple((i,) for i in range(len(tasks)))
    else:
        members: list[list[int]] = [[] for _ in join_by_deps]
        for i, k in enumerate(join_of):
            members[k].append(i)
        join_members = tuple(map(tuple, members))
    join_upstream: list[tuple[int, ...]] = []
    for k, deps in enumerate(join_by_deps):
        try:
            join_upstream.append(_positions(index, deps))
        except KeyError:
            missing = next(dep for dep in deps if dep not in index)
            first = tasks[join_members[k][0]]  # the tasks of a join share their upstream
            raise TaskNotFoundError(
                missing.name,
                f"task {first.name!r} depends on {missing.name!r}, which is not in workflow "
                f"{name!r}; add {missing.name!r} to its tasks",
            ) from None
    waiting: list[list[int]] = [[] for _ in tasks]
    for k, row in enumerate(join_upstream):
        for j in row:
            waiting[j].append(k)
    waiting_joins = tuple(map(tuple, waiting))
    ups = [join_upstream[k] for k in join_of]
    order = _topological_order(tasks, ups, join_members, join_upstream, waiting_joins)
    inject: list[tuple[tuple[str, int], ...] | None] = [None] * len(tasks)
    if inject_by_name:
        inject = [_injection(t, i, tasks, ups) for i, t in enumerate(tasks)]
    if keywords is not None:
        inject = [tuple(pairs) for pairs in keywords]
    mapped = {
        i: _mapped_source(name, t, i, index, ups, inject_by_name)
        for i, t in enumerate(tasks)
        if isinstance(t, MappedTask)
    }
    return Plan(
        name=name,
        tasks=tuple(tasks),
        upstream=tuple(ups),
        inject=tuple(inject),
        order=tuple(order),
        join_of=tuple(join_of),
        join_members=join_members,
        join_upstream=tuple(join_upstream),
        waiting_joins=waiting_joins,
        mapped=mapped,
    )


def _mapped_source(
    name: str,
    t: MappedTask,
    i: int,
    index: Mapping[Task, int],
    ups: list[tuple[int, ...]],
    inject_by_name: bool,
) -> int:
    """The index of the task ``t`` maps over: one of its upstream tasks (DAG) or ancestors
    (Flow, where it must be an earlier step)."""
    j = index.get(t.items)
    if inject_by_name:
        if j is None or j not in _ancestors(i, ups):
            raise WorkflowDefinitionError(
                f"task {t.name!r} maps over {t.items.name!r}, which is not an earlier step of "
                f"flow {name!r}; add {t.items.name!r} to the flow before it"
            )
    elif j is None or j not in ups[i]:
        raise WorkflowDefinitionError(
            f"task {t.name!r} maps over {t.items.name!r}, which is not one of its upstream "
            f"tasks in workflow {name!r}; add {t.items.name!r} to its tasks"
        )
    return j


def _positions(index: Mapping[Task, int], deps: Sequence[Task]) -> tuple[int, ...]:
    """The positions of ``deps``: one C-level ``itemgetter`` call instead of one per link."""
    if len(deps) > 1:
        return operator.itemgetter(*deps)(index)  # type: ignore[no-any-return]
    return (index[deps[0]],) if deps else ()


def _topological_order(
    tasks: Sequence[Task],
    ups: list[tuple[int, ...]],
    join_members: tuple[tuple[int, ...], ...],
    join_upstream: list[tuple[int, ...]],
    waiting_joins: tuple[tuple[int, ...], ...],
) -> list[int]:
    # Fast path: when every task comes after all its upstream tasks (the usual case: tasks are
    # created, hence listed, before the tasks that use them), the list order is already a
    # topological order and there can be no cycle. One C-level max() per join checks it: a
    # join's members are ascending, so its first member is the one to compare.
    if all(not row or max(row) < join_members[k][0] for k, row in enumerate(join_upstream)):
        return list(range(len(tasks)))
    # Kahn's algorithm over joins, with the output as the queue. Links are unique (``>>`` and
    # Flow never link a pair twice), so the counts are exact.
    waiting = [len(row) for row in join_upstream]
    order = [i for k, w in enumerate(waiting) if w == 0 for i in join_members[k]]
    for i in order:  # grows while iterating
        for k in waiting_joins[i]:
            w = waiting[k] - 1
            waiting[k] = w
            if w == 0:
                order.extend(join_members[k])
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
        params = list(inspect.signature(t.func).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: nothing to inject
        return ()
    if isinstance(t, MappedTask):  # the first parameter takes the element, not a result
        params = list(params)[1:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in by_name and p.kind is not p.POSITIONAL_ONLY:
            pairs.append((p.name, by_name[p.name]))
        elif p.default is p.empty:
            choices = ", ".join(sorted(by_name)) or "none: it is the first step"
            raise TaskNotFoundError(
                p.name,
                f"parameter {p.name!r} of task {t.name!r} names no earlier task of the flow "
                f"(earlier tasks: {choices}); rename it after the task whose result it takes, "
                "or give it a default",
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
    """The text view, in the published flowkit's layout: a title, then a block per task in
    topological order with its upstream and downstream tasks (a line left out when empty) and
    its options in brackets (``retries=N``, ``conditional``, ``async``)."""
    title = f"{kind}: {plan.name}"
    lines = [title, "=" * 40]
    downstream: list[list[int]] = [[] for _ in plan.tasks]
    for i in plan.order:
        for j in plan.upstream[i]:
            downstream[j].append(i)
    for i in plan.order:
        t = plan.tasks[i]
        flags = []
        if t.retries:
            flags.append(f"retries={t.retries}")
        if t.when is not None:
            flags.append("conditional")
        if i in plan.mapped:
            flags.append(f"mapped over {plan.tasks[plan.mapped[i]].name}")
        if t.is_async:
            flags.append("async")
        lines.append("")
        lines.append(f"Task: {t.name}" + (f"  [{', '.join(flags)}]" if flags else ""))
        if plan.upstream[i]:
            lines.append("  Upstream: " + ", ".join(plan.tasks[j].name for j in plan.upstream[i]))
        if downstream[i]:
            lines.append("  Downstream: " + ", ".join(plan.tasks[j].name for j in downstream[i]))
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
