"""The run directory contract (atwu.runs): status writing, stale heartbeats, defensive readers."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd
import pytest

from atwu.io import read_json
from atwu.runs import status as runs_status
from atwu.runs.layout import WEIGHT_COLUMNS
from atwu.runs.read import (
    RunDirError,
    list_runs,
    read_evals,
    read_examples,
    read_run,
    read_train_log,
    read_weights,
)
from atwu.runs.status import STALE_AFTER_S, StatusWriter, effective_state, parse_time, utc_now
from atwu.runs.write import write_weights

NOW = dt.datetime(2026, 1, 2, 12, 0, 0, tzinfo=dt.UTC)


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).isoformat()


def make_run(
    root: Path,
    name: str,
    *,
    method: str = "atwu",
    state: str = "done",
    heartbeat: str | None = None,
    config: bool = True,
) -> Path:
    run = root / name
    run.mkdir(parents=True)
    if config:
        (run / "config.json").write_text(
            json.dumps({"schema_version": 1, "method": method, "seed": 0})
        )
    (run / "status.json").write_text(
        json.dumps(
            {
                "state": state,
                "message": f"{state} message",
                "step": 3,
                "total_steps": 10,
                "heartbeat_at": heartbeat or utc_now(),
            }
        )
    )
    return run


# -- effective_state -----------------------------------------------------------------------------
def test_running_with_a_fresh_heartbeat_is_running():
    status = {"state": "running", "message": "training on cpu", "heartbeat_at": ago(5)}
    assert effective_state(status, now=NOW) == ("running", "training on cpu")


def test_running_with_a_stale_heartbeat_is_failed():
    status = {
        "state": "running",
        "message": "training on cpu",
        "heartbeat_at": ago(STALE_AFTER_S + 1),
    }
    state, message = effective_state(status, now=NOW)
    assert state == "failed"
    assert "heartbeat" in message and "killed" in message


@pytest.mark.parametrize("beat", [None, "", "not a time"])
def test_running_without_a_readable_heartbeat_is_failed(beat):
    assert effective_state({"state": "running", "heartbeat_at": beat}, now=NOW)[0] == "failed"


@pytest.mark.parametrize("state", ["queued", "done", "failed", "cancelled"])
def test_other_states_are_kept_whatever_the_heartbeat(state):
    status = {"state": state, "message": "m", "heartbeat_at": ago(10 * STALE_AFTER_S)}
    assert effective_state(status, now=NOW) == (state, "m")


def test_effective_state_defaults_to_the_clock():
    fresh = {"state": "running", "heartbeat_at": utc_now()}
    assert effective_state(fresh)[0] == "running"


def test_parse_time_roundtrip_and_garbage():
    assert parse_time(NOW.isoformat()) == NOW
    assert parse_time(None) is None and parse_time("yesterday") is None


# -- StatusWriter --------------------------------------------------------------------------------
def test_status_writer_writes_every_update(tmp_path):
    w = StatusWriter(tmp_path, total_steps=7)
    w.update(state="running", step=2, message="training")
    status = read_json(tmp_path / "status.json")
    assert status["state"] == "running" and status["step"] == 2 and status["total_steps"] == 7
    assert parse_time(status["heartbeat_at"]) is not None
    assert isinstance(status["pid"], int)
    assert not [p for p in tmp_path.iterdir() if p.name != "status.json"], "temporary files left"


def test_heartbeat_thread_refreshes_the_status(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_status, "HEARTBEAT_EVERY_S", 0.05)
    stamps = iter(f"2026-01-01T00:00:{i:02d}+00:00" for i in range(60))
    monkeypatch.setattr(runs_status, "utc_now", lambda: next(stamps))
    w = StatusWriter(tmp_path, total_steps=1)
    w.update(state="running")
    first = read_json(tmp_path / "status.json")["heartbeat_at"]
    w.start_heartbeat()
    try:
        deadline = time.time() + 5
        while (
            time.time() < deadline and read_json(tmp_path / "status.json")["heartbeat_at"] == first
        ):
            time.sleep(0.02)
    finally:
        w.stop_heartbeat()
    assert read_json(tmp_path / "status.json")["heartbeat_at"] != first
    assert read_json(tmp_path / "status.json")["state"] == "running"
    assert not w._thread.is_alive()


# -- read_run / list_runs ------------------------------------------------------------------------
def test_read_run_of_a_finished_run(tmp_path):
    run = make_run(tmp_path, "r1", method="wga")
    info = read_run(run)
    assert info.state == "done" and info.method == "wga" and info.name == "r1"
    assert not info.problems
    assert "wga" in info.label and "done" in info.label


def test_read_run_reports_a_dead_process_as_failed(tmp_path):
    run = make_run(
        tmp_path,
        "dead",
        state="running",
        heartbeat=(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STALE_AFTER_S + 5)).isoformat(),
    )
    info = read_run(run)
    assert info.state == "failed"
    assert "killed" in info.status["message"]
    assert read_json(run / "status.json")["state"] == "running", "reading never rewrites the file"


def test_read_run_lists_problems_instead_of_raising(tmp_path):
    run = make_run(tmp_path, "broken", config=False)
    (run / "status.json").write_text('{"state": "runn')
    info = read_run(run)
    assert info.state == "unknown"
    assert any("config.json is missing" in p for p in info.problems)
    assert any("status.json is unreadable" in p for p in info.problems)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert any("status.json is missing" in p for p in read_run(empty).problems)


def test_read_run_of_a_missing_directory_raises(tmp_path):
    with pytest.raises(RunDirError):
        read_run(tmp_path / "nope")


def test_list_runs_skips_hidden_and_foreign_directories(tmp_path):
    make_run(tmp_path, "b-run")
    make_run(tmp_path, "a-run", state="cancelled")
    make_run(tmp_path, ".hidden")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "file.txt").write_text("x")
    found = list_runs(tmp_path)
    assert [r.name for r in found] == ["a-run", "b-run"]
    assert [r.state for r in found] == ["cancelled", "done"]
    assert list_runs(tmp_path / "missing") == []


# -- file readers --------------------------------------------------------------------------------
def test_readers_of_an_empty_directory(tmp_path):
    assert read_train_log(tmp_path).empty and read_evals(tmp_path).empty
    assert read_examples(tmp_path) == []
    weights = read_weights(tmp_path)
    assert weights.empty and list(weights.columns) == WEIGHT_COLUMNS


def test_read_metrics_skips_a_torn_last_line(tmp_path):
    (tmp_path / "train_log.jsonl").write_text(
        '{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4}\n{"step": 3, "lo'
    )
    metrics = read_train_log(tmp_path)
    assert metrics["step"].tolist() == [1, 2]


def test_weights_roundtrip_and_step_filter(tmp_path):
    frame = pd.DataFrame(
        {
            "step": [0, 0, 5, 5],
            "example_id": ["a", "a", "a", "a"],
            "position": [0, 1, 0, 1],
            "token": ["Hi", "<|end|>", "Hi", "<|end|>"],
            "char_start": [0, -1, 0, -1],
            "char_end": [2, -1, 2, -1],
            "weight": [1.0, 1.0, 0.25, 0.75],
            "label": [1, -1, 1, -1],
            "span_kind": ["specific", None, "specific", None],
        }
    )
    write_weights(tmp_path, frame)
    back = read_weights(tmp_path)
    assert list(back.columns) == WEIGHT_COLUMNS and len(back) == 4
    assert all(isinstance(x, str) for x in back["example_id"])
    step5 = read_weights(tmp_path, step=5)
    assert step5["weight"].tolist() == [0.25, 0.75]
    assert read_weights(tmp_path, step=7).empty
