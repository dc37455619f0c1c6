"""Test, lint, typecheck and docs sessions; ``bench`` on demand.

``nox`` with no arguments runs every session but ``bench`` (``nox -s bench``, or
``nox -s bench -- --quick`` for a smoke run of a minute or two), ``bench_published`` (the
published antflow 0.10.0 on the pipeline workload, for scale) and ``soak`` (the property tests
with 10,000 examples each, per backend: ``nox -s soak``). The test session runs once per backend:
every async test of the suite runs on that backend through anyio's pytest plugin (the backend is
chosen by the ``ANTFLOW_TEST_BACKEND`` variable, read by ``tests/conftest.py``). A plain
``pytest`` run, outside nox, runs every async test on asyncio and on trio.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]

PACKAGES = ["antflow", "flowkit"]


@nox.session
@nox.parametrize("backend", ["asyncio", "trio", "uvloop"])
def tests(session: nox.Session, backend: str) -> None:
    """Run the test suite with every async test on one backend."""
    extras = "test,uvloop" if backend == "uvloop" else "test"
    session.install("-e", f".[{extras}]")
    session.run("pytest", *session.posargs, env={"ANTFLOW_TEST_BACKEND": backend})


@nox.session
@nox.parametrize("backend", ["asyncio", "trio"])
def soak(session: nox.Session, backend: str) -> None:
    """Run the property tests with the ``soak`` hypothesis profile (10,000 examples each)."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "tests/antflow/test_pipeline_property.py",
        "tests/antflow/test_executor_property.py",
        "tests/flowkit/test_dag_property.py",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
        *session.posargs,
        env={"ANTFLOW_TEST_BACKEND": backend, "ANTFLOW_HYPOTHESIS_PROFILE": "soak"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check both packages with mypy --strict, and check that ``@task`` keeps a function's
    signature for type checkers (tests/typing, skipped by the test sessions without mypy)."""
    session.install("-e", ".[test,uvloop]", "mypy")
    session.run("mypy", "--strict", *PACKAGES)
    session.run("pytest", "tests/typing", "-p", "no:cacheprovider")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; any warning (a broken link, a missing anchor) fails it.

    Then check the API pages: no Sphinx role shown as text, no constant name as a default.
    """
    session.install("-e", ".[docs]")
    site = f"{session.create_tmp()}/site"
    session.run("mkdocs", "build", "--strict", "--site-dir", site)
    session.run("python", "docs/_ext/check_api_pages.py", site)


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark and write docs/img/benchmarks.png (``-- --quick`` for a smoke run)."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(name="bench_published")
def bench_published(session: nox.Session) -> None:
    """The published antflow 0.10.0 on the pipeline workload, for scale (in a venv of its own)."""
    session.install("antflow==0.10.0", "anyio", "trio", "rich")
    session.run("python", "benchmarks/published_antflow.py", *session.posargs)
