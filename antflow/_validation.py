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

import math

__all__ = [
    "check_bool",
    "check_callable",
    "check_int",
    "check_number",
    "check_seconds",
    "is_int",
    "is_number",
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
