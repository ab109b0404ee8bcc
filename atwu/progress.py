"""Progress of a long loop: a tqdm bar on a terminal, a plain line now and then in a log.

A bar redraws itself with '\\r' many times a second; written to a log file (``prepare`` launched
from the app, a CI job) that is thousands of unreadable lines. So the bar is shown only when its
stream is a TTY (tqdm's ``disable=None``), and otherwise a plain line is printed each time
another ``every`` share of the work is done: what, how far, time elapsed and an estimate of the
time left.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm.auto import tqdm


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts ``total`` units of work; see the module docstring for what it prints."""

    def __init__(
        self,
        total: int,
        desc: str,
        *,
        unit: str = "step",
        every: float = 0.1,
        initial: int = 0,
        leave: bool = False,
        position: int | None = None,
        file: TextIO | None = None,
    ):
        self.total = max(1, total)
        self.desc = desc
        self.unit = unit
        self.every = every
        self.done = initial
        self.file = file if file is not None else sys.stderr  # looked up now: tests swap it
        self._started = time.monotonic()
        self._initial = initial
        self._mark = self._marks_passed(initial)
        self._postfix: dict[str, Any] = {}
        self.bar = tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit=unit,
            leave=leave,
            position=position,
            file=self.file,
            disable=None,  # a bar only on a TTY
        )
        # no bar (the stream is not a terminal): plain lines instead; read now, as closing the
        # bar sets its ``disable``
        self.plain = bool(self.bar.disable)

    def update(self, n: int = 1, **postfix: Any) -> None:
        """``n`` more units done; ``postfix`` (e.g. ``loss="1.23"``) is shown beside the count."""
        self.done += n
        if postfix:
            self._postfix = postfix
            self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(n)
        if self.plain and self._marks_passed(self.done) > self._mark:
            self._mark = self._marks_passed(self.done)
            print(self.line(), file=self.file, flush=True)

    def line(self) -> str:
        """``[desc] epoch 8/40 (20%), 12 s elapsed, ~48 s left, loss 1.234``."""
        elapsed = time.monotonic() - self._started
        ran = self.done - self._initial
        text = f"[{self.desc}] {self.unit} {self.done}/{self.total} ({self.done / self.total:.0%})"
        text += f", {_duration(elapsed)} elapsed"
        if ran > 0 and self.done < self.total:
            text += f", ~{_duration(elapsed / ran * (self.total - self.done))} left"
        for key, value in self._postfix.items():
            text += f", {key} {value}"
        return text

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _marks_passed(self, done: int) -> int:
        # the small epsilon keeps 3/10 of the work at mark 3 despite float rounding
        return int(done / self.total / self.every + 1e-9) if self.every > 0 else 0
