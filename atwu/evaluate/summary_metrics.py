"""Model-level metrics that are a function of one model's per-example rows: the forget split's
and its held-out retain split's (:attr:`atwu.evaluate.model_eval.ModelEval.examples`).

:func:`atwu.evaluate.model_eval.summarise` computes every function registered here, in
registration order, after the probability, ROUGE-L and truth-ratio means. Adding such a metric is
a function here under :func:`summary_metric`, its row in :data:`atwu.metric_specs.METRICS` (group
``model``) and a hand-computed test; ``tests/evaluate/test_metric_specs.py`` fails while one of
the two is missing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

SummaryFunction = Callable[[pd.DataFrame, pd.DataFrame], float]
"""``(forget rows, retain rows) -> value`` (NaN where undefined; the record notes why)."""

SUMMARY_METRICS: dict[str, SummaryFunction] = {}
"""Metric key -> its function, in registration order (the record's key order)."""


def summary_metric(key: str) -> Callable[[SummaryFunction], SummaryFunction]:
    """Register the decorated function as the value of metric ``key``."""

    def register(function: SummaryFunction) -> SummaryFunction:
        if key in SUMMARY_METRICS:
            raise ValueError(f"summary metric {key!r} is registered twice")
        SUMMARY_METRICS[key] = function
        return function

    return register


def _mean(values: pd.Series) -> float:
    """Mean of the non-NaN values (NaN when there is none)."""
    arr = values.astype(float).to_numpy()
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else float("nan")


@summary_metric("extraction_strength")
def extraction_strength(forget: pd.DataFrame, retain: pd.DataFrame) -> float:
    """Mean extraction strength over the forget examples (METHOD.md §4.1)."""
    return _mean(forget["extraction_strength"])


@summary_metric("exact_memorization")
def exact_memorization(forget: pd.DataFrame, retain: pd.DataFrame) -> float:
    """Mean exact memorisation over the forget examples (METHOD.md §4.1)."""
    return _mean(forget["exact_memorization"])
