"""SIGTERM (the app's Cancel, `kill`, a scheduler's time limit) during a command that builds a
folder: the command says what it did with its half-built files and leaves none behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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

        # the hidden folder exists and the model workers have started filling it
        assert wait_for(lambda: bool(partials()), 120), prepare.communicate(timeout=60)
        time.sleep(3)
        prepare.send_signal(signal.SIGTERM)
        _, err = prepare.communicate(timeout=60)
    finally:
        if prepare.poll() is None:
            prepare.kill()
    text = err.decode(errors="replace")
    assert prepare.returncode == 130, text[-2000:]
    assert "prepare stopped: its half-built folder was removed" in text
    assert partials() == [] and not out.exists()
