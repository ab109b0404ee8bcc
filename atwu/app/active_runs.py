"""The Run page's "Active runs": which runs to list, what state each is really in, which log to
show (whether it polls: :mod:`atwu.app.polling`).

A run's ``status.json`` can lie: a process killed without warning leaves ``running`` behind. The
launch record (:mod:`atwu.app.jobs`) keeps the pid, so a launched run whose process is gone is
reported failed, and a launched run that died before writing its status shows its log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atwu.app import jobs
from atwu.app.run_list import progress_of
from atwu.runs.layout import STATUS
from atwu.runs.read import RunDirError, RunInfo, read_run

LIVE_STATES = ("queued", "running")
FAILED_LOG_LINES, LOG_LINES = 12, 15


@dataclass(frozen=True)
class ActiveRun:
    """One line of the Active runs list."""

    path: Path
    state: str
    method: str = "?"
    progress: float | None = None
    """Fraction of steps done; None before the run wrote its status."""
    progress_text: str = ""
    failure: str = ""
    """For a failed run: why (its status message, or that it ended before writing one)."""
    log: Path | None = None
    """The log to show: a failed run's (where the app put it), else the launch record's."""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def has_dir(self) -> bool:
        """Whether the run directory exists (its curves can be drawn)."""
        return self.path.is_dir()


def reconciled_state(info: RunInfo | None, record: dict[str, Any], alive: bool) -> str:
    """The state to show, given the run's status (None: no readable directory), its launch
    record (empty for a run started from the command line) and whether its process lives."""
    has_status = info is not None and bool(info.status)
    if info is not None and has_status:
        state = info.state
    else:
        state = "queued" if alive else "failed"
    pid = _pid(info, record)
    if state in LIVE_STATES and not alive and pid and record:
        return "failed"  # the process is gone without saying so
    return state


def _pid(info: RunInfo | None, record: dict[str, Any]) -> int | None:
    return (info.status.get("pid") if info and info.status else None) or record.get("pid")


def _read(path: Path) -> RunInfo | None:
    try:
        return read_run(path) if path.is_dir() else None
    except RunDirError:  # removed between the listing and the read
        return None


def _progress_text(info: RunInfo) -> str:
    device = (info.config.get("resolved") or {}).get("device", "?")
    return (
        f"step {info.status.get('step', 0)}/{info.status.get('total_steps', '?')}"
        f" · {info.status.get('message', '')}"
        f" · device {device}"
    )


def active_run(
    path: Path,
    record: dict[str, Any],
    runs_dir: Path,
    *,
    alive: Callable[[int | None], bool] = jobs.is_alive,
) -> ActiveRun:
    """What the list says about one run directory (``record``: its launch record, or empty)."""
    info = _read(path)
    state = reconciled_state(info, record, alive(_pid(info, record)))
    has_status = info is not None and bool(info.status)
    failure, log = "", Path(record["log"]) if record.get("log") else None
    if state == "failed":
        message = info.status.get("message") if info is not None and has_status else ""
        failure = message or "the process ended before writing its status"
        log = log or jobs.log_path_for(runs_dir, path.name)
    return ActiveRun(
        path=path,
        state=state,
        method=info.method if info is not None else "?",
        progress=progress_of(info) if info is not None and has_status else None,
        progress_text=_progress_text(info) if info is not None and has_status else "",
        failure=failure,
        log=log,
    )


def active_runs(
    runs_dir: Path, *, alive: Callable[[int | None], bool] = jobs.is_alive
) -> list[ActiveRun]:
    """Runs launched from the app into ``runs_dir`` (newest first, until cleared), then runs
    started from the command line into it that are still queued or running."""
    records = {Path(rec["run_dir"]): rec for rec in jobs.list_launches(runs_dir)}
    listed = [active_run(path, rec, runs_dir, alive=alive) for path, rec in records.items()]
    if runs_dir.is_dir():
        for child in sorted(runs_dir.iterdir()):
            if child in records or not (child / STATUS).is_file():
                continue
            line = active_run(child, {}, runs_dir, alive=alive)
            if line.live:
                listed.append(line)
    return listed


def any_live(runs: Iterable[ActiveRun]) -> bool:
    return any(r.live for r in runs)


def default_watch(runs: list[ActiveRun]) -> str | None:
    """The run whose curves are shown first: the first live one, else the first listed."""
    watchable = [r for r in runs if r.has_dir]
    live = [r for r in watchable if r.live]
    return (live or watchable)[0].name if watchable else None
