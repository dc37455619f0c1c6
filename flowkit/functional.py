"""The Functional API: graphs with several inputs and outputs, built Keras-style.

``Layer(task)(*nodes)`` makes a node (an :class:`AppliedTask`) that applies ``task`` to the
results of ``nodes``; :class:`FunctionalFlow` runs the graph between its ``inputs`` and
``outputs`` and returns the outputs' results.
"""

from __future__ import annotations

from ._functional import AppliedTask, FunctionalFlow, Layer

__all__ = ["AppliedTask", "FunctionalFlow", "Layer"]
