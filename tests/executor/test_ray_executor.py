"""The Ray backend on this machine: a sweep through Ray started in-process, a worker killed in the
middle of a run (retried, resumed from its checkpoint, same final metrics), and a driver killed in
the middle of a sweep (the same command again finishes it, finished runs untouched)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from atwu import cli
from atwu.config import RunConfig, TrainSettings
from atwu.executor import RunSpec, make_executor
from atwu.io import read_json, read_jsonl
from atwu.runs.lease import LEASE, process_alive
from atwu.runs.read import read_run, read_weights

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TINY = ["--method", "graddiff", "--steps", "6", "--checkpoint-every", "2", "--no-eval"]


@pytest.fixture(scope="module", autouse=True)
def ray_here(small_benchmark):
    """One Ray instance, started as the executor starts it, for this module's executors (which
    use a running Ray and leave it running): its warm workers save seconds per test."""
    executor = make_executor("ray")
    executor.start()
    yield
    executor.close()


def status_of(run_dir: Path) -> dict:
    try:
        return read_json(run_dir / "status.json")
    except (FileNotFoundError, ValueError):
        return {}


def without_clock(rows: list[dict]) -> list[dict]:
    return [
        {k: v for k, v in r.items() if "seconds" not in k and not k.endswith("_at")} for r in rows
    ]


def test_a_four_run_sweep_on_local_ray_writes_four_complete_runs(small_benchmark, tmp_path):
    out = tmp_path / "sweep"
    grid = ["--grid", "alpha=0.5,1", "--seeds", "2"]
    assert cli.main(["sweep", *TINY, *grid, "--out", str(out)]) == 0  # Ray: the default
    record = read_json(out / "sweep.json")
    assert record["executor"] == "ray"
    assert record["counts"] == {"total": 4, "pending": 0, "done": 4, "failed": 0, "cancelled": 0}
    for run in record["runs"]:
        info = read_run(out / run["name"])
        assert info.state == "done" and not info.problems
        assert [r["step"] for r in read_jsonl(out / run["name"] / "train_log.jsonl")] == [
            1,
            2,
            3,
            4,
            5,
            6,
        ]
        assert sorted(read_weights(out / run["name"])["step"].unique()) == [0, 2, 4, 6]
        assert (out / run["name"] / "model").is_dir()
        assert not (out / run["name"] / LEASE).exists()
        assert run["node"] and run["exit_code"] == 0


def test_a_killed_worker_is_retried_and_its_run_resumes_with_the_same_final_metrics(
    small_benchmark, tmp_path
):
    config = RunConfig(
        method="graddiff",
        quick=True,  # full evaluation at steps 0 and 30, the final metrics compared below
        train=TrainSettings(steps=30, checkpoint_every=10, record_examples=8),
    )
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    victims: list[int] = []
    ended = threading.Event()

    def kill_between_checkpoints() -> None:
        while not ended.is_set() and not victims:
            status = status_of(killed)
            if status.get("state") == "running" and 12 <= status.get("step", 0) <= 17:
                victims.append(status["pid"])
                os.kill(status["pid"], signal.SIGKILL)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_between_checkpoints, daemon=True)
    killer.start()
    try:
        with make_executor("ray", max_retries=1) as executor:
            [outcome] = executor.run([RunSpec(config, killed)])
    finally:
        ended.set()
        killer.join()
    assert victims and victims[0] != os.getpid(), "the run's worker was never killed"
    assert outcome.state == "done", outcome.message
    assert outcome.resumed  # from the checkpoint of step 10, not from step 0
    assert status_of(killed)["pid"] != victims[0]

    with make_executor("local") as executor:
        [plain] = executor.run([RunSpec(config, reference)])
    assert plain.state == "done" and not plain.resumed
    assert without_clock(read_jsonl(killed / "train_log.jsonl")) == without_clock(
        read_jsonl(reference / "train_log.jsonl")
    )
    final_killed, final_reference = (read_jsonl(d / "eval.jsonl")[-1] for d in (killed, reference))
    assert final_killed["step"] == final_reference["step"] == 30
    assert without_clock([final_killed]) == without_clock([final_reference])
    pd.testing.assert_frame_equal(read_weights(killed), read_weights(reference))


def test_killing_the_driver_mid_sweep_then_rerunning_finishes_it_leaving_done_runs_untouched(
    small_benchmark, tmp_path
):
    out = tmp_path / "sweep"
    command = [
        "sweep",
        "--method",
        "graddiff",
        "--steps",
        "120",  # long enough to be killed in the middle (its worker outlives the driver by ~3 s)
        "--checkpoint-every",
        "10",
        "--no-eval",
        "--grid",
        "alpha=0.5,1",
        "--max-concurrent",
        "1",
        "--out",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with open(tmp_path / "driver.log", "wb") as log:
        driver = subprocess.Popen(
            [sys.executable, "-m", "atwu", *command],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline, interrupted = time.time() + 300, None
        while interrupted is None and time.time() < deadline:
            assert driver.poll() is None, (tmp_path / "driver.log").read_text()[-3000:]
            record = read_json(out / "sweep.json") if (out / "sweep.json").is_file() else {}
            for run in record.get("runs", []) if record.get("counts", {}).get("done") else []:
                if run["state"] == "pending" and status_of(out / run["name"]).get("step", 0) >= 12:
                    interrupted = run["name"]  # the next run, past its first checkpoint
            time.sleep(0.05)
        assert interrupted, "the sweep never got past its first run"
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    status = status_of(out / interrupted)
    assert status["state"] == "running" and status["step"] < 120
    worker = status["pid"]
    deadline = time.time() + 60
    while process_alive(worker) and time.time() < deadline:  # Ray ends the job's workers
        time.sleep(0.2)
    assert not process_alive(worker), "the dead driver's worker lives on"
    record = read_json(out / "sweep.json")
    done = [r["name"] for r in record["runs"] if r["state"] == "done"]
    assert done and interrupted not in done
    before = {
        name: sorted((p, p.stat().st_mtime_ns) for p in (out / name).rglob("*")) for name in done
    }

    assert cli.main(command) == 0
    record = read_json(out / "sweep.json")
    assert [r["state"] for r in record["runs"]] == ["done", "done"]
    for name in done:  # untouched: same files, same timestamps
        assert sorted((p, p.stat().st_mtime_ns) for p in (out / name).rglob("*")) == before[name]
    resumed = next(r for r in record["runs"] if r["name"] == interrupted)
    assert resumed["resumed"] is True
    assert status_of(out / interrupted)["step"] == 120
