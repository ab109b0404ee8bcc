"""Alignment of a method's token weights with the ground-truth fact spans, at one checkpoint.

Input is the run directory's ``weights.parquet`` restricted to one step: one row per answer token
of the tracked forget examples, with columns ``step, example_id, position, token, char_start,
char_end, weight, label, span_kind`` (``label`` 1 = fact token, 0 = other, −1 = left out; see
:mod:`atwu.data.labels`). The maths lives in :mod:`atwu.evaluate.alignment_metrics`; this module only shapes
the frame into it and turns its NaN explanations into a ``metric → reason`` dict.

Example::

    weights = pd.read_parquet(run_dir / "weights.parquet")
    summary = alignment_summary(weights[weights["step"] == 100])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from atwu.evaluate import alignment_metrics as M
from atwu.metric_specs import keys

__all__ = [
    "ALIGNMENT_KEYS",
    "alignment_summary",
    "per_example_alignment",
    "summary_and_per_example",
]

ALIGNMENT_KEYS = keys("alignment")
"""The metric keys :func:`alignment_summary` returns (besides counts and ``notes``)."""

_REQUIRED = {"example_id", "weight", "label"}


def _check(weights_df: pd.DataFrame) -> None:
    missing = _REQUIRED - set(weights_df.columns)
    if missing:
        raise ValueError(f"weights frame lacks columns {sorted(missing)}")
    if "step" in weights_df.columns and weights_df["step"].nunique() > 1:
        # Pooling several checkpoints would mix weights of different models into one AUROC.
        raise ValueError(
            f"weights frame holds steps {sorted(weights_df['step'].unique())[:5]}; "
            "pass one step at a time"
        )


def _notes_by_metric(result: M.AlignmentResult, suffix: str = "") -> dict[str, str]:
    """``AlignmentResult.notes`` lines ("auroc undefined: ...") as ``{metric + suffix: line}``."""
    out: dict[str, str] = {}
    for line in result.notes:
        metric = line.split(" ", 1)[0]
        out[f"{metric}{suffix}"] = line
    return out


def _span_kinds(weights_df: pd.DataFrame) -> list[str | None]:
    """Span kinds with pandas' missing values (None/NaN) as None, which specific_labels expects."""
    if "span_kind" not in weights_df.columns:
        return [None] * len(weights_df)
    return [k if isinstance(k, str) and k else None for k in weights_df["span_kind"].tolist()]


def span_scores(weights_df: pd.DataFrame) -> pd.DataFrame:
    """One row per fact span of the frame: ``example_id, kind, weight`` (the mean weight of its
    tokens). A span is a run of consecutive fact tokens of one kind within an example (two
    spans of one kind that touch would merge; the generators always separate them)."""
    if "span_kind" not in weights_df.columns or weights_df.empty:
        return pd.DataFrame(columns=["example_id", "kind", "weight"])
    order = ["example_id", "position"] if "position" in weights_df.columns else ["example_id"]
    frame = weights_df.sort_values(order, kind="stable")
    kinds = pd.Series(_span_kinds(frame), index=frame.index).fillna("")
    fact = (frame["label"].to_numpy() == 1) & (kinds.to_numpy() != "")
    example = frame["example_id"].astype(str).to_numpy()
    new_span = np.ones(len(frame), dtype=bool)
    new_span[1:] = (
        ~fact[:-1] | (kinds.to_numpy()[1:] != kinds.to_numpy()[:-1]) | (example[1:] != example[:-1])
    )
    span_id = np.cumsum(new_span)
    spans = pd.DataFrame(
        {
            "span": span_id[fact],
            "example_id": example[fact],
            "kind": kinds.to_numpy()[fact],
            "weight": frame["weight"].to_numpy(dtype=float)[fact],
        }
    )
    return spans.groupby("span", sort=True).agg(
        example_id=("example_id", "first"), kind=("kind", "first"), weight=("weight", "mean")
    )


def per_example_alignment(weights_df: pd.DataFrame) -> pd.DataFrame:
    """:func:`~atwu.evaluate.alignment_metrics.per_example_auroc` as a frame
    ``[example_id, auroc]``, after checking that the frame holds one step."""
    _check(weights_df)
    series = M.per_example_auroc(weights_df)
    return pd.DataFrame(
        {"example_id": pd.Series(series.index, dtype=object), "auroc": series.to_numpy(dtype=float)}
    )


