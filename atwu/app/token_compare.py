"""The Token scores page's compare mode and the numbers beside the example: which runs can be
stacked under the picked one, the default rows, the ground truth the numbers count against, the
precision/recall/F1 table of the stacked rows, the example's header and its exports."""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from atwu.app.run_list import benchmark_key
from atwu.app.token_view import threshold_stats, weight_bounds
from atwu.csv_export import csv_text
from atwu.evaluate.alignment_metrics import retain_conflict_labels
from atwu.runs.layout import WEIGHTS
from atwu.runs.read import RunInfo
from atwu.viz.colour_scale import scale_range
from atwu.viz.tokens import normalised_by_max

PREFERRED = ("atwu", "wga", "satimp", "tnpo", "etw", "tokenunlearn", "oracle", "aux", "uniform")
"""Methods offered first in compare mode: the token-weighting ones, ATWU's rivals."""

MAX_DEFAULT_ROWS = 4

Row = tuple[str, pd.DataFrame]
"""(row label, the example's token rows): one stacked row of the compare view."""


GROUND_TRUTHS: dict[str, str] = {
    "facts": "facts vs template",
    "conflict": "specific vs shared facts",
}
"""The ground truths the threshold's precision/recall/F1 and the per-example AUROC count against
(METHOD.md §4.3): every fact token against the template (context left out), or, within fact
tokens only, the facts specific to the author against the values a retain author shares (the
retain-conflict view; every other token left out)."""

_CONFLICT_COLUMNS = {
    "fact tokens": "specific tokens",
    "mean weight (facts)": "mean weight (specific)",
    "mean weight (other)": "mean weight (shared)",
}


def relabelled(tokens: pd.DataFrame, ground_truth: str) -> pd.DataFrame:
    """``tokens`` with ``label`` under ``ground_truth`` (a key of :data:`GROUND_TRUTHS`):
    unchanged for ``facts`` (1 fact, 0 template, −1 context); for ``conflict`` 1 = a
    ``specific`` fact token, 0 = a ``shared`` one, −1 = every other token."""
    if ground_truth not in GROUND_TRUTHS:
        raise ValueError(
            f"unknown ground truth {ground_truth!r}; choose from {list(GROUND_TRUTHS)}"
        )
    if ground_truth == "facts" or tokens is None or "label" not in tokens.columns:
        return tokens
    labels = pd.to_numeric(tokens["label"], errors="coerce").fillna(-1).astype(int).to_numpy()
    kinds = (
        [k if isinstance(k, str) and k else None for k in tokens["span_kind"]]
        if "span_kind" in tokens.columns
        else [None] * len(tokens)
    )
    return tokens.assign(label=retain_conflict_labels(labels, kinds))


def example_table_columns(ground_truth: str) -> dict[str, str]:
    """How the example table's columns are renamed under ``ground_truth`` (what "facts" and
    "other" mean there)."""
    return dict(_CONFLICT_COLUMNS) if ground_truth == "conflict" else {}


def ground_truth_caption(ground_truth: str) -> str:
    """What the numbers beside the example count as positive and negative."""
    if ground_truth == "conflict":
        return (
            "Retain conflict: precision, recall, F1 and AUROC count the facts specific to "
            "this author as positive and the values a retain author shares as negative; "
            "template and context tokens are left out. Weights that only follow the model's "
            "confidence sit near AUROC 0.5 here. An answer holding facts of one kind only has "
            "no per-example AUROC; F1 over all examples pools them."
        )
    return (
        "Precision, recall, F1 and AUROC count fact tokens as positive and the answer's "
        "template as negative; context restated from the question is left out."
    )


def comparable_runs(runs: list[RunInfo], run: RunInfo) -> list[RunInfo]:
    """Other runs with token weights on the same benchmark and forget split as ``run`` (two
    benchmarks may both have a forget10 of other authors)."""
    key = benchmark_key(run.config)
    return [
        r
        for r in runs
        if r.name != run.name and benchmark_key(r.config) == key and (r.path / WEIGHTS).is_file()
    ]


def default_compare(run: RunInfo, others: list[RunInfo]) -> list[str]:
    """One run per other method (seed 0 first), token-weighting methods first: the rows a
    researcher wants to see under ATWU's."""
    rank = {m: i for i, m in enumerate(PREFERRED)}
    seen, out = {run.method}, []
    for r in sorted(
        others, key=lambda r: (rank.get(r.method, len(rank)), r.config.get("seed", 0) or 0, r.name)
    ):
        if r.method not in seen:
            seen.add(r.method)
            out.append(r.name)
    return out[:MAX_DEFAULT_ROWS]


