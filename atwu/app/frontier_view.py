"""The frontier views' data (METHOD.md §4.6) for the Trade-offs and Method comparison pages:
which runs form the frontiers, where the analysis comes from (a ``frontier.json`` written by
``python -m atwu frontier --out OUT``, or the run directories themselves), and the tables and
sentences the pages show.

An analysis here is the dict :func:`atwu.analysis.frontier_report.analyse` returns (or
:func:`~atwu.analysis.frontier_report.read` reads back), with ``tables`` of frames; the live one
adds ``n_resamples``. The pages cache the work; nothing here imports Streamlit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atwu.analysis import frontier as F
from atwu.analysis import frontier_report
from atwu.analysis.frontier_data import FrontierData
from atwu.analysis.variants import role_of
from atwu.app.cli_text import ATWU
from atwu.app.gate_messages import gate_message, gate_messages  # noqa: F401  (the pages' one import)
from atwu.app.issues import file_stamp
from atwu.app.labels import mean_std_text, metric_label
from atwu.app.run_list import benchmark_key, forget_split_of
from atwu.numbers import as_number as _num
from atwu.numbers import number_text as _fmt
from atwu.runs.layout import CONFIG, EVAL_EXAMPLES, EVAL_LOG
from atwu.runs.read import RunInfo

LIVE_RESAMPLES = 300
"""Bootstrap resamples of the live view: seconds instead of a minute with many runs (the written
report uses :data:`atwu.analysis.frontier.N_RESAMPLES`)."""

ROLE_ORDER = {"method": 0, "baseline": 1, "ablation": 2, "reference": 3}


# --- which runs, and where the analysis comes from ----------------------------------------------


def frontier_file(*roots: Path) -> Path | None:
    """``frontier.json`` in one of ``roots`` or its parent (``frontier --out OUT`` writes
    ``OUT/frontier.json`` beside the runs in ``OUT/runs``), the first found."""
    for root in roots:
        for folder in (Path(root), Path(root).parent):
            path = folder / frontier_report.SUMMARY_FILE
            if path.is_file():
                return path
    return None


def evaluated(runs: list[RunInfo]) -> list[RunInfo]:
    return [r for r in runs if (r.path / EVAL_LOG).is_file()]


def split_choices(runs: list[RunInfo]) -> list[str]:
    """The forget splits of the evaluated runs, the most common first (ties: by name)."""
    counts = Counter(forget_split_of(r.config) for r in evaluated(runs))
    return [s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def runs_on_split(runs: list[RunInfo], split: str | None) -> list[RunInfo]:
    """The evaluated runs on ``split``: the candidates for one set of frontiers."""
    return [r for r in evaluated(runs) if forget_split_of(r.config) == split]


def one_benchmark(
    runs: list[RunInfo], prefer: RunInfo | None = None
) -> tuple[list[RunInfo], list[str]]:
    """The runs of one benchmark (a frontier pairs examples across runs, so runs of two
    benchmarks that share a split name cannot meet): the benchmark of ``prefer`` (the picked
    run) when it has runs here, else the most common one; with the names left out."""
    keys = [benchmark_key(r.config)[0] for r in runs]
    if not keys:
        return [], []
    preferred = benchmark_key(prefer.config)[0] if prefer is not None else None
    chosen = preferred if preferred in keys else Counter(keys).most_common(1)[0][0]
    kept = [r for r, k in zip(runs, keys, strict=True) if k == chosen]
    return kept, [r.name for r, k in zip(runs, keys, strict=True) if k != chosen]


def untagged(runs: list[RunInfo], joined: set[str]) -> list[str]:
    """Runs in ``joined`` (the analysis's points) without ``tags.variant``: plain ``atwu run``s,
    counted as their method at strength multiplier 1."""
    return [
        r.name for r in runs if r.name in joined and not (r.config.get("tags") or {}).get("variant")
    ]


def run_stamps(runs: list[RunInfo]) -> tuple:
    """What the cached analysis is keyed on: each run's path and the stamps of the files it
    reads (a re-evaluated run invalidates it)."""
    return tuple(
        (str(r.path), *(file_stamp(r.path / n) for n in (CONFIG, EVAL_LOG, EVAL_EXAMPLES)))
        for r in runs
    )


def points_runs(result: dict[str, Any]) -> set[str]:
    points = result.get("tables", {}).get("points")
    return set() if points is None or points.empty else set(points["run"].astype(str))


def file_mismatch(result: dict[str, Any], split: str | None, runs: list[RunInfo]) -> str | None:
    """Why a written analysis does not describe these runs, or None when it does."""
    if split is not None and result.get("split") and result["split"] != split:
        return f"it analyses forget split {result['split']}, not {split}"
    if runs and not points_runs(result) & {r.name for r in runs}:
        return "none of its runs is in this runs directory"
    return None


def stale_runs(path: Path, runs: list[RunInfo]) -> list[str]:
    """Runs evaluated after ``path`` was written (the file does not know their latest points)."""
    written = file_stamp(path)
    if written is None:
        return []
    return [
        r.name
        for r in runs
        if (stamp := file_stamp(r.path / EVAL_LOG)) is not None and stamp[0] > written[0]
    ]


def has_points(data: FrontierData) -> bool:
    return not data.points.empty and bool(data.points["ffe"].notna().any())


def analyse_live(data: FrontierData, n_resamples: int = LIVE_RESAMPLES) -> dict[str, Any] | None:
    """The full analysis of the runs (None when none has fact-level metrics)."""
    if not has_points(data):
        return None
    result = frontier_report.analyse(data, n_resamples=n_resamples)
    result["n_resamples"] = n_resamples
    return result


def summary_only(data: FrontierData) -> dict[str, Any] | None:
    """The frontiers and alignment at matched forgetting without the bootstrap (what the Method
    comparison page shows), shaped like an analysis; None when no run has fact-level metrics."""
    if not has_points(data):
        return None
    return {
        "split": data.split,
        "notes": data.notes,
        "levels": list(F.LEVELS),
        "axes": list(F.AXES),
        "tables": {
            "points": data.points,
            "levels": F.frontier_summary(data.points),
            "alignment": F.alignment_at_matched(data.points),
        },
    }


def source_text(path: Path | None, result: dict[str, Any], n_runs: int) -> str:
    """Where the numbers come from, in one sentence."""
    n = result.get("n_resamples", F.N_RESAMPLES)
    if path is not None:
        return (
            f"From `{path}` (written by `{ATWU} frontier`; intervals from {n:,} "
            "bootstrap resamples)."
        )
    if "comparisons" not in result:  # frontiers only: no intervals
        return f"Computed from the {n_runs} run directories on this split."
    return (
        f"Computed from the {n_runs} run directories on this split; the intervals use {n:,} "
        f"bootstrap resamples here to stay quick (the written report uses {F.N_RESAMPLES:,}: "
        f"`{ATWU} frontier --analyse-only --out OUT`)."
    )


# --- the figure's inputs ------------------------------------------------------------------------


def drawn_points(points: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Every checkpoint after step 0 with FFE and the ``axis`` damage: the frontier's points,
    with ``curve``, ``role`` and ``damage`` columns."""
    if points is None or points.empty or axis not in points.columns:
        return pd.DataFrame(columns=[*(points.columns if points is not None else []), "damage"])
    pts = F.with_curves(points)
    pts = pts[(pts["step"] > 0) & pts["ffe"].notna() & pts[axis].notna()]
    return pts.assign(
        damage=pts[axis].astype(float), role=[role_of(str(c)) for c in pts["curve"]]
    ).reset_index(drop=True)


def envelope(points: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Each curve's frontier D_m(F) (mean over seeds) where every seed reaches F: ``curve, ffe,
    damage``, on the FFE values its points take and an even grid between them (segments between
    consecutive checkpoints are interpolated, METHOD.md §4.6)."""
    pts = drawn_points(points, axis)
    every = F.with_curves(points) if points is not None and not points.empty else pts
    parts = []
    for curve, mine in pts.groupby("curve", sort=True):
        ffe = mine["ffe"].to_numpy(float)
        grid = np.unique(np.concatenate([ffe, np.linspace(0.0, ffe.max(), 60)]))
        grid = grid[grid > 0]
        values = F.frontier_curve(every, str(curve), axis, grid)
        ok = np.isfinite(values)
        parts.append(pd.DataFrame({"curve": curve, "ffe": grid[ok], "damage": values[ok]}))
    if not parts:
        return pd.DataFrame(columns=["curve", "ffe", "damage"])
    return pd.concat(parts, ignore_index=True)


# --- tables and sentences -----------------------------------------------------------------------


def _levels_text(levels: list[float]) -> str:
    return ", ".join(f"{x:g}" for x in levels)


def comparisons_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = result.get("comparisons")
    if rows is None:
        table = result.get("tables", {}).get("comparisons")
        rows = [] if table is None else table.to_dict("records")
    return list(rows)


def unmeasured_axes(result: dict[str, Any]) -> list[str]:
    """Damage axes no point records (e.g. neighbour damage on a benchmark whose held-out retain
    pairs share no value with a forget author): nothing can be compared on them."""
    points = result.get("tables", {}).get("points")
    axes = result.get("axes", F.AXES)
    if points is None:  # an analysis without its points: nothing to tell
        return []
    return [a for a in axes if a not in points.columns or not points[a].notna().any()]


def axis_note(evals: pd.DataFrame | None, axis: str) -> str | None:
    """Why a run's eval.jsonl has no value for ``axis`` (its last record's note), if it says."""
    if evals is None or evals.empty or "notes" not in evals.columns:
        return None
    notes = evals["notes"].iloc[-1]
    return str(notes[axis]) if isinstance(notes, dict) and notes.get(axis) else None


def matched_table(result: dict[str, Any]) -> pd.DataFrame:
    """ATWU against every rival per damage axis and FFE level: both damages, the difference with
    its 95% seed-and-example bootstrap interval, the Holm-corrected p-value, the per-seed range
    of the difference, the verdict and who was left out (axes no run records are left out:
    :func:`decision_lines` says so)."""
    method = result.get("method", "atwu")
    unmeasured = set(unmeasured_axes(result))
    rows = []
    for c in comparisons_of(result):
        if c["axis"] in unmeasured:
            continue
        low, high = _num(c.get("low")), _num(c.get("high"))
        left_out = c.get("left_out")
        rows.append(
            {
                "damage axis": metric_label(str(c["axis"])),
                "FFE ≥": f"{_num(c['level']):g}",
                f"{method}'s damage": _fmt(c.get("method_damage")),
                "rival": c.get("comparator") or "–",
                "rival's damage": _fmt(c.get("comparator_damage")),
                "difference": _fmt(c.get("difference")),
                "95% interval": "–"
                if math.isnan(low) or math.isnan(high)
                else f"[{low:.3f}, {high:.3f}]",
                "Holm p": _fmt(c.get("p_holm")),
                "per-seed range": _range(c.get("seed_low"), c.get("seed_high")),
                "verdict": c.get("verdict", "–"),
                "left out (not reaching)": left_out if isinstance(left_out, str) else "",
            }
        )
    return pd.DataFrame(rows)


def _range(low: Any, high: Any) -> str:
    lo, hi = _num(low), _num(high)
    return "–" if math.isnan(lo) or math.isnan(hi) else f"{lo:+.3f} … {hi:+.3f}"


def decision_lines(result: dict[str, Any]) -> list[str]:
    """The decision of §4.6 per damage axis, in words (Markdown)."""
    method = result.get("method", "atwu")
    name = "ATWU" if method == "atwu" else method
    comps = comparisons_of(result)
    unmeasured = unmeasured_axes(result)
    lines = []
    for axis in result.get("axes", F.AXES):
        if axis in unmeasured:
            lines.append(
                f"**{metric_label(axis).capitalize()}**: not measured (no run records it), so "
                "nothing is decided on this axis."
            )
            continue
        mine = [c for c in comps if c["axis"] == axis]
        by = {
            v: sorted({_num(c["level"]) for c in mine if c.get("verdict") == v}) for v in _VERDICTS
        }
        decision = (result.get("decision") or {}).get(axis, {})
        verdict = "improves" if decision.get("improves") else "does not improve"
        better = [_num(v) for v in decision.get("better_at") or []]
        worse = [_num(v) for v in decision.get("worse_at") or []]
        parts = [
            f"better than every rival at FFE {_levels_text(better)}"
            if better
            else "better than every rival at no level",
            f"significantly worse than a rival at {_levels_text(worse)}"
            if worse
            else "worse than none",
        ]
        if by["not reached"]:
            parts.append(f"{name} does not reach {_levels_text(by['not reached'])} (not better)")
        if by["no comparator"]:
            parts.append(f"no baseline reaches {_levels_text(by['no comparator'])}")
        lines.append(
            f"**{metric_label(axis).capitalize()}**: {name} {verdict} the trade-off "
            f"({'; '.join(parts)})."
        )
    return lines


_VERDICTS = ("better", "worse", "no significant difference", "not reached", "no comparator")

DECISION_RULE = (
    "The rule (METHOD.md §4.6): better than every rival that reaches the level (Holm-corrected "
    "p < 0.05, difference below 0) at two or more levels, and significantly worse than none at "
    "any level."
)


def _ordered(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    key = frame[name].map(lambda v: (ROLE_ORDER.get(role_of(str(v)), 9), str(v)))
    return frame.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k")


def levels_table(levels: pd.DataFrame, *, skip_axes: Iterable[str] = ()) -> pd.DataFrame:
    """One row per curve (variant), one column per damage axis × FFE level: D_m with its spread
    over seeds and how many seeds reach the level ("not reached" when not every one does).
    ``skip_axes``: axes left out (those no run records, see :func:`unmeasured_axes`)."""
    if levels is None or levels.empty:
        return pd.DataFrame(columns=["variant", "role"])
    skip = set(skip_axes)
    out: dict[str, dict[str, Any]] = {}
    for row in levels.to_dict("records"):
        if row["axis"] in skip:
            continue
        curve = str(row["curve"])
        entry = out.setdefault(curve, {"variant": curve, "role": role_of(curve)})
        seeds = f"{int(row['seeds_reaching'])}/{int(row['seeds'])} seeds"
        text = (
            f"{mean_std_text(_num(row['damage']), _num(row['damage_std']))} ({seeds})"
            if _reached(row["reached"])
            else f"not reached ({seeds})"
        )
        entry[f"{metric_label(str(row['axis']))} at FFE {_num(row['level']):g}"] = text
    return _ordered(pd.DataFrame(list(out.values())), "variant").reset_index(drop=True)


def _reached(value: Any) -> bool:
    return value is True or str(value).lower() == "true" or value == 1


def alignment_table(alignment: pd.DataFrame) -> pd.DataFrame:
    """Alignment at matched forgetting: per variant at its default strength, AUROC and the
    retain-conflict AUROC at the first checkpoint with FFE ≥ 0.5, that FFE and step."""
    cols = ["variant", "role", "AUROC", "retain-conflict AUROC", "FFE there", "step", "seeds"]
    if alignment is None or alignment.empty:
        return pd.DataFrame(columns=cols)

    def cell(row: dict[str, Any], key: str) -> str:
        return mean_std_text(_num(row.get(key)), _num(row.get(f"{key}_std")))

    rows = [
        {
            "variant": str(r["variant"]),
            "role": role_of(str(r["variant"])),
            "AUROC": cell(r, "auroc"),
            "retain-conflict AUROC": cell(r, "auroc_retain_conflict"),
            "FFE there": cell(r, "ffe"),
            "step": "–" if math.isnan(_num(r.get("step"))) else f"{_num(r['step']):.0f}",
            "seeds": f"{int(r['seeds_reaching'])}/{int(r['seeds'])} reach FFE 0.5",
        }
        for r in alignment.to_dict("records")
    ]
    return _ordered(pd.DataFrame(rows, columns=cols), "variant").reset_index(drop=True)
