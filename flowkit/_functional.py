"""The Functional API: ``Layer(task)(*nodes)`` builds a graph of nodes, and ``FunctionalFlow``
runs the part of it that leads from its inputs to its outputs.

The graph is checked as it is built (each node's arguments when the node is made, the flow's
ends and cycles when the flow is made) and compiles to the same :class:`~flowkit._plan.Plan` as
``DAG`` and ``Flow``, so it runs on the same scheduler, with the same ``run()`` arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from ._plan import Plan, compile_plan
from ._scheduler import RunResult
from ._task import MappedTask, Task
from ._workflow import Workflow
from .exceptions import WorkflowDefinitionError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ._state import StateManager

__all__ = ["AppliedTask", "FunctionalFlow", "Layer"]

_SUMMARY_COLUMNS = ("Level", "Node", "Inputs", "Feeds", "Retries", "When")

#: What may stand for a node: the node itself, or a Layer (see :class:`Layer`).
NodeLike = Union["AppliedTask", "Layer"]


class Layer:
    """A task made callable as a graph-building step: ``Layer(task)(*inputs)`` makes a node.

    Calling a layer never runs its task: it returns an :class:`AppliedTask`, a node of the graph
    whose inputs are the nodes (or layers) given. A layer called with no input makes an *input
    node*, where a :class:`FunctionalFlow` can start.

    Args:
        task: The task to apply (a function decorated with ``@task()``).

    Raises:
        TypeError: ``task`` is not a :class:`~flowkit.Task`.
    """

    __slots__ = ("_nodes", "_task")

    def __init__(self, task: Task) -> None:
        if not isinstance(task, Task):
            raise TypeError(
                f"Layer takes a task, got {task!r}; decorate the function with @task() "
                "and pass the task: Layer(my_task)"
            )
        self._task = task
        self._nodes: list[AppliedTask] = []

    @property
    def task(self) -> Task:
        """The task this layer applies."""
        return self._task

    @property
    def name(self) -> str:
        """The task's name."""
        return self.task.name

    @property
    def nodes(self) -> tuple[AppliedTask, ...]:
        """The nodes this layer has made, in the order it was called."""
        return tuple(self._nodes)

    def __call__(self, *inputs: NodeLike) -> AppliedTask:
        """Make a node applying the task to ``inputs`` (checked now: see :class:`AppliedTask`)."""
        node = AppliedTask(self.task, inputs)
        self._nodes.append(node)
        return node

    def __repr__(self) -> str:
        return f"Layer({self.task!r})"


class AppliedTask:
    """A node of a functional graph: a task applied to the results of its input nodes.

    Usually made by calling a :class:`Layer`. The task's function gets each input's result as the
    keyword argument named after that input's task (``build_profile(fetch_user, fetch_orders)``
    takes the nodes of ``fetch_user`` and ``fetch_orders``, in any order); a ``**kwargs``
    parameter takes the inputs no other parameter names. A ``when=`` condition gets the inputs'
    results positionally, in the order the inputs were given. A :class:`Layer` among ``inputs``
    stands for the one node it made (a layer never called is called with no input first).

    Nodes are immutable: the graph can only grow downstream, so nodes alone cannot form a cycle.

    Args:
        task: The task to apply.
        inputs: The nodes whose results it takes.

    Raises:
        TypeError: ``task`` is not a task, or an input is not a node or a layer.
        WorkflowDefinitionError: the arguments do not fit the function, checked here, before
            anything runs: a required parameter named after none of the inputs, an input that
            no parameter takes, two inputs of one name, or a positional-only parameter named
            after an input.
    """

    __slots__ = ("_inputs", "_keywords", "_task", "outputs")

    def __init__(self, task: Task, inputs: Sequence[NodeLike] = ()) -> None:
        if not isinstance(task, Task):
            raise TypeError(
                f"AppliedTask takes a task, got {task!r}; decorate the function with @task()"
            )
        where = f"the inputs of {task.name!r}"
        self._task = task
        self._inputs = tuple(_as_node(value, where) for value in inputs)
        #: ``(parameter, input position)`` for each keyword argument the task is called with.
        self._keywords = _bind(task, self._inputs)
        self.outputs: Any = None
        """This node's result in the last successful run of a flow holding it (``None`` before,
        and for a skipped task)."""

    @property
    def task(self) -> Task:
        """The task this node applies."""
        return self._task

    @property
    def inputs(self) -> tuple[AppliedTask, ...]:
        """The nodes whose results this node takes, in the order given."""
        return self._inputs

    @property
    def name(self) -> str:
        """The task's name: the name of this node's result (for downstream parameters, the
        state and the views)."""
        return self.task.name

    def __repr__(self) -> str:
        return f"<AppliedTask {self.name}({', '.join(n.name for n in self.inputs)})>"


