"""``python -m atwu references RUN``: the missing references of a run, at its settings, carried out
through the run executor; run again, it finds them and starts nothing."""

from __future__ import annotations

import json

import pytest

from atwu.analysis.references import settings_key
from atwu.cli import main

pytestmark = pytest.mark.slow


def test_references_run_at_the_runs_settings_and_are_not_run_twice(
    small_benchmark, tmp_path, capsys
):
    runs = tmp_path / "runs"
    args = ["--benchmark", str(small_benchmark), "--steps", "1", "--no-eval", "--seed", "3"]
    assert main(["run", "--method", "atwu", *args, "--out", str(runs / "atwu-mine-s3")]) == 0
    assert main(["references", str(runs / "atwu-mine-s3"), "--executor", "local"]) == 0
    made = sorted(p.name for p in runs.iterdir() if not p.name.startswith("."))
    assert made == ["atwu-mine-s3", "oracle-mine-s3", "static_p-mine-s3", "uniform-mine-s3"]
    mine = json.loads((runs / "atwu-mine-s3" / "config.json").read_text())
    for name in ("uniform", "static_p", "oracle"):
        config = json.loads((runs / f"{name}-mine-s3" / "config.json").read_text())
        status = json.loads((runs / f"{name}-mine-s3" / "status.json").read_text())
        assert config["method"] == name and status["state"] == "done"
        assert settings_key(config) == settings_key(mine) and config["seed"] == 3
    capsys.readouterr()
    assert main(["references", str(runs / "atwu-mine-s3"), "--executor", "local"]) == 0
    assert "has its references already" in capsys.readouterr().out
    assert sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) == made
