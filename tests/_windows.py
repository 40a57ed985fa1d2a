"""Rates measured window by window, from cumulative (time, units) marks."""

from __future__ import annotations

#: The width of a window over which a budgeted rate is averaged, in seconds.
WINDOW = 10.0


def rates(marks: list[tuple[float, float]], start: float, width: float = WINDOW) -> list[float]:
    """Units per second in each full window from ``start``, from cumulative (time, units).

    A window counts when it ends no later than half a second after the last mark; its
    units are those of the last mark inside it minus those of the last mark before it.
    """
    end = marks[-1][0]
    result = []
    window = 0
    while start + (window + 1) * width <= end + 0.5:
        low, high = start + window * width, start + (window + 1) * width
        before = max((u for t, u in marks if t < low), default=0.0)
        upto = max((u for t, u in marks if t < high), default=0.0)
        result.append((upto - before) / width)
        window += 1
    return result
