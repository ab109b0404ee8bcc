"""Weight by span label: one panel per span group, each run a line of its mean token weight over
checkpoints with its interquartile band shaded; and the same read at matched forgetting (each run
at its own checkpoint), runs side by side within each group. Input: tables of
:func:`atwu.analysis.label_weights.label_weights`."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from atwu.analysis.span_groups import SPAN_GROUPS
from atwu.viz.colour_scale import parse_colour
from atwu.viz.plotly_base import OKABE_ITO, base_layout, empty_figure, esc, is_empty, legend_below

_REQUIRED = ["run", "step", "group", "mean", "q25", "q75", "tokens"]


def _groups(table: pd.DataFrame) -> list[str]:
    present = set(table["group"])
    return [g for g in SPAN_GROUPS if g in present]


def _style(run: str, i: int, styles: Mapping[str, tuple[str, str]] | None) -> tuple[str, str]:
    return (styles or {}).get(run, (OKABE_ITO[i % len(OKABE_ITO)], "circle"))


def _translucent(colour: str, alpha: float = 0.22) -> str:
    r, g, b = parse_colour(colour)
    return f"rgba({round(r)},{round(g)},{round(b)},{alpha})"


def label_weights_over_steps(
    table: pd.DataFrame,
    *,
    styles: Mapping[str, tuple[str, str]] | None = None,
    title: str = "Mean token weight by span label over training",
) -> go.Figure:
    """One panel per span group (shared y axis); per run the mean weight over steps (markers by
    seed, colours by method when ``styles`` is given) and its 25–75% band."""
    if is_empty(table, _REQUIRED):
        return empty_figure(title)
    groups = _groups(table)
    fig = make_subplots(
        rows=1, cols=len(groups), shared_yaxes=True, subplot_titles=groups, horizontal_spacing=0.03
    )
    for i, (run, part) in enumerate(table.groupby("run", sort=False)):
        colour, symbol = _style(str(run), i, styles)
        for col, group in enumerate(groups, start=1):
            rows = part[part["group"] == group].sort_values("step")
            if rows.empty:
                continue
            band_x = [*rows["step"], *rows["step"][::-1]]
            band_y = [*rows["q75"], *rows["q25"][::-1]]
            fig.add_trace(
                go.Scatter(
                    x=band_x,
                    y=band_y,
                    fill="toself",
                    fillcolor=_translucent(colour),
                    line=dict(width=0),
                    hoverinfo="skip",
                    legendgroup=esc(run),
                    showlegend=False,
                    name=esc(run),
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=rows["step"],
                    y=rows["mean"],
                    mode="lines+markers",
                    name=esc(run),
                    legendgroup=esc(run),
                    showlegend=col == 1,
                    line=dict(color=colour),
                    marker=dict(symbol=symbol, size=6, color=colour),
                    customdata=rows[["q25", "q75", "tokens"]].to_numpy(),
                    hovertemplate=(
                        f"%{{fullData.name}}<br>{esc(group)} · step %{{x}}<br>mean %{{y:.3f}}"
                        "<br>IQR %{customdata[0]:.3f}–%{customdata[1]:.3f}"
                        "<br>%{customdata[2]} tokens<extra></extra>"
                    ),
                ),
                row=1,
                col=col,
            )
    base_layout(fig, title)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="token weight (mean, 25–75% band)", col=1)
    return legend_below(fig, table["run"].nunique(), per_row=2)


def label_weights_matched(
    table: pd.DataFrame,
    *,
    styles: Mapping[str, tuple[str, str]] | None = None,
    level: float = 0.5,
) -> go.Figure:
    """Per span group, each run's mean weight (marker) and 25–75% range (bar) at its own matched
    step (``table``: :func:`atwu.analysis.label_weights.at_matched` rows), runs side by side."""
    title = f"Mean token weight by span label at matched forgetting (FFE ≥ {level:g})"
    if is_empty(table, _REQUIRED):
        return empty_figure(title, "no run reaches this level of forgetting")
    groups = _groups(table)
    runs = list(dict.fromkeys(table["run"]))
    width = 0.7 / max(1, len(runs))
    fig = go.Figure()
    for i, run in enumerate(runs):
        colour, symbol = _style(str(run), i, styles)
        part = table[table["run"] == run].set_index("group").reindex(groups)
        offset = -0.35 + width * (i + 0.5)
        xs = [g + offset for g in range(len(groups))]
        step = int(part["step"].dropna().iloc[0]) if part["step"].notna().any() else None
        name = esc(f"{run} (step {step})") if step is not None else esc(run)
        iqr_x: list[float | None] = []
        iqr_y: list[float | None] = []
        for x, (_, r) in zip(xs, part.iterrows(), strict=True):
            iqr_x += [x, x, None]
            iqr_y += [r["q25"], r["q75"], None]
        fig.add_trace(
            go.Scatter(
                x=iqr_x,
                y=iqr_y,
                mode="lines",
                line=dict(color=_translucent(colour, 0.55), width=8),
                legendgroup=name,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=part["mean"],
                mode="markers",
                name=name,
                legendgroup=name,
                marker=dict(symbol=symbol, size=10, color=colour, line=dict(width=1, color="#222")),
                customdata=list(zip(groups, part["q25"], part["q75"], part["tokens"], strict=True)),
                hovertemplate=(
                    "%{fullData.name}<br>%{customdata[0]}: mean %{y:.3f}"
                    "<br>IQR %{customdata[1]:.3f}–%{customdata[2]:.3f}"
                    "<br>%{customdata[3]} tokens<extra></extra>"
                ),
            )
        )
    base_layout(fig, title)
    fig.update_xaxes(tickvals=list(range(len(groups))), ticktext=groups, title_text="span label")
    fig.update_yaxes(title_text="token weight (mean, 25–75% bar)")
    return legend_below(fig, len(runs), per_row=2)
