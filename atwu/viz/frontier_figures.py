"""Trade-off frontiers (METHOD.md §4.6): damage against fact forget efficacy, every run ×
checkpoint as a point, each variant's least-damage envelope as a line (piecewise linear, as the interpolated frontier is), the matched-forgetting
levels as vertical guides."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atwu.viz.plotly_base import base_layout, empty_figure, esc, is_empty

#: each named variant keeps its colour in every figure (whichever variants are shown, whichever
#: axis): ATWU vermillion, its ablations in reds, the oracle and the other references in wines
#: and mauves, uniform grey (references and ablations drawn in a broken line too), the
#: baselines in the other Okabe–Ito colours and darker extras. No
#: colour is black or near white: the figures follow Streamlit's light and dark themes, and
#: every colour here keeps a contrast of 2:1 or more with both backgrounds.
VARIANT_COLOURS: dict[str, str] = {
    "atwu": "#D55E00",
    "atwu_nll": "#EE9A72",
    "atwu_frozen_random": "#B2182B",
    "oracle": "#AA3377",
    "specific_oracle": "#C44E99",
    "shuffled_oracle": "#9E5A8C",
    "template_only": "#B07AA1",
    "uniform": "#7F7F7F",
    "wga_b5": "#0072B2",
    "wga": "#56B4E9",
    "satimp": "#009E73",
    "tnpo": "#CC79A7",
    "aux": "#E69F00",
    "static_p": "#8C564B",
    "threshold": "#A6761D",
    "etw": "#1A9DA8",
    "tokenunlearn": "#6A8E23",
    "tokenunlearn_hard": "#9AA83A",
    "npo": "#8E63B9",
    "simnpo": "#FB9A99",
    "graddiff": "#33A02C",
    "ga": "#5C6BC0",
    "rmu": "#B15928",
}
#: colours for variants not named above, in turn (yellow left out: it vanishes on white)
PALETTE: list[str] = [
    "#D55E00",
    "#0072B2",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#AA3377",
    "#8C564B",
    "#7F7F7F",
    "#5C6BC0",
    "#8E63B9",
    "#B15928",
    "#33A02C",
    "#FB9A99",
]
#: one marker per seed (cycled beyond six)
SYMBOLS: list[str] = ["circle", "diamond", "square", "triangle-up", "x", "star"]
#: envelope line style per role: the method and baselines solid, the rest set apart
ROLE_DASH = {"method": "solid", "baseline": "solid", "ablation": "dash", "reference": "dot"}
_ROLE_RANK = {"method": 0, "baseline": 1, "ablation": 2, "reference": 3}


def curve_order(points: pd.DataFrame) -> list[str]:
    """Curves in legend order: the method, baselines, ablations, references; by name within."""
    roles = points.drop_duplicates("curve").set_index("curve")["role"].to_dict()
    return sorted(roles, key=lambda c: (_ROLE_RANK.get(str(roles[c]), 9), str(c)))


def curve_colours(curves: Sequence[str]) -> dict[str, str]:
    """Each curve's colour: its own when it is a named variant, else the palette's next one
    that no shown curve has."""
    out = {c: VARIANT_COLOURS[c] for c in curves if c in VARIANT_COLOURS}
    free = [c for c in PALETTE if c not in out.values()] or PALETTE
    others = [c for c in curves if c not in out]
    out.update({c: free[i % len(free)] for i, c in enumerate(others)})
    return out


def _strength_text(row: pd.Series) -> str:
    strength, mult = row.get("strength"), row.get("strength_multiplier")
    param = row.get("strength_param")
    name = param if isinstance(param, str) and param else "strength"
    parts = []
    if strength is not None and not (isinstance(strength, float) and math.isnan(strength)):
        parts.append(f"{name} {float(strength):.3g}")
    if mult is not None and not (isinstance(mult, float) and math.isnan(mult)):
        parts.append(f"×{float(mult):g} default")
    return esc(", ".join(parts) or "default")


def frontier_figure(
    points: pd.DataFrame,
    envelope: pd.DataFrame,
    *,
    axis_label: str,
    levels: Iterable[float] = (0.5, 0.75, 0.9),
) -> go.Figure:
    """Damage (y) against fact forget efficacy (x) for one damage axis.

    Args:
        points: one row per run × checkpoint after step 0: ``run, variant, curve, role, seed,
            step, ffe, damage`` (optionally ``strength, strength_multiplier, strength_param``
            for the hover); see :func:`atwu.app.frontier_view.drawn_points`.
        envelope: each curve's frontier ``curve, ffe, damage`` (mean over seeds) on a dense FFE
            grid, drawn as straight lines between the grid's points.
        axis_label: the damage axis's name (the y title).
        levels: the matched-forgetting levels, drawn as vertical guides.

    One colour per curve (a variant's strength curve), one marker symbol per seed; the envelope
    shares its curve's legend entry, so a click hides both.
    """
    title = f"Frontiers: {esc(axis_label)} against fact forget efficacy"
    cols = ["run", "variant", "curve", "role", "seed", "step", "ffe", "damage"]
    if is_empty(points, cols):
        return empty_figure(title)
    if envelope is None or envelope.empty:
        envelope = pd.DataFrame(columns=["curve", "ffe", "damage"])
    pts = points.dropna(subset=["ffe", "damage"])
    if pts.empty:
        return empty_figure(title)
    order = curve_order(pts)
    colours = curve_colours(order)
    seeds = sorted(pts["seed"].unique())
    symbol = {s: SYMBOLS[i % len(SYMBOLS)] for i, s in enumerate(seeds)}
    hover = (
        "%{customdata[0]}<br>variant %{customdata[1]}<br>%{customdata[2]}<br>step "
        "%{customdata[3]}<br>FFE %{x:.3f}<br>" + esc(axis_label) + " %{y:.4f}<extra></extra>"
    )
    fig = go.Figure()
    for curve in order:
        mine = pts[pts["curve"] == curve]
        role = str(mine["role"].iloc[0])
        name = esc(curve if role in ("method", "baseline") else f"{curve} ({role})")
        env = envelope[envelope["curve"] == curve].sort_values("ffe")
        if len(env):
            fig.add_trace(
                go.Scatter(
                    x=env["ffe"],
                    y=env["damage"],
                    mode="lines",
                    # straight lines: the envelope is sampled on a dense FFE grid, and between
                    # two checkpoints a run's damage is interpolated linearly (METHOD.md §4.6),
                    # so D_m(F) is piecewise linear, not a step
                    line=dict(width=2.5, color=colours[curve], dash=ROLE_DASH.get(role)),
                    name=name,
                    legendgroup=str(curve),
                    hovertemplate=f"{name} frontier<br>FFE ≥ %{{x:.3f}}<br>least "
                    f"{esc(axis_label)} %{{y:.4f}}<extra></extra>",
                )
            )
        for i, (seed, part) in enumerate(mine.groupby("seed", sort=True)):
            custom = np.column_stack(
                [
                    part["run"].map(esc).to_numpy(dtype=object),
                    part["variant"].map(esc).to_numpy(dtype=object),
                    [_strength_text(r) for _, r in part.iterrows()],
                    part["step"].astype(int).to_numpy(dtype=object),
                ]
            )
            fig.add_trace(
                go.Scatter(
                    x=part["ffe"],
                    y=part["damage"],
                    mode="markers",
                    name=name,
                    legendgroup=str(curve),
                    showlegend=i == 0 and env.empty,  # else the envelope holds the entry
                    marker=dict(
                        color=colours[curve],
                        symbol=symbol[seed],
                        size=7,
                        opacity=0.55,
                        line=dict(width=0.5, color="#ffffff"),
                    ),
                    customdata=custom,
                    hovertemplate=hover,
                )
            )
    if len(seeds) > 1:  # a key to the symbols, in grey so it reads as no variant
        for seed in seeds:
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"seed {esc(seed)}",
                    legendgroup="seeds",
                    marker=dict(color="#777777", symbol=symbol[seed], size=8),
                    hoverinfo="skip",
                )
            )
    for level in levels:
        fig.add_vline(
            x=level,
            line=dict(dash="dot", color="#555555", width=1),
            annotation_text=f"FFE {level:g}",
            annotation_position="top",
            annotation_font=dict(size=11, color="#555555"),
        )
    base_layout(fig, title)
    # Many variants: the legend in a column on the right, clear of the title and the guides.
    fig.update_layout(
        legend=dict(orientation="v", x=1.02, y=1, xanchor="left", yanchor="top"),
        margin=dict(l=60, r=20, t=70, b=50),
        height=520,
    )
    fig.update_xaxes(title="fact forget efficacy (FFE; 1 = the retain model)", zeroline=True)
    fig.update_yaxes(title=f"{esc(axis_label)} (log-prob drop, nats)", zeroline=True)
    return fig
