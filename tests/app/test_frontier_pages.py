"""AppTest of the frontier views on fabricated frontier runs (tests/app/frontier_runs.py): the
Trade-offs page draws the frontiers with the gate's verdict and the matched-forgetting table,
the Method comparison page starts with the tables at matched forgetting, the Token scores page
switches to the retain-conflict ground truth. AppTest cannot see inside plotly charts: the figure
is tested in tests/viz/test_frontier_figures.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from frontier_runs import NO_NEIGHBOURS, make_frontier, make_run
from navigation import goto

from atwu.analysis import frontier_report
from atwu.analysis.frontier_data import load_frontier_data, run_dirs_under

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def frontier_runs(tmp_path_factory) -> Path:
    return make_frontier(tmp_path_factory.mktemp("frontier") / "runs")


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "unexpected error" in e.value]
    assert not unexpected, unexpected


def _table(at, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_tradeoffs_draws_the_frontiers_gate_and_matched_table(app, frontier_runs):
    at = goto(app, "pages/tradeoffs_page.py", dir=str(frontier_runs))
    _ok(at)
    assert [s.value for s in at.success if s.value.startswith("Gate targeting passed")]
    table = _table(at, "95% interval")
    assert len(table) == 6 and set(table["verdict"]) == {"better"}
    decisions = [m.value for m in at.markdown if m.value.startswith("**Template damage**")]
    assert decisions and "ATWU improves the trade-off" in decisions[0]
    captions = "\n".join(c.value for c in at.caption)
    assert "300 bootstrap resamples" in captions  # computed here, and said so
    assert at.radio(key="frontier_axis").value == "template_damage"
    at.radio(key="frontier_axis").set_value("neighbour_damage").run()
    _ok(at)
    assert at.query_params["axis"] == "neighbour_damage"
    # the single-run views stay below; no checkpoint reaches forget quality 0.05 here
    assert any(c.value.startswith("Rule:") for c in at.caption)
    assert any("none meets the rule" in w.value for w in at.warning)
    assert not [m.value for m in at.markdown if m.value.startswith("**Best checkpoint**")]


def test_tradeoffs_prefers_the_written_analysis(app, tmp_path):
    runs = make_frontier(tmp_path / "out" / "runs", seeds=1, gate_fails=True)
    data = load_frontier_data(run_dirs_under(runs))
    path = frontier_report.write(tmp_path / "out", frontier_report.analyse(data, n_resamples=50))
    at = goto(app, "pages/tradeoffs_page.py", dir=str(runs))
    _ok(at)
    assert any(c.value.startswith(f"From `{path}`") for c in at.caption)
    assert [e.value for e in at.error if e.value.startswith("Gate targeting failed")]


def test_tradeoffs_without_fact_level_runs_says_so(app, tmp_path):
    for seed in range(2):  # runs evaluated before the fact-level metrics existed
        run = make_run(tmp_path / "runs", "atwu", 1.0, seed, tagged=False)
        lines = (run / "eval.jsonl").read_text().splitlines()
        (run / "eval.jsonl").write_text("\n".join(ln.replace('"ffe"', '"old"') for ln in lines))
    at = goto(app, "pages/tradeoffs_page.py", dir=str(tmp_path / "runs"))
    _ok(at)
    assert any("No run here has fact-level metrics" in i.value for i in at.info)
    assert at.multiselect(key="tradeoff_runs").value  # the single-run views still show


def test_comparison_starts_at_matched_forgetting(app, frontier_runs):
    at = goto(app, "pages/comparison_page.py", dir=str(frontier_runs))
    _ok(at)
    headers = [h.value for h in at.header]
    assert headers == ["At matched forgetting", "At default settings"]
    levels = _table(at, "template damage at FFE 0.5")
    assert levels["variant"].tolist() == [
        "atwu",
        "wga_b5",
        "uniform",
        "oracle",
        "shuffled_oracle",
        "specific_oracle",
        "template_only",
    ]
    alignment = _table(at, "retain-conflict AUROC")
    assert alignment.set_index("variant").loc["atwu", "AUROC"] == "0.900 ± 0.000"
    # at default settings: the runs at their variant's default strength, fact-level columns
    chosen = at.multiselect(key="cmp_runs").value
    assert chosen and all("-x1-" in name for name in chosen)
    facts = _table(at, "fact forget efficacy (FFE)")
    assert "template damage" in facts.columns


def test_token_scores_switch_to_the_retain_conflict_view(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    _ok(at)
    assert at.radio(key="ground_truth").value == "facts"
    assert "mean weight (facts)" in _table(at, "AUROC").columns
    before = [m.value for m in at.metric]
    at.radio(key="ground_truth").set_value("conflict").run()
    _ok(at)
    assert at.query_params["truth"] == "conflict"
    table = _table(at, "AUROC")
    assert {"mean weight (specific)", "mean weight (shared)"} <= set(table.columns)
    assert any(c.value.startswith("Retain conflict:") for c in at.caption)
    assert len(at.metric) == len(before) == 4


def test_tradeoffs_says_why_an_axis_has_no_frontier(app, tmp_path):
    runs = make_frontier(tmp_path / "runs", seeds=1, neighbours=False)
    at = goto(app, "pages/tradeoffs_page.py", dir=str(runs), axis="neighbour_damage")
    _ok(at)
    assert at.radio(key="frontier_axis").value == "neighbour_damage"
    assert any(NO_NEIGHBOURS in i.value for i in at.info)
    assert set(_table(at, "95% interval")["damage axis"]) == {"template damage"}
