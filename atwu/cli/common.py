"""What every command shares: the exit code for bad input and one-line error output."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2
_PACKAGE = str(Path(__file__).resolve().parents[1])


def fail(message: str) -> int:
    """Print ``error: message`` on stderr (one line) and return the bad-input exit code."""
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def os_error_text(exc: OSError) -> str:
    """``path: reason`` of an OSError (``[Errno 20] Not a directory: 'x'`` reads worse)."""
    if exc.strerror and exc.filename is not None:
        second = f" -> {exc.filename2}" if exc.filename2 is not None else ""
        return f"{exc.filename}{second}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def one_line_warnings(default: Callable[..., Any]) -> Callable[..., Any]:
    """A ``warnings.showwarning`` printing the project's own warnings as ``warning: message``
    (their messages name the file at fault; the line of code that warned does not help a user);
    other libraries' warnings keep ``default``'s form."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if str(filename).startswith(_PACKAGE):
            text = " ".join(str(message).split())
            print(f"warning: {text}", file=file or sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C would be: ``finally`` blocks and the
    atomic writers' clean-up run (a plain SIGTERM ends the process without them)."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated("terminated")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main
    thread, so that a command killed politely removes its half-built files on the way out.
    Outside the main thread (where no handler can be set) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
