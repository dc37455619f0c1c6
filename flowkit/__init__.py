"""flowkit: a decorator-based workflow runner built on antflow's engine."""

from __future__ import annotations

__all__: list[str] = []
