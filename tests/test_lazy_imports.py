"""Imports: ``import antflow`` and ``import flowkit`` leave rich out until a display is asked for,
and the display and flowkit modules are in no import cycle (type-only imports included)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (sys.modules untouched by this test session)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


RICH_LOADED = "print(any(m == 'rich' or m.startswith('rich.') for m in sys.modules))"


def test_importing_antflow_and_flowkit_leaves_rich_out() -> None:
    assert run_python(f"import sys, antflow, flowkit; {RICH_LOADED}") == "False"


def test_the_public_names_of_displays_need_no_rich() -> None:
    code = (
        "import sys; from antflow import DashboardProtocol, DashboardSnapshot; "
        "from antflow._display import DashboardProtocol as P, DisplayDriver, choose_display; "
        "assert P is DashboardProtocol; "
        "assert choose_display(False, None, None, 0.5, None, title='t') is None; "
        f"{RICH_LOADED}"
    )
    assert run_python(code) == "False"


RUNS = {
    "pipeline": "await antflow.Pipeline.quick([1, 2], echo, progress=True)",
    "executor map": (
        "async with antflow.AsyncExecutor(2) as ex:\n"
        "        await ex.map(echo, [1, 2], progress=True)"
    ),
    "flowkit": "await flowkit.DAG('d', tasks=[flowkit.task(one)]).run_async(progress=True)",
}


@pytest.mark.parametrize("run", list(RUNS.values()), ids=list(RUNS))
def test_a_run_with_progress_imports_rich(run: str) -> None:
    code = (
        "import sys, anyio, antflow, flowkit\n"
        "async def echo(x):\n"
        "    return x\n"
        "def one():\n"
        "    return 1\n"
        "async def main():\n"
        f"    {run}\n"
        "anyio.run(main)\n"
        f"{RICH_LOADED}"
    )
    assert run_python(code).splitlines()[-1] == "True"


#: Modules that must be in no import cycle: the displays and all of flowkit.
ACYCLIC = (
    "antflow._display",
    "antflow._display_protocol",
    "antflow._builtin_display",
    "antflow._progress",
    "antflow._dashboard",
    "flowkit.",
)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of antflow and flowkit it imports anywhere in its source: at the
    top, under ``TYPE_CHECKING`` or inside a function."""
    files = {
        (pkg if f.stem == "__init__" else f"{pkg}.{f.stem}"): f
        for pkg in ("antflow", "flowkit")
        for f in sorted((ROOT / pkg).glob("*.py"))
    }
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name.split(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = package + ("." + base if base else "")
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            # A submodule importing its own package's names goes through ``__init__``, which
            # imports everything: count that edge only across packages.
            graph[name].update(t for t in targets if t in files and t not in (name, package))
    return graph


def cycle_through(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A chain of imports from ``start`` back to itself, if there is one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for target in graph[module]:
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_display_and_flowkit_modules_are_in_no_import_cycle() -> None:
    graph = import_graph()
    checked = [m for m in graph if m.startswith(ACYCLIC) or m == "flowkit"]
    assert "antflow._display" in checked
    assert "flowkit._scheduler" in checked
    cycles = [c for m in checked if (c := cycle_through(m, graph)) is not None]
    assert cycles == []
