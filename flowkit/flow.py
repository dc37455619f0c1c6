"""``from flowkit.flow import Flow``: the Keras-style builder (``add``, ``branch``, ``merge``).

The same class as ``flowkit.Flow`` (this module re-exports it).
"""

from __future__ import annotations

from ._flow import Flow

__all__ = ["Flow"]
