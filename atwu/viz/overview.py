"""The overview matrix: examples × answer positions, coloured by weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atwu.viz.colour_scale import COLOURSCALE, scale_range
from atwu.viz.plotly_base import base_layout, empty_figure, esc, is_empty


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
    if is_empty(weights, ["example_id", "position", "weight"]):
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
                "example %{y}<br>position %{x}<br>token %{text}<br>weight %{z:.3f}<extra></extra>"
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
    base_layout(fig, title)
    fig.update_xaxes(title="answer position")
    # Categorical y keeps numeric-looking ids as labels; reversed so the first example is on top.
    fig.update_yaxes(
        title="example",
        type="category",
        autorange="reversed",
        categoryorder="array",
        categoryarray=shown,
    )
    return fig
