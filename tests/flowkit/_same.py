"""``same(a, b)``: equality with the same type at every level, for values read back from state."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any


def same(a: Any, b: Any) -> bool:
    """``a == b`` with the same type at every level (set elements and dict keys included)."""
    if type(a) is not type(b) or a != b:
        return False
    if isinstance(a, (list, tuple)):
        return all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return all(same(k, _twin(k, b)) and same(v, b[k]) for k, v in a.items())
    if isinstance(a, (set, frozenset)):
        return all(same(x, _twin(x, b)) for x in a)
    if isinstance(a, (dt.datetime, dt.time)):
        return a.tzinfo == b.tzinfo and str(a) == str(b)
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    return True


def _twin(x: Any, collection: Any) -> Any:
    return next(y for y in collection if y == x)
