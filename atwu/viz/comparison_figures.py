"""Bars and dots of one metric per method group, with their spread over seeds."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atwu.viz.plotly_base import OKABE_ITO, base_layout, empty_figure, esc, is_empty


def comparison_bars(
    summary: pd.DataFrame,
    metric: str,
    *,
    kind: Literal["bar", "dot"] = "bar",
    ascending: bool = False,
    label: str | None = None,
) -> go.Figure:
    """Per-method mean of ``metric`` with ±std error bars, sorted (descending by default).

    Args:
        summary: columns ``method``, ``<metric>_mean``, ``<metric>_std`` (NaN or absent when
            there is one seed: no error bar) and optionally ``n`` (seeds), shown on hover.
        metric: the metric's base name.
        kind: ``"bar"`` or ``"dot"`` (a dot plot reads better when means are close to each
            other far from zero).
        ascending: sort ascending instead, e.g. for a lower-is-better metric.
        label: the metric's display name for the title and axis (default: ``metric``).
    """
    shown = label or metric
    title = f"{esc(shown)} by method"
    mean_col, std_col = f"{metric}_mean", f"{metric}_std"
    if is_empty(summary, ["method", mean_col]):
        return empty_figure(title)
    df = summary.dropna(subset=[mean_col]).sort_values(mean_col, ascending=ascending)
    if df.empty:
        return empty_figure(title)
    std = df[std_col].fillna(0.0) if std_col in df.columns else pd.Series(0.0, index=df.index)
    n = df["n"] if "n" in df.columns else pd.Series(np.nan, index=df.index)
    # A group's settings go on lines of their own under its method, so long labels fit
    # upright under their bars.
    methods = df["method"].map(lambda m: esc(m).replace(" (", "<br>(", 1).replace(", ", ",<br>"))
    hover = "%{x}<br>mean %{y:.4g} ± %{customdata[0]:.3g}<br>n %{customdata[1]}<extra></extra>"
    custom = np.column_stack([std.to_numpy(dtype=float), n.to_numpy(dtype=object)])
    error = dict(type="data", array=std.to_numpy(dtype=float), visible=True)
    if kind == "dot":
        trace: go.Bar | go.Scatter = go.Scatter(
            x=methods,
            y=df[mean_col],
            mode="markers",
            error_y=error,
            name=metric,
            marker=dict(size=11, color=OKABE_ITO[0]),
            customdata=custom,
            hovertemplate=hover,
        )
    else:
        trace = go.Bar(
            x=methods,
            y=df[mean_col],
            error_y=error,
            name=metric,
            marker_color=OKABE_ITO[0],
            customdata=custom,
            hovertemplate=hover,
        )
    fig = go.Figure(trace)
    base_layout(fig, title)
    # Keep the sorted order even if plotly would otherwise sort categories.
    fig.update_xaxes(
        title="method",
        type="category",
        categoryorder="array",
        categoryarray=list(methods),
        tickangle=0,
    )
    fig.update_yaxes(title=f"{esc(shown)} (mean ± std)")
    return fig
