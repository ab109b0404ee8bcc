"""The training loop's failure paths and reproducibility: cancel, exception, divergence, a killed
process, resume, and rerunning a run's config.json.

Runs are tiny (the fixture's 20-author benchmark, CPU, evaluation off); subprocesses only where a
real signal is the point.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file
from shared_runs import atwu_50_steps_config

from atwu import cli
from atwu.config import RunConfig, TrainSettings
from atwu.io import read_json, read_jsonl
from atwu.methods.atwu import ATWU
from atwu.methods.graddiff import GradDiff
from atwu.runs.read import read_run, read_train_log, read_weights
from atwu.runs.status import STALE_AFTER_S, effective_state, parse_time
from atwu.train.errors import Cancelled, Diverged
from atwu.train.loop import Trainer

REPO = Path(__file__).resolve().parents[1]
TIME_KEYS = ("seconds", "step_seconds")


def config(method: str = "graddiff", steps: int = 50, every: int = 25, **params) -> RunConfig:
    return RunConfig(
        method=method,
        params=params,
        evaluate=False,
        train=TrainSettings(steps=steps, checkpoint_every=every, record_examples=8),
    )


def comparable(metrics: list[dict]) -> list[dict]:
    """train_log.jsonl lines without wall-clock fields."""
    return [{k: v for k, v in m.items() if k not in TIME_KEYS} for m in metrics]


def assert_same_metrics(a: Path, b: Path) -> None:
    ma, mb = (
        comparable(read_jsonl(a / "train_log.jsonl")),
        comparable(read_jsonl(b / "train_log.jsonl")),
    )
    assert [m["step"] for m in ma] == [m["step"] for m in mb]
    for x, y in zip(ma, mb):
        assert x.keys() == y.keys(), (x, y)
        for key in x:
            assert x[key] == pytest.approx(y[key], rel=1e-6, abs=1e-7), (
                x["step"],
                key,
                x[key],
                y[key],
            )


def model_tensors(path: Path) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for f in sorted(path.glob("*.safetensors")):
        out.update(load_file(str(f)))
    return out


def start_cli_run(out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [
        sys.executable,
        "-m",
        "atwu",
        "run",
        "--method",
        "graddiff",
        "--steps",
        "2000",
        "--checkpoint-every",
        "500",
        "--no-eval",
        "--out",
        str(out),
        *extra,
    ]
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(out: Path, proc: subprocess.Popen, predicate, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"run ended early (rc {proc.returncode}): {err[-2000:]}")
        try:
            status = read_json(out / "status.json")
        except (FileNotFoundError, ValueError):
            status = None
        if status and predicate(status):
            return status
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"timed out waiting for {out}/status.json")


def running_with_steps(status: dict) -> bool:
    return status.get("state") == "running" and status.get("step", 0) >= 2


# -- cancel, kill ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_sigterm_cancels_and_leaves_a_readable_directory(small_benchmark, tmp_path):
    out = tmp_path / "cancel"
    proc = start_cli_run(out)
    try:
        wait_for(out, proc, running_with_steps)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled" in err
    status = read_json(out / "status.json")
    assert status["state"] == "cancelled"
    assert status["message"].startswith("cancelled at step ")
    assert status["ended_at"]
    info = read_run(out)
    assert info.state == "cancelled" and not info.problems
    assert info.config["method"] == "graddiff"
    metrics = read_train_log(out)
    assert len(metrics) >= 2 and metrics["step"].tolist() == list(range(1, len(metrics) + 1))
    assert read_weights(out)["step"].unique().tolist() == [0]
    assert not (out / "model").exists()


@pytest.mark.slow
def test_sigkill_leaves_a_readable_directory_reported_failed_once_stale(small_benchmark, tmp_path):
    out = tmp_path / "killed"
    proc = start_cli_run(out)
    try:
        wait_for(out, proc, running_with_steps)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # Nothing had a chance to say so: status.json still claims running, and every file reads.
    raw = read_json(out / "status.json")
    assert raw["state"] == "running"
    info = read_run(out)
    assert info.config["method"] == "graddiff" and not info.problems
    assert len(read_train_log(out)) >= 2
    assert len(read_weights(out)) > 0
    assert info.state == "running"  # the heartbeat is still fresh

    beat = parse_time(raw["heartbeat_at"])
    assert effective_state(raw, now=beat + dt.timedelta(seconds=STALE_AFTER_S / 2))[0] == "running"
    state, message = effective_state(raw, now=beat + dt.timedelta(seconds=STALE_AFTER_S + 1))
    assert state == "failed" and "killed" in message

    # read_run (what the app and `atwu list` use) says failed once the heartbeat is old
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STALE_AFTER_S + 5)).isoformat()
    (out / "status.json").write_text(json.dumps({**raw, "heartbeat_at": old}))
    stale = read_run(out)
    assert stale.state == "failed"
    assert "heartbeat" in stale.status["message"]


# -- exception, divergence ------------------------------------------------------------------------
def test_exception_marks_the_run_failed_with_the_message(any_benchmark, tmp_path, monkeypatch):
    original = GradDiff.compute

    def boom(self, model, forget, retain, step):
        if step == 3:
            raise RuntimeError("boom in the forget loss")
        return original(self, model, forget, retain, step)

    monkeypatch.setattr(GradDiff, "compute", boom)
    out = tmp_path / "exc"
    with pytest.raises(RuntimeError, match="boom"):
        Trainer(config(steps=10, every=5), out).run()
    status = read_json(out / "status.json")
    assert status["state"] == "failed"
    assert status["message"] == "RuntimeError: boom in the forget loss"
    assert status["ended_at"]
    assert read_run(out).state == "failed"
    assert [m["step"] for m in read_jsonl(out / "train_log.jsonl")] == [1, 2, 3]
    assert not (out / "model").exists()


def test_divergence_fails_and_keeps_the_last_good_checkpoint(any_benchmark, tmp_path, monkeypatch):
    original = GradDiff.compute

    def diverge(self, model, forget, retain, step):
        out = original(self, model, forget, retain, step)
        if step == 30:  # the loop's step 31
            out.forget = out.forget * float("nan")
        return out

    monkeypatch.setattr(GradDiff, "compute", diverge)
    out = tmp_path / "nan"
    with pytest.raises(Diverged, match="diverged at step 31"):
        Trainer(config(steps=50, every=25), out).run()
    status = read_json(out / "status.json")
    assert status["state"] == "failed"
    assert status["message"].startswith("diverged at step 31")
    assert "up to step 25" in status["message"]
    assert sorted(read_weights(out)["step"].unique().tolist()) == [0, 25]
    assert [m["step"] for m in read_jsonl(out / "train_log.jsonl")] == list(range(1, 31))
    state = torch.load(out / "state" / "trainer.pt", weights_only=True)
    assert state["step"] == 25
    assert not (out / "model").exists()


def test_nan_hyperparameter_is_refused_before_the_run_starts(any_benchmark, tmp_path, capsys):
    out = tmp_path / "gamma-nan"
    rc = cli.main(
        [
            "run",
            "--method",
            "graddiff",
            "--set",
            "gamma=nan",
            "--steps",
            "5",
            "--no-eval",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert "gamma" in err and "finite" in err
    assert not out.exists()  # refused before anything is written, so a retry needs no --overwrite


# -- resume and rerun -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def uninterrupted(atwu_50_steps: Path) -> Path:
    """ATWU, 50 steps, scorer moving from step 11 on (so its state matters at step 25): the
    session's shared run, which test_method_runs.py checks too (read only here)."""
    return atwu_50_steps