def _as_node(value: object, where: str) -> AppliedTask:
    """``value`` as a node: a node, or the one node of a layer."""
    if isinstance(value, AppliedTask):
        return value
    if isinstance(value, Layer):
        made = value._nodes
        if not made:
            return value()
        if len(made) == 1:
            return made[0]
        raise WorkflowDefinitionError(
            f"{where}: Layer({value.name}) has made {len(made)} nodes, so it stands for none "
            "in particular; pass the node that the call you mean returned"
        )
    hint = f"; make a node of it first: Layer({value.name})()" if isinstance(value, Task) else ""
    raise TypeError(f"{where} must be nodes (what calling a Layer returns), got {value!r}{hint}")


def _bind(t: Task, inputs: tuple[AppliedTask, ...]) -> tuple[tuple[str, int], ...]:
    """How ``t``'s function takes ``inputs``: ``(parameter, input position)`` pairs."""
    position: dict[str, int] = {}
    for k, node in enumerate(inputs):
        if node.name in position:
            same = inputs[position[node.name]] is node
            raise WorkflowDefinitionError(
                f"the inputs of {t.name!r} name {node.name!r} twice"
                + (
                    "; pass each node once"
                    if same
                    else "; results are passed by name, so rename one of the two tasks"
                )
            )
        position[node.name] = k
    source = _mapped_source(t, inputs, position)
    try:
        parameters = list(inspect.signature(t.func).parameters.values())
    except (TypeError, ValueError):  # no signature to check (some builtins): pass every input
        return tuple(position.items())
    if source is not None:  # the first parameter takes the element, not a result
        parameters = parameters[1:]
    pairs: list[tuple[str, int]] = []
    rest_by_keyword = False
    for p in parameters:
        if p.kind is p.VAR_KEYWORD:
            rest_by_keyword = True
        elif p.kind is p.VAR_POSITIONAL:
            continue
        elif p.name in position:
            if p.kind is p.POSITIONAL_ONLY:
                raise WorkflowDefinitionError(
                    f"parameter {p.name!r} of task {t.name!r} is positional-only, but inputs "
                    "are passed by name; remove the '/' from its signature"
                )
            pairs.append((p.name, position.pop(p.name)))
        elif p.default is p.empty:
            given = ", ".join(n.name for n in inputs) or "none"
            raise WorkflowDefinitionError(
                f"parameter {p.name!r} of task {t.name!r} names none of its inputs (given: "
                f"{given}); pass the node of task {p.name!r}: Layer({t.name})(..., "
                f"{p.name}_node), rename the parameter after the input whose result it takes, "
                "or give it a default"
            )
    if position and not rest_by_keyword:
        name = next(iter(position))
        raise WorkflowDefinitionError(
            f"input {name!r} of task {t.name!r} is taken by no parameter (inputs are passed by "
            f"name); add a parameter {name!r} (or **kwargs) to {t.name}(), or leave the input out"
        )
    pairs.extend(position.items())  # **kwargs takes the rest
    return tuple(pairs)


def _mapped_source(
    t: Task, inputs: tuple[AppliedTask, ...], position: dict[str, int]
) -> int | None:
    """For a mapped task, the input it maps over (taken out of ``position``: each element goes
    to the function's first parameter, not a result by name); ``None`` for a plain task."""
    if not isinstance(t, MappedTask):
        return None
    for k, node in enumerate(inputs):
        if node.task is t.items:
            del position[node.name]
            return k
    raise WorkflowDefinitionError(
        f"task {t.name!r} maps over {t.items.name!r}, which is not one of its inputs; pass "
        f"the node of {t.items.name!r}: Layer({t.name})({t.items.name}_node, ...)"
    )


