"""AppTest of the Run page's References section: the missing references named on one button,
one click launching the references command for the sidebar's run, the planned ones shown (and
polled) at once instead of a second button, a failed one shown as failed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from navigation import goto

from atwu.analysis.references import queue_references
from atwu.app.references import EXECUTOR
from atwu.config import RunConfig
from atwu.demo import shipped_demo_dir
from atwu.io import read_json

pytestmark = pytest.mark.slow


def _runs(root: Path, *names: str) -> Path:
    for name in names:
        shutil.copytree(shipped_demo_dir() / name, root / name)
    return root


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _reference_buttons(at) -> list:
    return [b for b in at.button if b.key == "run_references"]


def test_one_click_runs_the_missing_references_and_none_twice(app, tmp_path, monkeypatch):
    import atwu.app.jobs as L

    root = _runs(tmp_path / "runs", "atwu-s0", "uniform-s0")
    commands = []

    def fake_launch(args, log):  # what the command does first: plan the missing ones, waiting
        commands.append(args)
        base = RunConfig.from_json(read_json(Path(args[1]) / "config.json"))
        queue_references(base, root, for_run=Path(args[1]).name, pid=os.getpid())
        return os.getpid()

    monkeypatch.setattr(L, "launch_command", fake_launch)
    at = goto(app, "pages/run_page.py", dir=str(root), run="atwu-s0")
    _ok(at)
    (button,) = _reference_buttons(at)
    assert button.label == "Run the references (static_p, oracle)"  # uniform-s0 is one already
    button.click().run()
    _ok(at)
    assert commands == [["references", str(root / "atwu-s0"), "--runs-dir", str(root), *EXECUTOR]]
    assert not _reference_buttons(at)  # planned: queued, not offered again
    bars = [b.proto.text for b in at.get("progress")]
    assert "static_p: queued" in bars and "oracle: queued" in bars
    assert any("uniform: done" in m.value for m in at.markdown)
    at.run()
    _ok(at)
    assert not _reference_buttons(at) and len(commands) == 1


def test_a_failed_reference_is_shown_failed_and_offered_again(app, tmp_path):
    root = _runs(tmp_path / "runs", "atwu-s0")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    base = RunConfig.from_json(read_json(root / "atwu-s0" / "config.json"))
    queue_references(base, root, for_run="atwu-s0", pid=gone.pid)
    at = goto(app, "pages/run_page.py", dir=str(root), run="atwu-s0")
    _ok(at)
    errors = [e.value for e in at.error]
    assert any(e.startswith("oracle: failed (the process that was to start it") for e in errors)
    (button,) = _reference_buttons(at)
    assert button.label == "Run the references (uniform, static_p, oracle)"


def test_a_reference_run_is_told_it_needs_none(app, tmp_path):
    root = _runs(tmp_path / "runs", "uniform-s0")
    at = goto(app, "pages/run_page.py", dir=str(root), run="uniform-s0")
    _ok(at)
    assert any("itself a reference" in c.value for c in at.caption)
    assert not _reference_buttons(at)


def test_homes_card_follows_the_first_runs_references_until_compare_works(app, tmp_path):
    import atwu.app.jobs as L

    root = tmp_path / "runs"
    run = _runs(root, "atwu-s0") / "atwu-s0"
    L.record_launch(run, pid=os.getpid(), argv=["atwu"], log_path=tmp_path / "run.log")
    base = RunConfig.from_json(read_json(run / "config.json"))
    planned = queue_references(base, root, for_run="atwu-s0", pid=os.getpid())
    at = goto(app, "pages/home_page.py", dir=str(root), run="atwu-s0")
    _ok(at)
    line = next(c.value for c in at.caption if c.value.startswith("References for comparison"))
    assert "uniform: queued" in line and "oracle: queued" in line
    assert not [p for p in at.get("page_link") if "references" in p.proto.label]
    for spec in planned:  # they finish: the demo's finished runs of the same methods
        shutil.rmtree(spec.out)
        shutil.copytree(shipped_demo_dir() / f"{spec.config.method}-s0", spec.out)
        config = read_json(spec.out / "config.json")
        config["tags"] = {"reference_for": "atwu-s0"}
        (spec.out / "config.json").write_text(json.dumps(config))
    at.run()
    _ok(at)
    line = next(c.value for c in at.caption if c.value.startswith("References for comparison"))
    assert line == "References for comparison: uniform: done · static_p: done · oracle: done"
    links = [p.proto.label for p in at.get("page_link")]
    assert "Compare its token weights with the references" in links
