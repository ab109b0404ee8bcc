"""Nothing lost after a kill -9 (issue 12): a real ``python -m atwu run`` killed at five points
of its life, each time resumed with ``--resume``, ends at the same final step with every
checkpoint evaluated once; and two writers started at once on one directory: one trains, the
other is refused naming the holder.

One run is killed again and again (each ``--resume`` is the next one killed) so that five kills
cost five process starts, not ten. Kills are timed by polling the files the run writes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import torch
from executor.test_lease import dead_pid, write_lease
from test_launch import _state, _wait

from atwu.app import jobs
from atwu.io import atomic_write_json, read_json
from atwu.runs.lease import LEASE
from atwu.train.state import COMPLETE, OLD, PARTIAL, TRAINER, recover_state

pytestmark = pytest.mark.slow

STEPS, EVERY = 8, 2
ARGS = ["run", "--steps", str(STEPS), "--checkpoint-every", str(EVERY)]


def start(out: Path, method: str = "graddiff", *extra: str) -> subprocess.Popen:
    """``python -m atwu run`` in the background, its output piped (read after it ends)."""
    return subprocess.Popen(
        jobs.cli_command([*ARGS, "--method", method, "--out", str(out), *extra]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when(proc: subprocess.Popen, ready, what: str, timeout: float = 120.0) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` holds (fail, with its output, if it never does)."""
    seen = _wait(lambda: ready() or proc.poll() is not None, timeout, every=0.02)
    if not seen or proc.poll() is not None:
        proc.kill()
        _out, err = proc.communicate()
        pytest.fail(f"the run never reached '{what}' (exit {proc.returncode}): {err[-2000:]}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]


def status(out: Path) -> dict:
    try:
        return read_json(out / "status.json")
    except (OSError, ValueError):
        return {}


def state_step(out: Path) -> int:
    """The step of the saved state ``state/`` (0: none yet)."""
    try:
        return int(read_json(out / "state" / COMPLETE)["step"])
    except (OSError, ValueError, KeyError):
        return 0


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def the_window_inside_save_state(out: Path) -> int:
    """What a kill between the two renames of ``save_state`` leaves, made from the real state
    at step s: a complete ``.state.partial`` (step s), ``.state.old`` (the state before it,
    step s - EVERY) and no ``state/``. Returns s."""
    recover_state(out)  # the kill may itself have landed inside a save: start from state/
    for leftover in (OLD, PARTIAL):
        shutil.rmtree(out / leftover, ignore_errors=True)
    step = state_step(out)
    assert step >= 2 * EVERY, f"the run had saved only step {step}"
    shutil.copytree(out / "state", out / OLD)
    older = torch.load(out / OLD / TRAINER, weights_only=True)
    older["step"] = step - EVERY
    torch.save(older, out / OLD / TRAINER)
    (out / OLD / COMPLETE).unlink()  # states were marked only while they were .state.partial
    os.replace(out / "state", out / PARTIAL)
    return step


def test_a_run_killed_at_five_points_resumes_to_the_same_end(small_benchmark, tmp_path):
    out = tmp_path / "run"

    # (a) while loading the model, before the first checkpoint
    proc = start(out)
    kill_when(proc, lambda: status(out).get("message") == "loading model", "loading model")
    assert not (out / "eval.jsonl").exists() and state_step(out) == 0

    # (b) mid-training, between checkpoints: after the first state was saved
    proc = start(out, "graddiff", "--resume")
    kill_when(proc, lambda: 2 * EVERY <= state_step(out) < STEPS, "a second checkpoint")
    assert _state(out) == "running"

    # (c) inside save_state, between its two renames; then (d) while evaluating a checkpoint
    saved = the_window_inside_save_state(out)
    trained = lines(out / "train_log.jsonl")[:saved]
    proc = start(out, "graddiff", "--resume")
    kill_when(
        proc,
        lambda: (
            str(status(out).get("message", "")).startswith("evaluating step")
            and status(out).get("step", 0) > saved
        ),
        "evaluating a checkpoint after the recovered state",
    )
    assert not (out / PARTIAL).exists() and state_step(out) >= saved  # the newer one was used
    assert lines(out / "train_log.jsonl")[:saved] == trained  # not trained again from .old

    # resumed to the end
    finish(start(out, "graddiff", "--resume"))

    # (e) right after the final model save, before status "done": the model is on disk, the
    # status still says running, the lease names a process that is gone
    assert (out / "model").is_dir()
    atomic_write_json(
        out / "status.json",
        {**status(out), "state": "running", "message": "saving model", "pid": dead_pid()},
    )
    write_lease(out, host=socket.gethostname(), pid=dead_pid(), beat_age_s=1)
    finish(start(out, "graddiff", "--resume"))

    # nothing lost: every step trained once, every checkpoint evaluated once, the same end
    end = status(out)
    assert (end["state"], end["step"]) == ("done", STEPS)
    assert [r["step"] for r in lines(out / "train_log.jsonl")] == list(range(1, STEPS + 1))
    assert [r["step"] for r in lines(out / "eval.jsonl")] == list(range(0, STEPS + 1, EVERY))
    assert not (out / LEASE).exists()  # released
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no half-built leftovers


def test_two_writers_at_once_one_trains_the_other_is_refused_naming_it(small_benchmark, tmp_path):
    out = jobs.fresh_run_dir(tmp_path / "runs", "same")  # the app's claim: an empty directory
    procs = {method: start(out, method, "--no-eval") for method in ("graddiff", "atwu")}
    results = {m: (p.communicate(timeout=180), p.returncode, p.pid) for m, p in procs.items()}
    codes = sorted(rc for _, rc, _ in results.values())
    assert codes == [0, 2], {m: r[0][1][-1000:] for m, r in results.items()}
    winner = next(m for m, (_, rc, _) in results.items() if rc == 0)
    loser = next(m for m in results if m != winner)
    (_, err), _, _ = results[loser]
    assert f"process {results[winner][2]}" in err and "is being written" in err
    assert len(err.strip().splitlines()) == 1  # one line, no traceback
    assert read_json(out / "config.json")["method"] == winner
    assert _state(out) == "done"
    assert [r["step"] for r in lines(out / "train_log.jsonl")] == list(range(1, STEPS + 1))
    assert (out / "scorer.safetensors").is_file() == (winner == "atwu")  # ATWU's own file
