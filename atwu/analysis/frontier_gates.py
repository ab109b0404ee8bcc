"""The gates of METHOD.md §4.6, checked before any claim; each must be able to fail (the earlier
oracle-below-uniform gate could not: the oracle's template weight is 0 by construction).

* targeting: at every level both reach, ``oracle`` has less template damage than
  ``shuffled_oracle`` (as many weights, at random positions);
* neighbours: ``specific_oracle`` has less neighbour damage than ``oracle`` (which also pushes
  the shared values neighbours have);
* forgetting means facts: ``template_only`` at ×1 stays below FFE 0.25 at its last checkpoint
  while its template damage there exceeds uniform's.

A gate that cannot be checked is ``unchecked``, never passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from atwu.analysis.frontier import LEVELS, frontier_summary

#: FFE below which template_only counts as "not forgetting facts" (gate 3)
TEMPLATE_ONLY_MAX_FFE = 0.25

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
