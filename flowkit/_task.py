"""Task: a function plus how to run it (retries, condition), and the ``>>`` links between tasks."""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import logging
import warnings
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, Union, overload

from antflow._retry import RetryOn, RetryPolicy, check_retry_on
from antflow._validation import (
    async_generator_hint,
    check_int,
    check_seconds,
    is_async_generator_function,
    is_number,
)

from .exceptions import TaskRedefinedWarning

if TYPE_CHECKING:
    # Defaults (PEP 696): a bare ``Task`` in an annotation means ``Task[..., Any]``.
    from typing_extensions import ParamSpec, TypeVar

    P = ParamSpec("P", default=...)
    R = TypeVar("R", default=Any)
else:
    from typing import ParamSpec, TypeVar

    P = ParamSpec("P")
    R = TypeVar("R")

__all__ = ["MappedTask", "Task", "retry_logger", "returned_coroutine", "task"]

#: One INFO record per retry of a task (in a run or called directly), with what the task is,
#: the attempt that comes next out of how many, the error and the wait: a child of flowkit's
#: logger, so ``configure_logging()`` shows it.
retry_logger = logging.getLogger("flowkit.retry")

_Linkable = Union["Task", Sequence["Task"]]


class Task(Generic[P, R]):
    """A unit of work in a workflow: a function (sync or ``async def``) and how to run it.

    A ``Task`` is still callable like its function, with its parameters and return type (for
    type checkers too: ``Task[P, R]`` keeps the function's signature). Called directly,
    ``extract(...)`` applies the task's condition and retries: when ``when`` is given and
    ``when(*args, **kwargs)`` is false, the function is not called and the call returns
    ``None``; a failing call is retried as ``retries``, ``delay`` and ``backoff`` say (the
    waits block the calling thread). An ``async def`` task called directly returns a coroutine
    that does the same, waiting with the event loop's sleep.

    Every ``Task`` registers itself on creation (see :meth:`registry` and
    :meth:`clear_registry`); ``DAG()`` without ``tasks=`` runs the registered tasks. A task
    created with the module, qualified name and name of a registered one (a notebook cell run
    again) takes its place, links included, with a :class:`~flowkit.TaskRedefinedWarning`.

    Args:
        func: The function. Sync functions run on worker threads (or processes); ``async def``
            functions run on the event loop.
        retries: Extra calls after a failed one (``retries + 1`` calls at most: the same
            count as antflow's ``retries=``; a ``Stage``'s ``task_attempts`` counts every call).
        retry_on: The exceptions worth a retry: an :class:`Exception` subclass or a tuple of
            them (default: any :class:`Exception`). Any other error fails the task at once.
        delay: Seconds to wait before the first retry.
        backoff: Factor by which each later wait grows (at least 1). Waits get random jitter of
            up to ``delay / 2`` (stamina's exponential backoff, the one retry mechanism shared
            with antflow).
        when: Condition on the upstream results, called with them positionally in the order of
            the upstream links (with no argument for a task without upstream). When it returns a
            false value the task is skipped: its function is not called, its downstream tasks
            get ``None`` for it, and the run's results have no entry for it but list it in
            ``results.skipped``.

    Raises:
        TypeError / ValueError: at construction, for a non-callable ``func`` or ``when``, or an
            out-of-range ``retries``, ``delay`` or ``backoff``, or a ``retry_on`` that is not an
            exception class or a tuple of them; ``TypeError`` for an async generator function
            (its calls make generators, not results).
    """

    _registry: ClassVar[list[Task]] = []
    #: The registered tasks defined at module or class level, by (module, qualname, name).
    _defined: ClassVar[dict[tuple[str, str, str], Task]] = {}

    __slots__ = (
        "__dict__",
        "__weakref__",
        "backoff",
        "delay",
        "downstream",
        "func",
        "is_async",
        "name",
        "policy",
        "retries",
        "retry_on",
        "upstream",
        "when",
    )

    def __init__(
        self,
        func: Callable[P, R],
        *,
        retries: int = 0,
        delay: float = 1.0,
        backoff: float = 2.0,
        when: Callable[..., bool] | None = None,
        retry_on: RetryOn = Exception,
    ) -> None:
        if not callable(func):
            raise TypeError(f"Task needs a function, got {func!r}")
        if is_async_generator_function(func):
            raise TypeError(f"Task: {async_generator_hint(repr(getattr(func, '__name__', func)))}")
        _check_options(retries, delay, backoff, when, retry_on)
        self.func: Callable[P, R] = func
        self.name: str = getattr(func, "__name__", None) or type(func).__name__
        self.retries = retries
        self.delay = float(delay)
        self.backoff = float(backoff)
        self.when = when
        self.retry_on = retry_on
        self.policy = RetryPolicy(
            attempts=retries + 1, wait_initial=delay, wait_exp_base=backoff, retry_on=retry_on
        )
        self.is_async = _is_async_callable(func)
        #: Tasks this one depends on, in the order they were linked.
        self.upstream: list[Task] = []
        #: Tasks that depend on this one, in the order they were linked.
        self.downstream: list[Task] = []
        functools.update_wrapper(self, func)
        _register(self)

    # -- registry ----------------------------------------------------------------------------

    @classmethod
    def registry(cls) -> list[Task]:
        """Every task created since the last :meth:`clear_registry`, in creation order (a task
        defined again stands where the one it replaced stood)."""
        return list(cls._registry)

    @classmethod
    def clear_registry(cls) -> None:
        """Forget every registered task (links between existing tasks are left as they are)."""
        cls._registry.clear()
        cls._defined.clear()

    # -- calling -----------------------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function directly, with the task's condition and retries.

        Returns ``None`` without calling the function when ``when`` is given and
        ``when(*args, **kwargs)`` is false. For an ``async def`` task: a coroutine that does
        this when awaited.
        """
        if self.is_async:
            return self._call_async(args, kwargs)  # type: ignore[return-value]
        if self.when is not None and not self.when(*args, **kwargs):
            return None  # type: ignore[return-value]
        call = functools.partial(self.func, *args, **kwargs)
        return self.policy.call_sync(call, label=self._direct_label, logger=retry_logger)

    async def _call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.when is not None and not self.when(*args, **kwargs):
            return None
        func: Callable[..., Any] = self.func
        call = functools.partial(func, *args, **kwargs)
        return await self.policy.call(call, label=self._direct_label, logger=retry_logger)

    def _direct_label(self) -> str:
        return f"task {self.name!r} (called directly)"

    def __repr__(self) -> str:
        up = [t.name for t in self.upstream]
        down = [t.name for t in self.downstream]
        return f"Task(name={self.name!r}, upstream={up!r}, downstream={down!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled by reference (module + qualified name), like a function: a worker process
        # imports the module and finds the same task there.
        return (_load_task, (self.func.__module__, self.func.__qualname__))

    # -- links -------------------------------------------------------------------------------

    @overload
    def __rshift__(self, other: Task) -> Task: ...
    @overload
    def __rshift__(self, other: Sequence[Task]) -> list[Task]: ...
    def __rshift__(self, other: _Linkable) -> Task | list[Task]:
        """``a >> b``: ``b`` depends on ``a``; ``a >> [b, c]`` fans out. Returns the right side."""
        targets = _as_tasks(other, "the right side of >>")
        for target in targets:
            _link(self, target)
        return other if isinstance(other, Task) else targets

    def __rrshift__(self, other: Sequence[Task]) -> Task:
        """``[a, b] >> c`` makes ``c`` depend on ``a`` then ``b`` (fan-in). Returns ``c``."""
        for source in _as_tasks(other, "the left side of >>"):
            _link(source, self)
        return self

    # -- dynamic mapping ---------------------------------------------------------------------

    def map(
        self,
        items: Task,
        *,
        unmapped: Task | Sequence[Task] = (),
        name: str | None = None,
    ) -> MappedTask:
        """A node that runs this task once per element of ``items``' result, known at run time.

        ``process.map(items)`` depends on ``items``; when ``items`` has run, its result (any
        iterable but ``str``/``bytes``) is read once and ``process`` runs once per element, as
        its own task instance named ``process[0]``, ``process[1]``, ...: with its own retries,
        its own ``when`` check and its own state entry. The node's result, for downstream tasks
        and in the run's results, is the list of the elements' results in input order (``[]``
        for an empty input, ``None`` for a skipped element).

        Each element call receives the element first, then, in a DAG, the results of the node's
        other upstream tasks (``unmapped=`` and later ``>>`` links) unchanged; in a Flow, the
        element goes to the first parameter and the others are injected by name as usual.

        This task becomes a template: it leaves the registry (``DAG()`` without ``tasks=`` runs
        the node, not the task itself).

        Args:
            items: The task whose result to fan out over.
            unmapped: Tasks whose results every element call receives whole, after the element.
            name: The node's name; by default this task's. Give one to map a task twice.

        Raises:
            TypeError / ValueError: at once, for a bad argument (see :class:`MappedTask`).
        """
        return MappedTask(self, items, unmapped=unmapped, name=name)


class _TaskDecorator(Protocol):
    """What ``task(...)`` returns: turns a function into a :class:`Task` of its signature."""

    def __call__(self, func: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(func: Callable[P, R], /) -> Task[P, R]: ...
@overload
def task(
    *,
    retries: int = 0,
    delay: float = 1.0,
    backoff: float = 2.0,
    when: Callable[..., bool] | None = None,
    retry_on: RetryOn = Exception,
) -> _TaskDecorator: ...
def task(
    func: Callable[..., Any] | None = None,
    *,
    retries: int = 0,
    delay: float = 1.0,
    backoff: float = 2.0,
    when: Callable[..., bool] | None = None,
    retry_on: RetryOn = Exception,
) -> Any:
    """Turn a function into a :class:`Task`: ``@task()`` (as documented) or bare ``@task``.

    The task keeps the function's parameters and return type for type checkers
    (``Task[P, R]``). The arguments (those of :class:`Task`) are validated at once, so a bad
    ``retries``, ``delay``, ``backoff``, ``when`` or ``retry_on`` fails where the decorator is
    written, not when the workflow runs.
    """
    _check_options(retries, delay, backoff, when, retry_on)

    def decorate(fn: Callable[P, R], /) -> Task[P, R]:
        return Task(fn, retries=retries, delay=delay, backoff=backoff, when=when, retry_on=retry_on)

    return decorate if func is None else decorate(func)


def _register(new: Task) -> None:
    """Add ``new`` to the registry, in place of a task with its module, qualified name and
    name (the same definition run again, as when a notebook cell runs again), whose links it
    takes over.

    Only functions defined at module or class level count: a module-level name holds one
    object at a time, so a second task under it is a redefinition. Tasks made by a factory
    function (``<locals>`` in the qualified name) or from lambdas are all kept, and so are
    several tasks made of one function object (``Task(f)`` twice). A mapped task
    (:meth:`Task.map`) is keyed apart from its template, so a cell that defines a task and maps
    it replaces both.
    """
    key = _identity(new)
    old = None if key is None else Task._defined.get(key)
    if key is not None:
        Task._defined[key] = new
    registry = Task._registry
    if old is None or old.func is new.func or old not in registry:
        # ``old.func is new.func``: one function made into several tasks on purpose.
        registry.append(new)
        return
    warnings.warn(
        f"task {new.name!r} ({old.func.__module__}.{old.func.__qualname__}) is defined again; "
        "the new definition replaces the old one, keeping its links",
        TaskRedefinedWarning,
        stacklevel=4,
    )
    _take_place(old, new)
    registry[registry.index(old)] = new


def _identity(t: Task) -> tuple[str, str, str] | None:
    """Module, qualified name and name of a task defined at module or class level (the name
    prefixed ``map:`` for a mapped task)."""
    module = getattr(t.func, "__module__", None)
    qualname = getattr(t.func, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    return module, qualname, f"map:{t.name}" if isinstance(t, MappedTask) else t.name


def _take_place(old: Task, new: Task) -> None:
    """Put ``new`` wherever ``old`` is linked, at the same positions (they order arguments)."""
    for source in old.upstream:
        _replace(source.downstream, old, new)
        if source not in new.upstream:
            new.upstream.append(source)
    for target in old.downstream:
        _replace(target.upstream, old, new)
        if target not in new.downstream:
            new.downstream.append(target)


def _replace(links: list[Task], old: Task, new: Task) -> None:
    i = links.index(old)
    if new in links:
        del links[i]
    else:
        links[i] = new


def _check_options(
    retries: int,
    delay: float,
    backoff: float,
    when: Callable[..., bool] | None,
    retry_on: object = Exception,
) -> None:
    check_int(retries, "retries", minimum=0, hint="extra calls after a failed one")
    if retry_on is not Exception:
        check_retry_on(retry_on)
    check_seconds(delay, "delay", hint="the wait before the first retry")
    if not is_number(backoff) or backoff < 1:
        raise ValueError(
            f"backoff must be a finite number >= 1 (the factor each retry wait grows by; "
            f"1 keeps the waits constant), got {backoff!r}"
        )
    if when is not None and not callable(when):
        raise TypeError(f"when must be a callable returning a bool, or None; got {when!r}")


def _link(source: Task, target: Task) -> None:
    if target not in source.downstream:
        source.downstream.append(target)
    if source not in target.upstream:
        target.upstream.append(source)


def _as_tasks(value: object, where: str) -> list[Task]:
    if isinstance(value, Task):
        return [value]
    if isinstance(value, (list, tuple)):
        tasks = list(value)
        for item in tasks:
            if not isinstance(item, Task):
                raise TypeError(
                    f"{where} must hold tasks (functions decorated with @task()), got {item!r}"
                )
        return tasks
    raise TypeError(f"{where} must be a task or a list of tasks, got {value!r}")


def _is_async_callable(func: object) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    )


def returned_coroutine(t: Task, coroutine: Coroutine[Any, Any, Any]) -> TypeError:
    """The error of a sync task that returned a coroutine; the coroutine is closed unrun.

    flowkit refuses such a result rather than await it, on threads and in processes alike (a
    coroutine cannot come back from a worker process): the task should be ``async def``.
    """
    coroutine.close()
    return TypeError(
        f"task {t.name!r} is a plain function but returned a coroutine, which flowkit does not "
        "await; define the task with `async def` to run it on the event loop"
    )


def _load_task(module: str, qualname: str) -> Task:
    """Find a task by module and qualified name (how tasks travel to worker processes)."""
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, Task):
        raise TypeError(f"{module}.{qualname} is {obj!r}, not a Task")
    return obj


class MappedTask(Task):
    """A task run once per element of another task's result: made by :meth:`Task.map`.

    A plain node of the graph (it links with ``>>`` and is listed in ``DAG(tasks=...)`` and
    ``Flow.add`` like any task); the scheduler expands it into one task instance per element
    when its ``items`` task has run. ``retries``, ``delay``, ``backoff`` and ``when`` are the
    template task's, applied per element.

    Attributes:
        template: The task run per element.
        items: The task whose result is fanned out over.
    """

    def __init__(
        self,
        template: Task,
        items: Task,
        *,
        unmapped: Task | Sequence[Task] = (),
        name: str | None = None,
    ) -> None:
        if isinstance(template, MappedTask):
            raise TypeError(
                f"{template.name!r} is already mapped; map its template instead, or collect "
                "its list in a task and map over that"
            )
        if not isinstance(items, Task):
            raise TypeError(
                f"{template.name}.map() takes the task whose result to map over (a function "
                f"decorated with @task()), got {items!r}"
            )
        extra = _as_tasks(unmapped, f"unmapped= of {template.name}.map()")
        if items in extra:
            raise ValueError(
                f"{items.name!r} is both the mapped input and unmapped= of "
                f"{template.name}.map(); pass it once"
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty str or None, got {name!r}")
        super().__init__(
            template.func,
            retries=template.retries,
            delay=template.delay,
            backoff=template.backoff,
            when=template.when,
            retry_on=template.retry_on,
        )
        self.name = name if name is not None else template.name
        self.template: Task = template
        self.items: Task = items
        with contextlib.suppress(ValueError):  # already out of the registry
            Task._registry.remove(template)
        for source in (items, *extra):
            _link(source, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the template directly once per element of ``args[0]`` (each call with the
        template's condition and retries, as a direct call of a task): a list."""
        if not args:
            raise TypeError(f"mapped task {self.name!r} called directly needs the items to map")
        items, *rest = args
        return [self.template(item, *rest, **kwargs) for item in items]

    def __repr__(self) -> str:
        return f"<MappedTask {self.name} over {self.items.name}>"
