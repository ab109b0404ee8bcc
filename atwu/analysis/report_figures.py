"""The report's figures (PNG, matplotlib): each variant's frontier on one damage axis, and the
alignment of its weights over its checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from atwu.analysis import frontier as F
from atwu.viz.frontier_figures import curve_colours  # the app's colours: one per variant

MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
AXIS_NAMES = {
    "template_damage": "template damage (nats per template token)",
    "neighbour_damage": "neighbour damage (nats per neighbour fact)",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def frontier_png(points: pd.DataFrame, axis: str, path: Path, *, title: str) -> Path:
    """Every checkpoint of every run as a point (colour: curve, marker: seed) and each curve's
    frontier (least damage reaching each FFE, mean over seeds) as a line; FFE levels as guides."""
    plt = _plt()
    pts = F.with_curves(points[points["step"] > 0])
    curves = sorted(pts["curve"].unique(), key=lambda c: (c != "atwu", c))
    colours = curve_colours(curves)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    grid = np.round(np.arange(0.0, 1.2001, 0.01), 4)
    for curve in curves:
        colour = colours[curve]
        mine = pts[pts["curve"] == curve]
        for k, seed in enumerate(sorted(mine["seed"].unique())):
            s = mine[mine["seed"] == seed]
            ax.scatter(
                s["ffe"],
                s[axis],
                s=10,
                alpha=0.35,
                color=colour,
                marker=MARKERS[k % len(MARKERS)],
                linewidths=0,
            )
        line = F.frontier_curve(pts, curve, axis, grid)
        ax.plot(
            grid,
            line,
            color=colour,
            lw=2.6 if curve == "atwu" else 1.4,
            label=f"{curve} ({F.role_of(curve)})",
        )
    for level in F.LEVELS:
        ax.axvline(level, color="grey", ls=":", lw=1)
    ax.set_xlabel("fact forget efficacy FFE (0: the starting model, 1: the retain model)")
    ax.set_ylabel(AXIS_NAMES.get(axis, axis))
    ax.set_title(title)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.25)
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def alignment_png(points: pd.DataFrame, path: Path, *, title: str) -> Path:
    """AUROC of each variant's weights against FFE, at its default strength (mean over seeds)."""
    plt = _plt()
    pts = points[(points["step"] > 0) & (points["strength_multiplier"].round(6) == 1.0)]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = curve_colours([str(v) for v in pts["variant"].unique()])
    for variant, rows in sorted(pts.groupby("variant"), key=lambda kv: kv[0] != "atwu"):
        mean = rows.groupby("step")[["ffe", "auroc"]].mean().sort_index()
        if mean["auroc"].notna().any():
            ax.plot(
                mean["ffe"],
                mean["auroc"],
                marker="o",
                ms=3,
                color=colours[str(variant)],
                lw=2.6 if variant == "atwu" else 1.2,
                label=str(variant),
            )
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set_xlabel("FFE (the run's checkpoints, mean over seeds)")
    ax.set_ylabel("AUROC of the weights vs fact tokens")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(alpha=0.25)
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
