"""The live status of a run (``status.json``): written by its process, with a heartbeat, and read
back with a dead process told apart from a running one."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any

from atwu.io import atomic_write_json
from atwu.process import process_alive, process_start
from atwu.runs.layout import STATUS

HEARTBEAT_EVERY_S = 5.0
STALE_AFTER_S = 60.0
WAITING = "waiting"
"""Set in the status of a run planned but not started (a reference waiting in its queue,
:mod:`atwu.analysis.references`): its ``pid`` is the process that is to start it."""


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def parse_time(text: object) -> dt.datetime | None:
    """An ISO 8601 time with its time zone; None for anything else (missing, not text, not a
    time, or a time without a zone, which cannot be compared with the clock)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


class StatusWriter:
    """Owns ``status.json`` for a live run; a daemon thread refreshes the heartbeat."""

    def __init__(self, root: Path, total_steps: int):
        self.path = root / STATUS
        self.lock = threading.Lock()
        self.status: dict[str, Any] = {
            "state": "queued",
            "message": "",
            "pid": os.getpid(),
            # with the pid, the process's start time: Cancel checks both (a pid is reused)
            "pid_start": process_start(os.getpid()),
            "started_at": None,
            "ended_at": None,
            "heartbeat_at": utc_now(),
            "step": 0,
            "total_steps": total_steps,
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, **fields: Any) -> None:
        with self.lock:
            self.status.update(fields)
            self.status["heartbeat_at"] = utc_now()
            atomic_write_json(self.path, self.status)

    def start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(HEARTBEAT_EVERY_S):
                # a full disk must not end the heartbeat (with a traceback): it beats again
                # once there is room, and the run itself reports the fault
                with contextlib.suppress(OSError):
                    self.update()

        self._thread = threading.Thread(target=beat, name="atwu-heartbeat", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


def effective_state(status: dict, *, now: dt.datetime | None = None) -> tuple[str, str]:
    """(state, message), with a running run whose heartbeat stopped reported as died. Values of
    the wrong type (a hand-edited or damaged file) read as unknown."""
    state = status.get("state", "unknown")
    message = status.get("message", "")
    if not isinstance(state, str):
        state = "unknown"
    if not isinstance(message, str):
        message = str(message)
    if state == "queued" and status.get(WAITING) and not _waiting_process_alive(status):
        return "failed", "the process that was to start it ended first (see its log)"
    if state == "running":
        beat = parse_time(status.get("heartbeat_at"))
        now = now or dt.datetime.now(dt.UTC)
        if beat is None or (now - beat).total_seconds() > STALE_AFTER_S:
            return "failed", (
                "the process stopped without reporting (no heartbeat for over "
                f"{int(STALE_AFTER_S)} s); it was probably killed"
            )
    return state, message


def _waiting_process_alive(status: dict) -> bool:
    pid, start = status.get("pid"), status.get("pid_start")
    if not isinstance(pid, int) or isinstance(pid, bool):
        return False
    return process_alive(pid, start if isinstance(start, str) else None)
