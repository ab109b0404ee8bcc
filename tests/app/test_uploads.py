"""Uploaded files and the first run of a fresh install: fixed file names (a user's names never
reach a path), no overwrite, one default run however many sessions see the job end."""

from __future__ import annotations

import pytest

from atwu.app import jobs
from atwu.app.first_run import launch_default_run_once, start_embedded_prepare
from atwu.app.jobs import prepare_job_file
from atwu.app.uploads import benchmark_name, stage_upload, start_upload_prepare
from atwu.errors import InputError


def test_uploads_are_staged_under_fixed_names(tmp_path):
    home, benchmarks = tmp_path / "home", tmp_path / "home" / "benchmarks"
    staged = stage_upload(
        b'{"id": 1}\n', b'{"id": 2}\n', name="mine", home=home, benchmarks=benchmarks
    )
    folder = staged.forget.parent  # a fresh folder per upload
    assert folder.parent == home / "uploads" / "mine"
    assert (staged.forget.name, staged.retain) == ("forget.jsonl", folder / "retain.jsonl")
    assert staged.forget.read_bytes() == b'{"id": 1}\n'
    assert staged.retain.read_bytes() == b'{"id": 2}\n'
    assert staged.target == benchmarks / "mine"
    assert staged.prepare_args() == [
        "prepare",
        "--forget",
        str(staged.forget),
        "--retain",
        str(staged.retain),
    ]


@pytest.mark.parametrize(
    ("typed", "filename", "name"),
    [
        ("my set", "x.jsonl", "my-set"),
        ("", "../../etc/passwd.jsonl", "passwd"),
        ("", "...jsonl", "my-benchmark"),  # nothing safe left: the fallback
        ("", ".hidden.jsonl", "hidden"),
    ],
)
def test_benchmark_names_are_safe_path_components(typed, filename, name):
    assert benchmark_name(typed, filename) == name


@pytest.mark.parametrize("typed", ["../..", "..", "a/../../b", "/abs", "~/x", "\\..\\x"])
def test_no_typed_name_climbs_out_of_its_parent(typed, tmp_path):
    name = benchmark_name(typed, "f.jsonl")
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    staged = stage_upload(b"a", b"b", name=name, home=tmp_path, benchmarks=tmp_path / "b")
    assert staged.forget.parent.parent.parent == tmp_path / "uploads"
    assert staged.target.parent == tmp_path / "b"


def test_an_existing_benchmark_is_not_overwritten(tmp_path):
    (tmp_path / "benchmarks" / "taken").mkdir(parents=True)
    with pytest.raises(InputError, match="already exists"):
        stage_upload(b"a", b"b", name="taken", home=tmp_path, benchmarks=tmp_path / "benchmarks")
    assert not (tmp_path / "uploads").exists()
    with pytest.raises(ValueError, match="not safe"):
        stage_upload(b"a", b"b", name="../up", home=tmp_path, benchmarks=tmp_path / "benchmarks")


def test_prepare_jobs_start_the_cli_with_the_staged_files(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "start_prepare", lambda *a: started.append(a) or 7)
    staged = stage_upload(b"a", b"b", name="mine", home=tmp_path, benchmarks=tmp_path / "b")
    job_file = prepare_job_file(tmp_path, staged.target)
    assert start_upload_prepare(staged, job_file) == 7
    assert started == [(staged.prepare_args(), job_file, staged.target)]


def test_the_default_run_is_launched_once_per_prepare_job(tmp_path, monkeypatch):
    launched = []
    monkeypatch.setattr(jobs, "start_prepare", lambda *a: 1)
    monkeypatch.setattr(jobs, "launch_run", lambda args, out, log: launched.append(out) or 2)
    monkeypatch.setattr(jobs, "launch_command", lambda args, log: 3)  # its references
    job = prepare_job_file(tmp_path, tmp_path / "bench")
    start_embedded_prepare(job, tmp_path / "bench")
    first = launch_default_run_once(job, tmp_path / "runs")
    assert first == tmp_path / "runs" / "atwu-default-s0"
    assert launch_default_run_once(job, tmp_path / "runs") is None  # another session, same job
    assert launched == [first]
    start_embedded_prepare(job, tmp_path / "bench")  # a new job: one more default run
    assert launch_default_run_once(job, tmp_path / "runs") is not None
    assert len(launched) == 2
