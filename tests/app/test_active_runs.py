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
