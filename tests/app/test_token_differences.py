"""AppTest of the Token scores page's difference view (A − B) and weight by span label, on the
demo bundle's atwu-s0 and wga-s0; and the charts' and the token view's figure downloads."""

from __future__ import annotations

import json

import pytest
from navigation import goto

from atwu.analysis.label_weights import matched_step
from atwu.app.weight_diff_view import DIFF_TAB, LABEL_TAB

pytestmark = pytest.mark.slow


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error], [e.value for e in at.error]


def _html(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_difference_tab_subtracts_the_other_run_and_ranks_examples(app, app_runs):
    from atwu.app.token_view import recorded_steps
    from atwu.runs.read import read_weights

    last = recorded_steps(read_weights(app_runs / "atwu-s0"))[-1]
    at = goto(app, "pages/token_scores.py", run="atwu-s0", tab=DIFF_TAB)
    _ok(at)
    assert at.selectbox(key="diff_b").value == "wga-s0"
    assert at.query_params["vs"] == "wga-s0"
    assert 'class="atwu-compare atwu-delta"' in _html(at)
    assert f"A = atwu-s0 at step {last}, B = wga-s0 at step {last}" in _captions(at)
    keys = {d.proto.id for d in at.dataframe}
    assert len(at.dataframe) >= 3, keys  # the example table above, the two difference tables
    ranked = next(d.value for d in at.dataframe if "mean |Δw|" in d.value.columns)
    assert list(ranked["mean |Δw|"]) == sorted(ranked["mean |Δw|"], reverse=True)
    # each row links back to this page at its example, with this tab and this B
    assert ranked["link"].iloc[0].startswith("?")
    assert f"example={ranked['example_id'].iloc[0]}" in ranked["link"].iloc[0]
    assert "vs=wga-s0" in ranked["link"].iloc[0]


def test_difference_at_matched_forgetting_reads_each_runs_first_step_reaching_ffe(app, app_runs):
    from atwu.app.token_view import recorded_steps
    from atwu.runs.read import read_evals, read_weights

    expect = {
        name: matched_step(
            read_evals(app_runs / name), recorded_steps(read_weights(app_runs / name))
        )
        for name in ("atwu-s0", "wga-s0")
    }
    at = goto(app, "pages/token_scores.py", run="atwu-s0", tab=DIFF_TAB)
    at.toggle(key="diff_matched").set_value(True).run()
    _ok(at)
    text = _captions(at) + "\n".join(w.value for w in at.warning)
    if None in expect.values():
        assert "no checkpoint with FFE ≥ 0.5" in text
    else:
        assert (
            f"A = atwu-s0 at step {expect['atwu-s0']}, B = wga-s0 at step {expect['wga-s0']}, "
            "each at its first checkpoint with FFE ≥ 0.5"
        ) in text


def test_an_example_of_the_difference_view_opens_in_the_view_above(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0", tab=DIFF_TAB)
    ids = at.selectbox(key="diff_example").options
    pick = ids[-1]
    at.selectbox(key="diff_example").set_value(pick).run()
    _ok(at)
    assert f"({pick})" in _html(at)
    at.button(key="diff_open").click().run()
    _ok(at)
    assert at.selectbox(key="example").value == pick


def test_weight_by_span_label_draws_both_charts_for_the_compared_runs(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0", tab=LABEL_TAB, compare="wga-s0")
    _ok(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    over_steps = json.loads(charts[0].proto.spec)
    names = {t.get("name") for t in over_steps["data"] if t.get("showlegend") is not False}
    assert names == {"atwu-s0", "wga-s0"}
    titles = [a["text"] for a in over_steps["layout"]["annotations"]]
    assert titles[:2] == ["specific", "shared"] and "template" in titles
    assert any(b.proto.label == "Table (CSV)" for b in at.get("download_button"))


def test_every_chart_downloads_in_the_format_picked_in_the_sidebar(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0", tab=LABEL_TAB)
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    assert config["toImageButtonOptions"]["format"] == "svg"
    at.session_state["figure_format"] = "png"
    at.run()
    _ok(at)
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    assert config["toImageButtonOptions"]["format"] == "png"
    assert config["toImageButtonOptions"]["scale"] == 3


def test_the_token_view_offers_png_and_svg_figures(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    _ok(at)
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Figure (PNG)", "Figure (SVG)"} <= labels
    assert at.radio(key="example_fig_theme").options == ["light", "dark"]


def test_shape_only_subtracts_shapes_on_a_scale_of_at_most_one(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0", tab=DIFF_TAB, normalise="1")
    _ok(at)
    assert "Shape only: each example's weights divided by its largest" in _captions(at)
    limit = next(
        float(c.value.split("±")[1].split(" ")[0]) for c in at.caption if "One scale" in c.value
    )
    assert 0 < limit <= 1.0
