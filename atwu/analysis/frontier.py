"""Trade-off frontiers at matched forgetting: how methods are compared (METHOD.md §4.6).

Input is one row per (run, checkpoint): ``run, variant, seed, strength, step, ffe`` and the damage
axes (``template_damage``, ``neighbour_damage``). A variant's *curve* pools the variants that are
one method's strength curve at two settings (``satimp`` and ``satimp_ou``).

* Frontier: D_mk(F*) = the least damage over every run of curve m with seed k (every strength,
  every checkpoint after step 0) whose FFE ≥ F*. D_m(F*) is the mean over seeds. A level is
  *reached* by a curve when every one of its seeds reaches it (otherwise D_m is undefined and the
  curve is named as not reaching it: a mean over the seeds that happen to reach a level would
  favour the luckiest seeds).
* Comparator at a level and axis: the non-oracle, non-ablation variant (role ``baseline``) with the
  least D_m among those that reach it.
* The difference ATWU − comparator gets a 95% paired-bootstrap interval over the examples of the
  split the damage is measured on (1,000 resamples, the same example indices for both, seeds
  pooled), with each seed's frontier point held at the one chosen on the full sample.
* Decision per axis: "better" at a level when the interval lies below 0; ATWU improves the
  trade-off on an axis when it is better at two or more levels and significantly worse (interval
  above 0) at none. ATWU not reaching a level counts as not better there.
* Validity gate: the oracle's frontier must have less template damage than uniform's at every
  level both reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atwu.analysis.variants import SAME_CURVE, role_of

LEVELS: tuple[float, ...] = (0.5, 0.75, 0.9)
AXES: tuple[str, ...] = ("template_damage", "neighbour_damage")
AREA_RANGE: tuple[float, float] = (0.5, 0.95)
N_RESAMPLES = 1000

#: (run, step, axis) -> per-example (damage sum, count), aligned on one example order per axis
Samples = Mapping[tuple[str, int, str], tuple[np.ndarray, np.ndarray]]


def curve_of(variant: str) -> str:
    return SAME_CURVE.get(variant, variant)


def with_curves(points: pd.DataFrame) -> pd.DataFrame:
    """``points`` with a ``curve`` column (variants pooled onto one strength curve)."""
    return points.assign(curve=[curve_of(v) for v in points["variant"]])


def seed_frontier(points: pd.DataFrame, axis: str, level: float) -> pd.DataFrame:
    """Per (curve, seed): the least-damage point with FFE ≥ ``level`` after step 0.

    Returns ``curve, seed, run, step, strength, ffe, damage``; a (curve, seed) that never reaches
    the level is absent.
    """
    pts = with_curves(points)
    ok = pts[(pts["step"] > 0) & (pts["ffe"] >= level) & pts[axis].notna()]
    cols = ["curve", "seed", "run", "step", "strength", "ffe", "damage"]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    ok = ok.assign(damage=ok[axis].astype(float))
    best = ok.sort_values(["damage", "step"], kind="stable").groupby(["curve", "seed"]).head(1)
    return best[cols].sort_values(["curve", "seed"], ignore_index=True)


def frontier_summary(
    points: pd.DataFrame, *, axes: Iterable[str] = AXES, levels: Iterable[float] = LEVELS
) -> pd.DataFrame:
    """Per curve × axis × level: D_m (mean over seeds, NaN when not every seed reaches it), the
    seeds that reach it out of the curve's seeds, the spread over seeds, and the curve's role."""
    pts = with_curves(points)
    seeds_of = pts.groupby("curve")["seed"].nunique()
    rows = []
    for axis in axes:
        for level in levels:
            front = seed_frontier(pts, axis, level)
            for curve, n_seeds in seeds_of.items():
                mine = front[front["curve"] == curve]
                reached = len(mine) == n_seeds
                rows.append(
                    {
                        "curve": curve,
                        "role": role_of(str(curve)),
                        "axis": axis,
                        "level": level,
                        "damage": float(mine["damage"].mean()) if reached else np.nan,
                        "damage_std": float(mine["damage"].std(ddof=1))
                        if reached and n_seeds > 1
                        else np.nan,
                        "seeds_reaching": len(mine),
                        "seeds": int(n_seeds),
                        "reached": reached,
                    }
                )
    return pd.DataFrame(rows)


def comparator(summary: pd.DataFrame, axis: str, level: float) -> str | None:
    """The baseline curve with the least mean damage among those reaching ``level``, or None."""
    rows = summary[
        (summary["axis"] == axis)
        & (summary["level"] == level)
        & (summary["role"] == "baseline")
        & summary["reached"]
    ]
    if rows.empty:
        return None
    return str(rows.sort_values(["damage", "curve"]).iloc[0]["curve"])


def not_reaching(
    summary: pd.DataFrame, axis: str, level: float, role: str = "baseline"
) -> list[str]:
    """Curves of ``role`` left out at ``level`` because not every seed reaches it."""
    rows = summary[
        (summary["axis"] == axis)
        & (summary["level"] == level)
        & (summary["role"] == role)
        & ~summary["reached"]
    ]
    return sorted(rows["curve"].astype(str))


def _resampled_damage(
    front: pd.DataFrame, axis: str, samples: Samples, idx: np.ndarray
) -> np.ndarray:
    """Mean over seeds of each seed's frontier damage, on every resample of examples (rows of
    ``idx``): Σ damage / Σ count over the resampled examples."""
    per_seed = []
    for run, step in zip(front["run"], front["step"]):
        sums, counts = samples[(str(run), int(step), axis)]
        per_seed.append(sums[idx].sum(axis=1) / np.maximum(counts[idx].sum(axis=1), 1e-12))
    return np.mean(per_seed, axis=0)


def paired_bootstrap(
    front_a: pd.DataFrame,
    front_b: pd.DataFrame,
    axis: str,
    samples: Samples,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval of D_a − D_b over resampled examples (same indices for a and b)."""
    first = front_a.iloc[0]
    n_examples = len(samples[(str(first["run"]), int(first["step"]), axis)][0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_examples, size=(n_resamples, n_examples))
    diff = _resampled_damage(front_a, axis, samples, idx) - _resampled_damage(
        front_b, axis, samples, idx
    )
    low, high = np.percentile(diff, [2.5, 97.5])
    return float(low), float(high)


@dataclass
class Comparison:
    """ATWU against the comparator at one axis and level."""

    axis: str
    level: float
    method_damage: float
    comparator: str | None
    comparator_damage: float
    difference: float
    low: float
    high: float
    verdict: str  # better | worse | no significant difference | not reached | no comparator
    left_out: list[str]

    def as_row(self) -> dict[str, Any]:
        return {**self.__dict__, "left_out": ", ".join(self.left_out)}


def compare_at_levels(
    points: pd.DataFrame,
    samples: Samples,
    *,
    method: str = "atwu",
    axes: Iterable[str] = AXES,
    levels: Iterable[float] = LEVELS,
    n_resamples: int = N_RESAMPLES,
) -> list[Comparison]:
    """ATWU against the comparator at every axis and level, with paired-bootstrap intervals."""
    summary = frontier_summary(points, axes=axes, levels=levels)
    out = []
    for axis in axes:
        for level in levels:
            rival = comparator(summary, axis, level)
            left_out = not_reaching(summary, axis, level)
            mine = summary[
                (summary["curve"] == method)
                & (summary["axis"] == axis)
                & (summary["level"] == level)
            ]
            reached = bool(len(mine) and mine["reached"].iloc[0])
            d_m = float(mine["damage"].iloc[0]) if reached else np.nan
            if rival is None:
                out.append(
                    Comparison(
                        axis,
                        level,
                        d_m,
                        None,
                        np.nan,
                        np.nan,
                        np.nan,
                        np.nan,
                        "no comparator",
                        left_out,
                    )
                )
                continue
            d_c = float(
                summary[
                    (summary["curve"] == rival)
                    & (summary["axis"] == axis)
                    & (summary["level"] == level)
                ]["damage"].iloc[0]
            )
            if not reached:
                out.append(
                    Comparison(
                        axis,
                        level,
                        d_m,
                        rival,
                        d_c,
                        np.nan,
                        np.nan,
                        np.nan,
                        "not reached",
                        left_out,
                    )
                )
                continue
            front = seed_frontier(points, axis, level)
            low, high = paired_bootstrap(
                front[front["curve"] == method],
                front[front["curve"] == rival],
                axis,
                samples,
                n_resamples=n_resamples,
            )
            verdict = "better" if high < 0 else "worse" if low > 0 else "no significant difference"
            out.append(
                Comparison(axis, level, d_m, rival, d_c, d_m - d_c, low, high, verdict, left_out)
            )
    return out


def decide(comparisons: Iterable[Comparison]) -> dict[str, dict[str, Any]]:
    """Per axis: whether ATWU improves the trade-off (better at ≥ 2 levels, worse at none)."""
    by_axis: dict[str, list[Comparison]] = {}
    for c in comparisons:
        by_axis.setdefault(c.axis, []).append(c)
    out = {}
    for axis, rows in by_axis.items():
        better = [c.level for c in rows if c.verdict == "better"]
        worse = [c.level for c in rows if c.verdict == "worse"]
        out[axis] = {
            "improves": len(better) >= 2 and not worse,
            "better_at": better,
            "worse_at": worse,
        }
    return out


def validity_gate(points: pd.DataFrame, *, levels: Iterable[float] = LEVELS) -> dict[str, Any]:
    """The oracle's frontier must have less template damage than uniform's at every level both
    reach. Returns ``{"passed", "checked": [...], "reason"}``; not checkable is not passed."""
    summary = frontier_summary(points, axes=("template_damage",), levels=levels)
    checked, failed = [], []
    for level in levels:
        rows = summary[summary["level"] == level].set_index("curve")
        if not {"oracle", "uniform"} <= set(rows.index):
            continue
        o, u = rows.loc["oracle"], rows.loc["uniform"]
        if not (o["reached"] and u["reached"]):
            continue
        entry = {"level": level, "oracle": float(o["damage"]), "uniform": float(u["damage"])}
        checked.append(entry)
        if not entry["oracle"] < entry["uniform"]:
            failed.append(level)
    if not checked:
        return {
            "passed": False,
            "checked": [],
            "reason": "oracle and uniform reach no common "
            "level (or one of them was not run): the gate cannot be checked",
        }
    reason = (
        "the oracle damages template tokens less than uniform weights at every level both reach"
        if not failed
        else f"the oracle damages template tokens at least as much as uniform at {failed}"
    )
    return {"passed": not failed, "checked": checked, "reason": reason}


def frontier_curve(points: pd.DataFrame, curve: str, axis: str, grid: np.ndarray) -> np.ndarray:
    """D_m(F) on ``grid`` (mean over seeds; NaN where not every seed reaches F)."""
    pts = with_curves(points)
    mine = pts[(pts["curve"] == curve) & (pts["step"] > 0) & pts[axis].notna()]
    seeds = sorted(mine["seed"].unique())
    if not seeds:
        return np.full(len(grid), np.nan)
    per_seed = []
    for seed in seeds:
        s = mine[mine["seed"] == seed]
        ffe, dmg = s["ffe"].to_numpy(float), s[axis].to_numpy(float)
        per_seed.append([dmg[ffe >= f].min() if (ffe >= f).any() else np.nan for f in grid])
    return np.asarray(per_seed, dtype=float).mean(axis=0)


def area_between(
    points: pd.DataFrame,
    curve_a: str,
    curve_b: str,
    axis: str,
    *,
    lo: float = AREA_RANGE[0],
    hi: float = AREA_RANGE[1],
    step: float = 0.01,
) -> tuple[float, float]:
    """∫ (D_b − D_a) dF over the part of [lo, hi] both frontiers reach (positive: a damages
    less), and the width of that part."""
    grid = np.round(np.arange(lo, hi + step / 2, step), 6)
    a = frontier_curve(points, curve_a, axis, grid)
    b = frontier_curve(points, curve_b, axis, grid)
    both = ~np.isnan(a) & ~np.isnan(b)
    if both.sum() < 2:
        return np.nan, 0.0
    return float(np.trapezoid((b - a)[both], grid[both])), float(grid[both][-1] - grid[both][0])


def alignment_at_matched(
    points: pd.DataFrame,
    *,
    level: float = 0.5,
    metrics: tuple[str, ...] = ("auroc", "auroc_retain_conflict"),
) -> pd.DataFrame:
    """Per variant at its default strength: the alignment metrics at the first checkpoint whose
    FFE ≥ ``level``, with that FFE, mean and spread over seeds (NaN: never reached)."""
    pts = points[
        (points["step"] > 0) & np.isclose(points["strength_multiplier"].astype(float), 1.0)
    ]
    rows = []
    for variant, group in pts.groupby("variant"):
        firsts = []
        for _, runs in group.groupby("seed"):
            hit = runs[runs["ffe"] >= level].sort_values("step")
            if len(hit):
                firsts.append(hit.iloc[0])
        row: dict[str, Any] = {
            "variant": variant,
            "role": role_of(str(variant)),
            "seeds_reaching": len(firsts),
            "seeds": int(group["seed"].nunique()),
        }
        frame = pd.DataFrame(firsts)
        for m in ("ffe", "step", *metrics):
            vals = frame[m].astype(float) if m in frame else pd.Series(dtype=float)
            row[m] = float(vals.mean()) if len(vals) else np.nan
            row[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
