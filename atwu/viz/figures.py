"""Plotly figure builders for the app's pages: pure functions from DataFrames to ``go.Figure``.

No Streamlit import: the pages call ``st.plotly_chart(builder(df))``, and the tests inspect the
returned figures' traces and axes directly (Streamlit's AppTest cannot see inside plotly charts).

Conventions shared by every builder:

* empty input (no rows, or no usable rows after dropping NaN) gives a figure carrying a
  "no data" annotation instead of raising, so a page can render before a run has produced
  anything;
* runs and methods are coloured with the Okabe–Ito palette (:data:`OKABE_ITO`), which stays
  distinguishable under the common colour-vision deficiencies; token weights use reversed
  Cividis, the same scale as :mod:`atwu.viz.tokens`;
* text that comes from data (tokens, run names) is HTML-escaped before it reaches hover labels,
  because plotly renders a subset of HTML tags in them.

Example::

    from atwu.viz.figures import tradeoff_figure
    fig = tradeoff_figure(points)  # columns run, step, forget_quality, model_utility
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atwu.viz.tokens import COLOURSCALE, scale_range

__all__ = [
    "LOSS_COLUMNS",
    "OKABE_ITO",
    "auroc_over_steps",
    "comparison_bars",
    "empty_figure",
    "loss_curves",
    "overview_matrix",
    "pareto_front",
    "tradeoff_figure",
    "truth_ratio_histograms",
]

#: Okabe–Ito qualitative palette (black moved last: it is kept for reference lines).
OKABE_ITO: list[str] = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]

#: Columns of ``metrics.jsonl`` that are bookkeeping, not curves to plot against step.
_NON_CURVE_COLUMNS: frozenset[str] = frozenset({"step", "seconds", "lr"})

#: Forget-quality values are KS p-values and can underflow to 0, which a log axis cannot show;
#: they are drawn at this fraction of the smallest positive value (the hover keeps the true one).
_LOG_FLOOR_FACTOR = 0.1
_DEFAULT_LOG_FLOOR = 1e-12


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _base_layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title=title,
        colorway=OKABE_ITO,
        template="plotly_white",
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
    )
    return fig


def empty_figure(title: str = "", message: str = "no data") -> go.Figure:
    """A blank figure with ``message`` in the middle (what every builder returns on no input)."""
    fig = go.Figure()
    _base_layout(fig, title)
    fig.add_annotation(
        text=_esc(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font=dict(size=16, color="#777777"),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _is_empty(df: pd.DataFrame | None, required: Sequence[str]) -> bool:
    """True when there is nothing to draw; raises when the columns are wrong (a caller bug)."""
    if df is None or len(df) == 0:
        return True
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; got {list(df.columns)}")
    return False


def overview_matrix(weights: pd.DataFrame, *, max_examples: int = 200) -> go.Figure:
    """Examples × answer positions heatmap of token weight at one checkpoint.

    Args:
        weights: rows of ``weights.parquet`` already filtered to ONE step (columns
            ``example_id``, ``position``, ``weight``, ``token``; ``label`` optional).
        max_examples: draw at most this many examples (first seen first) so the heatmap stays
            legible and light; the title says when it is cut.

    Returns:
        A heatmap (reversed Cividis, hover = example, position, token, weight) and, when labels
        are present, a scatter layer of small markers on the label-1 (fact) tokens.
    """
    title = "Token weights: examples × positions"
    if _is_empty(weights, ["example_id", "position", "weight"]):
        return empty_figure(title)
    if "step" in weights.columns and weights["step"].nunique() > 1:
        raise ValueError("overview_matrix expects one step; filter weights by step first")

    ids = list(dict.fromkeys(weights["example_id"].astype(str)))
    shown = ids[:max_examples]
    df = weights.assign(example_id=weights["example_id"].astype(str))
    df = df[df["example_id"].isin(set(shown))]
    if len(ids) > len(shown):
        title += f" (first {len(shown)} of {len(ids)} examples)"

    z = df.pivot_table(index="example_id", columns="position", values="weight", aggfunc="first")
    z = z.reindex(index=shown)
    positions = [int(p) for p in z.columns]
    if "token" in df.columns:
        tok = df.pivot_table(
            index="example_id", columns="position", values="token", aggfunc="first"
        ).reindex(index=shown, columns=z.columns)
        # repr() makes spaces and newlines visible; escaping keeps "<b>" tokens literal.
        text = tok.map(lambda t: "" if pd.isna(t) else _esc(repr(str(t)))).to_numpy()
    else:
        text = np.full(z.shape, "", dtype=object)

    zvals = z.to_numpy(dtype=float)
    finite = zvals[np.isfinite(zvals)]
    # The same range rule as the token view (atwu.viz.tokens.scale_range): 0..1 for weights in
    # [0, 1], min..max otherwise, 0..max(1, value) when every weight is equal.
    zmin, zmax = scale_range(*(
        (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ))
    if finite.size and finite.min() == finite.max():
        title += f" (all weights = {float(finite.min()):.3f})"
    fig = go.Figure(
        go.Heatmap(
            z=zvals,
            zmin=zmin,
            zmax=zmax,
            zauto=False,
            x=positions,
            y=shown,
            text=text,
            colorscale=COLOURSCALE,
            colorbar=dict(title="weight"),
            hovertemplate=(
                "example %{y}<br>position %{x}<br>token %{text}<br>weight %{z:.3f}"
                "<extra></extra>"
            ),
            name="weight",
        )
    )
    if "label" in df.columns:
        facts = df[df["label"] == 1]
        fig.add_trace(
            go.Scatter(
                x=facts["position"].astype(int),
                y=facts["example_id"],
                mode="markers",
                marker=dict(
                    symbol="circle", size=4, color="#D55E00", line=dict(width=0.5, color="#fff")
                ),
                name="fact token (label 1)",
                hoverinfo="skip",
            )
        )
    _base_layout(fig, title)
    fig.update_xaxes(title="answer position")
    # Categorical y keeps numeric-looking ids as labels; reversed so the first example is on top.
    fig.update_yaxes(
        title="example", type="category", autorange="reversed", categoryorder="array",
        categoryarray=shown,
    )
    return fig


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
    """Training curves from ``metrics.jsonl`` rows: one line per loss column against step.

    By default only loss-like columns (:data:`LOSS_COLUMNS` and any ``*_loss``) are drawn; pass
    ``columns`` to draw other numeric columns instead (e.g. diagnostics on a second chart). Rows
    where a column is missing are skipped, since train and eval rows log different keys. ``lr``,
    when present and ``show_lr``, is drawn dashed on a secondary y axis ranged [0, 1.1 × max lr]
    (its scale is unrelated to the losses; never negative ticks for a constant rate). The legend
    sits under the plot so it does not squeeze it.
    """
    if _is_empty(metrics, []):
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
        show_lr
        and "lr" in df.columns
        and pd.to_numeric(df["lr"], errors="coerce").notna().any()
    )
    if not curves and not has_lr:
        return empty_figure(title)

    fig = go.Figure()
    for col in curves:
        part = df[["step", col]].dropna()
        fig.add_trace(go.Scatter(x=part["step"], y=part[col], mode="lines", name=str(col)))
    _base_layout(fig, title)
    if has_lr:
        part = df[["step", "lr"]].assign(lr=pd.to_numeric(df["lr"], errors="coerce")).dropna()
        fig.add_trace(
            go.Scatter(
                x=part["step"], y=part["lr"], mode="lines", name="lr", yaxis="y2",
                line=dict(dash="dash", color="#777777"),
            )
        )
        top = float(part["lr"].abs().max())
        fig.update_layout(
            yaxis2=dict(
                title="learning rate", overlaying="y", side="right", showgrid=False,
                range=[0.0, 1.1 * top if top > 0 else 1.0], exponentformat="power",
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


def pareto_front(
    points: pd.DataFrame, x: str = "forget_quality", y: str = "model_utility"
) -> pd.DataFrame:
    """Rows not dominated by any other row, higher being better on both ``x`` and ``y``.

    A row is dominated when another row is at least as good on both and strictly better on one.
    Identical points do not dominate each other, so ties are all kept. Rows with NaN in ``x`` or
    ``y`` are ignored. The result keeps the input's index (to map back to runs and steps) and is
    sorted by ``x`` ascending (then ``y`` descending), i.e. along the front from left to right.
    """
    if points is None or len(points) == 0:
        return points.iloc[0:0] if points is not None else pd.DataFrame(columns=[x, y])
    valid = points.dropna(subset=[x, y])
    keep: list[object] = []
    best_y_right = -np.inf  # best y among points with strictly larger x
    # Sweep from the largest x down: a point survives iff it beats every point to its right on
    # y (strictly: equal y with larger x dominates it) and is the top of its own x group.
    for _, group in sorted(valid.groupby(x, sort=False), key=lambda kv: kv[0], reverse=True):
        top = group[y].max()
        if top > best_y_right:
            keep.extend(group.index[group[y] == top])
        best_y_right = max(best_y_right, top)
    front = valid.loc[keep]
    return front.sort_values([x, y], ascending=[True, False], kind="stable")


def _log_x(values: pd.Series) -> tuple[pd.Series, float]:
    """Values drawable on a log axis: non-positive ones raised to a floor below the data."""
    positive = values[values > 0]
    floor = (
        float(positive.min()) * _LOG_FLOOR_FACTOR if len(positive) else _DEFAULT_LOG_FLOOR
    )
    return values.where(values > 0, floor), floor


def tradeoff_figure(
    points: pd.DataFrame,
    *,
    front: pd.DataFrame | None = None,
    best: pd.DataFrame | None = None,
    show_front: bool = True,
) -> go.Figure:
    """Forget quality (log x) against model utility (y), one line per run through its steps.

    Args:
        points: columns ``run``, ``step``, ``forget_quality``, ``model_utility`` (one row per
            evaluated checkpoint; several runs or sweep settings).
        front: the Pareto front to highlight (same columns); None computes it from ``points``
            with :func:`pareto_front`.
        best: the chosen checkpoint(s), drawn as stars; None for none.
        show_front: set False to leave the front out.

    Forget quality is a p-value, hence the log axis; zeros are drawn at a floor a decade below
    the smallest positive value (hover shows the true value).
    """
    title = "Forget quality vs model utility"
    cols = ["run", "step", "forget_quality", "model_utility"]
    if _is_empty(points, cols):
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
                frame["run"].map(_esc).to_numpy(dtype=object),
                frame["step"].to_numpy(dtype=object),
                frame["forget_quality"].to_numpy(dtype=float),
                frame["model_utility"].to_numpy(dtype=float),
            ]
        )

    fig = go.Figure()
    for run, part in df.groupby("run", sort=False):
        part = part.sort_values("step")
        fig.add_trace(
            go.Scatter(
                x=part["_x"], y=part["model_utility"], mode="lines+markers", name=_esc(run),
                customdata=custom(part), hovertemplate=hover,
            )
        )
    if show_front:
        fr = pareto_front(df) if front is None else front.dropna(
            subset=["forget_quality", "model_utility"]
        ).sort_values("forget_quality")
        if len(fr):
            fr = fr.assign(_x=fr["forget_quality"].astype(float).where(
                fr["forget_quality"] > 0, floor))
            fig.add_trace(
                go.Scatter(
                    x=fr["_x"], y=fr["model_utility"], mode="lines", name="Pareto front",
                    # "hv": along the front, moving right trades utility away, so the staircase
                    # steps across then down, bounding the region the front dominates.
                    line=dict(shape="hv", width=6, color="rgba(0,0,0,0.25)"),
                    hoverinfo="skip",
                )
            )
    if best is not None and len(best):
        b = best.dropna(subset=["forget_quality", "model_utility"])
        b = b.assign(_x=b["forget_quality"].astype(float).where(b["forget_quality"] > 0, floor))
        fig.add_trace(
            go.Scatter(
                x=b["_x"], y=b["model_utility"], mode="markers", name="best checkpoint",
                marker=dict(symbol="star", size=18, color="#F0E442",
                            line=dict(width=1.5, color="#000000")),
                customdata=custom(b), hovertemplate=hover,
            )
        )
    _base_layout(fig, title)
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
                x=values, xbins=bins, name=name, opacity=0.85, marker_color=colour,
                marker_line=dict(color="#ffffff", width=0.5),
                histnorm="probability", autobinx=False,
            )
        )
    _base_layout(fig, f"{title}: KS statistic = {ks_stat:.3f}, p-value = {p_value:.3g}")
    # Side by side within each bin: overlaid translucent bars mixed into an unlabelled third colour.
    fig.update_layout(barmode="group", bargap=0.08, bargroupgap=0.0)
    fig.update_xaxes(title="truth ratio (min(R, 1/R))")
    fig.update_yaxes(title="share of questions")
    return fig


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
    title = f"{_esc(shown)} by method"
    mean_col, std_col = f"{metric}_mean", f"{metric}_std"
    if _is_empty(summary, ["method", mean_col]):
        return empty_figure(title)
    df = summary.dropna(subset=[mean_col]).sort_values(mean_col, ascending=ascending)
    if df.empty:
        return empty_figure(title)
    std = df[std_col].fillna(0.0) if std_col in df.columns else pd.Series(0.0, index=df.index)
    n = df["n"] if "n" in df.columns else pd.Series(np.nan, index=df.index)
    methods = df["method"].map(_esc)
    hover = "%{x}<br>mean %{y:.4g} ± %{customdata[0]:.3g}<br>n %{customdata[1]}<extra></extra>"
    custom = np.column_stack([std.to_numpy(dtype=float), n.to_numpy(dtype=object)])
    error = dict(type="data", array=std.to_numpy(dtype=float), visible=True)
    if kind == "dot":
        trace: go.Bar | go.Scatter = go.Scatter(
            x=methods, y=df[mean_col], mode="markers", error_y=error, name=metric,
            marker=dict(size=11, color=OKABE_ITO[0]), customdata=custom, hovertemplate=hover,
        )
    else:
        trace = go.Bar(
            x=methods, y=df[mean_col], error_y=error, name=metric, marker_color=OKABE_ITO[0],
            customdata=custom, hovertemplate=hover,
        )
    fig = go.Figure(trace)
    _base_layout(fig, title)
    # Keep the sorted order even if plotly would otherwise sort categories.
    fig.update_xaxes(title="method", type="category", categoryorder="array",
                     categoryarray=list(methods))
    fig.update_yaxes(title=f"{_esc(shown)} (mean ± std)")
    return fig


def auroc_over_steps(evals: pd.DataFrame, *, metric: str = "auroc") -> go.Figure:
    """Token-alignment AUROC (or another 0..1 ``metric``, e.g. ``"auprc"``) per run over steps.

    A dashed line at 0.5 marks chance for AUROC (what uniform weights get).
    """
    title = f"{metric.upper()} of token weights vs ground truth"
    if _is_empty(evals, ["run", "step", metric]):
        return empty_figure(title)
    df = evals.dropna(subset=["step", metric])
    if df.empty:
        return empty_figure(title)
    fig = go.Figure()
    for run, part in df.groupby("run", sort=False):
        part = part.sort_values("step")
        fig.add_trace(
            go.Scatter(
                x=part["step"], y=part[metric], mode="lines+markers", name=_esc(run),
                # fullData.name rather than the name itself: a "%{" in a run name stays literal.
                hovertemplate=(
                    f"%{{fullData.name}}<br>step %{{x}}<br>{_esc(metric)} %{{y:.3f}}<extra></extra>"
                ),
            )
        )
    if metric == "auroc":
        fig.add_hline(y=0.5, line=dict(dash="dash", color="#777777"), annotation_text="chance")
    _base_layout(fig, title)
    fig.update_xaxes(title="step")
    fig.update_yaxes(title=metric, range=[0, 1.02])
    return fig
