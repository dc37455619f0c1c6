"""The argument checks that antflow and flowkit share, in one place.

Each check raises early, with a message that names the field, says what it must be, shows what it
got and, when given, how to fix it: ``"Stage 'Fetch': workers must be an int >= 1, got 0 (the
number of items processed at once)"``. The caller picks the exception class (``ValueError`` by
default; a ``Stage`` raises ``StageValidationError``), and whether a value of the wrong *type*
raises a different class (``TypeError``) than a value out of range.

``bool`` is never accepted where a number is asked for: ``True`` is an ``int`` to Python, but
``workers=True`` is a mistake, not one worker.
"""

from __future__ import annotations

import functools
import inspect
import math
import types
from collections.abc import Callable
from typing import Any

__all__ = [
    "CallShape",
    "async_generator_hint",
    "call_shape",
    "check_bool",
    "check_callable",
    "check_int",
    "check_number",
    "check_seconds",
    "is_async_generator_function",
    "is_int",
    "is_number",
    "unwrap_partial",
]


def is_int(value: object) -> bool:
    """True for an ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """True for a finite ``int`` or ``float`` that is not a ``bool``."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fail(
    error: type[Exception], where: str, field: str, must: str, value: object, hint: str
) -> Exception:
    prefix = f"{where}: " if where else ""
    suffix = f" ({hint})" if hint else ""
    return error(f"{prefix}{field} must be {must}, got {value!r}{suffix}")


def check_int(
    value: object,
    field: str,
    *,
    minimum: int = 1,
    where: str = "",
    hint: str = "",
    error: type[Exception] = ValueError,
    type_error: type[Exception] | None = None,
) -> int:
    """``value`` if it is an int >= ``minimum``; else raise ``error`` naming ``field``.

    ``type_error``, when given, is raised instead of ``error`` for a value that is not an int.
    """
    if not is_int(value):
        raise _fail(type_error or error, where, field, f"an int >= {minimum}", value, hint)
    assert isinstance(value, int)
    if value < minimum:
        raise _fail(error, where, field, f"an int >= {minimum}", value, hint)
    return value


def check_number(
    value: object,
    field: str,
    *,
    positive: bool = False,
    unit: str = "",
    where: str = "",
    hint: str = "",
    error: type[Exception] = ValueError,
    type_error: type[Exception] | None = None,
) -> float:
    """``value`` if it is a finite number >= 0 (> 0 with ``positive``); else raise.

    ``unit`` names what is counted in the message ("seconds": "a finite number of seconds > 0").
    """
    of_unit = f" of {unit}" if unit else ""
    must = f"a finite number{of_unit} {'> 0' if positive else '>= 0'}"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _fail(type_error or error, where, field, must, value, hint)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise _fail(error, where, field, must, value, hint)
    return float(value)


def check_seconds(
    value: object,
    field: str,
    *,
    positive: bool = False,
    where: str = "",
    hint: str = "",
    error: type[Exception] = ValueError,
    type_error: type[Exception] | None = None,
) -> float:
    """``value`` if it is a finite number of seconds >= 0 (> 0 with ``positive``); else raise."""
    return check_number(
        value,
        field,
        positive=positive,
        unit="seconds",
        where=where,
        hint=hint,
        error=error,
        type_error=type_error,
    )


def check_bool(
    value: object, field: str, *, where: str = "", error: type[Exception] = TypeError
) -> bool:
    """``value`` if it is ``True`` or ``False``; else raise ``error`` naming ``field``."""
    if not isinstance(value, bool):
        raise _fail(error, where, field, "True or False", value, "")
    return value


def check_callable(
    value: object,
    field: str,
    *,
    where: str = "",
    optional: bool = True,
    error: type[Exception] = TypeError,
) -> None:
    """Raise ``error`` unless ``value`` is callable (or ``None``, when ``optional``)."""
    if value is None and optional:
        return
    if not callable(value):
        must = "a function or None" if optional else "a function"
        raise _fail(error, where, field, must, value, "")


class CallShape:
    """What a function's signature accepts, read once: checks a call's arguments before it runs.

    A call of positional arguments alone is checked against counts (a few comparisons); one
    with keyword arguments goes through :meth:`inspect.Signature.bind`.
    """

    __slots__ = ("max_positional", "min_positional", "required_keywords", "signature")

    def __init__(self, signature: inspect.Signature) -> None:
        self.signature = signature
        kinds = inspect.Parameter
        positional = [
            p
            for p in signature.parameters.values()
            if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
        ]
        self.min_positional = sum(p.default is kinds.empty for p in positional)
        self.max_positional: float = (
            math.inf
            if any(p.kind is kinds.VAR_POSITIONAL for p in signature.parameters.values())
            else len(positional)
        )
        self.required_keywords = any(
            p.kind is kinds.KEYWORD_ONLY and p.default is kinds.empty
            for p in signature.parameters.values()
        )

    def refuses(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        """Why ``fn(*args, **kwargs)`` cannot bind (Python's own words), or ``None`` if it can."""
        if (
            not kwargs
            and not self.required_keywords
            and self.min_positional <= len(args) <= self.max_positional
        ):
            return None
        try:
            self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            return str(exc)
        return None


#: Shapes of plain functions, by code object (and whether bound): a program has few of them.
_SHAPES: dict[tuple[object, bool], CallShape | None] = {}


def call_shape(fn: Callable[..., Any]) -> CallShape | None:
    """The shape of ``fn``'s signature, or ``None`` when it cannot be read (some builtins and
    C callables): such a function is not checked.

    The signature of ``fn`` itself is read, not that of a function it wraps (a decorator may
    change what a call takes): a decorated function that takes ``*args, **kwargs`` accepts all.
    """
    func: Any = fn
    bound = type(fn) is types.MethodType
    if bound:
        func = fn.__func__  # type: ignore[attr-defined]
    if type(func) is types.FunctionType and "__signature__" not in func.__dict__:
        key = (func.__code__, bound)
        try:
            return _SHAPES[key]
        except KeyError:
            shape = _SHAPES[key] = _read_shape(fn)
            return shape
    return _read_shape(fn)


def _read_shape(fn: Callable[..., Any]) -> CallShape | None:
    try:
        return CallShape(inspect.signature(fn, follow_wrapped=False))
    except (TypeError, ValueError):
        return None


def unwrap_partial(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function a (nested) ``functools.partial`` calls, or ``fn`` itself."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def is_async_generator_function(fn: Callable[..., Any]) -> bool:
    """True for an ``async def`` with ``yield`` (or a partial of one, or an object whose
    ``__call__`` is one): calling it makes an async generator, not a result."""
    fn = unwrap_partial(fn)
    return inspect.isasyncgenfunction(fn) or inspect.isasyncgenfunction(
        getattr(fn, "__call__", None)  # noqa: B004 - the __call__ itself is what we look at
    )


def async_generator_hint(name: str) -> str:
    """The fix for an async generator given where a function returning a result is needed."""
    return (
        f"{name} is an async generator function (an `async def` with `yield`): calling it "
        "makes a generator, not a result; return the values instead (collect them in a list), "
        "or iterate the generator inside an `async def` task"
    )
