"""One writer per run directory: a lease file (``RUN/lease.json``) held for the run's life.

The lease names its holder (host, pid and the pid's start time, a random token) and carries a
heartbeat that a daemon thread refreshes every :data:`~atwu.runs.status.HEARTBEAT_EVERY_S`. It is
created with ``O_CREAT | O_EXCL``, so of two processes starting in the same directory exactly one
gets it; the other is refused with a message naming the holder.

A lease is *stale*, and may be taken over, when its heartbeat is older than
:data:`~atwu.runs.status.STALE_AFTER_S`, or when its holder ran on this host and that process is
gone. That is how ``run --resume`` (and a retry of a run whose worker died, which resumes) gets a
directory back after a kill, while a second writer into a live run is refused. Heartbeats are
compared across hosts, so the nodes of a cluster need synchronised clocks (NTP), as they do for
the run's status heartbeat.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from atwu.errors import InputError
from atwu.io import atomic_write_json, dumps, read_json
from atwu.process import process_alive, process_start
from atwu.runs.status import HEARTBEAT_EVERY_S, STALE_AFTER_S, parse_time, utc_now

LEASE = "lease.json"
# an unreadable lease is one cut between its creation and its first write (a kill in that
# instant); a live creator finishes the write within this many seconds
UNREADABLE_GRACE_S = 10.0


class LeaseHeld(InputError):
    """Another live process holds the run directory's lease."""


@dataclass(frozen=True)
class LeaseInfo:
    """What a lease file says about its holder."""

    host: str
    pid: int
    pid_start: str | None  # the process's start time (Linux /proc), against pid reuse
    token: str
    created_at: str
    heartbeat_at: str

    def heartbeat_age_s(self, now: dt.datetime | None = None) -> float:
        beat = parse_time(self.heartbeat_at)
        if beat is None or beat.tzinfo is None:
            return float("inf")
        return ((now or dt.datetime.now(dt.UTC)) - beat).total_seconds()

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        if self.heartbeat_age_s(now) > STALE_AFTER_S:
            return True
        return self.host == socket.gethostname() and not process_alive(self.pid, self.pid_start)

    def describe(self, now: dt.datetime | None = None) -> str:
        if self.pid < 0:
            return "another process (its lease is being written)"
        age = self.heartbeat_age_s(now)
        beat = "no heartbeat" if age == float("inf") else f"heartbeat {max(age, 0):.0f} s ago"
        return f"process {self.pid} on {self.host} ({beat})"


def read_lease(run_dir: str | Path) -> LeaseInfo | None:
    """The lease of ``run_dir``, or None when there is none (or it is unreadable)."""
    return _read_lease_file(Path(run_dir) / LEASE)


def _read_lease_file(path: Path) -> LeaseInfo | None:
    try:
        data = read_json(path)  # size-checked: a lease is a few hundred bytes
        return LeaseInfo(**{k: data[k] for k in LeaseInfo.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_holder(run_dir: str | Path) -> LeaseInfo | None:
    """The live holder of ``run_dir``'s lease, or None when it is free or stale."""
    path = Path(run_dir) / LEASE
    info = read_lease(run_dir)
    if info is None:
        if path.is_file() and _age_s(path) < UNREADABLE_GRACE_S:
            return LeaseInfo("?", -1, None, "", "", "")  # being written right now
        return None
    return None if info.is_stale() else info


def held_message(run_dir: str | Path, holder: LeaseInfo) -> str:
    return (
        f"{run_dir} is being written by {holder.describe()}; wait for that run to end or cancel "
        "it (a killed run's directory is freed once its heartbeat is "
        f"{int(STALE_AFTER_S)} s old, or at once on the same host)"
    )


def wait_until_free(
    run_dir: str | Path, *, timeout_s: float, poll_s: float = 1.0
) -> LeaseInfo | None:
    """Wait for a lease held on another host to go stale (its node may have died).

    Returns None once the lease is free or stale, or its holder when that holder is alive: a
    heartbeat that advances while we watch, or one still fresh after ``timeout_s``.
    """
    first = live_holder(run_dir)
    deadline = time.monotonic() + timeout_s
    while first is not None and time.monotonic() < deadline:
        time.sleep(poll_s)
        now = live_holder(run_dir)
        if now is None:
            return None
        if now.token != first.token or now.heartbeat_at != first.heartbeat_at:
            return now  # a heartbeat came: the holder is alive
    return first


class Lease:
    """The lease of one run directory, held by this process: ``Lease.acquire(dir)`` ...
    ``release()``. A daemon thread refreshes its heartbeat until it is released."""

    def __init__(self, run_dir: Path, info: LeaseInfo):
        self.run_dir, self.info = run_dir, info
        self.path = run_dir / LEASE
        self.lost = False  # set when someone took the lease over (we were frozen for a minute)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def acquire(cls, run_dir: str | Path, *, heartbeat: bool = True) -> Lease:
        """Create ``run_dir`` if needed and take its lease, taking over a stale one.

        Raises :class:`LeaseHeld` when a live process holds it.
        """
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / LEASE
        for _ in range(5):
            now = utc_now()
            info = LeaseInfo(
                socket.gethostname(),
                os.getpid(),
                process_start(os.getpid()),
                uuid.uuid4().hex,
                now,
                now,
            )
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = live_holder(run_dir)
                if holder is not None:
                    raise LeaseHeld(held_message(run_dir, holder)) from None
                _break_stale(path)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(dumps(asdict(info), indent=2) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            lease = cls(run_dir, info)
            if heartbeat:
                lease._start_heartbeat()
            return lease
        raise LeaseHeld(f"{run_dir}: other processes keep taking its lease; try again")

    def refresh(self) -> bool:
        """Renew the heartbeat; False (and :attr:`lost`) when the lease is no longer ours."""
        current = read_lease(self.run_dir)
        if current is None or current.token != self.info.token:
            if not self.lost:
                print(f"warning: {self.run_dir}: this run lost its lease", file=sys.stderr)
            self.lost = True
            return False
        self.info = LeaseInfo(**{**asdict(self.info), "heartbeat_at": utc_now()})
        atomic_write_json(self.path, asdict(self.info))
        return True

    def release(self) -> None:
        """Stop the heartbeat and remove the lease file, if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        current = read_lease(self.run_dir)
        if current is not None and current.token == self.info.token:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def clear_directory(self) -> None:
        """Remove everything in the run directory but the lease (a run starting over)."""
        for child in self.run_dir.iterdir():
            if child.name == LEASE:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def _start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(HEARTBEAT_EVERY_S):
                try:
                    if not self.refresh():
                        return
                except OSError:
                    continue  # a shared file system's hiccup: try again at the next beat

        self._thread = threading.Thread(target=beat, name="atwu-lease", daemon=True)
        self._thread.start()

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _break_stale(path: Path) -> None:
    """Remove a stale lease so that it can be taken. Two processes may judge the same lease
    stale at once: each moves it aside under a unique name (only one rename finds it), and one
    that moved a lease that is fresh after all (a rival took it in between) puts it back."""
    judged = read_lease(path.parent)
    aside = path.with_name(f".{LEASE}.{uuid.uuid4().hex}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # a rival moved it first; the caller tries again
    moved = _read_lease_file(aside)
    if moved is not None and (judged is None or moved.token != judged.token):
        try:  # a rival's fresh lease: give it back, never over a third one
            os.link(aside, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.rename(aside, path)
    aside.unlink(missing_ok=True)


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")
