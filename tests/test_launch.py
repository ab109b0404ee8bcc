"""atwu.launch: the app's way to start, watch and cancel CLI commands in the background."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from atwu.app import jobs as L
from atwu.config import RunConfig
from atwu.run_flags import run_argv


def _wait(predicate, timeout: float = 180.0, every: float = 0.3) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


def _state(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "status.json").read_text())["state"]
    except (OSError, ValueError, KeyError):
        return None


def _config(method: str, benchmark: Path, *, steps: int, checkpoint_every: int) -> RunConfig:
    """A run of ``steps`` steps on ``benchmark`` without evaluation."""
    cfg = RunConfig(method=method, benchmark=str(benchmark), evaluate=False)
    cfg.train.steps, cfg.train.epochs, cfg.train.checkpoint_every = steps, None, checkpoint_every
    return cfg


def test_cli_command_runs_this_interpreter():
    assert L.cli_command(["list"]) == [sys.executable, "-m", "atwu", "list"]


def test_fresh_run_dir_never_reuses_a_name(tmp_path):
    first = L.fresh_run_dir(tmp_path, "atwu s0/../x")
    assert first.parent == tmp_path and first.name not in ("", ".", "..")
    assert first.is_dir() and not any(first.iterdir())  # claimed (created), empty
    second = L.fresh_run_dir(tmp_path, "atwu s0/../x")  # the same name again: another directory
    assert second != first and second.name == f"{first.name}-2" and second.is_dir()
    L.record_launch(tmp_path / "queued", pid=1, argv=[], log_path=tmp_path / "l")
    assert L.fresh_run_dir(tmp_path, "queued").name == "queued-2"


def test_launch_refuses_an_existing_run_and_out_in_args(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.json").write_text("{}")
    with pytest.raises(L.LaunchError):
        L.launch_run(["run", "--method", "atwu"], tmp_path / "r", tmp_path / "log")
    with pytest.raises(L.LaunchError):
        L.launch_run(["run", "--out", "x"], tmp_path / "s", tmp_path / "log")


def test_log_tail_keeps_the_last_state_of_progress_bars(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("start\n 10%\r 50%\r100%\nend\n")
    assert L.log_tail(log, 2) == "100%\nend"
    assert L.log_tail(tmp_path / "missing.log") == ""


def test_is_alive_and_reaping(tmp_path):
    assert not L.is_alive(None) and not L.is_alive(0)
    pid = L._spawn([sys.executable, "-c", "pass"], tmp_path / "log")
    assert _wait(lambda: not L.is_alive(pid), 30)
    assert L.exit_code(pid) == 0
    assert L.is_alive(os.getpid())


def test_cancel_of_ended_or_unknown_runs_sends_nothing(tmp_path):
    run = tmp_path / "done"
    run.mkdir()
    (run / "status.json").write_text(json.dumps({"state": "done", "pid": os.getpid()}))
    result = L.cancel_run(run)
    assert not result.sent and "ended" in result.message
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not L.cancel_run(empty).sent
    # a recorded pid that is not running
    (run / "status.json").write_text(json.dumps({"state": "running", "pid": 999_999_999}))
    assert "not running" in L.cancel_run(run).message


def test_prepare_status_reads_the_job(tmp_path):
    assert L.prepare_status(tmp_path / "none.json") is None
    job = tmp_path / "job.json"
    out = tmp_path / "bench"
    job.write_text(
        json.dumps(
            {
                "pid": 999_999_999,
                "progress": str(tmp_path / "p.json"),
                "log": str(tmp_path / "l.log"),
                "out": str(out),
            }
        )
    )
    (tmp_path / "p.json").write_text(json.dumps({"message": "trained model full", "fraction": 0.5}))
    status = L.prepare_status(job)
    assert status["state"] == "failed" and status["fraction"] == 0.5
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    assert L.prepare_status(job)["state"] == "done"


@pytest.mark.slow
def test_launch_a_run_and_watch_it_finish(small_benchmark, tmp_path):
    out = tmp_path / "runs" / "quick"
    log = L.log_path_for(tmp_path / "runs", "quick")
    pid = L.launch_run(
        run_argv(_config("wga", small_benchmark, steps=2, checkpoint_every=2)),
        out,
        log,
    )
    assert pid > 0
    record = L.read_launch(out)
    assert record["pid"] == pid and record["argv"][-2:] == ["--out", str(out)]
    assert [r["run_dir"] for r in L.list_launches(tmp_path / "runs")] == [str(out)]
    assert _wait(lambda: not L.is_alive(pid)), L.log_tail(log)
    assert _state(out) == "done", L.log_tail(log)
    assert (out / "weights.parquet").is_file()
    assert "finished" in L.log_tail(log) and "$ " in log.read_text().splitlines()[0]
    L.forget_launch(out)
    assert L.list_launches(tmp_path / "runs") == []


@pytest.mark.slow
def test_cancel_a_running_run(small_benchmark, tmp_path):
    out = tmp_path / "runs" / "long"
    pid = L.launch_run(
        run_argv(_config("atwu", small_benchmark, steps=5000, checkpoint_every=5000)),
        out,
        tmp_path / "long.log",
    )
    assert _wait(lambda: _state(out) == "running"), L.log_tail(tmp_path / "long.log")
    result = L.cancel_run(out)
    assert result.sent, result.message
    assert _wait(lambda: not L.is_alive(pid), 60)
    assert _state(out) == "cancelled"
    assert L.exit_code(pid) == 130
    assert not L.cancel_run(out).sent


@pytest.mark.slow
def test_a_launch_that_fails_at_once_leaves_its_reason_in_the_log(tmp_path):
    out = tmp_path / "runs" / "bad"
    log = tmp_path / "bad.log"
    pid = L.launch_run(["run", "--method", "no-such-method"], out, log)
    assert _wait(lambda: not L.is_alive(pid), 60)
    assert L.exit_code(pid) == 2
    assert "unknown method" in L.log_tail(log)