@pytest.mark.slow
def test_resume_after_interruption_matches_an_uninterrupted_run(
    uninterrupted, tmp_path, monkeypatch
):
    original = ATWU.compute

    def interrupt(self, model, forget, retain, step):
        if step == 35:  # after step 25's checkpoint, before the next one
            raise Cancelled()
        return original(self, model, forget, retain, step)

    out = tmp_path / "interrupted"
    with monkeypatch.context() as m:
        m.setattr(ATWU, "compute", interrupt)
        with pytest.raises(Cancelled):
            Trainer(atwu_50_steps_config(), out).run()
    assert read_json(out / "status.json")["state"] == "cancelled"
    assert [m["step"] for m in read_jsonl(out / "train_log.jsonl")] == list(range(1, 36))
    # what a SIGKILL in the middle of a write leaves: a torn last line and a stale "running"
    with open(out / "train_log.jsonl", "a", encoding="utf-8") as f:
        f.write('{"step": 36, "lo')
    status = read_json(out / "status.json")
    (out / "status.json").write_text(
        json.dumps({**status, "state": "running", "heartbeat_at": "2000-01-01T00:00:00+00:00"})
    )
    assert read_run(out).state == "failed"

    rc = cli.main(["run", "--resume", "--out", str(out), "--no-eval"])
    assert rc == 0
    status = read_json(out / "status.json")
    assert status["state"] == "done" and status["step"] == 50
    assert_same_metrics(uninterrupted, out)

    a, b = read_weights(uninterrupted), read_weights(out)
    assert sorted(b["step"].unique().tolist()) == [0, 25, 50]
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False, rtol=1e-5, atol=1e-6
    )
    ta, tb = model_tensors(uninterrupted / "model"), model_tensors(out / "model")
    assert ta.keys() == tb.keys()
    for k in ta:
        torch.testing.assert_close(ta[k], tb[k], rtol=1e-5, atol=1e-6)
    sa, sb = (
        load_file(str(uninterrupted / "scorer.safetensors")),
        load_file(str(out / "scorer.safetensors")),
    )
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], rtol=1e-5, atol=1e-6)


def test_resume_without_saved_state_is_refused(any_benchmark, tmp_path, capsys):
    out = tmp_path / "nothing"
    out.mkdir()
    rc = cli.main(["run", "--method", "graddiff", "--resume", "--out", str(out), "--no-eval"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "no saved state" in err[0]


@pytest.mark.slow
def test_rerunning_a_config_gives_identical_metrics(uninterrupted, tmp_path, capsys):
    out = tmp_path / "rerun"
    rc = cli.main(["run", "--config", str(uninterrupted / "config.json"), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert read_json(out / "status.json")["state"] == "done"
    cfg_a, cfg_b = read_json(uninterrupted / "config.json"), read_json(out / "config.json")
    for key in ("method", "params", "train", "seed", "benchmark", "split", "evaluate"):
        assert cfg_a[key] == cfg_b[key], key
    assert_same_metrics(uninterrupted, out)
    pd.testing.assert_frame_equal(
        read_weights(uninterrupted), read_weights(out), check_exact=False, rtol=1e-5, atol=1e-6
    )
