"""Home's first run: the shipped benchmark installed and one run launched at once; prepare when
the shipped copy cannot be used; a launch at once when the benchmark is already there."""

from __future__ import annotations

import pytest

from atwu.app import first_run, jobs
from atwu.app.first_run import (
    FIRST_RUN_NAME,
    first_run_args,
    first_run_dir,
    start_first_run,
)
from atwu.app.jobs import prepare_job_file


@pytest.fixture
def launched(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(jobs, "launch_run", lambda args, out, log: calls.append((args, out)) or 9)
    monkeypatch.setattr(jobs, "start_prepare", lambda *a: calls.append(("prepare", *a)) or 8)
    # the references launched with the run: tests/app/test_references.py checks their command
    monkeypatch.setattr(jobs, "launch_command", lambda args, log: calls.append(("refs", args)) or 7)
    return calls


def test_the_shipped_benchmark_is_installed_and_the_run_launched_at_once(tmp_path, launched):
    bench, runs = tmp_path / "benchmarks" / "embedded", tmp_path / "runs"
    job = prepare_job_file(tmp_path, bench)
    start = start_first_run(job, bench, runs)
    assert start.installed and not start.preparing
    assert (bench / "manifest.json").is_file() and (bench / "models" / "full").is_dir()
    assert launched[0] == (first_run_args(), runs / FIRST_RUN_NAME)
    assert [c[0] for c in launched[1:]] == ["refs"]  # and its references, once
    assert start.run == runs / FIRST_RUN_NAME == first_run_dir(job)
    # quick evaluation: the run fits in the minute the first run has
    assert "--quick" in first_run_args() and first_run_args()[:3] == ["run", "--method", "atwu"]


def test_a_prepared_benchmark_gets_a_run_at_once_and_nothing_installed(tmp_path, launched):
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "manifest.json").write_text("{}")
    start = start_first_run(prepare_job_file(tmp_path, bench), bench, tmp_path / "runs")
    assert not start.installed and not start.preparing and start.run is not None
    assert [c[0] for c in launched] == [first_run_args(), "refs"]
    assert sorted(p.name for p in bench.iterdir()) == ["manifest.json"]


def test_without_a_usable_shipped_copy_the_benchmark_is_prepared(tmp_path, launched, monkeypatch):
    monkeypatch.setattr(first_run, "shipped_problem", lambda: "it is a Git LFS pointer")
    job = prepare_job_file(tmp_path, tmp_path / "bench")
    start = start_first_run(job, tmp_path / "bench", tmp_path / "runs")
    assert start.preparing and "Git LFS" in start.why_prepare and start.run is None
    assert launched == [("prepare", ["prepare"], job, tmp_path / "bench")]
    assert first_run_dir(job) is None  # the run follows the prepare job
