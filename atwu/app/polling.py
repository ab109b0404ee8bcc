"""When a part of a page that watches background processes redraws itself on a timer: only
while one of them is live. A page left open with nothing running must not rerun every few
seconds (each rerun reads files and redraws for nothing)."""

from __future__ import annotations

POLL_SECONDS = 2.0
"""How often a watching part redraws itself while something it watches is live."""


def poll_interval(live: bool) -> float | None:
    """Seconds between redraws of a list that watches processes: only while one is live (a
    list with nothing to watch must not rerun on a timer)."""
    return POLL_SECONDS if live else None


def polling_should_stop(polled_every: float | None, live_now: bool) -> bool:
    """A list drawn with a timer that finds nothing live any more must redraw the page, so that
    it is drawn again without the timer."""
    return polled_every is not None and not live_now
