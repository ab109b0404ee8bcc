"""The app's side of issue 12, without a Streamlit server: Cancel signals only the process it
recorded (pid and start time), launches and uploads get distinct directories, one prepare job
per output however many sessions press the button, a prepare job can be cancelled and says so,
and a shared link's ``?dir=`` cannot choose where Launch writes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_launch import _wait

from atwu.app import jobs
from atwu.app.first_run import start_embedded_prepare
from atwu.app.process_identity import is_same_process
from atwu.app.safe_dirs import dir_from_link
from atwu.app.uploads import stage_upload, start_upload_prepare
from atwu.process import process_start

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]  # its command line: no "atwu"


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(SLEEPER, start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def running(run: Path, pid: int, pid_start: str | None) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    status = {"state": "running", "pid": pid, "pid_start": pid_start}
    (run / "status.json").write_text(json.dumps(status))
    return run


# 1. Cancel verifies the process -------------------------------------------------------------


def test_cancel_refuses_a_reused_pid_and_stops_the_recorded_process(tmp_path, sleeper):
    start = process_start(sleeper.pid)
    reused = running(tmp_path / "a", sleeper.pid, "1")  # the pid now names another process
    result = jobs.cancel_run(reused)
    assert not result.sent and "not running" in result.message
    assert sleeper.poll() is None  # untouched
    assert not jobs.stop_process(sleeper.pid, "1") and sleeper.poll() is None
    # an older record without a start time: only a command line naming atwu may be signalled
    assert not jobs.cancel_run(running(tmp_path / "b", sleeper.pid, None)).sent
    assert not jobs.stop_process(sleeper.pid) and sleeper.poll() is None
    result = jobs.cancel_run(running(tmp_path / "c", sleeper.pid, start))
    assert result.sent, result.message
    assert sleeper.wait(10) == -15  # SIGTERM


def test_launch_records_keep_the_start_time(tmp_path, sleeper):
    jobs.record_launch(tmp_path / "r", pid=sleeper.pid, argv=["x"], log_path=tmp_path / "l")
    record = jobs.read_launch(tmp_path / "r")
    assert record["pid_start"] == process_start(sleeper.pid) is not None
    assert is_same_process(record["pid"], record["pid_start"])


# 2. Distinct launch directories ---------------------------------------------------------------


def test_sessions_launching_one_name_at_once_get_distinct_empty_directories(tmp_path):
    got: list[Path] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        got.append(jobs.fresh_run_dir(tmp_path, "atwu-s0"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 8 and all(p.is_dir() and not any(p.iterdir()) for p in got)
    assert sorted(p.name for p in got)[:2] == ["atwu-s0", "atwu-s0-2"]


# 3. ?dir= in a shared link ----------------------------------------------------------------------


def test_a_link_chooses_only_a_directory_under_home_or_opened_in_this_session(tmp_path):
    home, default = tmp_path / "home", tmp_path / "home" / "runs"
    elsewhere = tmp_path / "elsewhere"
    (home / "runs").mkdir(parents=True)
    (home / "out").symlink_to(elsewhere, target_is_directory=True)
    assert dir_from_link(str(home / "mine"), opened=[], home=home, default=default) == (
        home / "mine",
        None,
    )
    for link in (str(elsewhere), f"{home}/../elsewhere", str(home / "out")):
        chosen, why = dir_from_link(link, opened=[], home=home, default=default)
        assert chosen == default and why and link in why and "sidebar" in why
    assert dir_from_link(str(elsewhere), opened=[elsewhere], home=home, default=default)[1] is None


# 4. Uploads and one prepare job per output --------------------------------------------------------


def test_a_second_upload_of_one_name_never_overwrites_the_first(tmp_path):
    first = stage_upload(b"f1", b"r1", name="mine", home=tmp_path, benchmarks=tmp_path / "b")
    second = stage_upload(b"f2", b"r2", name="mine", home=tmp_path, benchmarks=tmp_path / "b")
    assert first.forget.parent != second.forget.parent
    assert (first.forget.read_bytes(), first.retain.read_bytes()) == (b"f1", b"r1")
    assert first.target == second.target  # the same benchmark: one job prepares it


def test_two_sessions_pressing_prepare_share_one_job(tmp_path, monkeypatch):
    started: list[int] = []

    def launch(args, progress, log) -> int:
        started.append(jobs._spawn(SLEEPER, Path(log)))
        return started[-1]

    monkeypatch.setattr(jobs, "launch_prepare", launch)
    first = stage_upload(b"a", b"b", name="mine", home=tmp_path, benchmarks=tmp_path / "b")
    second = stage_upload(b"a", b"b", name="mine", home=tmp_path, benchmarks=tmp_path / "b")
    job = jobs.prepare_job_file(tmp_path, first.target)
    try:
        assert start_upload_prepare(first, job) == started[0]
        assert start_upload_prepare(second, job) is None  # follows the first session's job
        assert len(started) == 1 and not second.forget.parent.exists()
        assert first.forget.is_file()  # the files the running prepare reads are untouched
        assert jobs.prepare_status(job)["state"] == "running"

        # 5. the job is cancelled from the app and says so afterwards
        assert jobs.cancel_prepare(job).sent
        assert _wait(lambda: jobs.prepare_status(job)["state"] == "cancelled", 20)
        assert not jobs.cancel_prepare(job).sent
        assert jobs.claim_job_file(job)  # an ended job's place can be taken
    finally:
        for pid in started:
            jobs.stop_process(pid, process_start(pid))


def test_a_job_file_claimed_a_moment_ago_is_not_taken_over(tmp_path):
    job = tmp_path / ".app" / "prepare-x.json"
    assert jobs.claim_job_file(job)
    assert not jobs.claim_job_file(job)  # the first session is writing its pid
    job.write_text(json.dumps({"pid": 999_999_999, "pid_start": "1"}))  # a job that is gone
    assert jobs.claim_job_file(job)


def test_cancel_of_a_prepare_job_whose_pid_was_reused_sends_nothing(tmp_path, sleeper):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"pid": sleeper.pid, "pid_start": "1", "out": str(tmp_path)}))
    assert not jobs.cancel_prepare(job).sent and sleeper.poll() is None
    assert jobs.prepare_status(job)["state"] == "failed"  # not "running", not "cancelled"


def test_home_prepare_pressed_in_two_sessions_starts_one_job(tmp_path, monkeypatch):
    started: list[int] = []
    monkeypatch.setattr(
        jobs, "launch_prepare", lambda a, p, log: started.append(jobs._spawn(SLEEPER, log)) or 1
    )
    job = jobs.prepare_job_file(tmp_path, tmp_path / "bench")
    try:
        assert start_embedded_prepare(job, tmp_path / "bench") is not None
        assert start_embedded_prepare(job, tmp_path / "bench") is None
        assert len(started) == 1
    finally:
        for pid in started:
            jobs.stop_process(pid, process_start(pid))
