"""How every display writes a length of time: :func:`format_seconds`.

rich-free, so that plain-text output (and anything else) can share it without importing rich.
"""

from __future__ import annotations

import math

__all__ = ["format_seconds"]

#: Slack for float noise before rounding up: ``1.1 * 10`` is ``11.000000000000002``, which
#: must round up to 11 tenths, not 12.
_NOISE = 1e-9


def format_seconds(seconds: float, *, round_up: bool = False) -> str:
    """``seconds`` as a short text whose unit suits its size.

    =================  ==================  ====================================
    length             shown as            e.g.
    =================  ==================  ====================================
    0                  ``0 s``
    under 10 ms        tenths of a ms      ``4.2 ms``
    under 1 s          whole ms            ``720 ms``
    under 60 s         tenths of a second  ``59.9 s``
    60 s and more      ``h:mm:ss``         ``0:01:05``, ``1:00:00``
    =================  ==================  ====================================

    With ``round_up`` (for a time *left*) the figure is rounded up to the unit shown, so a
    time left that is not zero never shows as zero: 0.3 s left is ``300 ms``, 1 s left is
    ``1.0 s``, 59.95 s left is ``0:01:00``. Otherwise it is rounded to the nearest (an
    elapsed time: 0.72 s is ``720 ms``). A negative time counts as 0; an infinite or NaN one
    is ``--:--:--``.
    """
    if not math.isfinite(seconds):
        return "--:--:--"
    if seconds <= 0:
        return "0 s"

    def to(scale: float) -> int:
        value = seconds * scale
        return math.ceil(value - _NOISE) if round_up else round(value)

    if (tenths_ms := to(10_000)) < 100:
        # rounding up, anything above 0 shows as at least 0.1 ms
        return f"{max(tenths_ms, int(round_up)) / 10:.1f} ms"
    if (ms := to(1_000)) < 1_000:
        return f"{ms} ms"
    if (tenths := to(10)) < 600:
        return f"{tenths / 10:.1f} s"
    minutes, secs = divmod(to(1), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
