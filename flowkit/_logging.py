"""Logging: stdlib ``logging`` under the logger ``"flowkit"``, silent until configured.

flowkit adds no handler anywhere except inside :func:`configure_logging`, and emits no record at
all while neither the ``"flowkit"`` logger nor its ancestors have a handler, so nothing is
printed (not even by ``logging.lastResort``) until you configure logging, with
:func:`configure_logging` or your own handlers (records then propagate as usual).
"""

from __future__ import annotations

import enum
import json
import logging
import sys
import time
from typing import IO, Any

__all__ = ["FlowkitLogger", "LogLevel", "configure_logging", "get_logger"]

LOGGER_NAME = "flowkit"


class LogLevel(enum.IntEnum):
    """Levels of flowkit's records; the values are stdlib logging levels.

    ``SUCCESS`` (25) and ``SYSTEM`` (22) are registered with :func:`logging.addLevelName` by
    :func:`configure_logging`; both sit between INFO and WARNING, so they show at ``INFO``.
    """

    DEBUG = logging.DEBUG
    INFO = logging.INFO
    SYSTEM = 22
    SUCCESS = 25
    WARNING = logging.WARNING
    ERROR = logging.ERROR


_LABELS = {
    LogLevel.DEBUG: ("DEBUG", "dim"),
    LogLevel.INFO: ("INFO", "blue"),
    LogLevel.SYSTEM: ("SYSTEM", "magenta"),
    LogLevel.SUCCESS: ("SUCCESS", "green"),
    LogLevel.WARNING: ("WARN", "yellow"),
    LogLevel.ERROR: ("ERROR", "red"),
}

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class FlowkitLogger:
    """A thin face over the ``"flowkit"`` stdlib logger with flowkit's six levels.

    Keyword arguments of each method become fields of the record (``extra``): in JSON mode they
    are keys of the object, in text mode they are ignored by the formatter.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger(LOGGER_NAME)

    def log(self, level: LogLevel, message: str, **fields: Any) -> None:
        if self.logger.isEnabledFor(level):
            self.logger.log(int(level), message, extra=fields or None, stacklevel=3)

    def debug(self, message: str, **fields: Any) -> None:
        self.log(LogLevel.DEBUG, message, **fields)

    def info(self, message: str, **fields: Any) -> None:
        self.log(LogLevel.INFO, message, **fields)

    def system(self, message: str, **fields: Any) -> None:
        self.log(LogLevel.SYSTEM, message, **fields)

    def success(self, message: str, **fields: Any) -> None:
        self.log(LogLevel.SUCCESS, message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        self.log(LogLevel.WARNING, message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        self.log(LogLevel.ERROR, message, **fields)


class _RichLineHandler(logging.Handler):
    """``14:30:05  [INFO] message`` lines, the level colored through rich (or plain).

    rich is imported when the handler is built (by :func:`configure_logging`), not with flowkit.
    """

    def __init__(self, stream: IO[str], use_colors: bool) -> None:
        super().__init__()
        from rich.console import Console
        from rich.text import Text

        self._text = Text
        self.console = Console(
            file=stream,
            no_color=not use_colors,
            force_terminal=use_colors or None,
            color_system="standard" if use_colors else None,
            highlight=False,
            soft_wrap=True,
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            label, style = _label(record.levelno)
            line = self._text(time.strftime("%H:%M:%S", time.localtime(record.created)) + "  ")
            line.append(f"[{label}]", style=style)
            line.append(" " + record.getMessage())
            if record.exc_info:
                line.append("\n" + logging.Formatter().formatException(record.exc_info))
            self.console.print(line)
        except Exception:
            self.handleError(record)


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "time": record.created,
            "level": _label(record.levelno)[0],
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                obj[key] = value
        if record.exc_info:
            obj["exception"] = self.formatException(record.exc_info)
        return json.dumps(obj, default=repr)


def _label(levelno: int) -> tuple[str, str]:
    try:
        return _LABELS[LogLevel(levelno)]
    except ValueError:
        return logging.getLevelName(levelno), ""


def configure_logging(
    level: LogLevel = LogLevel.INFO,
    use_colors: bool = True,
    json_output: bool = False,
    *,
    stream: IO[str] | None = None,
) -> FlowkitLogger:
    """Send flowkit's records at ``level`` and above to ``stream`` (default: ``sys.stderr``).

    Replaces the handler a previous call installed (calling it twice never doubles lines); other
    handlers on the ``"flowkit"`` logger are left alone. The logger stops propagating to the root
    logger, so records are not printed twice.

    Args:
        level: The lowest level shown.
        use_colors: Color the level labels (through rich). Ignored with ``json_output``.
        json_output: One JSON object per line instead of text lines.
        stream: Where to write (beyond the published signature; handy in tests).
    """
    try:
        level = LogLevel(level)
    except ValueError:
        raise ValueError(
            f"level must be a LogLevel (DEBUG, INFO, SYSTEM, SUCCESS, WARNING, ERROR), "
            f"got {level!r}"
        ) from None
    for lvl in (LogLevel.SUCCESS, LogLevel.SYSTEM):
        logging.addLevelName(int(lvl), lvl.name)
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        if getattr(old, "_flowkit_handler", False):
            logger.removeHandler(old)
            old.close()
    out = stream if stream is not None else sys.stderr
    handler: logging.Handler
    if json_output:
        handler = logging.StreamHandler(out)
        handler.setFormatter(_JsonFormatter())
    else:
        handler = _RichLineHandler(out, use_colors)
    setattr(handler, "_flowkit_handler", True)  # noqa: B010 (marks the handler we own)
    logger.addHandler(handler)
    logger.setLevel(int(level))
    logger.propagate = False
    return FlowkitLogger(logger)


def get_logger(name: str | None = None) -> FlowkitLogger:
    """A :class:`FlowkitLogger` for your own records, under flowkit's logger.

    ``get_logger("etl")`` logs through the stdlib logger ``"flowkit.etl"`` (a name already
    starting with ``"flowkit"`` is used as it is; ``None`` gives ``"flowkit"`` itself), so its
    records reach the handler :func:`configure_logging` installed and, like flowkit's own, are
    shown nowhere until logging is configured.

    Raises:
        TypeError: ``name`` is not a str or None.
    """
    if name is None or name == LOGGER_NAME:
        return FlowkitLogger(logging.getLogger(LOGGER_NAME))
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (e.g. 'etl', or __name__) or None, got {name!r}")
    full = name if name.startswith(LOGGER_NAME + ".") else f"{LOGGER_NAME}.{name}"
    return FlowkitLogger(logging.getLogger(full))


def run_logger() -> FlowkitLogger | None:
    """The logger a run should use, or ``None`` when no record would reach a handler."""
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.hasHandlers():
        return None
    return FlowkitLogger(logger)
