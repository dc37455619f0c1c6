"""The API reference as readers see it: built by mkdocs, no Sphinx role left as raw text.

The docstrings use Sphinx roles (``:class:`Pipeline```); the griffe extensions of
``docs/_ext/griffe_docstrings.py`` turn them into cross-references or plain code, and show a
default that names a module constant as its value. These tests need the ``docs`` extra (mkdocs,
mkdocstrings, griffe); the test sessions of nox do not install it, and the ``docs`` session
runs the same page check (``docs/_ext/check_api_pages.py``) after its build.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXT = ROOT / "docs" / "_ext"

pytest.importorskip("mkdocs", reason="needs the docs extra: pip install -e '.[docs]'")
pytest.importorskip("griffe", reason="needs the docs extra: pip install -e '.[docs]'")


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_docs_ext_{name}", EXT / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


roles = _load("griffe_docstrings")
check = _load("check_api_pages")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


def test_the_api_pages_show_no_raw_role_and_no_constant_default(site: Path) -> None:
    assert check.findings(site) == []


def test_a_role_becomes_a_link_to_the_documented_object(site: Path) -> None:
    page = (site / "api" / "executor" / "index.html").read_text(encoding="utf-8")
    assert 'href="../exceptions/#antflow.exceptions.ExecutorShutdownError"' in page
    assert "#antflow.AsyncExecutor.map_iter" in page


def test_a_constant_default_shows_its_value(site: Path) -> None:
    page = (site / "api" / "executor" / "index.html").read_text(encoding="utf-8")
    assert "DEFAULT_MAX_WORKERS" not in page
    assert (
        '<span class="n">max_workers</span><span class="p">:</span> <span class="nb">int</span> '
        '<span class="o">=</span> <span class="mi">10</span>'
    ) in page


def test_the_check_finds_raw_roles_and_constant_defaults(tmp_path: Path) -> None:
    api = tmp_path / "api" / "x"
    api.mkdir(parents=True)
    (api / "index.html").write_text(
        "<p>See :class:<code>Pipeline</code>.</p>"
        '<span class="o">=</span><span class="n">DEFAULT_MAX_WORKERS</span>',
        encoding="utf-8",
    )
    assert check.findings(tmp_path) == [
        "api/x/index.html: raw role ':class:<code>'",
        "api/x/index.html: default shown as DEFAULT_MAX_WORKERS",
    ]


@pytest.fixture(scope="module")
def antflow_package() -> Any:
    import griffe

    return griffe.load("antflow", search_paths=[str(ROOT)])


@pytest.mark.parametrize(
    ("docstring", "expected"),
    [
        (
            ":class:`Pipeline`",
            '<autoref identifier="antflow.Pipeline" optional><code>Pipeline</code></autoref>',
        ),
        (
            ":meth:`~antflow.AsyncExecutor.map_iter`",
            '<autoref identifier="antflow.AsyncExecutor.map_iter" optional>'
            "<code>map_iter()</code></autoref>",
        ),
        (
            ":meth:`Pipeline.run <antflow.Pipeline.run>`",
            '<autoref identifier="antflow.Pipeline.run" optional>'
            "<code>Pipeline.run</code></autoref>",
        ),
        (":exc:`ValueError`", "<code>ValueError</code>"),  # not ours: plain code
        (":class:`!Pipeline`", "<code>Pipeline</code>"),  # "!": no link, as in Sphinx
    ],
)
def test_roles_are_rewritten(antflow_package: Any, docstring: str, expected: str) -> None:
    assert roles.rewrite_roles(docstring, antflow_package) == expected


def test_a_short_name_resolves_from_the_docstrings_class(antflow_package: Any) -> None:
    executor = antflow_package["AsyncExecutor"].final_target
    assert roles.resolve("map_iter", executor) == f"{executor.path}.map_iter"