class FunctionalFlow(Workflow):
    """The graph between ``inputs`` and ``outputs``, run like a :class:`~flowkit.DAG`.

    The flow holds the nodes its outputs depend on (found by walking from the outputs to the
    inputs); each runs as soon as its inputs are done, on threads, processes or the event loop,
    with its task's retries and ``when=`` condition. Everything is checked here, before
    anything runs.

    Args:
        inputs: The node, or a tuple of the nodes, the graph starts from: nodes made by a layer
            called with no input. Every such node the outputs depend on must be listed.
        outputs: The node, or a tuple of the nodes, whose results :meth:`run` returns: a single
            node gives a single value, a tuple (or list) a tuple in the same order.
        name: The flow's name (in logs, the views, and state keys).
        max_workers: As for :class:`~flowkit.DAG`.

    Raises:
        TypeError: an input or output is not a node or a layer.
        ValueError: an empty ``name`` or a bad ``max_workers``.
        WorkflowDefinitionError: ``inputs`` or ``outputs`` is empty or lists a node twice; an
            input has inputs of its own; the outputs depend on a node without inputs that is
            not in ``inputs`` (a node of another graph); an input feeds no output; a task is
            applied in two nodes (results are keyed by task name); two tasks share a name.
        DAGCycleError: a task applied in two nodes closes a cycle (names the tasks on it).
    """

    _kind = "FunctionalFlow"

    def __init__(
        self,
        inputs: NodeLike | Sequence[NodeLike],
        outputs: NodeLike | Sequence[NodeLike],
        name: str = "functional_flow",
        max_workers: int | None = None,
    ) -> None:
        super().__init__(name, max_workers)
        self._single_output = not isinstance(outputs, (tuple, list))
        self._inputs = _ends(inputs, "inputs")
        self._outputs = _ends(outputs, "outputs")
        self._nodes = _reachable(self._outputs)
        _check_inputs(self)
        self._plan = _compile(name, self._nodes)

    @property
    def inputs(self) -> tuple[AppliedTask, ...]:
        """The nodes the graph starts from."""
        return self._inputs

    @property
    def outputs(self) -> tuple[AppliedTask, ...]:
        """The nodes whose results :meth:`run` returns, in their order."""
        return self._outputs

    @property
    def nodes(self) -> tuple[AppliedTask, ...]:
        """Every node of the flow, each after its inputs."""
        return self._nodes

    @property
    def tasks(self) -> list[Task]:
        """The tasks of the flow's nodes, each after its inputs'."""
        return list(self._plan.tasks)

    def plan(self) -> Plan:
        """The flow compiled into the graph the scheduler runs (checked at construction)."""
        return self._plan

    def run(
        self,
        executor: str = "thread",
        *,
        state: StateManager | None = None,
        backend: str | None = None,
        backend_options: dict[str, Any] | None = None,
        progress: bool = False,
        console: Console | None = None,
    ) -> Any:
        """Run the flow in a new event loop and return its outputs' results.

        The arguments, the failure and cancellation guarantees and the exceptions are those of
        :meth:`DAG.run <flowkit.DAG.run>`; state keys are ``"flowkit:<flow name>:<task name>"``.

        Returns:
            The output's result if ``outputs`` was one node, else a tuple of the outputs'
                results in their order (``None`` for a skipped task). Each node's
                :attr:`AppliedTask.outputs` holds its own result afterwards.
        """
        results = super().run(
            executor,
            state=state,
            backend=backend,
            backend_options=backend_options,
            progress=progress,
            console=console,
        )
        return self._outputs_of(results)

    async def run_async(
        self,
        executor: str = "thread",
        *,
        state: StateManager | None = None,
        progress: bool = False,
        console: Console | None = None,
    ) -> Any:
        """Like :meth:`run`, inside the running event loop (asyncio or trio); cancelling it
        behaves as :meth:`DAG.run_async <flowkit.DAG.run_async>` says."""
        results = await super().run_async(executor, state=state, progress=progress, console=console)
        return self._outputs_of(results)

    def summary(self, console: Console | None = None) -> None:
        """Print a table of the nodes, level by level.

        Each row gives a node's level (nodes of one level never wait for each other, so they
        can run in parallel), the node (named by its task, marked ``input``, ``output``,
        ``async``), its inputs, the nodes it feeds, and its task's retries and ``when=``
        condition.

        Args:
            console: The rich Console to print on (default: rich's console on stdout); give one
                made with ``record=True`` (or ``file=io.StringIO()``) to get the text.
        """
        from rich.console import Console

        (console or Console()).print(self._summary_table())

    def _summary_table(self) -> Table:
        from rich.table import Table
        from rich.text import Text

        plan = self._plan
        level = [0] * len(plan.tasks)
        feeds: list[list[str]] = [[] for _ in plan.tasks]
        for i in plan.order:
            for j in plan.upstream[i]:
                level[i] = max(level[i], level[j] + 1)
                feeds[j].append(plan.tasks[i].name)
        starts, ends = set(self.inputs), set(self.outputs)
        table = Table(
            title=f"FunctionalFlow {self.name!r}: {len(self.nodes)} nodes",
            caption="Nodes of one level never wait for each other: they can run in parallel.",
        )
        for header in _SUMMARY_COLUMNS:
            numeric = header in ("Retries", "Level")
            # Fold long names rather than cut them: a summary must show every name whole.
            table.add_column(header, justify="right" if numeric else "left", overflow="fold")
        for i in sorted(plan.order, key=level.__getitem__):  # stable: each after its inputs
            node, t = self.nodes[i], plan.tasks[i]
            marks = (("input", node in starts), ("output", node in ends), ("async", t.is_async))
            tags = [tag for tag, on in marks if on]
            table.add_row(
                str(level[i]),
                Text(node.name).append("\n" + ", ".join(tags) if tags else "", style="dim"),
                "\n".join(n.name for n in node.inputs) or "-",
                "\n".join(feeds[i]) or "-",
                str(t.retries),
                "-" if t.when is None else getattr(t.when, "__name__", "yes"),
            )
        return table

    def _outputs_of(self, results: RunResult) -> Any:
        # A skipped node has no entry in the results: its output is None.
        for node in self.nodes:
            node.outputs = results.get(node.name)
        values = tuple(results.get(node.name) for node in self.outputs)
        return values[0] if self._single_output else values

    def __repr__(self) -> str:
        ins = ", ".join(n.name for n in self.inputs)
        outs = ", ".join(n.name for n in self.outputs)
        return f"FunctionalFlow({self.name!r}, inputs=({ins}), outputs=({outs}))"


