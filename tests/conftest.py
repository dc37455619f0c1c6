"""Backend selection for the whole suite.

Every ``async def`` test runs through anyio's pytest plugin (``anyio_mode = "auto"``). By default
each one runs on asyncio and on trio; nox sets ``ANTFLOW_TEST_BACKEND`` to run a session on one
backend only (``asyncio``, ``trio`` or ``uvloop``, the last being asyncio on uvloop's loop).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import stamina

_BACKENDS: dict[str, Any] = {
    "asyncio": pytest.param("asyncio", id="asyncio"),
    "trio": pytest.param("trio", id="trio"),
    "uvloop": pytest.param(("asyncio", {"use_uvloop": True}), id="asyncio+uvloop"),
}


def _selected_backends() -> list[Any]:
    chosen = os.environ.get("ANTFLOW_TEST_BACKEND")
    if not chosen:
        return [_BACKENDS["asyncio"], _BACKENDS["trio"]]
    if chosen not in _BACKENDS:
        raise pytest.UsageError(
            f"ANTFLOW_TEST_BACKEND={chosen!r} is not a backend; use one of {sorted(_BACKENDS)}"
        )
    return [_BACKENDS[chosen]]


@pytest.fixture(params=_selected_backends())
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture
def no_retry_waits() -> Any:
    """Keep every retry attempt but skip stamina's backoff sleeps."""
    with stamina.set_testing(True, attempts=1_000_000, cap=True):
        yield
