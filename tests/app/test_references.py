"""The references of a run (uniform, static_p and the oracle at its settings): which exist, which
are missing, the planned ones every session sees at once, nothing launched twice, a reference
whose process died shown as failed, and the commands the app starts for them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from atwu.analysis import references as R
from atwu.analysis.variants import COMPARISON_REFERENCES, VARIANTS
from atwu.app import first_run, jobs
from atwu.app import references as app_refs
from atwu.config import RunConfig
from atwu.demo import shipped_demo_dir
from atwu.runs.read import read_run
from atwu.runs.replace import own_entries
from atwu.runs.status import utc_now


def _copy(names: tuple[str, ...], root: Path) -> Path:
    for name in names:
        shutil.copytree(shipped_demo_dir() / name, root / name)
    return root


def _config(run: Path) -> dict:
    return json.loads((run / "config.json").read_text())


def test_the_references_are_named_in_one_place_and_are_variants():
    assert COMPARISON_REFERENCES == ("uniform", "static_p", "oracle")
    assert all(name in VARIANTS for name in COMPARISON_REFERENCES)


def test_finished_references_at_the_same_settings_are_found(tmp_path):
    # the demo's runs were made together: same benchmark, run length, seed, quick evaluation;
    # uniform-s0 records gamma as a text ("1.0"), a finished run every default: both match
    root = _copy(("atwu-s0", "uniform-s0", "static_p-s0", "oracle-s0", "oracle-x2-s0"), tmp_path)
    found = R.reference_runs(_config(root / "atwu-s0"), R.runs_under(root))
    assert {k: v.name if v else None for k, v in found.items()} == {
        "uniform": "uniform-s0",
        "static_p": "static_p-s0",
        "oracle": "oracle-s0",  # not oracle-x2-s0: twice the forget weight is another setting
    }
    assert R.missing_references(_config(root / "atwu-s0"), R.runs_under(root)) == []


def test_another_seed_or_split_is_not_a_reference(tmp_path):
    root = _copy(("atwu-s1", "uniform-s0", "static_p-s0"), tmp_path)
    assert R.missing_references(_config(root / "atwu-s1"), R.runs_under(root)) == [
        "uniform",
        "static_p",
        "oracle",
    ]
    other = _config(root / "atwu-s1") | {"seed": 0, "split": "forget05"}
    assert R.missing_references(other, R.runs_under(root)) == ["uniform", "static_p", "oracle"]


def test_queue_plans_exactly_the_missing_ones_with_the_runs_settings_once(tmp_path):
    root = _copy(("atwu-s0", "uniform-s0"), tmp_path)
    base = RunConfig.from_json(_config(root / "atwu-s0"))
    specs = R.queue_references(base, root, for_run="atwu-s0")
    assert [s.out.name for s in specs] == ["static_p-s0", "oracle-s0"]
    for spec in specs:
        planned = _config(spec.out)
        assert planned["method"] == spec.config.method and planned["params"] == {}
        assert R.settings_key(planned) == R.settings_key(_config(root / "atwu-s0"))
        assert planned["tags"] == {R.REFERENCE_TAG: "atwu-s0"}
        info = read_run(spec.out)
        assert info.state == "queued" and "waiting for its turn" in info.status["message"]
        assert own_entries(spec.out) == []  # its run starts there as in an empty directory
    # a second click, another session: nothing missing, nothing planned
    assert R.queue_references(base, root, for_run="atwu-s0") == []
    assert R.missing_references(_config(root / "atwu-s0"), R.runs_under(root)) == []


def test_a_reference_whose_process_died_shows_failed_and_is_missing_again(tmp_path):
    root = _copy(("atwu-s0",), tmp_path)
    base = RunConfig.from_json(_config(root / "atwu-s0"))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    specs = R.queue_references(base, root, for_run="atwu-s0", pid=gone.pid)
    assert len(specs) == 3
    info = read_run(specs[0].out)
    assert info.state == "failed" and "ended first" in info.status["message"]
    lines = {
        line.variant: line for line in app_refs.references_of(read_run(root / "atwu-s0"), root)
    }
    assert lines["uniform"].state == "failed" and not lines["uniform"].present
    assert lines["uniform"].text.startswith("uniform: failed (the process that was to start it")
    assert R.missing_references(_config(root / "atwu-s0"), R.runs_under(root)) == list(
        COMPARISON_REFERENCES
    )


def test_a_cancelled_queue_marks_the_references_it_did_not_start(tmp_path):
    root = _copy(("atwu-s0",), tmp_path)
    base = RunConfig.from_json(_config(root / "atwu-s0"))
    spec = R.queue_references(base, root, for_run="atwu-s0")[2]
    R.end_waiting(spec.out, "cancelled", "cancelled before it started")
    info = read_run(spec.out)
    assert info.state == "cancelled" and info.status["message"] == "cancelled before it started"
    assert own_entries(spec.out) == ["config.json", "status.json"]  # no longer a placeholder


def test_a_reference_run_needs_none(tmp_path):
    root = _copy(("uniform-s0", "atwu-s0"), tmp_path)
    assert app_refs.is_reference_run(read_run(root / "uniform-s0"))
    assert not app_refs.is_reference_run(read_run(root / "atwu-s0"))


@pytest.fixture
def commands(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(jobs, "launch_command", lambda args, log: calls.append(args) or 7)
    monkeypatch.setattr(jobs, "launch_run", lambda args, out, log: calls.append(args) or 9)
    return calls


def test_the_run_pages_button_runs_the_references_command_for_the_run(tmp_path, commands):
    app_refs.launch_missing_references(tmp_path / "runs" / "atwu-s0", tmp_path / "runs")
    assert commands == [
        ["references", str(tmp_path / "runs" / "atwu-s0"), "--runs-dir", str(tmp_path / "runs"),
         "--executor", "local", "--lanes", "2"]
    ]  # fmt: skip


def test_the_first_run_launches_its_references_with_its_own_settings(tmp_path, commands):
    bench, runs = tmp_path / "bench", tmp_path / "runs"
    bench.mkdir()
    (bench / "manifest.json").write_text("{}")
    start = first_run.start_first_run(jobs.prepare_job_file(tmp_path, bench), bench, runs)
    run_args, refs_args = commands
    assert run_args == first_run.first_run_args()
    assert refs_args[0] == "references" and refs_args[1 : len(run_args)] == run_args[1:]
    assert refs_args[refs_args.index("--for-run") + 1] == start.run.name
    assert refs_args[refs_args.index("--runs-dir") + 1] == str(runs)


def test_launched_for_finds_the_first_runs_references_by_their_tag(tmp_path):
    root = _copy(("atwu-s0",), tmp_path)
    base = RunConfig.from_json(_config(root / "atwu-s0"))
    R.queue_references(base, root, for_run="atwu-default-s0", pid=os.getpid())
    lines = app_refs.launched_for("atwu-default-s0", root)
    assert [(line.variant, line.state) for line in lines] == [
        ("uniform", "queued"),
        ("static_p", "queued"),
        ("oracle", "queued"),
    ]
    assert [line.state for line in app_refs.launched_for("another-run", root)] == ["missing"] * 3


def test_two_lanes_take_each_planned_reference_once(tmp_path):
    root = _copy(("atwu-s0",), tmp_path)
    base = RunConfig.from_json(_config(root / "atwu-s0"))
    outs = [s.out for s in R.queue_references(base, root, for_run="atwu-s0")]
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        first = R.claim_next(root, outs)  # this process
        second = R.claim_next(root, outs, pid=other.pid)  # another lane
        assert [first, second] == outs[:2] and R.unclaimed(outs) == [outs[2]]
        assert read_run(second).status["pid"] == other.pid  # its death would be seen
        # this lane is cancelled: its own and the untaken ones end, the other lane's stays
        for out in outs:
            R.end_waiting(out, "cancelled", "cancelled before it started")
        assert [read_run(o).state for o in outs] == ["cancelled", "queued", "cancelled"]
        assert R.claim_next(root, outs) is None
    finally:
        other.kill()
        other.wait()
    assert read_run(outs[1]).state == "failed"  # its lane died before starting it


def test_the_second_lane_waits_while_the_served_run_trains(tmp_path):
    run = _copy(("atwu-s0",), tmp_path) / "atwu-s0"
    assert not R.served_run_live(run)  # finished
    status = json.loads((run / "status.json").read_text())
    status.update(state="running", heartbeat_at=utc_now())
    (run / "status.json").write_text(json.dumps(status))
    assert R.served_run_live(run)
    fresh = tmp_path / "just-launched"
    fresh.mkdir()
    assert R.served_run_live(fresh)  # launched, importing: no status yet
    assert not R.served_run_live(tmp_path / "missing")


def test_the_first_runs_references_are_planned_once_the_run_is_listed(tmp_path):
    import threading
    import time

    from atwu.cli.references_cmd import _wait_until_listed

    served = tmp_path / "atwu-default-s0"
    served.mkdir()  # launched: its process is still importing
    threading.Timer(0.6, lambda: (served / "config.json").write_text("{}")).start()
    start = time.monotonic()
    _wait_until_listed(served, timeout_s=30)
    assert 0.5 < time.monotonic() - start < 10  # it waited for the run's config.json, no longer
    _wait_until_listed(tmp_path / "gone", timeout_s=30)  # no such run: at once