def _ends(value: NodeLike | Sequence[NodeLike], field: str) -> tuple[AppliedTask, ...]:
    """``inputs=`` or ``outputs=`` as a tuple of distinct nodes."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    nodes = tuple(_as_node(v, field) for v in values)
    if not nodes:
        raise WorkflowDefinitionError(
            f"{field} is empty; pass a node or a tuple of nodes (what calling a Layer returns)"
        )
    for k, node in enumerate(nodes):
        if node in nodes[:k]:
            raise WorkflowDefinitionError(f"{field} lists {node.name!r} twice; list it once")
    return nodes


def _reachable(outputs: tuple[AppliedTask, ...]) -> tuple[AppliedTask, ...]:
    """Every node the outputs depend on (themselves included), each after its inputs."""
    order: list[AppliedTask] = []
    seen: set[AppliedTask] = set()  # nodes hash by identity
    for output in outputs:
        if output in seen:
            continue
        seen.add(output)
        stack = [(output, iter(output.inputs))]
        while stack:  # depth first, a node once all its inputs are placed
            node, pending = stack[-1]
            upstream = next(pending, None)
            if upstream is None:
                stack.pop()
                order.append(node)
            elif upstream not in seen:
                seen.add(upstream)
                stack.append((upstream, iter(upstream.inputs)))
    return tuple(order)


def _check_inputs(flow: FunctionalFlow) -> None:
    """The graph starts at the inputs: each is a start, each is used, and no other start."""
    listed = set(flow.inputs)
    for node in flow.inputs:
        if node.inputs:
            raise WorkflowDefinitionError(
                f"input {node.name!r} of flow {flow.name!r} has inputs of its own "
                f"({', '.join(n.name for n in node.inputs)}); inputs are nodes made by a layer "
                f"called with no input, such as Layer({node.name})()"
            )
    for node in flow.nodes:
        if not node.inputs and node not in listed:
            raise WorkflowDefinitionError(
                f"the outputs of flow {flow.name!r} depend on {node.name!r}, a node without "
                "inputs that is not in inputs (a node of another graph?); add it to inputs, or "
                "build the graph from this flow's inputs"
            )
    held = set(flow.nodes)
    for node in flow.inputs:
        if node not in held:
            outs = ", ".join(n.name for n in flow.outputs)
            raise WorkflowDefinitionError(
                f"input {node.name!r} of flow {flow.name!r} feeds none of its outputs ({outs}); "
                "leave it out of inputs, or list the node that uses it in outputs"
            )


def _compile(name: str, nodes: tuple[AppliedTask, ...]) -> Plan:
    """The plan of ``nodes``: one task per node, its inputs as its upstream, passed by name."""
    by_task: dict[Task, list[AppliedTask]] = {}
    for node in nodes:
        by_task.setdefault(node.task, []).append(node)
    if len(by_task) < len(nodes):
        # Results are keyed by task, so a task applied twice is one vertex of the run's graph:
        # seen that way the graph may have a cycle, which is the clearer error to give.
        tasks = list(by_task)
        upstream = [
            list(dict.fromkeys(i.task for n in by_task[t] for i in n.inputs)) for t in tasks
        ]
        compile_plan(name, tasks, upstream)  # raises DAGCycleError
        t, applied = next((t, ns) for t, ns in by_task.items() if len(ns) > 1)
        raise WorkflowDefinitionError(
            f"task {t.name!r} is applied in {len(applied)} nodes of flow {name!r}, but results "
            "are keyed by task name; apply each task once, and reuse its node"
        )
    index = {node: i for i, node in enumerate(nodes)}
    return compile_plan(
        name,
        [node.task for node in nodes],
        [[i.task for i in node.inputs] for node in nodes],
        keywords=[[(p, index[node.inputs[k]]) for p, k in node._keywords] for node in nodes],
    )
