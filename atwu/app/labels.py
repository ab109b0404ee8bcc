"""How pages name metrics (their "mean ± std" text comes from :mod:`atwu.numbers`): the labels
are the metric table's (:mod:`atwu.metric_specs`); the column choices below are the comparison's
own selections of it, in the order it shows them."""

from __future__ import annotations

from atwu.metric_specs import METRICS
from atwu.numbers import mean_std_text

__all__ = [
    "ALIGNMENT_COLUMNS",
    "FACT_COLUMNS",
    "HEADLINE_METRICS",
    "METRIC_LABELS",
    "mean_std_text",
    "metric_label",
]

METRIC_LABELS: dict[str, str] = {s.key: s.label for s in METRICS}
"""Metric key → how a page names it."""


HEADLINE_METRICS = ("forget_quality", "model_utility", "uq", "auroc", "auprc", "auroc_specific")

FACT_COLUMNS = (
    "ffe",
    "ffe_specific",
    "ffe_shared",
    "ffe_balanced",
    "ffe_paraphrase",
    "fact_recall",
    "generation_leakage",
    "template_damage",
    "neighbour_damage",
    "heldout_damage",
    "general_damage",
    "pressure_share",
)
"""The fact-level measurements (METHOD.md §4.5) the comparison shows beside the headline."""


ALIGNMENT_COLUMNS = (
    "auroc",
    "auprc",
    "auroc_specific",
    "auprc_specific",
    "precision_at_k",
    "weight_mass",
    "auroc_retain_conflict",
    "auroc_retain_conflict_span",
)


SHORT_LABELS: dict[str, str] = {s.key: s.short for s in METRICS if s.short}
"""Metric key → a name short enough for a narrow chart's title and axis."""


def metric_label(key: str) -> str:
    return METRIC_LABELS.get(key, key.replace("_", " "))


def short_label(key: str) -> str:
    return SHORT_LABELS.get(key, metric_label(key))
