"""The Trade-offs page's choices and sentences: which runs it offers and picks by default, what
it says about the best checkpoint and about the truth-ratio test."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from atwu.app.run_list import forget_split_of
from atwu.runs.layout import EVAL_LOG
from atwu.runs.read import RunInfo

MAX_DEFAULT_RUNS = 12


def evaluated_runs(runs: list[RunInfo]) -> list[RunInfo]:
    """Runs with evaluation records (eval.jsonl): the only ones with points to draw."""
    return [r for r in runs if (r.path / EVAL_LOG).is_file()]


def sweep_ids(runs: list[RunInfo]) -> list[str]:
    return sorted({str(r.config["sweep_id"]) for r in runs if r.config.get("sweep_id")})


def sweep_runs(runs: list[RunInfo], sweep: str) -> list[str]:
    """The runs of one sweep, by name."""
    return [r.name for r in runs if r.config.get("sweep_id") == sweep]


def default_runs(runs: list[RunInfo], picked: RunInfo | None) -> list[str]:
    """The sidebar's run (when it has evaluations) and the others on its forget split, at most
    :data:`MAX_DEFAULT_RUNS`; without a picked run, the first ones."""
    names = [r.name for r in runs]
    primary = picked.name if picked is not None and picked.name in names else None
    split = forget_split_of(picked.config) if picked is not None else None
    same = [r.name for r in runs if forget_split_of(r.config) == split and r.name != primary]
    out = ([primary] if primary else []) + same
    return out[:MAX_DEFAULT_RUNS] or names[:MAX_DEFAULT_RUNS]


def best_text(best: pd.DataFrame) -> str:
    """The best checkpoint in one sentence ("" when there is none)."""
    if best.empty:
        return ""
    b = best.iloc[0]
    return (
        f"**Best checkpoint**: `{b['run']}` at step **{int(b['step'])}** — forget "
        f"quality {b['forget_quality']:.3g}, model utility {b['model_utility']:.3f}."
    )


def meets_rule(best: pd.DataFrame, min_forget_quality: float) -> bool:
    """Whether the chosen checkpoint meets the rule (forget quality reaches the bar), rather
    than being the rule's fallback (the highest forget quality when none reaches it)."""
    return not best.empty and float(best.iloc[0]["forget_quality"]) >= min_forget_quality


def no_best_text(best: pd.DataFrame, min_forget_quality: float) -> str:
    """What the page says when no checkpoint meets the rule: none is named as the best."""
    b = best.iloc[0]
    return (
        f"No checkpoint of these runs reaches forget quality ≥ {min_forget_quality:g}, so none "
        f"meets the rule. The highest forget quality, {b['forget_quality']:.3g} (`{b['run']}` "
        f"at step {int(b['step'])}, model utility {b['model_utility']:.3f}), is marked instead."
    )


def best_run(best: pd.DataFrame, chosen: list[str]) -> str:
    """The run whose truth ratios are shown first: the best checkpoint's, else the first."""
    return (
        str(best.iloc[0]["run"]) if not best.empty and best.iloc[0]["run"] in chosen else chosen[0]
    )


def default_step(best: pd.DataFrame, run: str, steps: list[int]) -> int:
    """The checkpoint shown first: the best one when it is in ``run``, else the last."""
    if not best.empty and best.iloc[0]["run"] == run and int(best.iloc[0]["step"]) in steps:
        return int(best.iloc[0]["step"])
    return steps[-1]


def recorded_forget_quality(evals: pd.DataFrame | None, step: int) -> float:
    """Forget quality as eval.jsonl records it at ``step`` (NaN when it does not)."""
    if evals is None or evals.empty or "forget_quality" not in evals.columns:
        return math.nan
    values = pd.to_numeric(evals.loc[evals["step"] == step, "forget_quality"], errors="coerce")
    return float(values.iloc[0]) if len(values) else math.nan


def recorded_ks_interval(evals: pd.DataFrame | None, step: int) -> tuple[float, float]:
    """The 95% bootstrap interval of the KS statistic eval.jsonl records at ``step``
    (``ks_low``, ``ks_high``; NaN when it records none)."""
    out = []
    for key in ("ks_low", "ks_high"):
        if evals is None or evals.empty or key not in evals.columns:
            out.append(math.nan)
            continue
        values = pd.to_numeric(evals.loc[evals["step"] == step, key], errors="coerce")
        out.append(float(values.iloc[0]) if len(values) else math.nan)
    return out[0], out[1]


def ks_caption(
    comparison: dict[str, Any],
    recorded: float,
    interval: tuple[float, float] = (math.nan, math.nan),
) -> str:
    """The KS test behind forget quality, with what eval.jsonl recorded beside it: the forget
    quality and the KS statistic's 95% bootstrap interval (both samples resampled)."""
    text = (
        f"{comparison['n_unlearned']} unlearned vs {comparison['n_retain']} retain-model "
        f"questions: KS statistic {comparison['ks']:.3f}"
    )
    low, high = interval
    if not (math.isnan(low) or math.isnan(high)):
        text += f" (95% bootstrap interval {low:.3f}–{high:.3f})"
    text += f", p-value {comparison['p_value']:.3g}"
    if recorded is None or math.isnan(recorded):
        return text + "."
    return text + f" (eval.jsonl records forget quality {recorded:.3g} at this step)."
