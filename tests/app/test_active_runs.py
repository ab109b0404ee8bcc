"""The Run page's Active runs, without Streamlit: the state each run is shown in (a dead process
is a failure, whatever its status says), which log is shown, and whether the list polls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atwu.app import jobs
from atwu.app.active_runs import (
    ActiveRun,
    active_runs,
    any_live,
    default_watch,
    reconciled_state,
)
from atwu.app.polling import POLL_SECONDS, poll_interval, polling_should_stop
from atwu.io import atomic_write_json
from atwu.runs.read import RunInfo
from atwu.runs.status import utc_now

LIVE_PID, DEAD_PID = 4242, 4343


def _alive(pid: int | None) -> bool:
    return pid == LIVE_PID


def _run_dir(root: Path, name: str, state: str | None, *, pid: int | None = None) -> Path:
    """A run directory with a config and, unless ``state`` is None, a status."""
    d = root / name
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"method": "wga", "seed": 0}))
    if state is not None:
        status = {"state": state, "message": f"{state} message", "step": 5, "total_steps": 20}
        if state == "running":
            status["heartbeat_at"] = utc_now()
        if pid is not None:
            status["pid"] = pid
        (d / "status.json").write_text(json.dumps(status))
    return d


def _launched(run_dir: Path, pid: int) -> None:
    log = jobs.log_path_for(run_dir.parent, run_dir.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ python -m atwu run\nlast words of {run_dir.name}\n")
    jobs.record_launch(run_dir, pid=pid, argv=["python", "-m", "atwu"], log_path=log)


def _info(state: str | None, pid: int | None = None) -> RunInfo:
    status = {} if state is None else {"state": state, **({"pid": pid} if pid else {})}
    return RunInfo(Path("r"), "r", {"method": "atwu"}, status, [])


@pytest.mark.parametrize(
    ("info", "record", "alive", "state"),
    [
        (_info("running", LIVE_PID), {"pid": LIVE_PID}, True, "running"),
        # the process is gone without saying so: failed, not running
        (_info("running", DEAD_PID), {"pid": DEAD_PID}, False, "failed"),
        (_info("queued"), {"pid": DEAD_PID}, False, "failed"),
        # a run started from the command line (no launch record) keeps its status
        (_info("running", DEAD_PID), {}, False, "running"),
        (_info("done", DEAD_PID), {"pid": DEAD_PID}, False, "done"),
        (_info("cancelled"), {"pid": DEAD_PID}, False, "cancelled"),
        # no status yet: queued while the process lives, failed once it is gone
        (_info(None), {"pid": LIVE_PID}, True, "queued"),
        (_info(None), {"pid": DEAD_PID}, False, "failed"),
        (None, {"pid": DEAD_PID}, False, "failed"),
    ],
)
def test_reconciled_state(info, record, alive, state):
    assert reconciled_state(info, record, alive) == state


def test_active_runs_lists_launches_and_live_command_line_runs(tmp_path):
    root = tmp_path / "runs"
    live = _run_dir(root, "live", "running", pid=LIVE_PID)
    _launched(live, LIVE_PID)
    died = _run_dir(root, "died", "running", pid=DEAD_PID)
    _launched(died, DEAD_PID)
    never = root / "never-started"  # launched, died before writing anything
    _launched(never, DEAD_PID)
    _run_dir(root, "cli-running", "running", pid=LIVE_PID)
    _run_dir(root, "cli-done", "done")  # ended runs not launched from here are not listed

    runs = {r.name: r for r in active_runs(root, alive=_alive)}

    assert set(runs) == {"live", "died", "never-started", "cli-running"}
    assert runs["live"].state == "running" and runs["live"].live
    assert runs["live"].progress == pytest.approx(0.25)
    assert runs["live"].progress_text.startswith("step 5/20 · running message")
    assert runs["live"].log == jobs.log_path_for(root, "live")  # shown in the Log expander
    assert runs["died"].state == "failed" and not runs["died"].live
    assert runs["died"].failure == "running message"
    assert "last words of died" in jobs.log_tail(runs["died"].log)
    assert runs["never-started"].state == "failed"
    assert runs["never-started"].failure == "the process ended before writing its status"
    assert runs["never-started"].progress is None and not runs["never-started"].has_dir
    assert runs["cli-running"].log is None  # no launch record, no log of the app's
    assert runs["cli-running"].method == "wga"


def test_a_failed_run_without_a_record_log_shows_the_apps_log_path(tmp_path):
    root = tmp_path / "runs"
    d = _run_dir(root, "failed", "failed")
    # a launch record without a log (written by an older app)
    atomic_write_json(jobs.launch_record_path(d), {"run_dir": str(d), "pid": DEAD_PID})
    (line,) = active_runs(root, alive=_alive)
    assert line.state == "failed"
    assert line.log == jobs.log_path_for(root, "failed")


def test_poll_only_while_something_is_live():
    done = ActiveRun(Path("a"), "done")
    failed = ActiveRun(Path("b"), "failed")
    queued = ActiveRun(Path("c"), "queued")
    running = ActiveRun(Path("d"), "running")
    assert poll_interval(any_live([])) is None
    assert poll_interval(any_live([done, failed])) is None
    assert poll_interval(any_live([done, queued])) == POLL_SECONDS
    assert poll_interval(any_live([running])) == POLL_SECONDS
    # a list drawn with a timer that finds nothing live redraws the page (to drop the timer);
    # one drawn without a timer never does, and one with live runs keeps polling
    assert polling_should_stop(POLL_SECONDS, live_now=False)
    assert not polling_should_stop(None, live_now=False)
    assert not polling_should_stop(POLL_SECONDS, live_now=True)


def test_default_watch_prefers_a_live_run_with_a_directory(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    gone = ActiveRun(tmp_path / "gone", "running")
    done = ActiveRun(tmp_path / "a", "done")
    running = ActiveRun(tmp_path / "b", "running")
    assert default_watch([gone, done, running]) == "b"
    assert default_watch([gone, done]) == "a"
    assert default_watch([gone]) is None


# --- sweeps launched from the app, and which run the live curves follow -----------------------


def _sweep(root: Path, name: str, pid: int, counts: dict | None) -> Path:
    """A sweep launched from the app: its launch record, and its sweep.json once it wrote one."""
    d = root / name
    d.mkdir(parents=True)
    jobs.record_launch(d, pid=pid, argv=["python", "-m", "atwu", "sweep"], log_path=root / "s.log")
    if counts is not None:
        atomic_write_json(
            d / "sweep.json", {"executor": "ray", "spec": {"method": "wga"}, "counts": counts}
        )
    return d


def test_a_sweep_is_one_line_with_its_runs_and_progress_from_sweep_json(tmp_path):
    d = _sweep(tmp_path, "wga-sweep-1", LIVE_PID, {"total": 2, "done": 1, "failed": 0})
    _run_dir(d, "wga-beta1-s0", "done")
    _run_dir(d, "wga-beta5-s0", "running", pid=LIVE_PID)
    (line,) = active_runs(tmp_path, alive=_alive)
    assert line.is_sweep and line.live and line.state == "running" and line.method == "wga"
    assert [r.name for r in line.runs] == ["wga-sweep-1/wga-beta1-s0", "wga-sweep-1/wga-beta5-s0"]
    assert line.progress == pytest.approx((1.0 + 5 / 20) / 2)
    assert line.progress_text.startswith("1 of 2 runs done") and "(ray)" in line.progress_text


@pytest.mark.parametrize(
    ("pid", "counts", "state"),
    [
        (LIVE_PID, None, "queued"),  # planning, starting the executor
        (DEAD_PID, None, "failed"),  # died before it wrote sweep.json
        (DEAD_PID, {"total": 2, "done": 2}, "done"),
        (DEAD_PID, {"total": 2, "done": 1, "failed": 1}, "failed"),
        (DEAD_PID, {"total": 2, "done": 1, "pending": 1}, "cancelled"),
    ],
)
def test_a_sweeps_state(tmp_path, pid, counts, state):
    _sweep(tmp_path, "s", pid, counts)
    (line,) = active_runs(tmp_path, alive=_alive)
    assert line.state == state


def test_live_curves_follow_the_runs_just_launched(tmp_path):
    from atwu.app.active_runs import watch_choice

    old = _run_dir(tmp_path, "atwu-old", "done")
    _launched(old, DEAD_PID)
    runs = active_runs(tmp_path, alive=_alive)
    assert watch_choice(runs, "atwu-old", []) == "atwu-old"
    fresh = _run_dir(tmp_path, "wga-new", "running", pid=LIVE_PID)
    _launched(fresh, LIVE_PID)
    sweep = _sweep(tmp_path, "tnpo-sweep", LIVE_PID, {"total": 1})
    _run_dir(sweep, "tnpo-default-s0", "running", pid=LIVE_PID)
    runs = active_runs(tmp_path, alive=_alive)
    # the user watched the old run; a launch moves the curves to what was just launched
    assert watch_choice(runs, "atwu-old", ["wga-new"]) == "wga-new"
    assert watch_choice(runs, "atwu-old", ["tnpo-sweep"]) == "tnpo-sweep/tnpo-default-s0"
    # one of the launched runs is watched: the choice stays
    assert watch_choice(runs, "wga-new", ["wga-new", "tnpo-sweep"]) == "wga-new"
    assert watch_choice(runs, "gone", []) == default_watch(runs)
