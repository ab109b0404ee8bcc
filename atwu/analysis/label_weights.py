"""How much weight each span group gets, checkpoint by checkpoint: "do shared facts get lower
weight than specific ones, and when?" (the weight-by-label section of the Token scores page).

Per run, step and span group (:data:`atwu.analysis.span_groups.SPAN_GROUPS`): the mean weight and
its interquartile band over the group's tokens (every recorded example pooled). "At matched
forgetting" reads each run at the checkpoint where it first reaches an FFE level
(:func:`atwu.analysis.frontier.first_reaching`, the rule of the frontier's alignment table), so a
fast and a slow method are compared at the same amount of forgetting, not at the same step."""

from __future__ import annotations

import pandas as pd

from atwu.analysis.frontier import first_reaching
from atwu.analysis.span_groups import SPAN_GROUPS, span_groups

LABEL_WEIGHT_COLUMNS = ["run", "step", "group", "mean", "q25", "median", "q75", "tokens"]
MATCHED_LEVEL = 0.5
"""The FFE at which runs are compared by default (the frontier's first level)."""


def label_weights(weights: pd.DataFrame, run: str = "") -> pd.DataFrame:
    """Per step and span group of one run's ``weights.parquet`` rows: mean, quartiles and count
    of the weights (missing weights and special tokens left out). Groups in
    :data:`SPAN_GROUPS` order within each step; columns :data:`LABEL_WEIGHT_COLUMNS`."""
    if weights is None or weights.empty:
        return pd.DataFrame(columns=LABEL_WEIGHT_COLUMNS)
    rows = weights.assign(
        group=span_groups(weights), weight=pd.to_numeric(weights["weight"], errors="coerce")
    ).dropna(subset=["group", "weight"])
    if rows.empty:
        return pd.DataFrame(columns=LABEL_WEIGHT_COLUMNS)
    g = rows.groupby(["step", "group"])["weight"]
    table = pd.DataFrame(
        {
            "mean": g.mean(),
            "q25": g.quantile(0.25),
            "median": g.median(),
            "q75": g.quantile(0.75),
            "tokens": g.size(),
        }
    ).reset_index()
    order = {name: i for i, name in enumerate(SPAN_GROUPS)}
    table = table.assign(_o=table["group"].map(order)).sort_values(["step", "_o"], kind="stable")
    table = table.drop(columns="_o").assign(run=run).reset_index(drop=True)
    table["step"] = table["step"].astype(int)
    table["tokens"] = table["tokens"].astype(int)
    return table[LABEL_WEIGHT_COLUMNS]


def matched_step(
    evals: pd.DataFrame | None, recorded: list[int], level: float = MATCHED_LEVEL
) -> int | None:
    """The weights checkpoint of a run at matched forgetting: the first evaluated checkpoint
    after step 0 whose FFE ≥ ``level``, or the last recorded weights step before it when the
    weights were recorded less often; None when the run has no FFE or never reaches ``level``."""
    if evals is None or evals.empty or not {"step", "ffe"} <= set(evals.columns):
        return None
    hit = first_reaching(evals, level)
    if hit is None:
        return None
    step = int(hit["step"])
    before = [s for s in recorded if s <= step]
    return max(before) if before else None


def at_matched(table: pd.DataFrame, steps: dict[str, int | None]) -> pd.DataFrame:
    """The rows of ``table`` (several runs' :func:`label_weights`) at each run's matched step
    (``steps``: run → step, None = not reached: the run is left out)."""
    keep = [
        (table["run"] == run) & (table["step"] == step)
        for run, step in steps.items()
        if step is not None
    ]
    if not keep:
        return table.iloc[0:0]
    mask = keep[0]
    for k in keep[1:]:
        mask = mask | k
    return table[mask].reset_index(drop=True)
