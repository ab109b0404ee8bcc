"""Forget quality against model utility over checkpoints, and the truth-ratio histograms behind forget quality."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atwu.analysis.tradeoff import pareto_front
from atwu.viz.plotly_base import base_layout, empty_figure, esc, is_empty, legend_below

#: Forget-quality values are KS p-values and can underflow to 0, which a log axis cannot show;
#: they are drawn at this fraction of the smallest positive value (the hover keeps the true one).
_LOG_FLOOR_FACTOR = 0.1


_DEFAULT_LOG_FLOOR = 1e-12


def _log_x(values: pd.Series) -> tuple[pd.Series, float]:
    """Values drawable on a log axis: non-positive ones raised to a floor below the data."""
    positive = values[values > 0]
    floor = float(positive.min()) * _LOG_FLOOR_FACTOR if len(positive) else _DEFAULT_LOG_FLOOR
    return values.where(values > 0, floor), floor


#: How a trajectory's first checkpoint is drawn (an open ring, larger than the other markers):
#: where each run starts, so the direction of every line reads at a glance.
START_SYMBOL, START_SIZE, POINT_SIZE = "circle-open", 15, 8


def tradeoff_figure(
    points: pd.DataFrame,
    *,
    front: pd.DataFrame | None = None,
    best: pd.DataFrame | None = None,
    show_front: bool = True,
    styles: Mapping[str, tuple[str, str]] | None = None,
) -> go.Figure:
    """Forget quality (log x) against model utility (y), one line per run through its steps.

    Args:
        points: columns ``run``, ``step``, ``forget_quality``, ``model_utility`` (one row per
            evaluated checkpoint; several runs or sweep settings).
        front: the Pareto front to highlight (same columns); None computes it from ``points``
            with :func:`pareto_front`.
        best: the chosen checkpoint(s), drawn as stars; None for none.
        show_front: set False to leave the front out.
        styles: each run's (colour, marker) (:mod:`atwu.viz.run_styles`: one colour per
            method, a marker per seed); without it the palette colours the runs in turn.

    Each line starts at an open ring (:data:`START_SYMBOL`): its first checkpoint.

    Forget quality is a p-value, hence the log axis; zeros are drawn at a floor a decade below
    the smallest positive value (hover shows the true value).
    """
    title = "Forget quality vs model utility"
    cols = ["run", "step", "forget_quality", "model_utility"]
    if is_empty(points, cols):
        return empty_figure(title)
    df = points.dropna(subset=["forget_quality", "model_utility"]).copy()
    if df.empty:
        return empty_figure(title)
    df["_x"], floor = _log_x(df["forget_quality"].astype(float))
    hover = (
        "run %{customdata[0]}<br>step %{customdata[1]}<br>"
        "forget quality %{customdata[2]:.3g}<br>model utility %{customdata[3]:.3f}"
        "<extra></extra>"
    )

    def custom(frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack(
            [
                frame["run"].map(esc).to_numpy(dtype=object),
                frame["step"].to_numpy(dtype=object),
                frame["forget_quality"].to_numpy(dtype=float),
                frame["model_utility"].to_numpy(dtype=float),
            ]
        )

    fig = go.Figure()
    for run, part in df.groupby("run", sort=False):
        part = part.sort_values("step")
        colour, symbol = (styles or {}).get(str(run), (None, "circle"))
        n = len(part)
        fig.add_trace(
            go.Scatter(
                x=part["_x"],
                y=part["model_utility"],
                mode="lines+markers",
                name=esc(run),
                line=dict(color=colour),
                marker=dict(
                    color=colour,
                    symbol=[START_SYMBOL] + [symbol] * (n - 1),
                    size=[START_SIZE] + [POINT_SIZE] * (n - 1),
                    line=dict(width=2),
                ),
                customdata=custom(part),
                hovertemplate=hover,
            )
        )
    if show_front:
        fr = (
            pareto_front(df)
            if front is None
            else front.dropna(subset=["forget_quality", "model_utility"]).sort_values(
                "forget_quality"
            )
        )
        if len(fr):
            fr = fr.assign(
                _x=fr["forget_quality"].astype(float).where(fr["forget_quality"] > 0, floor)
            )
            fig.add_trace(
                go.Scatter(
                    x=fr["_x"],
                    y=fr["model_utility"],
                    mode="lines",
                    name="Pareto front",
                    # "hv": along the front, moving right trades utility away, so the staircase
                    # steps across then down, bounding the region the front dominates. Grey,
                    # half transparent: it reads on light and dark pages.
                    line=dict(shape="hv", width=6, color="rgba(128,128,128,0.35)"),
                    hoverinfo="skip",
                )
            )
    if best is not None and len(best):
        b = best.dropna(subset=["forget_quality", "model_utility"])
        b = b.assign(_x=b["forget_quality"].astype(float).where(b["forget_quality"] > 0, floor))
        fig.add_trace(
            go.Scatter(
                x=b["_x"],
                y=b["model_utility"],
                mode="markers",
                name="best checkpoint",
                marker=dict(
                    symbol="star", size=18, color="#F0E442", line=dict(width=1.5, color="#000000")
                ),
                customdata=custom(b),
                hovertemplate=hover,
            )
        )
    base_layout(fig, title)
    legend_below(fig, df["run"].nunique() + 2)
    fig.update_xaxes(
        type="log", title="forget quality (KS p-value, log scale)", exponentformat="power"
    )
    fig.update_yaxes(title="model utility")
    return fig


def truth_ratio_histograms(
    unlearned: Sequence[float], retain: Sequence[float], ks_stat: float, p_value: float
) -> go.Figure:
    """Overlaid histograms of forget-set truth ratios: unlearned model vs retain model.

    Both use the same bins, so the KS statistic (largest gap between the two empirical CDFs) and
    its p-value (the forget quality) in the title can be read off the picture. Bars show the share
    of questions per bin, so the two sets compare even if one lost a few questions.
    """
    title = "Forget truth ratios"
    a = np.asarray([v for v in unlearned if v is not None], dtype=float)
    b = np.asarray([v for v in retain if v is not None], dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 and b.size == 0:
        return empty_figure(title)
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="auto")
    if len(edges) > 41:
        edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=40)
    size = float(edges[1] - edges[0]) if len(edges) > 1 and edges[1] > edges[0] else 0.05
    bins = dict(start=float(edges[0]), end=float(edges[-1]) + 1e-12, size=size)
    fig = go.Figure()
    for values, name, colour in ((a, "unlearned model", "#D55E00"), (b, "retain model", "#0072B2")):
        fig.add_trace(
            go.Histogram(
                x=values,
                xbins=bins,
                name=name,
                opacity=0.85,
                marker_color=colour,
                marker_line=dict(color="#ffffff", width=0.5),
                histnorm="probability",
                autobinx=False,
            )
        )
    base_layout(fig, f"{title}: KS statistic = {ks_stat:.3f}, p-value = {p_value:.3g}")
    # Side by side within each bin: overlaid translucent bars mixed into an unlabelled third colour.
    fig.update_layout(barmode="group", bargap=0.08, bargroupgap=0.0)
    fig.update_xaxes(title="truth ratio (min(R, 1/R))")
    fig.update_yaxes(title="share of questions")
    return fig
