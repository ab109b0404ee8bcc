"""``python -m atwu sweep`` without Ray: its identity, its bad input (one line, exit 2, nothing
written), sweep.json, and a rerun that skips finished runs and resumes an interrupted one."""

from __future__ import annotations

import time

import pytest

from atwu import cli
from atwu.config import RunConfig, TrainSettings
from atwu.executor import RunSpec, make_executor
from atwu.executor.sweep import parse_grid, plan_sweep
from atwu.io import read_json
from atwu.methods.graddiff import GradDiff
from atwu.train.errors import Cancelled

TINY = ["--method", "graddiff", "--steps", "6", "--checkpoint-every", "2", "--no-eval"]


def mtimes(root):
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_the_same_settings_give_the_same_sweep_and_run_directories(tmp_path):
    base = RunConfig(method="graddiff", train=TrainSettings(steps=6))
    a = plan_sweep(base, parse_grid(["alpha=1,0.5"]), seeds=2, out=tmp_path)
    b = plan_sweep(base, parse_grid(["alpha=0.50,1.0"]), seeds=2, out=tmp_path)
    assert a.identity == b.identity
    assert (
        sorted(s.out.name for s in a.specs)
        == sorted(s.out.name for s in b.specs)
        == [
            "graddiff-alpha0.5-s0",
            "graddiff-alpha0.5-s1",
            "graddiff-alpha1-s0",
            "graddiff-alpha1-s1",
        ]
    )
    assert {s.identity for s in a.specs} == {s.identity for s in b.specs}
    longer = RunConfig(method="graddiff", train=TrainSettings(steps=7))
    assert plan_sweep(longer, parse_grid(["alpha=1,0.5"]), seeds=2).identity != a.identity
    assert plan_sweep(base, {}, out=tmp_path).specs[0].out.name == "graddiff-default-s0"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "nope"], "unknown method 'nope'"),
        (["--grid", "alpah=0.5"], "unknown parameter 'alpah'; did you mean 'alpha'?"),
        (["--grid", "alpha=0.5,x"], "alpha expects a number, got 'x'"),
        (["--grid", "alpha"], "--grid expects KEY=V1,V2"),
        (["--seeds", "0"], "--seeds must be a positive integer"),
        (["--max-concurrent", "0"], "--max-concurrent must be a positive integer"),
        (["--ray-address", "127.0.0.1:1"], "no Ray cluster answers there"),
        (["--ray-address", "nohost"], "expected HOST:PORT"),
        (["--executor", "local", "--ray-address", "127.0.0.1:1"], "needs --executor ray"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_is_written(
    any_benchmark, tmp_path, capsys, extra, message
):
    out = tmp_path / "sweep"
    started = time.monotonic()
    assert cli.main(["sweep", *TINY, "--out", str(out), *extra]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_a_directory_that_holds_something_else_is_refused(any_benchmark, tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    assert cli.main(["sweep", *TINY, "--executor", "local", "--out", str(tmp_path)]) == 2
    assert "is not a sweep directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


@pytest.mark.slow
def test_local_sweep_writes_sweep_json_and_a_rerun_skips_done_runs_and_resumes_the_rest(
    small_benchmark, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "sweep"
    command = ["sweep", *TINY, "--grid", "alpha=0.5,1", "--executor", "local", "--out", str(out)]
    original = GradDiff.compute

    def interrupt_alpha_1(self, model, forget, retain, step):
        if self.params.alpha == 1 and step == 4:  # after the checkpoint of step 2
            raise Cancelled()
        return original(self, model, forget, retain, step)

    monkeypatch.setattr(GradDiff, "compute", interrupt_alpha_1)
    assert cli.main(command) == 130  # a cancelled run stops a local sweep, as Ctrl-C does
    record = read_json(out / "sweep.json")
    assert [(r["name"], r["state"]) for r in record["runs"]] == [
        ("graddiff-alpha0.5-s0", "done"),
        ("graddiff-alpha1-s0", "cancelled"),
    ]
    assert record["counts"] == {"total": 2, "pending": 0, "done": 1, "failed": 0, "cancelled": 1}
    assert record["spec"]["grid"] == {"alpha": ["0.5", "1"]}
    done = mtimes(out / "graddiff-alpha0.5-s0")

    monkeypatch.setattr(GradDiff, "compute", original)
    capsys.readouterr()
    assert cli.main(command) == 0
    assert mtimes(out / "graddiff-alpha0.5-s0") == done  # untouched
    record = read_json(out / "sweep.json")
    assert [r["state"] for r in record["runs"]] == ["done", "done"]
    assert record["runs"][1]["resumed"] is True
    err = capsys.readouterr().err
    assert "skipped: graddiff-alpha0.5-s0" in err and "done: graddiff-alpha1-s0" in err
    status = read_json(out / "graddiff-alpha1-s0" / "status.json")
    assert status["state"] == "done" and status["step"] == 6
    config = read_json(out / "graddiff-alpha1-s0" / "config.json")
    assert config["sweep_id"] == record["sweep_id"] and config["tags"] == {"grid": {"alpha": "1"}}


def test_the_local_executor_skips_a_finished_run_without_starting_it(tmp_path, monkeypatch):
    spec = RunSpec(RunConfig(method="graddiff"), tmp_path / "r")
    spec.out.mkdir()
    (spec.out / "status.json").write_text('{"state": "done"}')
    seen = []
    with make_executor("local") as executor:
        [outcome] = executor.run([spec], on_outcome=seen.append)
    assert outcome.state == "skipped" and outcome.finished and seen == [outcome]