def row_label(info: RunInfo, step: int) -> str:
    """How a stacked row is named: method, run and the checkpoint shown."""
    return f"{info.method} · {info.name} (step {step})"


def score_text(x: float | None) -> str:
    """A precision, recall or F1 as the page prints it ("–" when undefined)."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def prf_table(rows: list[Row], threshold: float, *, normalise: bool) -> pd.DataFrame:
    """Precision, recall and F1 of "weight ≥ threshold" against the fact labels, one line per
    stacked row (each row divided by its own maximum first when ``normalise``)."""
    lines = []
    for label, frame in rows:
        s = threshold_stats(normalised_by_max(frame) if normalise else frame, threshold)
        lines.append(
            {
                "run": label,
                "precision": score_text(s["precision"]),
                "recall": score_text(s["recall"]),
                "F1": score_text(s["f1"]),
                "tokens ≥ threshold": s["above"],
            }
        )
    return pd.DataFrame(lines, columns=["run", "precision", "recall", "F1", "tokens ≥ threshold"])


def all_examples_help(stats: dict[str, Any], n_examples: int) -> str:
    return (
        f"precision {score_text(stats['precision'])}, recall {score_text(stats['recall'])} "
        f"over {stats['tokens']} scored tokens of {n_examples} examples"
    )


def rows_csv(rows: list[Row]) -> bytes:
    """The stacked rows' token scores as one CSV, with the row label in a ``run`` column."""
    frame = pd.concat([f.assign(run=label) for label, f in rows], ignore_index=True)
    return csv_text(frame).encode("utf-8")


def example_header_html(example_id: str, question: str, answer: str) -> str:
    """The example's question and reference answer above its tokens (every text escaped)."""
    return (
        '<div style="font-size:0.95em;line-height:1.5;">'
        f"<div><b>Question</b> ({html.escape(example_id)}): {html.escape(question)}"
        f"</div><div><b>Reference answer</b>: {html.escape(answer)}</div></div>"
    )


ALIGNMENT_CURVES = ("auroc", "auprc", "auroc_retain_conflict")
"""The alignment metrics drawn over training (the last where eval.jsonl has it)."""


def alignment_curves(
    evals: list[tuple[str, pd.DataFrame | None, str | None]],
) -> tuple[pd.DataFrame, list[str]]:
    """AUROC/AUPRC (and the retain-conflict AUROC) over steps of the runs ``(label, eval frame, read error)`` in one frame
    (``run`` = label), and a warning for each unreadable eval.jsonl."""
    curves, warnings = [], []
    for label, frame, err in evals:
        if err:
            warnings.append(f"{label}: eval.jsonl is unreadable ({err}).")
        elif frame is not None and not frame.empty and "auroc" in frame.columns:
            cols = [c for c in ("step", *ALIGNMENT_CURVES) if c in frame.columns]
            curves.append(frame[cols].assign(run=label))
    joined = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return joined, warnings


def typed_scores_frame(scored: list[tuple[str, float]]) -> pd.DataFrame:
    """Scores of typed text as token rows (no labels: it has no ground-truth spans)."""
    return pd.DataFrame(
        [{"position": i, "token": t, "weight": w} for i, (t, w) in enumerate(scored)],
        columns=["position", "token", "weight"],
    )


def weights_are_labels(method: str) -> bool:
    """Whether ``method``'s weights are read off the ground-truth spans (the oracle and the other
    references), so typed text, which has no spans, cannot be weighed by it."""
    from atwu.methods.registry import all_methods  # torch: only when a page asks

    cls = all_methods().get(method)
    return bool(cls and cls.needs_labels)


def no_model_note(run_name: str, *, demo: bool) -> str:
    """Why typed text cannot be scored with a run that saved no model."""
    why = (
        " (demo runs ship without models to stay small; launch a run of your own on the Run page)."
        if demo
        else ". Runs save their final model by default when it is small (under 100M "
        "parameters); otherwise launch with --save-model."
    )
    return f"{run_name} has no saved model, so its scorer cannot be applied to new text{why}"


def colour_range(frames: list[pd.DataFrame], *, normalise: bool) -> tuple[float, float]:
    """The colour scale shared by the stacked rows: 0..1 for shapes (rows divided by their own
    maximum), else a rounded range over every row's weights."""
    return (0.0, 1.0) if normalise else scale_range(*weight_bounds(frames))
