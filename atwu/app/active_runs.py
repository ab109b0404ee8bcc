"""The Run page's "Active runs": which runs to list, what state each is really in, which log to
show (whether it polls: :mod:`atwu.app.polling`).

A run's ``status.json`` can lie: a process killed without warning leaves ``running`` behind. The
launch record (:mod:`atwu.app.jobs`) keeps the pid, so a launched run whose process is gone is
reported failed, and a launched run that died before writing its status shows its log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atwu.app import jobs
from atwu.app.run_list import SWEEP_FILE, progress_of, time_left_text
from atwu.io import read_json
from atwu.runs.layout import STATUS
from atwu.runs.read import RunDirError, RunInfo, list_runs, read_run

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
    runs: tuple[ActiveRun, ...] = ()
    """For a sweep (``python -m atwu sweep``): its runs, each a line of its own."""
    listed_as: str = ""
    """The name the sidebar lists it under when that is not its directory's (a sweep's run:
    ``<sweep>/<run>``)."""

    @property
    def is_sweep(self) -> bool:
        return bool(self.runs) or (self.path / SWEEP_FILE).is_file()

    @property
    def name(self) -> str:
        return self.listed_as or self.path.name

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
    left = time_left_text(info)
    return (
        f"step {info.status.get('step', 0)}/{info.status.get('total_steps', '?')}"
        + (f" · {left}" if left else "")
        + f" · {info.status.get('message', '')}"
        + f" · device {device}"
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


def run_status(path: Path, runs_dir: Path) -> ActiveRun:
    """One run's state and progress as every part of the app shows it (the sidebar's caption
    and Home's card read this one source): its status file, reconciled with its launch
    record."""
    return active_run(path, jobs.read_launch(path) or {}, runs_dir)


def _is_sweep_launch(path: Path, record: dict[str, Any]) -> bool:
    argv = [str(a) for a in record.get("argv") or []]
    return (path / SWEEP_FILE).is_file() or ("-m" in argv and "sweep" in argv)


def sweep_state(counts: dict[str, Any], alive: bool, started: bool) -> str:
    """A sweep's state from its ``sweep.json`` counts and whether its process lives."""
    if alive:
        return "running" if started else "queued"
    total = int(counts.get("total") or 0)
    if not started or not total:
        return "failed"
    if counts.get("done", 0) == total:
        return "done"
    if counts.get("failed", 0):
        return "failed"
    return "cancelled"


def active_sweep(
    path: Path,
    record: dict[str, Any],
    runs_dir: Path,
    *,
    alive: Callable[[int | None], bool] = jobs.is_alive,
) -> ActiveRun:
    """One line for a sweep launched from the app: its state and progress from ``sweep.json``
    and its runs' status files, with a line per run."""
    try:
        sweep = read_json(path / SWEEP_FILE)
    except (OSError, ValueError):
        sweep = {}
    counts = sweep.get("counts") or {}
    live = alive(record.get("pid"))
    state = sweep_state(counts, live, bool(sweep))
    children = tuple(
        dataclasses.replace(
            active_run(r.path, {}, runs_dir, alive=alive), listed_as=f"{path.name}/{r.name}"
        )
        for r in (list_runs(path) if path.is_dir() else [])
    )
    total = int(counts.get("total") or 0)
    done_steps = sum(c.progress or 0.0 for c in children)
    text = (
        f"{counts.get('done', 0)} of {total} runs done"
        + (f" · {counts['failed']} failed" if counts.get("failed") else "")
        + f" · through the run executor ({sweep.get('executor', '?')})"
        if sweep
        else "planning the runs, starting the executor"
    )
    failure, log = "", Path(record["log"]) if record.get("log") else None
    if state == "failed":
        failure = "the sweep ended before it wrote sweep.json" if not sweep else "some runs failed"
        log = log or jobs.log_path_for(runs_dir, path.name)
    return ActiveRun(
        path=path,
        state=state,
        method=str((sweep.get("spec") or {}).get("method", "?")),
        progress=min(1.0, done_steps / total) if total else None,
        progress_text=text,
        failure=failure,
        log=log,
        runs=children,
    )


def active_runs(
    runs_dir: Path, *, alive: Callable[[int | None], bool] = jobs.is_alive
) -> list[ActiveRun]:
    """Runs and sweeps launched from the app into ``runs_dir`` (newest first, until cleared),
    then runs started from the command line into it that are still queued or running."""
    records = {Path(rec["run_dir"]): rec for rec in jobs.list_launches(runs_dir)}
    listed = [
        active_sweep(path, rec, runs_dir, alive=alive)
        if _is_sweep_launch(path, rec)
        else active_run(path, rec, runs_dir, alive=alive)
        for path, rec in records.items()
    ]
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


def watchable(runs: list[ActiveRun]) -> list[ActiveRun]:
    """The runs whose curves can be drawn: those with a directory, a sweep's runs in its
    place."""
    out: list[ActiveRun] = []
    for r in runs:
        out += [c for c in r.runs if c.has_dir] if r.is_sweep else ([r] if r.has_dir else [])
    return out


def default_watch(runs: list[ActiveRun]) -> str | None:
    """The run whose curves are shown first: the first live one, else the first listed."""
    shown = watchable(runs)
    live = [r for r in shown if r.live]
    return (live or shown)[0].name if shown else None


def watch_choice(runs: list[ActiveRun], current: str | None, launched: list[str]) -> str | None:
    """The run the live curves follow: one of those just ``launched`` (names of runs or sweeps,
    the live ones first) while ``current`` is not one of them; else ``current`` while it is
    listed; else :func:`default_watch`."""
    shown = watchable(runs)
    names = [r.name for r in shown]

    def launched_now(r: ActiveRun) -> bool:
        return any(r.name == n or r.name.startswith(f"{n}/") for n in launched)

    fresh = [r for r in shown if launched_now(r)]
    if fresh and (current is None or not any(r.name == current for r in fresh)):
        return ([r for r in fresh if r.live] or fresh)[0].name
    if current in names:
        return current
    return default_watch(runs)