def alignment_summary(weights_df: pd.DataFrame) -> dict[str, Any]:
    """Alignment metrics of one checkpoint's token weights (METHOD.md §4.3).

    Returns a dict with:

    * ``auroc``, ``auprc``, ``precision_at_k``, ``weight_mass``: pooled over every token of every
      tracked example (label −1 tokens left out);
    * ``auroc_mean_per_example``: mean of the per-example AUROCs that are defined;
    * ``auroc_specific``, ``auprc_specific``: the second view, ``specific`` facts against
      tokens outside every span (:func:`atwu.evaluate.alignment_metrics.specific_labels`);
    * ``auroc_retain_conflict``: the third view, ``specific`` against ``shared`` fact tokens
      (:func:`atwu.evaluate.alignment_metrics.retain_conflict_labels`);
    * ``auroc_retain_conflict_span``: the same with one score per span (its tokens' mean
      weight, :func:`span_scores`), so that a 4-token name counts once, like a 1-token city;
    * ``n_tokens``, ``n_true``, ``n_examples``;
    * ``notes``: metric → why it is NaN (every NaN has one).
    """
    return summary_and_per_example(weights_df)[0]


def summary_and_per_example(weights_df: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    """:func:`alignment_summary` and :func:`per_example_alignment` together, computing the
    per-example AUROCs (the slow part: one ranking per example) once for both."""
    _check(weights_df)
    weights = weights_df["weight"].to_numpy(dtype=float)
    labels = weights_df["label"].to_numpy(dtype=int)
    pooled = M.alignment_metrics(weights, labels)
    notes = _notes_by_metric(pooled)

    specific = M.alignment_metrics(weights, M.specific_labels(labels, _span_kinds(weights_df)))
    notes.update(
        {
            k: v
            for k, v in _notes_by_metric(specific, "_specific").items()
            if k in ("auroc_specific", "auprc_specific")
        }
    )

    conflict = M.alignment_metrics(
        weights, M.retain_conflict_labels(labels, _span_kinds(weights_df))
    )
    if "auroc" in _notes_by_metric(conflict):
        notes["auroc_retain_conflict"] = (
            _notes_by_metric(conflict)["auroc"]
            .replace("label 1", "kind specific")
            .replace("label 0", "kind shared")
        )

    # the same view with one score per span, so that long names do not count several times
    spans = span_scores(weights_df)
    span_labels = np.where(
        spans["kind"] == "specific", 1, np.where(spans["kind"] == "shared", 0, -1)
    )
    by_span = M.alignment_metrics(spans["weight"].to_numpy(dtype=float), span_labels)
    if "auroc" in _notes_by_metric(by_span):
        notes["auroc_retain_conflict_span"] = (
            _notes_by_metric(by_span)["auroc"]
            .replace("label 1", "kind specific")
            .replace("label 0", "kind shared")
            .replace(" tokens ", " spans ")
        )

    per_example_frame = per_example_alignment(weights_df)
    per_example = per_example_frame["auroc"].to_numpy(dtype=float)
    defined = per_example[~np.isnan(per_example)]
    mean_per_example = float(defined.mean()) if defined.size else math.nan
    if not defined.size:
        notes["auroc_mean_per_example"] = (
            "no examples to score"
            if not per_example.size
            else f"auroc undefined within each of the {per_example.size} examples (one class only)"
        )

    out: dict[str, Any] = {
        "auroc": pooled.auroc,
        "auroc_retain_conflict": conflict.auroc,
        "auroc_retain_conflict_span": by_span.auroc,
        "auprc": pooled.auprc,
        "precision_at_k": pooled.precision_at_k,
        "weight_mass": pooled.weight_mass,
        "auroc_mean_per_example": mean_per_example,
        "auroc_specific": specific.auroc,
        "auprc_specific": specific.auprc,
        "n_tokens": pooled.n_tokens,
        "n_true": pooled.n_true,
        "n_examples": int(weights_df["example_id"].nunique()),
    }
    # A NaN without an explicit line from the metric code still gets a reason.
    for key in ALIGNMENT_KEYS:
        if math.isnan(out[key]) and key not in notes:
            notes[key] = f"{key} undefined"
    out["notes"] = notes
    return out, per_example_frame
