"""No import cycles between the modules of antflow and flowkit.

Every import statement counts, wherever it is: at the top, under ``if TYPE_CHECKING:``, inside a
function. A cycle that only a deferred import keeps from failing at import time still ties the
modules into one knot that cannot be read, tested or moved apart.

The graph is read from the source with ``ast`` (nothing is imported). Its nodes are module names
(a package is its ``__init__``: ``antflow``); an edge ``a -> b`` means that module ``a`` imports
module ``b``:

- ``import p.q`` and ``from p.q import name`` are edges to ``p.q``; ``from p import q`` is an edge
  to ``p.q`` when ``q`` is a submodule, else to ``p`` (its ``__init__``, which re-exports ``q``);
- relative imports are resolved against the importing module's package;
- importing ``p.q`` also runs ``p/__init__``, but that implicit edge is not counted (every module
  of a package would otherwise be in a cycle with its ``__init__``); the ``__init__``'s own
  imports are its edges.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("antflow", "flowkit")

Graph = dict[str, set[str]]


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """``{module name: source file}`` for every module of ``packages`` under ``root``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The modules of ``known`` that module ``name`` (source ``path``) imports."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}"
                elif base in known:
                    yield base


def import_graph(root: Path, packages: Iterable[str]) -> Graph:
    found = modules(root, packages)
    known = set(found)
    return {name: set(imported(name, path, known)) for name, path in found.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """Every elementary cycle of ``graph``, each starting at its smallest module name.

    A cycle ``[a, b, c]`` means ``a -> b -> c -> a``. Sorted, so the report is stable.
    """
    found: set[tuple[str, ...]] = set()
    for start in sorted(graph):
        # Only cycles whose smallest node is `start`: each cycle is found from one start only.
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for target in graph[node]:
                if target == start:
                    found.add(tuple(path))
                elif target > start and target not in path:
                    stack.append((target, [*path, target]))
    return sorted(list(cycle) for cycle in found)


def chain(cycle: list[str]) -> str:
    return " -> ".join([*cycle, cycle[0]])


def test_modules_of_antflow_and_flowkit_import_each_other_without_cycles() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert {"antflow", "flowkit"} <= set(graph)  # it found the packages
    found = cycles(graph)
    if found:
        pytest.fail(
            f"{len(found)} import cycle(s):\n" + "\n".join(f"  {chain(c)}" for c in found),
            pytrace=False,
        )


def test_the_graph_counts_every_kind_of_import(tmp_path: Path) -> None:
    # The reader itself, on a package made for it: an edge it missed would hide a cycle.
    files = {
        "pkg/__init__.py": "from ._a import A\n",
        "pkg/_a.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from ._b import B\n"
            "def f():\n"
            "    import pkg.sub.deep\n"
        ),
        "pkg/_b.py": "from . import _a, helper\nfrom pkg import _c\n",
        "pkg/_c.py": "import os\nfrom other import thing\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/deep.py": "from .. import _c\nfrom ..sub import deep\nfrom . import nothing\n",
        "user/__init__.py": "from pkg import A\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert import_graph(tmp_path, ["pkg", "user"]) == {
        "pkg": {"pkg._a"},
        "pkg._a": {"pkg._b", "pkg.sub.deep"},
        "pkg._b": {"pkg._a", "pkg", "pkg._c"},
        "pkg._c": set(),
        "pkg.sub": set(),
        "pkg.sub.deep": {"pkg._c", "pkg.sub.deep", "pkg.sub"},
        "user": {"pkg"},
    }


def test_cycles_are_each_reported_once() -> None:
    graph: Graph = {"a": {"b"}, "b": {"a", "c"}, "c": {"a", "c"}, "d": {"a"}}
    assert [chain(c) for c in cycles(graph)] == ["a -> b -> a", "a -> b -> c -> a", "c -> c"]
