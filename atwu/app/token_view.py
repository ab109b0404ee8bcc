"""The Token scores page's data: checkpoints, the example table, one example's tokens, threshold
precision/recall, generations, CSV export."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from atwu.csv_export import csv_text
from atwu.evaluate.alignment_metrics import per_example_auroc, threshold_prf
from atwu.runs.layout import CHANNEL_COLUMNS, WEIGHT_COLUMNS


def recorded_steps(weights: pd.DataFrame) -> list[int]:
    if weights is None or weights.empty or "step" not in weights.columns:
        return []
    return sorted(int(s) for s in pd.unique(weights["step"]))


def nearest_step(steps: list[int], step: int) -> int | None:
    """The recorded step equal to ``step``, else the last one before it, else the first."""
    if not steps:
        return None
    before = [s for s in steps if s <= step]
    return max(before) if before else min(steps)


def at_step(weights: pd.DataFrame, step: int) -> pd.DataFrame:
    return weights[weights["step"] == int(step)]


def example_table(
    weights_step: pd.DataFrame,
    eval_examples: pd.DataFrame | None,
    examples: dict[str, dict],
    *,
    step: int,
    split: str,
) -> pd.DataFrame:
    """One row per recorded example at one checkpoint, for the sortable table.

    Columns: ``example_id, AUROC, forget loss, mean weight (facts), mean weight (other), fact
    tokens, tokens, question`` (the sortable numbers first, the long text last); AUROC from the weights (per example, vs the ground-truth labels),
    forget loss from ``eval_examples.parquet`` at the same step (NaN when that step was not
    evaluated with the model).
    """
    cols = [
        "example_id",
        "AUROC",
        "forget loss",
        "mean weight (facts)",
        "mean weight (other)",
        "fact tokens",
        "tokens",
        "question",
    ]
    if weights_step is None or weights_step.empty:
        return pd.DataFrame(columns=cols)
    w = weights_step.assign(example_id=weights_step["example_id"].astype(str))
    label = (
        pd.to_numeric(w["label"], errors="coerce")
        if "label" in w.columns
        else pd.Series(np.nan, index=w.index)
    )
    grouped = w.assign(
        _fact=(label == 1),
        _other=(label == 0),
        _wf=w["weight"].where(label == 1),
        _wo=w["weight"].where(label == 0),
    )
    g = grouped.groupby("example_id", sort=False)
    table = pd.DataFrame(
        {
            "tokens": g.size(),
            "fact tokens": g["_fact"].sum().astype(int),
            "mean weight (facts)": g["_wf"].mean(),
            "mean weight (other)": g["_wo"].mean(),
        }
    )
    table["AUROC"] = per_example_auroc(w) if "label" in w.columns else np.nan
    loss = pd.Series(np.nan, index=table.index)
    if eval_examples is not None and not eval_examples.empty and "forget_loss" in eval_examples:
        ev = eval_examples[(eval_examples["step"] == int(step)) & (eval_examples["split"] == split)]
        if not ev.empty:
            loss = (
                ev.drop_duplicates("example_id")
                .set_index("example_id")["forget_loss"]
                .reindex(table.index)
            )
    table["forget loss"] = pd.to_numeric(loss, errors="coerce")
    table["question"] = [examples.get(ex, {}).get("question", "") for ex in table.index]
    table = table.reset_index().rename(columns={"index": "example_id"})
    return table[cols]


def example_tokens(weights_step: pd.DataFrame, example_id: str) -> pd.DataFrame:
    """One example's token rows at one step, sorted by position."""
    rows = weights_step[weights_step["example_id"].astype(str) == str(example_id)]
    return rows.sort_values("position", kind="stable")


def threshold_stats(tokens: pd.DataFrame, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of "weight ≥ threshold ⇒ fact" over ``tokens`` (label −1 left
    out), with the counts the page prints beside them."""

    if tokens is None or tokens.empty or "label" not in tokens.columns:
        return {"precision": math.nan, "recall": math.nan, "f1": math.nan, "above": 0, "tokens": 0}
    w = pd.to_numeric(tokens["weight"], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(tokens["label"], errors="coerce").fillna(-1).to_numpy(dtype=int)
    p, r, f = threshold_prf(w, y, float(threshold))
    scored = (y != -1) & np.isfinite(w)
    return {
        "precision": p,
        "recall": r,
        "f1": f,
        "above": int((w[scored] >= threshold).sum()),
        "tokens": int(scored.sum()),
    }


def weight_bounds(frames: list[pd.DataFrame]) -> tuple[float, float]:
    """(min, max) finite weight over frames; (0, 1) when there is none."""
    values = [
        pd.to_numeric(f["weight"], errors="coerce")
        for f in frames
        if f is not None and not f.empty and "weight" in f.columns
    ]
    if not values:
        return 0.0, 1.0
    v = pd.concat(values).replace([np.inf, -np.inf], np.nan).dropna()
    return (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)


def threshold_range(lo: float, hi: float) -> tuple[float, float, float]:
    """Slider (min, max, default) for a weight range: from 0 (or below) to a round top."""
    lo = min(0.0, math.floor(lo * 10) / 10)
    top = max(1.0, math.ceil(hi * 10) / 10) if hi > 0 else 1.0
    return lo, top, round((lo + top) / 2, 2)


def generations(
    eval_examples: pd.DataFrame | None, split: str, example_id: str, step: int
) -> dict[str, Any]:
    """The example's greedy generations at step 0 and at (or before) ``step``.

    Returns ``{"before", "after", "after_step", "note"}``; a text is None when not generated
    (quick evaluation skips generation at intermediate checkpoints; the note says so).
    """
    out: dict[str, Any] = {"before": None, "after": None, "after_step": None, "note": ""}
    if eval_examples is None or eval_examples.empty or "generated" not in eval_examples:
        out["note"] = "this run has no per-example evaluation (eval_examples.parquet)"
        return out
    rows = eval_examples[
        (eval_examples["split"] == split)
        & (eval_examples["example_id"] == str(example_id))
        & eval_examples["generated"].notna()
    ]
    if rows.empty:
        out["note"] = "no generation was recorded for this example"
        return out
    by_step = rows.drop_duplicates("step", keep="last").set_index("step")["generated"]
    if 0 in by_step.index:
        out["before"] = str(by_step.loc[0])
    earlier = [int(s) for s in by_step.index if int(s) <= int(step)]
    if earlier:
        out["after_step"] = max(earlier)
        out["after"] = str(by_step.loc[out["after_step"]])
        if out["after_step"] != int(step):
            out["note"] = (
                f"step {step} has no generation (quick evaluation); showing step "
                f"{out['after_step']}"
            )
    return out


def scores_csv(tokens: pd.DataFrame) -> bytes:
    """Token scores as CSV (the weights.parquet columns that exist, in the contract's order, then
    the recorded channels such as the retain support)."""
    cols = [c for c in (*WEIGHT_COLUMNS, *CHANNEL_COLUMNS) if c in tokens.columns]
    return csv_text(tokens[cols]).encode("utf-8")
