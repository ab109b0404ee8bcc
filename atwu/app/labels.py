"""How pages name metrics and format "mean ± std": one place for both."""

from __future__ import annotations

import math

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
}
"""Metric key → how a page names it."""


HEADLINE_METRICS = ("forget_quality", "model_utility", "uq", "auroc", "auprc", "auroc_specific")


ALIGNMENT_COLUMNS = (
    "auroc",
    "auprc",
    "auroc_specific",
    "auprc_specific",
    "precision_at_k",
    "weight_mass",
)


def metric_label(key: str) -> str:
    return METRIC_LABELS.get(key, key.replace("_", " "))


def mean_std_text(mean: float, std: float, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}g}" if abs(mean) < 1e-3 and mean != 0 else f"{mean:.{digits}f}"
    if abs(mean) < 1e-3 and mean != 0:
        return f"{mean:.{digits}g} ± {std:.2g}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"
