"""Which process the app may signal: a pid together with its start time (no Streamlit here).

A pid is reused once its process ends: Cancel must not signal whatever process has the number
now. The app records, with every pid it starts or reads (launch records, prepare job files,
``status.json``, which the run itself writes with ``pid_start``), the process's start time, and
signals only a process whose start time still matches. A record from before start times were
kept falls back to the older check (its command line names atwu).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atwu.process import process_alive, process_start


@dataclass(frozen=True)
class Signalled:
    sent: bool
    message: str


def identity(pid: int) -> dict[str, Any]:
    """``{"pid", "pid_start"}`` of a process just started: what a launch record keeps."""
    return {"pid": int(pid), "pid_start": process_start(int(pid))}


def _command_mentions_atwu(pid: int) -> bool:
    try:
        return b"atwu" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc").is_dir()  # no /proc (not Linux): nothing to check with
    except OSError:
        return False


def is_same_process(pid: Any, pid_start: Any) -> bool:
    """Whether ``pid`` is alive and is the process recorded: same start time when one was
    recorded, else (an older record) a command line naming atwu."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if isinstance(pid_start, str) and pid_start:
        if process_start(pid) is None and Path("/proc").is_dir():
            return False  # /proc has no such process
        return process_alive(pid, pid_start)
    return process_alive(pid) and _command_mentions_atwu(pid)


def signal_recorded(
    record: dict[str, Any] | None,
    *,
    what: str,
    sig: int = signal.SIGTERM,
    group: bool = False,
) -> Signalled:
    """Send ``sig`` to the process a record names (``pid`` and ``pid_start``) if it is still
    that process; ``group``: to its process group (it leads one: started with its own
    session). Never raises for a process that is gone or another user's."""
    record = record or {}
    pid, start = record.get("pid"), record.get("pid_start")
    if not pid:
        return Signalled(False, f"{what}: no process id recorded, nothing to stop")
    if not is_same_process(pid, start):
        return Signalled(False, f"{what}: process {pid} is not running")
    try:
        _send(int(pid), sig, group=group)
    except ProcessLookupError:
        return Signalled(False, f"{what}: process {pid} is not running")
    except PermissionError as exc:
        return Signalled(False, f"{what}: not allowed to stop process {pid} ({exc})")
    return Signalled(True, f"asked {what} (process {pid}) to stop")


def _send(pid: int, sig: int, *, group: bool) -> None:
    if group:
        try:
            os.killpg(pid, sig)  # it leads its own session: its children stop with it
            return
        except ProcessLookupError:
            pass  # not a group leader after all: signal the process alone
    os.kill(pid, sig)
