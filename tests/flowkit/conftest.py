from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._flowkit_isolation import isolated_flowkit


@pytest.fixture(autouse=True)
def _isolated_flowkit() -> Iterator[None]:
    """Each test starts with no registered task, leaves none behind, and leaves the "flowkit"
    logger as it found it."""
    with isolated_flowkit():
        yield
