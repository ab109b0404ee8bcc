"""One writer per run directory: the lease refuses a second writer while its holder lives and is
taken over once stale (a dead process on this host, or a heartbeat older than STALE_AFTER_S)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

import pytest

from atwu import cli
from atwu.io import read_json
from atwu.runs.lease import LEASE, Lease, LeaseHeld, LeaseInfo, live_holder, read_lease
from atwu.runs.status import STALE_AFTER_S


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_lease(run_dir: Path, *, host: str, pid: int, beat_age_s: float) -> LeaseInfo:
    beat = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=beat_age_s)).isoformat()
    info = LeaseInfo(host, pid, None, "their-token", beat, beat)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / LEASE).write_text(json.dumps(asdict(info)))
    return info


def test_a_second_writer_is_refused_until_the_first_releases(tmp_path):
    first = Lease.acquire(tmp_path / "run", heartbeat=False)
    with pytest.raises(LeaseHeld, match=f"process {first.info.pid} on {socket.gethostname()}"):
        Lease.acquire(tmp_path / "run", heartbeat=False)
    assert read_lease(tmp_path / "run") == first.info  # the refused one changed nothing
    first.release()
    assert not (tmp_path / "run" / LEASE).exists()
    Lease.acquire(tmp_path / "run", heartbeat=False).release()


def test_the_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path):
    write_lease(tmp_path, host=socket.gethostname(), pid=dead_pid(), beat_age_s=0)
    assert live_holder(tmp_path) is None
    lease = Lease.acquire(tmp_path, heartbeat=False)
    assert read_lease(tmp_path).token == lease.info.token != "their-token"


def test_a_lease_from_another_host_is_taken_over_only_once_its_heartbeat_is_stale(tmp_path):
    write_lease(tmp_path, host="elsewhere", pid=1, beat_age_s=STALE_AFTER_S / 2)
    with pytest.raises(LeaseHeld, match="process 1 on elsewhere"):
        Lease.acquire(tmp_path, heartbeat=False)
    write_lease(tmp_path, host="elsewhere", pid=1, beat_age_s=STALE_AFTER_S + 1)
    assert Lease.acquire(tmp_path, heartbeat=False).info.host == socket.gethostname()


def test_a_held_lease_keeps_its_heartbeat_fresh(tmp_path, monkeypatch):
    # heartbeats are stamped to the second: a clock of our own moves on at once instead of a
    # sleep, and an event tells when the heartbeat thread has written the later time
    clock = ["2026-01-01T00:00:00+00:00"]
    later = "2026-01-01T00:00:07+00:00"
    monkeypatch.setattr("atwu.runs.lease.utc_now", lambda: clock[0])
    monkeypatch.setattr("atwu.runs.lease.HEARTBEAT_EVERY_S", 0.01)
    later_written = threading.Event()
    refresh = Lease.refresh

    def refresh_and_tell(self: Lease) -> bool:
        ours = refresh(self)
        if self.info.heartbeat_at == later:
            later_written.set()
        return ours

    monkeypatch.setattr(Lease, "refresh", refresh_and_tell)
    lease = Lease.acquire(tmp_path)
    assert read_lease(tmp_path).heartbeat_at == clock[0]
    clock[0] = later
    assert later_written.wait(timeout=10), "the heartbeat thread never refreshed the lease"
    assert read_lease(tmp_path).heartbeat_at == later
    lease.release()


def test_a_lease_taken_over_is_noticed_by_its_old_holder(tmp_path):
    lease = Lease.acquire(tmp_path, heartbeat=False)
    assert lease.refresh() and not lease.lost
    write_lease(tmp_path, host="elsewhere", pid=1, beat_age_s=0)  # someone judged us stale
    assert not lease.refresh() and lease.lost
    lease.release()  # leaves the new holder's lease alone
    assert read_lease(tmp_path).host == "elsewhere"


@pytest.mark.slow
def test_run_overwrite_and_resume_of_a_live_run_are_refused_and_a_stale_lease_is_taken_over(
    small_benchmark, tmp_path, capsys
):
    out = tmp_path / "run"
    args = ["run", "--method", "graddiff", "--steps", "4", "--checkpoint-every", "2", "--no-eval"]
    assert cli.main([*args, "--out", str(out)]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    holder = Lease.acquire(out, heartbeat=False)  # a live writer (this process)
    capsys.readouterr()
    for extra in (["--overwrite"], ["--resume"]):
        assert cli.main([*args, "--out", str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert "is being written by process" in err and "--overwrite" not in err
        assert err.count("\n") == 1
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != LEASE} == before
    holder.release()

    # a run killed after its checkpoint: its lease names a dead process, its status "running"
    write_lease(out, host=socket.gethostname(), pid=dead_pid(), beat_age_s=1)
    assert cli.main(["run", "--resume", "--out", str(out), "--no-eval"]) == 0
    assert read_json(out / "status.json")["state"] == "done"
    assert not (out / LEASE).exists()  # released when the run ended
