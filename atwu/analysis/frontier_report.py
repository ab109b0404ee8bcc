"""A frontier analysis as files the app and the reports read (METHOD.md §4.6).

OUT/frontier.json            the levels, axes, decision per axis, the three gates, comparisons,
                             areas, notes, and how the points were made
OUT/frontier_points.csv      every run × checkpoint (variant, seed, strength, step, FFE, ...)
OUT/frontier_seeds.csv       D_mk(F*): each curve's least-damage point per seed, axis, level, and
                             what it forgot of each kind of fact (FFE specific/shared/balanced)
OUT/frontier_levels.csv      D_m(F*): mean over seeds, spread, seeds reaching the level
OUT/frontier_comparisons.csv ATWU − each rival per axis and level: seed-and-example bootstrap
                             interval, Holm-corrected p, per-seed range
OUT/frontier_alignment.csv   alignment at matched forgetting (default strength, first FFE ≥ 0.5)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atwu.analysis import frontier as F
from atwu.analysis import frontier_gates as G
from atwu.analysis.frontier_data import FrontierData
from atwu.csv_export import write_csv
from atwu.io import atomic_write_json, read_json

FILES = {
    "points": "frontier_points.csv",
    "seeds": "frontier_seeds.csv",
    "levels": "frontier_levels.csv",
    "comparisons": "frontier_comparisons.csv",
    "alignment": "frontier_alignment.csv",
}
SUMMARY_FILE = "frontier.json"


def analyse(
    data: FrontierData, *, method: str = "atwu", n_resamples: int = F.N_RESAMPLES
) -> dict[str, Any]:
    """Everything §4.6 asks for, from the points and samples of one split."""
    points = data.points
    summary = F.frontier_summary(points)
    gates = G.gates(points)
    comparisons = F.compare_at_levels(points, data.samples, method=method, n_resamples=n_resamples)
    seeds = pd.concat(
        [
            F.with_kinds(F.seed_frontier(points, axis, level), points).assign(
                axis=axis, level=level
            )
            for axis in F.AXES
            for level in F.LEVELS
        ],
        ignore_index=True,
    )
    curves = sorted({F.curve_of(v) for v in points["variant"]})
    areas = []
    for axis in F.AXES:
        for rival in curves:
            if rival == method or F.role_of(rival) != "baseline":
                continue
            area, width = F.area_between(points, method, rival, axis)
            areas.append({"axis": axis, "against": rival, "area": area, "width": width})
    return {
        "split": data.split,
        "levels": list(F.LEVELS),
        "axes": list(F.AXES),
        "method": method,
        "decision": F.decide(comparisons),
        "gates": gates,
        "gate": G.gates_verdict(gates),
        "comparisons": [c.as_row() for c in comparisons],
        "areas": areas,
        "notes": data.notes,
        "runs": int(points["run"].nunique()),
        "n_resamples": n_resamples,
        "variants": sorted(points["variant"].unique().tolist()),
        "tables": {
            "points": points,
            "seeds": seeds,
            "levels": summary,
            "comparisons": pd.DataFrame([c.as_row() for c in comparisons]),
            "alignment": F.alignment_at_matched(points),
        },
    }


def write(out: str | Path, result: dict[str, Any]) -> Path:
    """Write the CSV tables and ``frontier.json`` (last, so its presence means complete)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, name in FILES.items():
        write_csv(out / name, result["tables"][key])
    summary = {k: v for k, v in result.items() if k != "tables"}
    atomic_write_json(out / SUMMARY_FILE, _plain(summary))
    return out / SUMMARY_FILE


def read(out: str | Path) -> dict[str, Any]:
    """What :func:`write` wrote, the tables as frames (raises on a missing or damaged file)."""
    out = Path(out)
    result = read_json(out / SUMMARY_FILE)
    result["tables"] = {
        key: pd.read_csv(out / name) for key, name in FILES.items() if (out / name).is_file()
    }
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value
