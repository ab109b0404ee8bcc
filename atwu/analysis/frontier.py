"""Trade-off frontiers at matched forgetting: how methods are compared (METHOD.md §4.6).

Input is one row per (run, checkpoint): ``run, variant, seed, strength, step, ffe`` and the damage
axes (``template_damage``, ``neighbour_damage``). A variant's *curve* pools the variants that are
one method's strength curve at two settings (``satimp`` and ``satimp_ou``).

* Reach: a run reaches F* at every checkpoint after step 0 whose FFE ≥ F*, and on every segment
  between two consecutive checkpoints (step 0 included: θ0 is measured too) that crosses F*, where
  FFE and damage are interpolated linearly: a run that jumps from FFE 0.3 to 0.8 between two
  checkpoints is read at 0.5 on that segment, not at its next checkpoint, so the frontier does not
  depend on how densely the checkpoints happen to be spaced.
* Frontier: D_mk(F*) = the least damage over every reach point of curve m with seed k (every
  strength). D_m(F*) is the mean over seeds. A level is *reached* by a curve when every one of its
  seeds reaches it (a mean over the seeds that happen to reach a level would favour the luckiest).
* Comparisons: ATWU against **every** rival (role ``baseline``: not an oracle, reference or
  ablation) at each axis and level. The 95% interval of each difference is a bootstrap that
  resamples seeds (paired by seed index) and examples (the same indices for both), and redoes each
  seed's frontier selection inside every resample; the per-seed range of D_mk − D_rk is kept
  beside it. Two-sided bootstrap p-values are Holm-corrected over the rivals at each axis and level.
* Decision per axis: ATWU improves the trade-off when, at two or more levels, it is better than
  every rival that reaches the level (Holm-corrected), and significantly worse than none at any
  level. ATWU not reaching a level counts as not better there.
* The bootstrap lives in :mod:`atwu.analysis.frontier_bootstrap`, the three gates that are
  checked before any claim in :mod:`atwu.analysis.frontier_gates`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atwu.analysis.frontier_bootstrap import N_RESAMPLES, Samples, holm, seed_bootstrap
from atwu.analysis.variants import SAME_CURVE, role_of

__all__ = [
    "N_RESAMPLES",
    "Samples",
    "holm",
    "seed_bootstrap",
]  # re-exported: one import for callers

LEVELS: tuple[float, ...] = (0.5, 0.75, 0.9)
AXES: tuple[str, ...] = ("template_damage", "neighbour_damage")
AREA_RANGE: tuple[float, float] = (0.5, 0.95)
ALPHA = 0.05

_REACH_COLUMNS = ["curve", "seed", "run", "step", "step_lo", "frac", "strength", "ffe", "damage"]


def curve_of(variant: str) -> str:
    return SAME_CURVE.get(variant, variant)


def with_curves(points: pd.DataFrame) -> pd.DataFrame:
    """``points`` with a ``curve`` column (variants pooled onto one strength curve)."""
    return points.assign(curve=[curve_of(v) for v in points["variant"]])


def _run_reach(
    steps: np.ndarray, ffe: np.ndarray, damage: np.ndarray, level: float
) -> list[tuple[int, int, float, float, float]]:
    """One run's reach points at ``level`` as ``(step, step_lo, frac, ffe, damage)``: the point
    is (1 − frac)·checkpoint ``step_lo`` + frac·checkpoint ``step``. Checkpoints after step 0 with
    FFE ≥ level have frac 1; a segment crossing the level is read where it crosses."""
    out = []
    for i in range(len(steps)):
        if steps[i] > 0 and ffe[i] >= level and not np.isnan(damage[i]):
            out.append((int(steps[i]), int(steps[i]), 1.0, float(ffe[i]), float(damage[i])))
    for i in range(len(steps) - 1):
        a, b = ffe[i], ffe[i + 1]
        if np.isnan(a) or np.isnan(b) or np.isnan(damage[i]) or np.isnan(damage[i + 1]):
            continue
        if min(a, b) < level <= max(a, b) and a != b:
            frac = float((level - a) / (b - a))
            value = float(damage[i] + frac * (damage[i + 1] - damage[i]))
            out.append((int(steps[i + 1]), int(steps[i]), frac, float(level), value))
    return out


def _run_reach_grid(
    steps: np.ndarray, ffe: np.ndarray, damage: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """:func:`_run_reach`'s least damage at every level of ``grid`` at once (inf: not reached)."""
    level = grid[:, None]
    ok = (steps > 0) & ~np.isnan(damage) & ~np.isnan(ffe)
    plain = np.where(ok[None, :] & (ffe[None, :] >= level), damage[None, :], np.inf).min(
        axis=1, initial=np.inf
    )
    a, b, da, db = ffe[:-1], ffe[1:], damage[:-1], damage[1:]
    valid = ~(np.isnan(a) | np.isnan(b) | np.isnan(da) | np.isnan(db)) & (a != b)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    cross = valid[None, :] & (lo[None, :] < level) & (level <= hi[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (level - a[None, :]) / (b - a)[None, :]
        value = da[None, :] + frac * (db - da)[None, :]
    crossed = np.where(cross, value, np.inf).min(axis=1, initial=np.inf)
    return np.minimum(plain, crossed)


def _ordered_runs(points: pd.DataFrame, axis: str):
    """Per run: (curve, seed, strength, steps, ffe, damage) in step order; damage at step 0 is 0
    when unrecorded (θ = θ0 there by definition)."""
    pts = with_curves(points)
    for run, group in pts.sort_values("step", kind="stable").groupby("run", sort=True):
        steps = group["step"].to_numpy(int)
        damage = group[axis].to_numpy(float).copy()
        damage[(steps == 0) & np.isnan(damage)] = 0.0
        first = group.iloc[0]
        yield (
            str(run),
            str(first["curve"]),
            int(first["seed"]),
            float(first.get("strength", np.nan)),
            steps,
            group["ffe"].to_numpy(float),
            damage,
        )


def reach_points(points: pd.DataFrame, axis: str, level: float) -> pd.DataFrame:
    """Every reach point of every run at ``level`` (see the module docstring), with columns
    ``curve, seed, run, step, step_lo, frac, strength, ffe, damage``."""
    rows = []
    for run, curve, seed, strength, steps, ffe, damage in _ordered_runs(points, axis):
        for step, step_lo, frac, f, d in _run_reach(steps, ffe, damage, level):
            rows.append((curve, seed, run, step, step_lo, frac, strength, f, d))
    return pd.DataFrame(rows, columns=_REACH_COLUMNS)


def seed_frontier(points: pd.DataFrame, axis: str, level: float) -> pd.DataFrame:
    """Per (curve, seed): the least-damage reach point at ``level``.

    Returns ``curve, seed, run, step, step_lo, frac, strength, ffe, damage``; a (curve, seed) that
    never reaches the level is absent.
    """
    reach = reach_points(points, axis, level)
    if reach.empty:
        return reach
    best = reach.sort_values(["damage", "step"], kind="stable").groupby(["curve", "seed"]).head(1)
    return best[_REACH_COLUMNS].sort_values(["curve", "seed"], ignore_index=True)


#: what a matched point forgot of each kind of fact (METHOD.md §4.5), shown beside it
KIND_METRICS: tuple[str, ...] = ("ffe_specific", "ffe_shared", "ffe_balanced")


def with_kinds(front: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """``front`` (reach points) with :data:`KIND_METRICS` read at each point, interpolated
    between its two checkpoints like its damage (NaN where a run does not record them)."""
    out = front.copy()
    have = [m for m in KIND_METRICS if m in points.columns]
    index = points.set_index(["run", "step"])
    for metric in KIND_METRICS:
        if metric not in have or out.empty:
            out[metric] = np.nan
            continue
        values = index[metric].astype(float)
        hi = values.reindex(list(zip(out["run"], out["step"]))).to_numpy(float)
        lo = values.reindex(list(zip(out["run"], out["step_lo"]))).to_numpy(float)
        lo = np.where(np.isnan(lo) & (out["step_lo"].to_numpy() == 0), 0.0, lo)
        frac = out["frac"].to_numpy(float)
        out[metric] = np.where(frac >= 1.0, hi, (1 - frac) * lo + frac * hi)
    return out


def matched_kinds(points: pd.DataFrame, axis: str, level: float) -> pd.DataFrame:
    """Per curve: mean over seeds of what its frontier point at ``level`` forgot of each kind."""
    front = with_kinds(seed_frontier(points, axis, level), points)
    if front.empty:
        return pd.DataFrame(columns=["curve", *KIND_METRICS])
    return front.groupby("curve", as_index=False)[list(KIND_METRICS)].mean()


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


def rivals(summary: pd.DataFrame, axis: str, level: float, method: str = "atwu") -> list[str]:
    """Every baseline curve (not the method itself) reaching ``level`` on ``axis``."""
    rows = summary[
        (summary["axis"] == axis)
        & (summary["level"] == level)
        & (summary["role"] == "baseline")
        & summary["reached"]
        & (summary["curve"] != method)
    ]
    return sorted(rows["curve"].astype(str))


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


@dataclass
class Comparison:
    """ATWU against one rival at one axis and level."""

    axis: str
    level: float
    method_damage: float
    comparator: str | None  # the rival (None: no rival reaches the level)
    comparator_damage: float
    difference: float
    low: float
    high: float
    verdict: str  # better | worse | no significant difference | not reached | no comparator
    left_out: list[str]
    p_value: float = np.nan
    p_holm: float = np.nan
    seed_low: float = np.nan  # the per-seed range of D_mk − D_rk
    seed_high: float = np.nan

    def as_row(self) -> dict[str, Any]:
        return {**self.__dict__, "left_out": ", ".join(self.left_out)}


def _seed_range(front: pd.DataFrame, method: str, rival: str) -> tuple[float, float]:
    a = front[front["curve"] == method].sort_values("seed")["damage"].to_numpy(float)
    b = front[front["curve"] == rival].sort_values("seed")["damage"].to_numpy(float)
    k = min(len(a), len(b))
    if not k:
        return np.nan, np.nan
    diff = a[:k] - b[:k]
    return float(diff.min()), float(diff.max())


def compare_at_levels(
    points: pd.DataFrame,
    samples: Samples,
    *,
    method: str = "atwu",
    axes: Iterable[str] = AXES,
    levels: Iterable[float] = LEVELS,
    n_resamples: int = N_RESAMPLES,
) -> list[Comparison]:
    """ATWU against every rival at every axis and level (see the module docstring)."""
    levels = tuple(levels)
    summary = frontier_summary(points, axes=axes, levels=levels)
    out: list[Comparison] = []
    for axis in axes:
        for level in levels:
            out.extend(_compare_one(points, samples, summary, method, axis, level, n_resamples))
    return out


def _compare_one(points, samples, summary, method, axis, level, n_resamples):
    here = summary[(summary["axis"] == axis) & (summary["level"] == level)].set_index("curve")
    found = rivals(summary, axis, level, method)
    left_out = not_reaching(summary, axis, level)
    reached = method in here.index and bool(here.loc[method, "reached"])
    d_m = float(here.loc[method, "damage"]) if reached else np.nan
    if not found:
        nan = np.nan
        return [Comparison(axis, level, d_m, None, nan, nan, nan, nan, "no comparator", left_out)]
    if not reached:
        return [
            Comparison(
                axis,
                level,
                d_m,
                r,
                float(here.loc[r, "damage"]),
                np.nan,
                np.nan,
                np.nan,
                "not reached",
                left_out,
            )
            for r in found
        ]
    reach = reach_points(points, axis, level)
    front = seed_frontier(points, axis, level)
    rows = []
    for i, rival in enumerate(found):
        d_r = float(here.loc[rival, "damage"])
        interval = seed_bootstrap(
            reach, method, rival, axis, samples, n_resamples=n_resamples, seed=i
        )
        s_lo, s_hi = _seed_range(front, method, rival)
        rows.append(
            Comparison(
                axis,
                level,
                d_m,
                rival,
                d_r,
                d_m - d_r,
                interval.low,
                interval.high,
                "",
                left_out,
                interval.p_value,
                np.nan,
                s_lo,
                s_hi,
            )
        )
    for row, adjusted in zip(rows, holm([r.p_value for r in rows])):
        row.p_holm = adjusted
        significant = adjusted < ALPHA
        row.verdict = (
            "better"
            if significant and row.difference < 0
            else "worse"
            if significant and row.difference > 0
            else "no significant difference"
        )
    return rows


def decide(comparisons: Iterable[Comparison]) -> dict[str, dict[str, Any]]:
    """Per axis: whether ATWU improves the trade-off (better than every rival at ≥ 2 levels,
    significantly worse than none at any level)."""
    by_axis: dict[str, dict[float, list[Comparison]]] = {}
    for c in comparisons:
        by_axis.setdefault(c.axis, {}).setdefault(c.level, []).append(c)
    out = {}
    for axis, by_level in by_axis.items():
        better = [
            level
            for level, rows in by_level.items()
            if rows and all(c.verdict == "better" for c in rows)
        ]
        worse = [
            level for level, rows in by_level.items() if any(c.verdict == "worse" for c in rows)
        ]
        out[axis] = {
            "improves": len(better) >= 2 and not worse,
            "better_at": sorted(better),
            "worse_at": sorted(worse),
        }
    return out


# -- curves, areas and alignment --------------------------------------------------------------


def frontier_curve(points: pd.DataFrame, curve: str, axis: str, grid: np.ndarray) -> np.ndarray:
    """D_m(F) on ``grid`` (mean over seeds of the least damage over reach points, segments
    interpolated; NaN where not every seed reaches F)."""
    pts = with_curves(points)
    mine = pts[pts["curve"] == curve]
    if mine.empty:
        return np.full(len(grid), np.nan)
    per_seed: dict[int, np.ndarray] = {}
    grid = np.asarray(grid, dtype=float)
    for _, _, seed, _, steps, ffe, damage in _ordered_runs(mine, axis):
        best = per_seed.setdefault(seed, np.full(len(grid), np.inf))
        np.minimum(best, _run_reach_grid(steps, ffe, damage, grid), out=best)
    stacked = np.stack(list(per_seed.values()))
    stacked[np.isinf(stacked)] = np.nan
    return stacked.mean(axis=0)


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


def first_reaching(rows: pd.DataFrame, level: float) -> pd.Series | None:
    """One run's first checkpoint after step 0 whose FFE ≥ ``level`` (``rows``: one run's
    ``step, ffe`` records, any order), or None when it never gets there: the checkpoint "at
    matched forgetting" that alignment and token weights are read at."""
    ffe = pd.to_numeric(rows["ffe"], errors="coerce")
    hit = rows[(rows["step"] > 0) & (ffe >= level)].sort_values("step", kind="stable")
    return hit.iloc[0] if len(hit) else None


def alignment_at_matched(
    points: pd.DataFrame,
    *,
    level: float = 0.5,
    metrics: tuple[str, ...] = (
        "auroc",
        "auroc_retain_conflict",
        "auroc_retain_conflict_span",
        "ffe_specific",
        "ffe_shared",
        "ffe_balanced",
    ),
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
            hit = first_reaching(runs, level)
            if hit is not None:
                firsts.append(hit)
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
