"""Dynamic mapping at run time: a mapped task's elements, their names, and their state entries.

A :class:`~flowkit._task.MappedTask` is one node of the plan. When it becomes ready, the
scheduler reads its ``items`` task's result with :func:`elements_of` and keeps a :class:`Fanout`
for it: one task instance per element, counted down as each element finishes. The node finishes
with the list of the elements' results once the last one has, or is dropped once the last one is
accounted for when an element failed (the run is failing) or the run is stopping.
"""

from __future__ import annotations

from typing import Any

from ._state import StateManager
from ._task import Task

__all__ = ["Fanout", "elements_of", "recorded_result"]


class Fanout:
    """One mapped node's elements during a run.

    Invariant: ``values``, ``outstanding`` and ``incomplete`` change only under the run's lock;
    the node is finished (or dropped) by whichever element brings ``outstanding`` to zero.
    """

    __slots__ = ("incomplete", "index", "items", "kwargs", "outstanding", "rest", "task", "values")

    def __init__(
        self,
        index: int,
        t: Task,
        items: list[Any],
        rest: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.index = index
        self.task = t
        self.items = items
        #: What every element call gets after the element (a DAG's other upstream results).
        self.rest = rest
        #: What every element call gets by keyword (a Flow's injected results).
        self.kwargs = kwargs
        self.values: list[Any] = [None] * len(items)
        self.outstanding = len(items)
        #: An element failed or was dropped: the node has no result.
        self.incomplete = False

    def name(self, k: int) -> str:
        """Element ``k``'s name: ``process[3]``."""
        return f"{self.task.name}[{k}]"

    def arguments(self, k: int) -> tuple[Any, ...]:
        """Element ``k``'s positional arguments: the element, then the unmapped results."""
        return (self.items[k], *self.rest)


def elements_of(t: Task, source: str, value: Any) -> list[Any]:
    """The elements of ``value``, the result of task ``source`` that ``t`` maps over.

    Raises:
        TypeError: ``value`` is not iterable, or is a ``str`` or ``bytes`` (whose elements,
            characters or ints, are almost never what was meant).
    """
    if isinstance(value, (str, bytes, bytearray)):
        raise TypeError(
            f"task {t.name!r} maps over the result of {source!r}, which is a "
            f"{type(value).__name__}, not a list; return a list from {source!r} "
            "(e.g. [value], or list(value) to map over its characters)"
        )
    try:
        iterator = iter(value)
    except TypeError:
        raise TypeError(
            f"task {t.name!r} maps over the result of {source!r}, but that result is not "
            f"iterable ({type(value).__name__}: {value!r:.80}); return a list or other "
            f"iterable from {source!r}"
        ) from None
    return list(iterator)


def recorded_result(state: StateManager, key: str, item: Any) -> tuple[bool, Any]:
    """``(True, result)`` when ``state`` holds a result for ``item`` under ``key`` (stored as
    ``(item, result)``) and the recorded item equals ``item``; else ``(False, None)``."""
    entry = state.get(key)
    if type(entry) is tuple and len(entry) == 2:
        try:
            same = bool(entry[0] == item)
        except Exception:  # an __eq__ that raises or returns an ambiguous value: not the same
            same = False
        if same:
            return True, entry[1]
    return False, None
