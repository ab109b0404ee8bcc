"""The bootstrap of METHOD.md §4.6 over a frontier's reach points: seeds (paired by index) and
examples (the same indices for both sides) resampled together, each seed's frontier point chosen
anew in every resample, and the Holm correction over rivals.

A reach point is a row of :func:`atwu.analysis.frontier.reach_points`: (1 − frac)·checkpoint
``step_lo`` + frac·checkpoint ``step`` of one run; its per-example damage is interpolated the same
way from :data:`Samples`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

N_RESAMPLES = 2000

#: (run, step, axis) -> per-example (damage sum, count), aligned on one example order per axis
Samples = Mapping[tuple[str, int, str], tuple[np.ndarray, np.ndarray]]


def _point_samples(row: Any, axis: str, samples: Samples) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-example (sums, counts) of one reach point, interpolated like its damage."""
    hi = samples.get((str(row.run), int(row.step), axis))
    if hi is None:
        return None
    if float(row.frac) >= 1.0:
        return hi
    lo = samples.get((str(row.run), int(row.step_lo), axis))
    if lo is None:
        if int(row.step_lo) != 0:
            return None
        lo = (np.zeros_like(hi[0]), hi[1])  # step 0: no damage by definition
    frac = float(row.frac)
    return (1 - frac) * lo[0] + frac * hi[0], hi[1]


def _seed_candidates(
    reach: pd.DataFrame, curve: str, axis: str, samples: Samples
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per seed of ``curve`` (sorted): the matrices (examples × reach points) of sums and counts."""
    out = []
    mine = reach[reach["curve"] == curve]
    for _, group in mine.groupby("seed", sort=True):
        parts = [p for p in (_point_samples(r, axis, samples) for r in group.itertuples()) if p]
        if not parts:
            raise KeyError(f"{curve}: no per-example damage for {axis}")
        out.append(
            (np.stack([p[0] for p in parts], axis=1), np.stack([p[1] for p in parts], axis=1))
        )
    return out


def _multiplicities(rng: np.random.Generator, n_resamples: int, n: int) -> np.ndarray:
    """(resamples × n) how often each example is drawn in each resample."""
    idx = rng.integers(0, n, size=(n_resamples, n))
    counts = np.zeros((n_resamples, n))
    np.add.at(counts, (np.repeat(np.arange(n_resamples), n), idx.ravel()), 1.0)
    return counts


def _best_per_resample(cands: tuple[np.ndarray, np.ndarray], mult: np.ndarray) -> np.ndarray:
    """A seed's frontier damage on every resample: the least resampled damage over its points."""
    sums, counts = cands
    damage = (mult @ sums) / np.maximum(mult @ counts, 1e-12)
    return damage.min(axis=1)


@dataclass
class Interval:
    """A bootstrap over seeds and examples of D_a − D_b."""

    low: float
    high: float
    p_value: float
    draws: np.ndarray = field(repr=False)


def seed_bootstrap(
    reach: pd.DataFrame,
    curve_a: str,
    curve_b: str,
    axis: str,
    samples: Samples,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """D_a − D_b over resamples of seeds (paired by seed index) and examples (the same indices
    for a and b), each seed's frontier point chosen anew in every resample."""
    a = _seed_candidates(reach, curve_a, axis, samples)
    b = _seed_candidates(reach, curve_b, axis, samples)
    k = min(len(a), len(b))
    n = a[0][0].shape[0]
    rng = np.random.default_rng(seed)
    mult = _multiplicities(rng, n_resamples, n)
    best_a = np.stack([_best_per_resample(c, mult) for c in a[:k]])  # seeds × resamples
    best_b = np.stack([_best_per_resample(c, mult) for c in b[:k]])
    pick = rng.integers(0, k, size=(n_resamples, k))
    cols = np.arange(n_resamples)[:, None]
    draws = best_a[pick, cols].mean(axis=1) - best_b[pick, cols].mean(axis=1)
    low, high = np.percentile(draws, [2.5, 97.5])
    p = 2 * min(float(np.mean(draws <= 0)), float(np.mean(draws >= 0)))
    return Interval(float(low), float(high), min(1.0, max(p, 1.0 / n_resamples)), draws)


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone), in the input order."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()
