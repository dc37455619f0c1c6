"""The values a file-backed StateManager keeps, and their JSON form.

A value read back is equal to the one stored and of the same type, all the way down. Kept:

* JSON's own types, written as themselves: ``None``, ``bool``, ``int``, ``float``, ``str``,
  ``list``, and ``dict`` whose keys are all ``str`` (none starting with ``"$"``);
* the others as a one-key object whose key names the type: ``{"$tuple": [...]}``,
  ``{"$dict": [[key, value], ...]}`` (any other keys: ``int``, ``float``, ``bool``, ``None``,
  ``tuple``...), ``{"$set": [...]}``, ``{"$frozenset": [...]}``, ``{"$bytes": "<base64>"}``,
  ``{"$bytearray": "<base64>"}``, ``{"$datetime": "<isoformat>"}``, ``{"$date": ...}``,
  ``{"$time": ...}``, ``{"$timedelta": [days, seconds, microseconds]}``,
  ``{"$decimal": "<str>"}``.

Refused (``TypeError`` naming where in the value): every other type, subclasses included (a
namedtuple, an ``OrderedDict``, an ``Enum`` would come back as their base type), a
``datetime``/``time`` whose ``tzinfo`` is not a fixed offset (``datetime.timezone`` without a
name: a ``ZoneInfo`` would come back as a bare offset), and a container that contains itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

__all__ = ["KEPT_TYPES", "Refused", "decode_hook", "encode"]


class Refused(TypeError):
    """A value (or a part of it) the file store cannot give back unchanged.

    ``where`` is the path to the part inside the value (``[0]['x']``), built while unwinding.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where: list[str] = []


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data (always new containers); raises :class:`Refused`."""
    try:
        return _encode(value, set())
    except RecursionError:
        raise Refused("the value is nested too deeply") from None


def _encode(value: Any, parents: set[int]) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        raise Refused(f"type {_type_name(kind)} is not kept")
    if kind in _CONTAINERS:
        if id(value) in parents:
            raise Refused(f"this {kind.__name__} contains itself")
        parents.add(id(value))
        try:
            return encoder(value, parents)
        finally:
            parents.discard(id(value))
    return encoder(value, parents)


def _items(values: Any, parents: set[int]) -> list[Any]:
    out = []
    for i, item in enumerate(values):
        try:
            out.append(_encode(item, parents))
        except Refused as exc:
            exc.where.append(f"[{i}]")
            raise
    return out


def _encode_dict(value: dict[Any, Any], parents: set[int]) -> Any:
    if all(type(k) is str and not k.startswith("$") for k in value):
        out = {}
        for k, v in value.items():
            try:
                out[k] = _encode(v, parents)
            except Refused as exc:
                exc.where.append(f"[{k!r}]")
                raise
        return out
    pairs = []
    for k, v in value.items():
        try:
            pairs.append([_encode(k, parents), _encode(v, parents)])
        except Refused as exc:
            exc.where.append(f"[{k!r}]")
            raise
    return {"$dict": pairs}


def _check_tz(value: dt.datetime | dt.time) -> None:
    tz = value.tzinfo
    if tz is None:
        return
    if type(tz) is dt.timezone:
        # Only the offset is written: a named timezone(offset, "CET") would come back unnamed.
        offset = tz.utcoffset(None)
        if offset is not None and tz.tzname(None) == dt.timezone(offset).tzname(None):
            return
    raise Refused(
        f"a {type(value).__name__} with tzinfo {tz!r} is not kept (only naive ones and unnamed "
        "fixed offsets, datetime.timezone(offset), come back unchanged); convert it with "
        ".astimezone(datetime.timezone.utc)"
    )


def _encode_datetime(value: dt.datetime, parents: set[int]) -> Any:
    _check_tz(value)
    return {"$datetime": value.isoformat()}


def _encode_time(value: dt.time, parents: set[int]) -> Any:
    _check_tz(value)
    return {"$time": value.isoformat()}


def _b64(data: bytes | bytearray) -> str:
    return base64.b64encode(data).decode("ascii")


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({list, tuple, dict, set, frozenset})
_ENCODERS: dict[type, Callable[[Any, set[int]], Any]] = {
    list: _items,
    tuple: lambda v, p: {"$tuple": _items(v, p)},
    dict: _encode_dict,
    set: lambda v, p: {"$set": _items(v, p)},
    frozenset: lambda v, p: {"$frozenset": _items(v, p)},
    bytes: lambda v, p: {"$bytes": _b64(v)},
    bytearray: lambda v, p: {"$bytearray": _b64(v)},
    dt.datetime: _encode_datetime,
    dt.date: lambda v, p: {"$date": v.isoformat()},
    dt.time: _encode_time,
    dt.timedelta: lambda v, p: {"$timedelta": [v.days, v.seconds, v.microseconds]},
    decimal.Decimal: lambda v, p: {"$decimal": str(v)},
}

#: The types a file-backed StateManager keeps, for error messages and docs.
KEPT_TYPES = "None, bool, int, float, str, list, dict, " + ", ".join(
    t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
    for t in _ENCODERS
    if t not in (list, dict)
)


def _type_name(kind: type) -> str:
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    for base in kind.__mro__[1:]:
        if base in _ENCODERS or base in _SCALARS:
            return f"{name} (a subclass of {base.__name__}, which would come back as one)"
    return name


def _listed(make: Callable[[list[Any]], Any]) -> Callable[[Any], Any]:
    def decode(payload: Any) -> Any:
        if type(payload) is not list:
            raise ValueError("expected a list")
        return make(payload)

    return decode


def _text(make: Callable[[str], Any]) -> Callable[[Any], Any]:
    def decode(payload: Any) -> Any:
        if type(payload) is not str:
            raise ValueError("expected a str")
        return make(payload)

    return decode


def _pairs(pairs: list[Any]) -> dict[Any, Any]:
    if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
        raise ValueError("expected [key, value] pairs")
    return {k: v for k, v in pairs}


def _timedelta(parts: list[Any]) -> dt.timedelta:
    days, seconds, microseconds = parts  # ValueError if not three
    return dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)


def _from_b64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$tuple": _listed(tuple),
    "$dict": _listed(_pairs),
    "$set": _listed(set),
    "$frozenset": _listed(frozenset),
    "$timedelta": _listed(_timedelta),
    "$bytes": _text(_from_b64),
    "$bytearray": _text(lambda text: bytearray(_from_b64(text))),
    "$datetime": _text(dt.datetime.fromisoformat),
    "$date": _text(dt.date.fromisoformat),
    "$time": _text(dt.time.fromisoformat),
    "$decimal": _text(decimal.Decimal),
}


def decode_hook(obj: dict[str, Any]) -> Any:
    """``json.loads(..., object_hook=decode_hook)`` turns the tagged objects back into values.

    Raises ``ValueError`` for an unknown tag or a payload that is not what :func:`encode` writes.
    """
    if len(obj) != 1:
        return obj
    ((tag, payload),) = obj.items()
    if not tag.startswith("$"):
        return obj
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ValueError(f"unknown tagged value {tag!r}")
    try:
        return decoder(payload)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"bad {tag} value {payload!r}: {exc}") from None
