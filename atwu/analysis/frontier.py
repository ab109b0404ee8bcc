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
* Gates (:func:`gates`), each able to fail: targeting (oracle TD < shuffled_oracle TD),
  neighbours (specific_oracle ND < oracle ND), forgetting means facts (template_only stays below
  FFE 0.25 while damaging templates more than uniform).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from atwu.analysis.variants import SAME_CURVE, role_of

LEVELS: tuple[float, ...] = (0.5, 0.75, 0.9)
AXES: tuple[str, ...] = ("template_damage", "neighbour_damage")
AREA_RANGE: tuple[float, float] = (0.5, 0.95)
N_RESAMPLES = 2000
ALPHA = 0.05
#: FFE below which template_only counts as "not forgetting facts" (gate 3)
TEMPLATE_ONLY_MAX_FFE = 0.25

#: (run, step, axis) -> per-example (damage sum, count), aligned on one example order per axis
Samples = Mapping[tuple[str, int, str], tuple[np.ndarray, np.ndarray]]

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


# -- gates (METHOD.md §4.6): checked before any claim, each able to fail -------------------------

#: (name, axis, the curve that must damage less, the curve it is held against, what it tests)
PAIR_GATES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "targeting",
        "template_damage",
        "oracle",
        "shuffled_oracle",
        "weights on the facts damage the template less than as many weights at random positions",
    ),
    (
        "neighbours",
        "neighbour_damage",
        "specific_oracle",
        "oracle",
        "leaving the shared values alone spares the neighbours who have them",
    ),
)


def _pair_gate(
    points: pd.DataFrame, name: str, axis: str, low: str, high: str, what: str, levels
) -> dict[str, Any]:
    summary = frontier_summary(points, axes=(axis,), levels=levels)
    checked, failed = [], []
    for level in levels:
        rows = summary[summary["level"] == level].set_index("curve")
        if not {low, high} <= set(rows.index):
            continue
        a, b = rows.loc[low], rows.loc[high]
        if not (a["reached"] and b["reached"]):
            continue
        entry = {"level": level, low: float(a["damage"]), high: float(b["damage"])}
        checked.append(entry)
        if not entry[low] < entry[high]:
            failed.append(level)
    gate: dict[str, Any] = {"name": name, "axis": axis, "tests": what, "checked": checked}
    if not checked:
        gate.update(
            state="unchecked",
            passed=False,
            reason=f"{low} and {high} reach no common FFE level (or one of them was not run)",
        )
    elif failed:
        gate.update(
            state="failed",
            passed=False,
            reason=f"{low} has at least as much {axis} as {high} at FFE {failed}",
        )
    else:
        gate.update(
            state="passed",
            passed=True,
            reason=f"{low} has less {axis} than {high} at every level both reach",
        )
    return gate


def _forgetting_gate(points: pd.DataFrame) -> dict[str, Any]:
    """template_only at ×1 stays below FFE 0.25 at its last checkpoint while its template damage
    there exceeds uniform's (×1, same seed, same step)."""
    what = "pushing on the template alone does not count as forgetting facts"
    at_one = points[np.isclose(points["strength_multiplier"].astype(float), 1.0)]
    mine = at_one[at_one["variant"] == "template_only"]
    uni = at_one[at_one["variant"] == "uniform"]
    gate: dict[str, Any] = {"name": "forgetting", "axis": "ffe", "tests": what, "checked": []}
    if mine.empty or uni.empty:
        gate.update(
            state="unchecked", passed=False, reason="template_only or uniform (×1) was not run"
        )
        return gate
    failed = []
    for seed, runs in mine.groupby("seed"):
        last = runs.sort_values("step").iloc[-1]
        ref = uni[(uni["seed"] == seed) & (uni["step"] == last["step"])]
        if ref.empty:
            continue
        entry = {
            "seed": int(seed),
            "step": int(last["step"]),
            "template_only_ffe": float(last["ffe"]),
            "template_only_td": float(last["template_damage"]),
            "uniform_td": float(ref["template_damage"].iloc[0]),
        }
        gate["checked"].append(entry)
        ok = (
            entry["template_only_ffe"] < TEMPLATE_ONLY_MAX_FFE
            and entry["template_only_td"] > entry["uniform_td"]
        )
        if not ok:
            failed.append(int(seed))
    if not gate["checked"]:
        gate.update(
            state="unchecked",
            passed=False,
            reason="no uniform checkpoint at template_only's last step with the same seed",
        )
    elif failed:
        gate.update(
            state="failed",
            passed=False,
            reason=f"template_only reaches FFE ≥ {TEMPLATE_ONLY_MAX_FFE} or damages the template "
            f"no more than uniform (seeds {failed})",
        )
    else:
        gate.update(
            state="passed",
            passed=True,
            reason=f"template_only stays below FFE {TEMPLATE_ONLY_MAX_FFE} and damages the "
            "template more than uniform",
        )
    return gate


def gates(
    points: pd.DataFrame,
    *,
    levels: Iterable[float] = LEVELS,
    columns: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The three gates of METHOD.md §4.6 by name. ``columns`` maps a metric (``ffe``,
    ``template_damage``, ``neighbour_damage``) to the column that plays it: a test swaps in a
    deliberately broken metric and sees the gate fail."""
    levels = tuple(levels)
    pts = points.copy()
    for metric, column in (columns or {}).items():
        pts[metric] = pts[column]
    out = {
        name: _pair_gate(pts, name, axis, low, high, what, levels)
        for name, axis, low, high, what in PAIR_GATES
    }
    out["forgetting"] = _forgetting_gate(pts)
    return out


def gates_verdict(found: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """All gates in one line: passed only when every gate passed."""
    states = {name: g.get("state", "unchecked") for name, g in found.items()}
    passed = bool(states) and all(s == "passed" for s in states.values())
    reason = "; ".join(f"{name} {state}" for name, state in states.items())
    return {"passed": passed, "states": states, "reason": reason}


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
