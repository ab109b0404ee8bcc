"""Which span group each recorded answer token belongs to: the span labels of
:data:`atwu.data.format.SPAN_LABELS` (``specific``, ``shared``, ``fact``, ``context``), or
``template`` for an answer token in no span. Special tokens (EOS, end of turn: label −1 and no
span) belong to no group, so they count toward no group's summary.

The weight-by-label summary and the difference view's token list group tokens this way."""

from __future__ import annotations

import pandas as pd

from atwu.data.format import SPAN_LABELS

TEMPLATE = "template"
"""The group of answer tokens in no span (the answer's template words and punctuation)."""

SPAN_GROUPS: tuple[str, ...] = (*SPAN_LABELS[:3], TEMPLATE, SPAN_LABELS[3])
"""Every group in the order the pages list them: the fact kinds, then template, then context."""


def span_groups(tokens: pd.DataFrame) -> pd.Series:
    """Per row of ``tokens`` (``weights.parquet`` rows: ``label``, ``span_kind``), its group, or
    None for a special token (label −1 outside every span) or a row without labels."""
    n = len(tokens)
    kinds = tokens["span_kind"] if "span_kind" in tokens.columns else pd.Series([None] * n)
    labels = (
        pd.to_numeric(tokens["label"], errors="coerce")
        if "label" in tokens.columns
        else pd.Series([float("nan")] * n)
    )
    out: list[str | None] = []
    for kind, label in zip(kinds, labels, strict=True):
        if isinstance(kind, str) and kind in SPAN_LABELS:
            out.append(kind)
        elif label == 1:  # a fact token whose kind was not recorded
            out.append("fact")
        elif label == 0:
            out.append(TEMPLATE)
        else:
            out.append(None)
    return pd.Series(out, index=tokens.index, dtype=object)
