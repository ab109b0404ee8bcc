"""Curves over training steps: losses from the training log, alignment AUROC per checkpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atwu.viz.plotly_base import base_layout, empty_figure, esc, is_empty, legend_below

#: Columns of ``train_log.jsonl`` that are bookkeeping, not curves to plot against step.
_NON_CURVE_COLUMNS: frozenset[str] = frozenset({"step", "seconds", "lr"})


#: Loss-like columns plotted by :func:`loss_curves` by default (other numeric columns, e.g. tau,
#: grad_norm, step_seconds, selected_share, mean_weight, have unrelated scales).
LOSS_COLUMNS: tuple[str, ...] = ("loss", "forget_loss", "retain_loss", "scorer_loss")


def _is_loss_like(col: object) -> bool:
    name = str(col)
    return name in LOSS_COLUMNS or name.endswith("_loss")


def loss_curves(
    metrics: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    show_lr: bool = True,
    title: str = "Training curves",
) -> go.Figure:
    """Training curves from ``train_log.jsonl`` rows: one line per loss column against step.

    By default only loss-like columns (:data:`LOSS_COLUMNS` and any ``*_loss``) are drawn; pass
    ``columns`` to draw other numeric columns instead (e.g. diagnostics on a second chart). Rows
    where a column is missing are skipped, since train and eval rows log different keys. ``lr``,
    when present and ``show_lr``, is drawn dashed on a secondary y axis ranged [0, 1.1 × max lr]
    (its scale is unrelated to the losses; never negative ticks for a constant rate). The legend
    sits under the plot so it does not squeeze it.
    """
    if is_empty(metrics, []):
        return empty_figure(title)
    df = metrics.copy()
    if "step" not in df.columns:
        df["step"] = np.arange(len(df))
    df = df[pd.to_numeric(df["step"], errors="coerce").notna()].sort_values("step")
    wanted = (
        [c for c in df.columns if _is_loss_like(c)]
        if columns is None
        else [c for c in columns if c in df.columns]
    )
    curves = [
        c
        for c in wanted
        if c not in _NON_CURVE_COLUMNS
        and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
        and df[c].notna().any()
    ]
    has_lr = (
        show_lr and "lr" in df.columns and pd.to_numeric(df["lr"], errors="coerce").notna().any()
    )
    if not curves and not has_lr:
        return empty_figure(title)

    fig = go.Figure()
    for col in curves:
        part = df[["step", col]].dropna()
        fig.add_trace(go.Scatter(x=part["step"], y=part[col], mode="lines", name=str(col)))
    base_layout(fig, title)
    if has_lr:
        part = df[["step", "lr"]].assign(lr=pd.to_numeric(df["lr"], errors="coerce")).dropna()
        fig.add_trace(
            go.Scatter(
                x=part["step"],
                y=part["lr"],
                mode="lines",
                name="lr",
                yaxis="y2",
                line=dict(dash="dash", color="#777777"),
            )
        )
        top = float(part["lr"].abs().max())
        fig.update_layout(
            yaxis2=dict(
                title="learning rate",
                overlaying="y",
                side="right",
                showgrid=False,
                range=[0.0, 1.1 * top if top > 0 else 1.0],
                exponentformat="power",
                rangemode="tozero",
            )
        )
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
        margin=dict(l=60, r=70 if has_lr else 20, t=60, b=90),
    )
    fig.update_xaxes(title="step")
    fig.update_layout(yaxis_title="value")
    return fig


def auroc_over_steps(
    evals: pd.DataFrame,
    *,
    metric: str = "auroc",
    styles: Mapping[str, tuple[str, str]] | None = None,
) -> go.Figure:
    """Token-alignment AUROC (or another 0..1 ``metric``, e.g. ``"auprc"``) per run over steps.

    A dashed line at 0.5 marks chance for AUROC (what uniform weights get). ``styles``: each
    run's (colour, marker) (:mod:`atwu.viz.run_styles`: one colour per method, a marker per
    seed); without it the palette colours the runs in turn. The legend sits under the plot, so
    long run names never cover the title.
    """
    title = f"{metric.upper()} of token weights vs ground truth"
    if is_empty(evals, ["run", "step", metric]):
        return empty_figure(title)
    df = evals.dropna(subset=["step", metric])
    if df.empty:
        return empty_figure(title)
    fig = go.Figure()
    for run, part in df.groupby("run", sort=False):
        part = part.sort_values("step")
        colour, symbol = (styles or {}).get(str(run), (None, "circle"))
        fig.add_trace(
            go.Scatter(
                x=part["step"],
                y=part[metric],
                mode="lines+markers",
                name=esc(run),
                line=dict(color=colour),
                marker=dict(symbol=symbol, size=8, color=colour),
                # fullData.name rather than the name itself: a "%{" in a run name stays literal.
                hovertemplate=(
                    f"%{{fullData.name}}<br>step %{{x}}<br>{esc(metric)} %{{y:.3f}}<extra></extra>"
                ),
            )
        )
    if metric == "auroc":
        fig.add_hline(y=0.5, line=dict(dash="dash", color="#777777"), annotation_text="chance")
    base_layout(fig, title)
    legend_below(fig, df["run"].nunique())
    fig.update_xaxes(title="step")
    fig.update_yaxes(title=metric, range=[0, 1.02])
    return fig
