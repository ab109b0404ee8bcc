"""Tests for the plotly figure builders (atwu.viz.figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from atwu.analysis.tradeoff import pareto_front
from atwu.viz.comparison_figures import comparison_bars
from atwu.viz.overview import overview_matrix
from atwu.viz.tradeoff_figures import tradeoff_figure, truth_ratio_histograms
from atwu.viz.training_figures import auroc_over_steps, loss_curves


def has_no_data_note(fig: go.Figure) -> bool:
    return any(a.text == "no data" for a in fig.layout.annotations)


def weights_frame(n_examples: int = 3, n_pos: int = 4) -> pd.DataFrame:
    rows = []
    for e in range(n_examples):
        for p in range(n_pos - (e % 2)):  # ragged lengths
            rows.append(
                dict(
                    step=5,
                    example_id=f"{e}",
                    position=p,
                    token=f"<b>{e}{p}",
                    weight=(e + p) / 10,
                    label=int(p == 1),
                    span_kind=None,
                )
            )
    return pd.DataFrame(rows)


# --- empty inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: overview_matrix(pd.DataFrame()),
        lambda: loss_curves(pd.DataFrame()),
        lambda: loss_curves(pd.DataFrame({"step": [1, 2], "lr": [None, None]})),
        lambda: tradeoff_figure(pd.DataFrame()),
        lambda: tradeoff_figure(
            pd.DataFrame(columns=["run", "step", "forget_quality", "model_utility"])
        ),
        lambda: truth_ratio_histograms([], [], 0.0, 1.0),
        lambda: comparison_bars(pd.DataFrame(), "uq"),
        lambda: auroc_over_steps(pd.DataFrame()),
    ],
)
def test_empty_inputs_give_no_data_figure(build) -> None:
    fig = build()
    assert isinstance(fig, go.Figure)
    assert has_no_data_note(fig)
    assert len(fig.data) == 0


def test_wrong_columns_raise() -> None:
    with pytest.raises(ValueError, match="missing column"):
        tradeoff_figure(pd.DataFrame({"run": ["a"], "step": [1]}))


# --- overview matrix -------------------------------------------------------------------------


def test_overview_matrix_heatmap_and_fact_markers() -> None:
    fig = overview_matrix(weights_frame())
    heat, facts = fig.data
    assert isinstance(heat, go.Heatmap) and isinstance(facts, go.Scatter)
    z = np.asarray(heat.z, dtype=float)
    assert z.shape == (3, 4)
    assert np.isnan(z[1, 3])  # example 1 is one token shorter
    assert z[2, 3] == pytest.approx(0.5)
    # Hover text carries the (escaped) token.
    assert heat.text[0][1] == "&#x27;&lt;b&gt;01&#x27;"
    assert list(facts.x) == [1, 1, 1]
    assert fig.layout.yaxis.type == "category"


def test_overview_matrix_limits_examples_and_rejects_several_steps() -> None:
    fig = overview_matrix(weights_frame(n_examples=5), max_examples=2)
    assert np.asarray(fig.data[0].z).shape[0] == 2
    assert "first 2 of 5" in fig.layout.title.text
    two_steps = pd.concat([weights_frame(), weights_frame().assign(step=6)])
    with pytest.raises(ValueError, match="one step"):
        overview_matrix(two_steps)


# --- loss curves -----------------------------------------------------------------------------


def test_loss_curves_one_line_per_numeric_column() -> None:
    metrics = pd.DataFrame(
        {
            "step": [2, 1, 3],
            "loss": [1.0, 2.0, 0.5],
            "forget_loss": [-1.0, -0.5, np.nan],
            "retain_loss": [0.3, 0.4, 0.2],
            "seconds": [1.0, 2.0, 3.0],
            "lr": [1e-5, 1e-5, 5e-6],
            "phase": ["train", "train", "eval"],
        }
    )
    fig = loss_curves(metrics)
    names = [t.name for t in fig.data]
    assert names == ["loss", "forget_loss", "retain_loss", "lr"]
    loss = fig.data[0]
    assert list(loss.x) == [1, 2, 3] and list(loss.y) == [2.0, 1.0, 0.5]
    assert len(fig.data[1].x) == 2  # the NaN row is skipped
    assert fig.data[3].yaxis == "y2"


# --- pareto front ----------------------------------------------------------------------------


def test_pareto_front_hand_case() -> None:
    pts = pd.DataFrame(
        {
            "run": list("abcdefg"),
            "forget_quality": [0.1, 0.5, 0.5, 0.9, 0.05, 0.9, np.nan],
            "model_utility": [0.8, 0.6, 0.6, 0.3, 0.7, 0.2, 0.99],
        }
    )
    front = pareto_front(pts)
    # b and c tie exactly: both kept. e (0.05, 0.7) is dominated by a (0.1, 0.8); f shares x
    # with d but has lower y; g has NaN and is ignored.
    assert list(front["run"]) == ["a", "b", "c", "d"]
    assert list(front.index) == [0, 1, 2, 3]
    assert front["forget_quality"].is_monotonic_increasing


def test_pareto_front_equal_y_larger_x_dominates() -> None:
    pts = pd.DataFrame({"forget_quality": [0.2, 0.4], "model_utility": [0.5, 0.5]})
    assert list(pareto_front(pts).index) == [1]


def test_pareto_front_custom_columns_and_empty() -> None:
    pts = pd.DataFrame({"x": [1, 2, 3], "y": [3, 2, 1]})
    assert len(pareto_front(pts, "x", "y")) == 3
    assert pareto_front(pts.iloc[0:0], "x", "y").empty


# --- trade-off figure ------------------------------------------------------------------------


def test_tradeoff_figure_log_axis_runs_front_and_best() -> None:
    pts = pd.DataFrame(
        {
            "run": ["atwu"] * 3 + ["<ga>"] * 2,
            "step": [20, 10, 30, 10, 20],
            "forget_quality": [1e-3, 1e-5, 0.2, 0.0, 1e-4],
            "model_utility": [0.55, 0.6, 0.4, 0.61, 0.3],
        }
    )
    best = pts.iloc[[2]]
    fig = tradeoff_figure(pts, best=best)
    assert fig.layout.xaxis.type == "log"
    names = [t.name for t in fig.data]
    assert names == ["atwu", "&lt;ga&gt;", "Pareto front", "best checkpoint"]
    atwu = fig.data[0]
    assert list(atwu.customdata[:, 1]) == [10, 20, 30]  # step order
    assert atwu.mode == "lines+markers"
    assert "step" in atwu.hovertemplate and "model utility" in atwu.hovertemplate
    ga = fig.data[1]
    assert min(ga.x) > 0  # zero forget quality drawn at a positive floor
    assert ga.customdata[0, 2] == 0.0  # ... but hover keeps the true value
    front = fig.data[2]
    assert front.line.shape == "hv"
    assert fig.data[3].marker.symbol == "star"


def test_tradeoff_figure_without_front() -> None:
    pts = pd.DataFrame({"run": ["r"], "step": [1], "forget_quality": [0.5], "model_utility": [0.5]})
    fig = tradeoff_figure(pts, show_front=False)
    assert [t.name for t in fig.data] == ["r"]


# --- other figures ---------------------------------------------------------------------------


def test_truth_ratio_histograms_share_bins_and_title() -> None:
    rng = np.random.default_rng(0)
    fig = truth_ratio_histograms(rng.uniform(0, 1, 40), rng.uniform(0.2, 0.9, 40), 0.3, 0.0123)
    a, b = fig.data
    assert isinstance(a, go.Histogram) and isinstance(b, go.Histogram)
    assert a.xbins == b.xbins
    assert fig.layout.barmode == "group"
    assert "KS statistic = 0.300" in fig.layout.title.text
    assert "p-value = 0.0123" in fig.layout.title.text


def test_comparison_bars_sorted_with_error_bars() -> None:
    summary = pd.DataFrame(
        {
            "method": ["wga", "atwu", "<ga>"],
            "uq_mean": [40.0, 70.0, 10.0],
            "uq_std": [5.0, np.nan, 2.0],
            "n": [3, 1, 3],
        }
    )
    fig = comparison_bars(summary, "uq")
    bar = fig.data[0]
    assert isinstance(bar, go.Bar)
    assert list(bar.x) == ["atwu", "wga", "&lt;ga&gt;"]
    assert list(bar.y) == [70.0, 40.0, 10.0]
    assert list(bar.error_y.array) == [0.0, 5.0, 2.0]
    dots = comparison_bars(summary, "uq", kind="dot", ascending=True)
    assert isinstance(dots.data[0], go.Scatter)
    assert list(dots.data[0].y) == [10.0, 40.0, 70.0]


def test_auroc_over_steps_lines_per_run() -> None:
    evals = pd.DataFrame({"run": ["a", "a", "b"], "step": [20, 10, 10], "auroc": [0.8, 0.6, 0.5]})
    fig = auroc_over_steps(evals)
    assert [t.name for t in fig.data] == ["a", "b"]
    assert list(fig.data[0].x) == [10, 20]
    assert any(s.y0 == 0.5 for s in fig.layout.shapes)


# --- one colour per method, a marker per seed, where a run starts, pages of the matrix ------


def test_trajectories_start_at_an_open_ring_in_their_method_colour() -> None:
    from atwu.viz.tradeoff_figures import START_SYMBOL

    pts = pd.DataFrame(
        {
            "run": ["a0"] * 3 + ["a1"] * 2,
            "step": [20, 0, 40, 0, 20],
            "forget_quality": [1e-3, 1e-5, 0.2, 1e-5, 1e-4],
            "model_utility": [0.55, 0.6, 0.4, 0.61, 0.3],
        }
    )
    styles = {"a0": ("#D55E00", "circle"), "a1": ("#D55E00", "diamond")}
    fig = tradeoff_figure(pts, styles=styles, show_front=False)
    a0, a1 = fig.data
    assert list(a0.marker.symbol) == [START_SYMBOL, "circle", "circle"]  # step 0 first
    assert list(a1.marker.symbol) == [START_SYMBOL, "diamond"]
    assert a0.line.color == a1.line.color == "#D55E00"
    assert a0.marker.size[0] > a0.marker.size[1]
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0  # under the plot


def test_alignment_curves_take_the_run_styles() -> None:
    evals = pd.DataFrame({"run": ["x", "x", "y"], "step": [0, 5, 0], "auroc": [0.5, 0.8, 0.5]})
    fig = auroc_over_steps(evals, styles={"x": ("#000000", "square")})
    x, y = fig.data
    assert x.line.color == "#000000" and x.marker.symbol == "square"
    assert y.marker.symbol == "circle"  # a run without a style: the palette's turn
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0


def test_overview_draws_the_examples_asked_for_in_order_at_a_readable_height() -> None:
    from atwu.viz.overview import ROW_PX, figure_height

    frame = weights_frame(n_examples=5)
    fig = overview_matrix(frame, examples=["4", "0", "9"], vmin=0.0, vmax=2.0, title="<r>")
    heat = fig.data[0]
    assert list(heat.y) == ["4", "0", "9"]  # "9" was not recorded: an empty row
    assert np.isnan(np.asarray(heat.z, dtype=float)[2]).all()
    assert (heat.zmin, heat.zmax) == (0.0, 2.0)
    assert fig.layout.height == figure_height(3) and figure_height(40) >= 40 * ROW_PX
    assert fig.layout.title.text == "&lt;r&gt;"
    assert not fig.data[1].showlegend  # the caption says what the dots are
    assert overview_matrix(frame, examples=["nope"]).layout.annotations  # nothing to draw
