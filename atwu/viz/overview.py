"""The overview matrix: examples × answer positions, coloured by weight.

A page of it at a time: the caller picks which examples and in which order (sorted, filtered,
paged: :mod:`atwu.app.overview_view`), and every row gets the same readable height, so a run of
200+ examples is read a page at a time instead of squeezed into one unreadable block. Several
runs are drawn as one matrix each, with the same rows and the same colour range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atwu.viz.colour_scale import COLOURSCALE, scale_range
from atwu.viz.plotly_base import base_layout, empty_figure, esc, is_empty

ROW_PX = 18
"""Height of one example's row: its label stays readable."""

#: What a missing cell (an answer shorter than the longest) shows: a neutral grey that neither end
#: of the scale has, on light and dark pages alike.
MISSING_CELL = "#9e9e9e"


def figure_height(n_rows: int) -> int:
    """The figure's height for ``n_rows`` examples: a fixed height per row plus the frame."""
    return 150 + ROW_PX * max(1, n_rows)


def overview_matrix(
    weights: pd.DataFrame,
    *,
    max_examples: int = 200,
    examples: Sequence[str] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    title: str = "Token weights: examples × positions",
) -> go.Figure:
    """Examples × answer positions heatmap of token weight at one checkpoint.

    Args:
        weights: rows of ``weights.parquet`` already filtered to ONE step (columns
            ``example_id``, ``position``, ``weight``, ``token``; ``label`` optional).
        max_examples: without ``examples``, draw at most this many (first seen first); the
            title says when it is cut.
        examples: the examples to draw, top to bottom (ids this run lacks get an empty row).
        vmin, vmax: the colour range (several runs drawn on one scale); default: the rule of
            :func:`~atwu.viz.colour_scale.scale_range` over the weights drawn.
        title: the figure's title (escaped).

    Returns:
        A heatmap (reversed Cividis, hover = example, position, token, weight) and, when labels
        are present, a scatter layer of small markers on the label-1 (fact) tokens; its height
        grows with the rows (:func:`figure_height`).
    """
    title = esc(title)
    if is_empty(weights, ["example_id", "position", "weight"]):
        return empty_figure(title)
    if "step" in weights.columns and weights["step"].nunique() > 1:
        raise ValueError("overview_matrix expects one step; filter weights by step first")

    ids = list(dict.fromkeys(weights["example_id"].astype(str)))
    if examples is None:
        shown = ids[:max_examples]
        if len(ids) > len(shown):
            title += f" (first {len(shown)} of {len(ids)} examples)"
    else:
        shown = [str(e) for e in examples]
    df = weights.assign(example_id=weights["example_id"].astype(str))
    df = df[df["example_id"].isin(set(shown))]
    if df.empty:
        return empty_figure(title, "none of these examples was recorded")

    z = df.pivot_table(index="example_id", columns="position", values="weight", aggfunc="first")
    z = z.reindex(index=shown)
    positions = [int(p) for p in z.columns]
    if "token" in df.columns:
        tok = df.pivot_table(
            index="example_id", columns="position", values="token", aggfunc="first"
        ).reindex(index=shown, columns=z.columns)
        # repr() makes spaces and newlines visible; escaping keeps "<b>" tokens literal.
        text = tok.map(lambda t: "" if pd.isna(t) else esc(repr(str(t)))).to_numpy()
    else:
        text = np.full(z.shape, "", dtype=object)

    zvals = z.to_numpy(dtype=float)
    finite = zvals[np.isfinite(zvals)]
    # The same range rule as the token view (atwu.viz.tokens.scale_range): 0..1 for weights in
    # [0, 1], min..max otherwise, 0..max(1, value) when every weight is equal.
    zmin, zmax = scale_range(
        *((float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    )
    if vmin is not None and vmax is not None and vmax > vmin:
        zmin, zmax = float(vmin), float(vmax)
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
            colorbar=dict(title="weight", len=min(1.0, 300 / figure_height(len(shown)))),
            hovertemplate=(
                "example %{y}<br>position %{x}<br>token %{text}<br>weight %{z:.3f}<extra></extra>"
            ),
            name="weight",
            xgap=1,
            ygap=1,
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
                showlegend=False,  # the page's caption says what the dots are
            )
        )
    base_layout(fig, title)
    fig.update_layout(
        height=figure_height(len(shown)),
        plot_bgcolor=MISSING_CELL,
        margin=dict(l=150, r=20, t=50, b=50),
    )
    fig.update_xaxes(title="answer position", showgrid=False, zeroline=False)
    # Categorical y keeps numeric-looking ids as labels; reversed so the first example is on top.
    fig.update_yaxes(
        title=None,
        type="category",
        autorange="reversed",
        categoryorder="array",
        categoryarray=shown,
        showgrid=False,
        tickfont=dict(size=11),
    )
    return fig
