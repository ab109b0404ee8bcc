"""The frontier report end to end on a tiny scale: one split, a few variants, the report's
sections and figures, and a second call that reuses every finished run."""

from __future__ import annotations

import pytest

from atwu.analysis.reproduce import best_baselines, plan_split, reproduce
from atwu.config import RunConfig, TrainSettings
from atwu.executor.base import make_executor


def test_plans_follow_the_issue():
    quick = plan_split("forget10", quick=True, best_baselines=[])
    names = {s.variant.name for s in quick}
    assert names == {
        "atwu",
        "uniform",
        "oracle",
        "static_p",
        "threshold",
        "wga_b5",
        "satimp",
        "tnpo",
        "npo",
        "satimp_ou",
    }
    assert {s.strength for s in quick if s.variant.name == "atwu"} == {0.5, 1.0, 2.0}
    assert [s.strength for s in quick if s.variant.name == "satimp_ou"] == [1.0]  # marked point
    full = plan_split("forget10", quick=False, best_baselines=[])
    assert len({s.variant.name for s in full}) == 22
    assert {s.strength for s in full if s.variant.name == "ga"} == {0.25, 0.5, 1.0, 2.0, 4.0}
    small = plan_split("forget05", quick=False, best_baselines=["npo", "tnpo"])
    assert {s.variant.name for s in small} == {
        "atwu",
        "uniform",
        "oracle",
        "static_p",
        "npo",
        "tnpo",
    }
    # a best baseline the small splits run anyway is planned once (two runs would share a name)
    again = plan_split("forget05", quick=False, best_baselines=["static_p", "threshold"])
    keys = [(s.variant.name, s.strength) for s in again]
    assert len(keys) == len(set(keys)) == 5 * 3


@pytest.mark.slow
def test_reproduce_tiny_end_to_end(small_benchmark, tmp_path):
    out = tmp_path / "report"
    base = RunConfig(method="atwu", train=TrainSettings(epochs=2))

    def run() -> str:
        return reproduce(
            out,
            quick=True,
            seeds=1,
            benchmark=str(small_benchmark),
            executor=make_executor("local"),
            base=base,
            variants=("atwu", "uniform", "oracle", "wga_b5"),
            strengths=(1.0,),
        ).read_text()

    text = run()
    for section in (
        "## forget10",
        "### What holds",
        "Validity gate",
        "Template damage (TD)",
        "### Alignment at matched forgetting",
        "### At default settings",
        "0.6M-parameter",
    ):
        assert section in text, section
    for name in (
        "frontier_forget10_template_damage.png",
        "frontier_forget10_neighbour_damage.png",
        "alignment_forget10.png",
        "forget10/frontier.json",
    ):
        assert (out / name).is_file(), name
    assert best_baselines(out / "forget10") == ["wga_b5"]  # the only baseline here
    stamps = {p: p.stat().st_mtime_ns for p in (out / "forget10" / "runs").glob("*/status.json")}
    assert len(stamps) == 4
    run()  # resumes: every run is finished, nothing is rerun
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
