"""The sidebar and Home's card say the same about a run: both read one source (its status file
reconciled with its launch record, ``atwu.app.active_runs.run_status``), and the sidebar's line
is redrawn with the card while the run is live (it once said "queued · step 0/156" while the
card was at step 26). The picker lists names only, the caption gives the full name."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from navigation import goto

from atwu.app import jobs
from atwu.app.polling import POLL_SECONDS
from atwu.demo import shipped_demo_dir
from atwu.process import process_start
from atwu.runs.status import utc_now

pytestmark = pytest.mark.slow


def _running_run(root: Path, name: str, pid: int, step: int) -> Path:
    run = root / name
    shutil.copytree(shipped_demo_dir() / "atwu-s0", run)
    status = json.loads((run / "status.json").read_text())
    status.update(
        state="running",
        step=step,
        total_steps=156,
        pid=pid,
        pid_start=process_start(pid),
        heartbeat_at=utc_now(),
        ended_at=None,
    )
    (run / "status.json").write_text(json.dumps(status))
    jobs.record_launch(run, pid=pid, argv=["atwu"], log_path=root / f"{name}.log")
    return run


def _sidebar_line(at) -> str:
    return next(c.value for c in at.sidebar.caption if "· seed" in c.value)


def test_sidebar_and_card_read_the_same_state_and_step(app, tmp_path, fragment_timers):
    root = tmp_path / "runs"
    run = _running_run(root, "atwu-default-s0", os.getpid(), step=26)
    at = goto(app, "pages/home_page.py", dir=str(root), run="atwu-default-s0")
    assert not at.exception, [e.value for e in at.exception]
    card = [p.proto.text for p in at.get("progress")]
    assert card and card[0].startswith("step 26/156")
    assert "`atwu-default-s0` · atwu · seed 0 · running · step 26/156" in _sidebar_line(at)
    # both redraw themselves while it runs, so neither is left behind
    assert fragment_timers["sidebar_run_status"] == POLL_SECONDS
    assert fragment_timers["first_run_card"] == POLL_SECONDS
    status = json.loads((run / "status.json").read_text())
    status.update(step=40, heartbeat_at=utc_now())
    (run / "status.json").write_text(json.dumps(status))
    at.run()
    assert next(p.proto.text for p in at.get("progress")).startswith("step 40/156")
    assert "running · step 40/156" in _sidebar_line(at)


def test_a_launched_run_whose_process_died_is_failed_in_both(app, tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    root = tmp_path / "runs"
    _running_run(root, "atwu-default-s0", gone.pid, step=26)
    at = goto(app, "pages/home_page.py", dir=str(root), run="atwu-default-s0")
    assert not at.exception
    card = next(m.value for m in at.markdown if "Your latest run" in m.value)
    assert "`failed`" in card
    assert "· failed · step 26/156" in _sidebar_line(at)


def test_long_names_are_listed_whole_with_the_full_name_under_the_picker(app, tmp_path):
    root = tmp_path / "runs"
    name = "static_p-for-atwu-scorer_lr0.05-scorer_l20.01-s0-20261206-231500"
    shutil.copytree(shipped_demo_dir() / "static_p-s0", root / name)
    at = goto(app, "pages/home_page.py", dir=str(root), run=name)
    assert not at.exception
    assert at.sidebar.selectbox(key="run").options == [name]  # no state to go stale in it
    assert _sidebar_line(at).startswith(f"`{name}` · static_p · seed 0 · done")
