"""Griffe extensions for the API reference (loaded by mkdocstrings, see ``mkdocs.yml``).

The docstrings use Sphinx's cross-reference roles (``:class:`Pipeline```, ``:meth:`run```,
``:class:`~antflow._retry.RetryPolicy```), which Markdown would show as raw text, and the
signatures name module constants as defaults (``max_workers=DEFAULT_MAX_WORKERS``). Two
extensions fix the rendered pages without touching the code:

- ``SphinxRoles`` rewrites each role into an optional autorefs cross-reference: a link when the
  object it names is documented on the site, plain code otherwise (a private helper, a builtin);
- ``ConstantDefaults`` shows a default that names a module constant as the constant's value.
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from typing import Any

from griffe import Attribute, Class, Extension, Function, Module, Object

#: ``:class:`X```, ``:py:meth:`~a.b.c```, ``:meth:`Title <a.b.c>```, ``:exc:`!X```.
ROLE = re.compile(
    r":(?:py:)?(?P<role>class|meth|func|attr|exc|mod|data|obj|const):`(?P<text>[^`]+)`"
)
_TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$")
_CALLABLE_ROLES = {"meth", "func"}


def _objects(obj: Object) -> Iterator[Object]:
    """``obj`` and every object defined (not imported) under it."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)  # type: ignore[arg-type]


def _lookup(collection: Any, path: str) -> Object | None:
    try:
        found = collection[path]
    except Exception:  # KeyError, or an alias that does not resolve
        return None
    return found  # type: ignore[no-any-return]


def resolve(name: str, scope: Object) -> str | None:
    """The path of the object ``name`` refers to from ``scope``'s docstring, or None.

    Looked up as Sphinx would: in ``scope`` and each enclosing class and module (members and
    imports), then at the top level of the package, then as an absolute path.
    """
    collection = scope.modules_collection
    first = name.partition(".")[0]
    current: Object | None = scope
    while current is not None:
        if first in current.members:
            path = f"{current.path}.{name}"
            if _lookup(collection, path) is not None:
                return path
        current = current.parent
    package = scope.package.path
    for candidate in (f"{package}.{name}", name):
        if _lookup(collection, candidate) is not None:
            return candidate
    return None


def rewrite_roles(text: str, scope: Object) -> str:
    """``text`` with each Sphinx role replaced by an optional cross-reference or plain code."""

    def replace(match: re.Match[str]) -> str:
        role, body = match["role"], match["text"].strip()
        titled = _TITLED.match(body)
        if titled:
            title, target = titled["title"], titled["target"]
        else:
            target = body.lstrip("~!.")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
        if role in _CALLABLE_ROLES and not titled and not title.endswith(")"):
            title += "()"
        code = f"<code>{html.escape(title)}</code>"
        path = None if body.startswith("!") else resolve(target.lstrip("~."), scope)
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(Extension):
    """Rewrite Sphinx roles in every docstring of a loaded package (see the module docstring)."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = rewrite_roles(obj.docstring.value, obj)


def _literal(value: object) -> str | None:
    """``value`` as source text when it is a literal (a number, a string ...), else None."""
    text = str(value)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return text


def constant_value(default: object, scope: Object) -> str | None:
    """The literal value of the module constant ``default`` names, seen from ``scope``."""
    name = str(default)
    if not re.fullmatch(r"[A-Za-z_][\w.]*", name) or _literal(name) is not None:
        return None
    path = resolve(name, scope)
    target = _lookup(scope.modules_collection, path) if path else None
    if target is not None and target.is_alias:  # a constant imported from another module
        try:
            target = target.final_target  # type: ignore[attr-defined]
        except Exception:  # an alias that does not resolve
            return None
    if not isinstance(target, Attribute):
        return None
    if not isinstance(target.parent, Module) or target.value is None:
        return None
    return _literal(target.value)


class ConstantDefaults(Extension):
    """Show a parameter default or a field value that names a module constant as its value."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if isinstance(obj, Function):
                for parameter in obj.parameters:
                    if parameter.default is not None:
                        value = constant_value(parameter.default, obj)
                        if value is not None:
                            parameter.default = value
            elif isinstance(obj, Attribute) and isinstance(obj.parent, Class):
                value = constant_value(obj.value, obj) if obj.value is not None else None
                if value is not None:
                    obj.value = value
