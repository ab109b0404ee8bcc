"""A tiny frontier end to end through the run executor (local backend): runs tagged so that the
frontier can be rebuilt from their directories alone, the analysis files, and a second call that
skips every finished run."""

from __future__ import annotations

import json

import pytest

from atwu import cli
from atwu.analysis import frontier_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def frontier_dir(small_benchmark, tmp_path_factory):
    out = tmp_path_factory.mktemp("frontier")
    code = cli.main(
        [
            "frontier",
            "--variants",
            "atwu,uniform,oracle,wga_b5",
            "--strengths",
            "1",
            "--seeds",
            "1",
            "--epochs",
            "3",
            "--executor",
            "local",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_every_run_carries_its_variant_and_strength(frontier_dir):
    runs = sorted((frontier_dir / "runs").glob("*/config.json"))
    assert len(runs) == 4
    for path in runs:
        config = json.loads(path.read_text())
        tags = config["tags"]
        assert tags["variant"] in ("atwu", "uniform", "oracle", "wga_b5")
        assert tags["strength_param"] == "gamma/alpha"
        assert tags["strength_multiplier"] == 1.0
        assert (
            config["quick"] and config["resolved"]["checkpoint_every"] == 1
        )  # 6 steps, ≥ 12 asked
    sweep = json.loads((frontier_dir / "runs" / "sweep.json").read_text())
    assert sweep["counts"]["done"] == 4


def test_the_analysis_files_hold_the_frontier(frontier_dir):
    result = frontier_report.read(frontier_dir)
    points = result["tables"]["points"]
    assert len(points) == 4 * 7  # step 0 and a checkpoint after each of the 6 steps
    assert {"ffe", "template_damage", "neighbour_damage", "auroc"} <= set(points.columns)
    assert set(result["decision"]) == {"template_damage", "neighbour_damage"}
    assert "passed" in result["gate"] and result["gate"]["reason"]
    levels = result["tables"]["levels"]
    assert set(levels["curve"]) == {"atwu", "uniform", "oracle", "wga_b5"}
    comparisons = result["tables"]["comparisons"]
    assert len(comparisons) == 6  # 2 axes × 3 levels
    assert set(comparisons["verdict"]) <= {
        "better",
        "worse",
        "no significant difference",
        "not reached",
        "no comparator",
    }
    # uniform (an ablation) and oracle (a reference) are never the comparator
    assert not set(comparisons["comparator"].dropna()) & {"uniform", "oracle"}


def test_running_the_same_command_again_skips_finished_runs(frontier_dir, capsys):
    before = {p: p.stat().st_mtime_ns for p in (frontier_dir / "runs").glob("*/status.json")}
    code = cli.main(
        [
            "frontier",
            "--variants",
            "atwu,uniform,oracle,wga_b5",
            "--strengths",
            "1",
            "--seeds",
            "1",
            "--epochs",
            "3",
            "--executor",
            "local",
            "--out",
            str(frontier_dir),
        ]
    )
    assert code == 0
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert "gate targeting" in capsys.readouterr().out


def test_bad_variant_is_refused_before_anything_is_written(tmp_path, capsys):
    assert cli.main(["frontier", "--variants", "atwu,nosuch", "--out", str(tmp_path / "f")]) == 2
    assert "unknown variant 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
