"""The same sweep started twice at once (two terminals, a double click in the app): one driver
runs it, the other is refused in one line naming the first; no run is written twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atwu import cli
from atwu.config import RunConfig
from atwu.errors import InputError
from atwu.executor.local import LocalExecutor
from atwu.executor.sweep import SWEEP_FILE, check_sweep_dir, parse_grid, plan_sweep, run_sweep
from atwu.io import read_json, read_jsonl
from atwu.runs.lease import LEASE, Lease

REPO = Path(__file__).resolve().parents[2]


def plan(out: Path):
    config = RunConfig(method="graddiff")
    return plan_sweep(config, parse_grid(["alpha=0.5,1"]), seeds=1, out=out)


def test_a_second_driver_of_a_running_sweep_is_refused_before_writing(tmp_path):
    sweep = plan(tmp_path / "sweep")
    first = Lease.acquire(sweep.root)  # the first driver, alive (this very process)
    try:
        check_sweep_dir(sweep)  # its lease alone does not make the folder "another sweep"
        with pytest.raises(InputError, match="this sweep is already running") as caught:
            run_sweep(sweep, LocalExecutor())
        assert str(sweep.root) in str(caught.value) and f"process {os.getpid()} " in str(
            caught.value
        )
        assert not (sweep.root / SWEEP_FILE).exists()
        assert [p.name for p in sweep.root.iterdir()] == [LEASE]
    finally:
        first.release()


def test_a_killed_drivers_sweep_lease_is_taken_over(tmp_path):
    sweep = plan(tmp_path / "sweep")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    sweep.root.mkdir(parents=True)
    import json
    import socket

    stale = {
        "host": socket.gethostname(),
        "pid": int(dead.stdout),
        "pid_start": None,
        "token": "x",
        "created_at": "2026-01-01T00:00:00+00:00",
        "heartbeat_at": "2026-01-01T00:00:00+00:00",
    }
    (sweep.root / LEASE).write_text(json.dumps(stale))
    lease = Lease.acquire(sweep.root)  # what run_sweep does first: the dead driver's is broken
    lease.release()
    assert not (sweep.root / LEASE).exists()


@pytest.mark.slow
def test_two_identical_sweeps_at_once_one_runs_the_other_is_refused(
    small_benchmark, tmp_path, capsys
):
    out = tmp_path / "sweep"
    argv = ["sweep", "--method", "graddiff", "--steps", "60", "--checkpoint-every", "20"]
    argv += ["--no-eval", "--grid", "alpha=0.5,1", "--executor", "local", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.Popen(
        [sys.executable, "-m", "atwu", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while not (out / SWEEP_FILE).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (out / SWEEP_FILE).exists(), first.communicate(timeout=60)
        assert first.poll() is None, "the first sweep ended before the second could start"
        rc = cli.main(argv)
        err = capsys.readouterr().err
        assert rc == 2 and "this sweep is already running" in err and f"process {first.pid} " in err
        first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0
    record = read_json(out / SWEEP_FILE)
    assert record["counts"]["done"] == 2
    for run in record["runs"]:  # each run written once: one line per step, in order
        steps = [r["step"] for r in read_jsonl(out / run["name"] / "train_log.jsonl")]
        assert steps == list(range(1, 61))
