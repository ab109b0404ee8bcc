"""Trade-offs over checkpoints: forget quality against model utility, the Pareto front, the best
checkpoint by a stated rule, and the two truth-ratio samples behind forget quality."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from atwu.evaluate.tofu_metrics import forget_quality

DEFAULT_MIN_FORGET_QUALITY = 0.05


BEST_RULE = (
    "highest model utility among checkpoints with forget quality ≥ {min_fq:g}; if none "
    "reaches it, the highest forget quality (ties: the earlier step)"
)


def tradeoff_points(evals: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``run, step, forget_quality, model_utility`` of every checkpoint evaluated with the
    model."""
    parts = []
    for run, frame in evals.items():
        if frame is None or frame.empty:
            continue
        if not {"forget_quality", "model_utility"} <= set(frame.columns):
            continue
        part = frame[["step", "forget_quality", "model_utility"]].copy()
        part = part.apply(pd.to_numeric, errors="coerce").dropna()
        part.insert(0, "run", run)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["run", "step", "forget_quality", "model_utility"])
    out = pd.concat(parts, ignore_index=True)
    out["step"] = out["step"].astype(int)
    return out


def best_checkpoint(
    points: pd.DataFrame, *, min_forget_quality: float = DEFAULT_MIN_FORGET_QUALITY
) -> pd.DataFrame:
    """The checkpoint chosen by :data:`BEST_RULE` (one row, empty when there are no points)."""
    if points is None or points.empty:
        return pd.DataFrame(columns=["run", "step", "forget_quality", "model_utility"])
    ok = points[points["forget_quality"] >= min_forget_quality]
    if len(ok):
        ranked = ok.sort_values(
            ["model_utility", "forget_quality", "step"],
            ascending=[False, False, True],
            kind="stable",
        )
    else:
        ranked = points.sort_values(
            ["forget_quality", "model_utility", "step"],
            ascending=[False, False, True],
            kind="stable",
        )
    return ranked.head(1)


def truth_ratio_steps(eval_examples: pd.DataFrame | None, split: str) -> list[int]:
    """Steps with forget-split truth ratios (checkpoints evaluated with the model)."""
    if eval_examples is None or eval_examples.empty or "truth_ratio" not in eval_examples:
        return []
    rows = eval_examples[(eval_examples["split"] == split) & eval_examples["truth_ratio"].notna()]
    return sorted(int(s) for s in pd.unique(rows["step"]))


def truth_ratio_comparison(
    eval_examples: pd.DataFrame, split: str, step: int, reference: dict
) -> dict[str, Any]:
    """The two samples behind forget quality at one checkpoint, and their KS test.

    Returns ``{"unlearned", "retain"}`` (log10 truth ratios R of the forget questions: the
    unlearned model's at ``step``, the retain model's from the benchmark's reference) and
    ``"ks"``, ``"p_value"``, ``"n_unlearned"``, ``"n_retain"``. The KS test is the one forget
    quality is defined by (on R); R is shown on a log scale, which leaves the KS statistic
    unchanged (it depends only on the order of the values).
    """

    rows = eval_examples[(eval_examples["split"] == split) & (eval_examples["step"] == int(step))]
    ours = pd.to_numeric(rows["truth_ratio"], errors="coerce").to_numpy(dtype=float)
    theirs = np.array(
        [math.nan if v is None else float(v) for v in (reference.get("ratios") or {}).values()],
        dtype=float,
    )
    p, ks = forget_quality(ours, theirs)

    def log10(values: np.ndarray) -> list[float]:
        v = values[np.isfinite(values) & (values > 0)]
        return np.log10(v).tolist()

    return {
        "unlearned": log10(ours),
        "retain": log10(theirs),
        "ks": ks,
        "p_value": p,
        "n_unlearned": int(np.isfinite(ours).sum()),
        "n_retain": int(np.isfinite(theirs).sum()),
    }


def pareto_front(
    points: pd.DataFrame, x: str = "forget_quality", y: str = "model_utility"
) -> pd.DataFrame:
    """Rows not dominated by any other row, higher being better on both ``x`` and ``y``.

    A row is dominated when another row is at least as good on both and strictly better on one.
    Identical points do not dominate each other, so ties are all kept. Rows with NaN in ``x`` or
    ``y`` are ignored. The result keeps the input's index (to map back to runs and steps) and is
    sorted by ``x`` ascending (then ``y`` descending), i.e. along the front from left to right.
    """
    if points is None or len(points) == 0:
        return points.iloc[0:0] if points is not None else pd.DataFrame(columns=[x, y])
    valid = points.dropna(subset=[x, y])
    keep: list[object] = []
    best_y_right = -np.inf  # best y among points with strictly larger x
    # Sweep from the largest x down: a point survives iff it beats every point to its right on
    # y (strictly: equal y with larger x dominates it) and is the top of its own x group.
    for _, group in sorted(valid.groupby(x, sort=False), key=lambda kv: kv[0], reverse=True):
        top = group[y].max()
        if top > best_y_right:
            keep.extend(group.index[group[y] == top])
        best_y_right = max(best_y_right, top)
    front = valid.loc[keep]
    return front.sort_values([x, y], ascending=[True, False], kind="stable")
