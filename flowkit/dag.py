"""``from flowkit.dag import DAG``: the runner of tasks linked with ``>>``.

The same class as ``flowkit.DAG`` (this module re-exports it).
"""

from __future__ import annotations

from ._dag import DAG

__all__ = ["DAG"]
