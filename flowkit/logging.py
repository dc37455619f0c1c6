"""``from flowkit.logging import configure_logging, LogLevel, get_logger``: flowkit's logging.

Records go through the stdlib logger ``"flowkit"`` and are shown nowhere until
:func:`configure_logging` (or your own handlers) says where. The same objects as
``flowkit.configure_logging`` and so on (this module re-exports them).
"""

from __future__ import annotations

from ._logging import FlowkitLogger, LogLevel, configure_logging, get_logger

__all__ = ["FlowkitLogger", "LogLevel", "configure_logging", "get_logger"]
