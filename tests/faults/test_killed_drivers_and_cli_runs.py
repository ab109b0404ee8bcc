"""Two faults a user meets without the app having caused them: a sweep driver killed (kill -9)
in its first second, and Cancel pressed in the app on a run that was started from a terminal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atwu import cli
from atwu.app import jobs
from atwu.executor.sweep import SWEEP_FILE
from atwu.io import read_json, read_jsonl

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _wait(predicate, timeout: float = 300.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _state(run: Path) -> str | None:
    try:
        return json.loads((run / "status.json").read_text())["state"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.mark.slow
def test_a_sweep_driver_killed_in_its_first_second_resumes_with_the_same_command(
    small_benchmark, tmp_path, capsys
):
    out = tmp_path / "sweep"
    argv = ["sweep", "--method", "graddiff", "--steps", "30", "--checkpoint-every", "10"]
    argv += ["--no-eval", "--grid", "alpha=0.5,1", "--executor", "local", "--out", str(out)]
    driver = subprocess.Popen(
        [sys.executable, "-m", "atwu", *argv],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # kill -9 as soon as the driver has claimed its folder (well inside its first second of
    # work: it has not finished importing torch yet, let alone trained), or after 1 s at most
    _wait(lambda: out.exists(), timeout=1.0)
    driver.send_signal(signal.SIGKILL)
    assert driver.wait(30) == -signal.SIGKILL
    # what the user does next: the same command again; the dead driver's claim is no obstacle
    assert cli.main(argv) == 0, capsys.readouterr().err
    record = read_json(out / SWEEP_FILE)
    assert record["counts"]["done"] == 2
    for run in record["runs"]:  # each run written once, every step once, in order
        steps = [r["step"] for r in read_jsonl(out / run["name"] / "train_log.jsonl")]
        assert steps == list(range(1, 31))


@pytest.mark.slow
def test_cancel_in_the_app_stops_a_run_started_from_a_terminal(small_benchmark, tmp_path):
    run = tmp_path / "from-terminal"
    argv = ["run", "--method", "atwu", "--benchmark", str(small_benchmark), "--steps", "5000"]
    argv += ["--checkpoint-every", "5000", "--no-eval", "--out", str(run)]
    terminal = subprocess.Popen(
        [sys.executable, "-m", "atwu", *argv],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own terminal, not a child of the app
    )
    try:
        assert _wait(lambda: _state(run) == "running"), "the run never reported running"
        assert jobs.read_launch(run) is None  # the app has no record of it
        result = jobs.cancel_run(run)
        assert result.sent, result.message
        assert terminal.wait(60) is not None
        assert _state(run) == "cancelled"
        status = read_json(run / "status.json")
        assert status["state"] == "cancelled" and status.get("message")
        assert not jobs.cancel_run(run).sent  # pressing it again sends nothing
    finally:
        if terminal.poll() is None:
            terminal.kill()
