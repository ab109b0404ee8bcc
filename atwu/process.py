"""Which process is which: a pid and its start time, so that a recycled pid is not mistaken for
the process that once had it (the run lease, the owners of half-built directories, the app's
Cancel)."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (None where /proc is absent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def process_alive(pid: int, start: str | None = None) -> bool:
    """Whether ``pid`` runs on this host (and, when ``start`` is known, is the same process)."""
    if pid <= 0:
        return False  # 0 and negative pids name process groups, never one process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    except OverflowError:
        return False  # not a pid at all
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat[stat.rfind(")") + 2 :].startswith(("Z", "X")):
            return False  # a zombie has exited; only its parent has not reaped it yet
    except OSError:
        return True
    return start is None or process_start(pid) in (None, start)


def host_name() -> str:
    """This host's name with every character but letters, digits and '-' replaced by '-', so
    that it can be part of a file name and split back out of it."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def owner_tag() -> str:
    """``host_pid_start`` of this process: names a file or folder after its owner."""
    pid = os.getpid()
    return f"{host_name()}_{pid}_{process_start(pid) or 0}"


def owner_alive(tag: str) -> bool | None:
    """Whether the owner named by an :func:`owner_tag` is alive: None when the tag is not one,
    or names another host (whose processes cannot be seen from here)."""
    parts = tag.rsplit("_", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    host, pid, start = parts
    if host != host_name():
        return None
    return process_alive(int(pid), None if start == "0" else start)
