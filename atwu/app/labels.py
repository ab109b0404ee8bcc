"""How pages name metrics (their "mean ± std" text comes from :mod:`atwu.numbers`)."""

from __future__ import annotations

from atwu.numbers import mean_std_text

__all__ = [
    "ALIGNMENT_COLUMNS",
    "FACT_COLUMNS",
    "HEADLINE_METRICS",
    "METRIC_LABELS",
    "mean_std_text",
    "metric_label",
]

METRIC_LABELS: dict[str, str] = {
    "forget_quality": "forget quality",
    "model_utility": "model utility",
    "uq": "UQ",
    "forget_efficacy": "forget efficacy",
    "retain_preservation": "retain preservation",
    "forget_prob": "forget prob",
    "retain_prob": "retain prob",
    "forget_rouge": "forget ROUGE-L",
    "retain_rouge": "retain ROUGE-L",
    "forget_truth_ratio": "forget truth ratio",
    "retain_truth_ratio": "retain truth ratio",
    "ks_statistic": "KS statistic",
    "extraction_strength": "extraction strength",
    "exact_memorization": "exact memorisation",
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "auroc_specific": "AUROC (specific facts)",
    "auprc_specific": "AUPRC (specific facts)",
    "precision_at_k": "precision at k",
    "weight_mass": "weight mass on facts",
    "auroc_retain_conflict": "AUROC (retain conflict: specific vs shared)",
    "ks_low": "KS statistic, 2.5%",
    "ks_high": "KS statistic, 97.5%",
    "ffe": "fact forget efficacy (FFE)",
    "ffe_paraphrase": "FFE on paraphrases",
    "ffe_specific": "FFE on specific facts",
    "ffe_shared": "FFE on shared facts",
    "ffe_balanced": "fact-balanced FFE (each span once)",
    "auroc_retain_conflict_span": "AUROC (retain conflict, one score per span)",
    "fact_recall": "fact recall",
    "fact_recall_forgetting": "fact recall forgetting",
    "generation_leakage": "generation leakage",
    "template_damage": "template damage",
    "neighbour_damage": "neighbour damage",
    "heldout_damage": "held-out retain damage",
    "general_damage": "general damage",
    "pressure_share": "pressure share on facts",
}
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


SHORT_LABELS: dict[str, str] = {
    "auroc_specific": "AUROC (specific)",
    "auprc_specific": "AUPRC (specific)",
    "auroc_retain_conflict": "retain-conflict AUROC",
    "ffe": "FFE",
    "ffe_paraphrase": "FFE (paraphrases)",
    "ffe_specific": "FFE (specific)",
    "ffe_shared": "FFE (shared)",
    "ffe_balanced": "FFE (balanced)",
    "auroc_retain_conflict_span": "retain-conflict AUROC (spans)",
}
"""Metric key → a name short enough for a narrow chart's title and axis."""


def metric_label(key: str) -> str:
    return METRIC_LABELS.get(key, key.replace("_", " "))


def short_label(key: str) -> str:
    return SHORT_LABELS.get(key, metric_label(key))
