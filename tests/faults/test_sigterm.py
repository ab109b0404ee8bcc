"""SIGTERM (the app's Cancel, `kill`, a scheduler's time limit) during a command that builds a
folder: the command says what it did with its half-built files and leaves none behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atwu.prepare.job_progress import PROGRESS_DIR

REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_sigterm_during_prepare_removes_its_half_built_folder(tmp_path):
    out = tmp_path / "bench"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ATWU_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "atwu", "prepare", "--out", str(out), "--authors", "20"]
    prepare = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:

        def partials() -> list[Path]:
            return [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]

        # the hidden folder exists and a model worker has trained its first step in it
        def training() -> bool:
            return any(any((p / PROGRESS_DIR).glob("*.json")) for p in partials())

        assert wait_for(training, 300), prepare.communicate(timeout=60)
        prepare.send_signal(signal.SIGTERM)
        _, err = prepare.communicate(timeout=60)
    finally:
        if prepare.poll() is None:
            prepare.kill()
    text = err.decode(errors="replace")
    assert prepare.returncode == 130, text[-2000:]
    assert "prepare stopped: its half-built folder was removed" in text
    assert partials() == [] and not out.exists()


def statuses(out: Path) -> list[dict]:
    found = []
    for path in out.rglob("status.json"):
        try:
            found.append({"path": path, **json.loads(path.read_text())})
        except (OSError, ValueError):
            continue  # being replaced at this instant
    return found


FRONTIER = ["--steps", "400", "--executor", "local"]
TINY = ["--method", "graddiff", "--steps", "400", "--checkpoint-every", "100", "--no-eval"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["sweep", *TINY, "--grid", "alpha=0.5,1", "--executor", "local"],
        ["sweep", *TINY, "--grid", "alpha=0.5,1", "--executor", "ray", "--max-concurrent", "1"],
        ["frontier", "--variants", "atwu,uniform", "--strengths", "1", "--seeds", "1", *FRONTIER],
        ["reproduce", "--quick", "--seeds", "1", "--executor", "local"],
    ],
    ids=["sweep-local", "sweep-ray", "frontier", "reproduce"],
)
def test_sigterm_stops_the_whole_command_and_every_run_says_cancelled(
    small_benchmark, tmp_path, command
):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("RAY_ADDRESS", None)
    driver = subprocess.Popen(
        [sys.executable, "-m", "atwu", *command, "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        started = wait_for(lambda: any(s.get("state") == "running" for s in statuses(out)), 300)
        assert started, driver.communicate(timeout=60)
        time.sleep(2)
        driver.send_signal(signal.SIGTERM)
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    text = err.decode(errors="replace")
    assert driver.returncode == 130, text[-3000:]
    assert "stopped: the runs in flight were cancelled" in text
    states = {str(s["path"].parent.name): s.get("state") for s in statuses(out)}
    assert "cancelled" in states.values() and "running" not in states.values(), states
    assert not list(out.rglob(".state.partial")) and not list(out.rglob("lease.json"))
