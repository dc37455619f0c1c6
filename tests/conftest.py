"""Backend selection for the whole suite, and the hypothesis profiles.

Every ``async def`` test runs through anyio's pytest plugin (``anyio_mode = "auto"``). By default
each one runs on asyncio and on trio; nox sets ``ANTFLOW_TEST_BACKEND`` to run a session on one
backend only (``asyncio``, ``trio`` or ``uvloop``, the last being asyncio on uvloop's loop).

``ANTFLOW_HYPOTHESIS_PROFILE`` loads a hypothesis profile: ``soak`` runs 10,000 examples of each
property test (``nox -s soak`` does, per backend); without it each property test runs the few
examples its decorator asks for, to keep a plain ``pytest`` quick.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import stamina
from hypothesis import HealthCheck, settings

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


settings.register_profile(
    "soak",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
if _profile := os.environ.get("ANTFLOW_HYPOTHESIS_PROFILE"):
    settings.load_profile(_profile)


@pytest.fixture(params=_selected_backends())
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture
def no_retry_waits() -> Any:
    """Keep every retry attempt but skip stamina's backoff sleeps."""
    with stamina.set_testing(True, attempts=1_000_000, cap=True):
        yield
