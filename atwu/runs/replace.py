"""Replacing a run directory (``run --overwrite``) without losing the old one on the way.

Only a directory that is a run is ever replaced (:func:`is_run_dir`); it is moved aside, whole,
to a hidden sibling ``.<name>.replaced-<time>-<token>`` while its lease is held (so a live run is
never moved), and removed only once a run at its place has finished (:func:`discard_replaced`).
A replacing run that fails, is cancelled or killed leaves the old one aside, where the message
says it is (the app and ``atwu list`` skip hidden folders).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

from atwu.io import read_json_object
from atwu.runs.layout import CONFIG, STATE_DIR, STATES, STATUS
from atwu.runs.lease import LEASE, Lease
from atwu.runs.status import WAITING

REPLACED = ".replaced-"


def is_run_dir(path: str | Path) -> bool:
    """Whether ``path`` holds a run: a status.json with a known state, a config.json naming a
    method and its training settings, a run lease or a saved state. A folder of other files (a
    project whose config.json is something else) is not one, and is never replaced."""
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / LEASE).is_file() or (path / STATE_DIR / "trainer.pt").is_file():
        return True
    try:
        status = read_json_object(path / STATUS)
        if status.get("state") in STATES:
            return True
    except (OSError, ValueError):
        pass
    try:
        config = read_json_object(path / CONFIG)
        return "method" in config and isinstance(config.get("train"), dict)
    except (OSError, ValueError):
        return False


def own_entries(path: str | Path) -> list[str]:
    """What ``path`` holds besides a run lease (a free one is no content), sorted; [] when it
    does not exist."""
    path = Path(path)
    if not path.is_dir():
        return []
    entries = sorted(child.name for child in path.iterdir() if child.name != LEASE)
    if entries and set(entries) <= {CONFIG, STATUS} and _waiting(path):
        return []  # a planned run's placeholder: the run it waits for starts here as if empty
    return entries


def _waiting(path: Path) -> bool:
    """``path`` holds a run planned but not started (:data:`atwu.runs.status.WAITING`)."""
    try:
        return bool(read_json_object(path / STATUS).get(WAITING))
    except (OSError, ValueError):
        return False


def set_aside(run_dir: str | Path) -> Path:
    """Move the run at ``run_dir`` to a hidden sibling and return where it went.

    Its lease is taken first, so a live run is refused (:class:`~atwu.runs.lease.LeaseHeld`)
    and no one starts in it while it moves; the lease goes with it and is then dropped.
    """
    run_dir = Path(run_dir)
    lease = Lease.acquire(run_dir, heartbeat=False)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    aside = run_dir.with_name(f".{run_dir.name}{REPLACED}{stamp}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(run_dir, aside)
    except BaseException:
        lease.release()
        raise
    (aside / LEASE).unlink(missing_ok=True)
    return aside


def put_back(aside: Path, run_dir: str | Path) -> bool:
    """Return a copy set aside to its place, when that place is free again (a replacing run
    refused before it wrote anything)."""
    run_dir = Path(run_dir)
    try:
        if run_dir.is_dir() and not own_entries(run_dir):
            shutil.rmtree(run_dir)
        os.rename(aside, run_dir)
    except OSError:
        return False
    return True


def replaced_copies(run_dir: str | Path) -> list[Path]:
    """The copies of earlier runs at ``run_dir`` set aside by ``--overwrite``, oldest first."""
    run_dir = Path(run_dir)
    prefix = f".{run_dir.name}{REPLACED}"
    if not run_dir.parent.is_dir():
        return []
    return sorted(p for p in run_dir.parent.iterdir() if p.name.startswith(prefix) and p.is_dir())


def discard_replaced(run_dir: str | Path) -> None:
    """Remove the copies set aside for ``run_dir``: a run there has finished, so they are
    superseded (called only then)."""
    for copy in replaced_copies(run_dir):
        shutil.rmtree(copy, ignore_errors=True)
