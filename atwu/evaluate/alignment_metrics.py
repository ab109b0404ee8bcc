"""Alignment of token weights with ground-truth fact spans, as pure functions (METHOD.md §4.3).

Labels: 1 = a token inside a fact span, 0 = another answer token, −1 = left out (e.g. inside a
``context`` span). Undefined values are NaN with a line in ``notes`` saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

NAN = float("nan")


@dataclass
class AlignmentResult:
    """How well token weights single out ground-truth fact tokens.

    ``notes`` explains every NaN, so a report can say *why* a number is
    missing.  ``n_tokens`` / ``n_true`` count the tokens actually scored
    (after dropping label -1 and non-finite weights).
    """

    auroc: float
    auprc: float
    precision_at_k: float
    weight_mass: float
    notes: list[str] = field(default_factory=list)
    n_tokens: int = 0
    n_true: int = 0


def _clean_weights_labels(
    weights: np.ndarray | Sequence[float], labels: np.ndarray | Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Flatten, validate, and drop left-out (-1) tokens and non-finite weights."""
    w = np.asarray(weights, dtype=float).ravel()
    y = np.asarray(labels).ravel()
    if w.shape != y.shape:
        raise ValueError(f"weights has {w.size} entries but labels has {y.size}")
    if y.size and not np.isin(y, (-1, 0, 1)).all():
        bad = sorted(set(np.unique(y).tolist()) - {-1, 0, 1})
        raise ValueError(f"labels must be -1, 0 or 1; found {bad}")
    keep = (y != -1) & np.isfinite(w)
    return w[keep], y[keep].astype(int)


def _single_class_note(metric: str, y: np.ndarray) -> str | None:
    """Why a ranking metric is undefined on ``y``, or None if it is defined."""
    if y.size == 0:
        return f"{metric} undefined: no scored tokens"
    if (y == 1).all():
        return f"{metric} undefined: all {y.size} tokens have label 1"
    if (y == 0).all():
        return f"{metric} undefined: all {y.size} tokens have label 0"
    return None


def _expected_precision_at_k(w: np.ndarray, y: np.ndarray, k: int) -> float:
    """Precision among the ``k`` highest weights, ties broken uniformly at random (in expectation).

    Tokens strictly above the cutoff weight are all taken; of the block tied
    at the cutoff only ``k - n_above`` are taken, and each tied token is
    equally likely to be among them, so the block contributes its positive
    share times the number of slots.  This makes the value independent of
    token order (a stable sort would favour whichever label comes first) and
    gives the base rate for uniform weights.
    """
    cutoff = np.sort(w)[::-1][k - 1]
    above = w > cutoff
    tied = w == cutoff
    slots = k - int(above.sum())
    expected_hits = float(y[above].sum()) + slots * float(y[tied].sum()) / int(tied.sum())
    return expected_hits / k


def alignment_metrics(
    weights: np.ndarray | Sequence[float], labels: np.ndarray | Sequence[int]
) -> AlignmentResult:
    """Pooled alignment of token weights with fact labels (METHOD.md 4.3).

    ``labels``: 1 = token inside a ground-truth fact span, 0 = other answer
    token, -1 = left out (e.g. inside a ``context`` span).  Tokens with label
    -1 or a non-finite weight are dropped first.

    * ``auroc``: :func:`sklearn.metrics.roc_auc_score` (ties count half, so
      uniform weights give exactly 0.5).
    * ``auprc``: :func:`sklearn.metrics.average_precision_score`.
    * ``precision_at_k``: with k = number of label-1 tokens, the share of
      label-1 tokens among the k highest weights, ties at the cutoff broken
      uniformly at random in expectation (order-independent).
    * ``weight_mass``: sum of weights on label-1 tokens / sum of all weights.

    AUROC and AUPRC are NaN when only one class (or no token) is present;
    precision at k is NaN without label-1 tokens; weight mass is NaN when the
    weights sum to 0.  Each NaN comes with a line in ``notes``.  Never raises
    on such degenerate data (only on mismatched shapes / unknown labels).
    """
    w, y = _clean_weights_labels(weights, labels)
    notes: list[str] = []
    n_true = int((y == 1).sum())

    auroc = auprc = NAN
    why = _single_class_note("auroc", y)
    if why is None:
        auroc = float(roc_auc_score(y, w))
        auprc = float(average_precision_score(y, w))
    else:
        notes.append(why)
        notes.append(why.replace("auroc", "auprc", 1))

    if n_true == 0:
        p_at_k = NAN
        notes.append(
            "precision_at_k undefined: no tokens with label 1"
            if y.size
            else "precision_at_k undefined: no scored tokens"
        )
    else:
        p_at_k = _expected_precision_at_k(w, y, n_true)

    total = float(w.sum())
    if y.size == 0:
        mass = NAN
        notes.append("weight_mass undefined: no scored tokens")
    elif total == 0:
        mass = NAN
        notes.append(f"weight_mass undefined: weights of all {y.size} tokens sum to 0")
    else:
        mass = float(w[y == 1].sum()) / total

    return AlignmentResult(
        auroc=auroc,
        auprc=auprc,
        precision_at_k=p_at_k,
        weight_mass=mass,
        notes=notes,
        n_tokens=int(y.size),
        n_true=n_true,
    )


def per_example_auroc(df: pd.DataFrame) -> pd.Series:
    """AUROC of the weights within each example: the one implementation the evaluation, the app
    and the reports share.

    ``df`` has one row per token with columns ``example_id``, ``weight`` and ``label`` (-1 / 0 /
    1 as in :func:`alignment_metrics`). Returns a float Series indexed by ``example_id`` (in order
    of first appearance), NaN for examples where AUROC is undefined (one class only after
    dropping label -1 and non-finite weights). Pooled AUROC can hide that a method ranks well
    across examples but not within them; this view shows it.

    Computed for all examples at once from within-example average ranks (the Mann–Whitney form,
    ties counting half as in ``roc_auc_score``): one sklearn call per example would cost ~5 ms,
    a second for 200 examples at every checkpoint.
    """
    missing = {"example_id", "weight", "label"} - set(df.columns)
    if missing:
        raise ValueError(f"per_example_auroc: missing columns {sorted(missing)}")
    ids = pd.unique(df["example_id"])
    out = pd.Series(
        np.full(len(ids), np.nan), index=pd.Index(ids, name="example_id"), dtype=float, name="auroc"
    )
    if df.empty:
        return out
    labels = pd.to_numeric(df["label"], errors="coerce").fillna(-1).to_numpy()
    if not np.isin(labels, (-1, 0, 1)).all():
        raise ValueError(f"labels must be -1, 0 or 1; found {sorted(set(labels.tolist()))}")
    weights = pd.to_numeric(df["weight"], errors="coerce").to_numpy(dtype=float)
    keep = (labels != -1) & np.isfinite(weights)
    kept = pd.DataFrame(
        {
            "example_id": df["example_id"].to_numpy()[keep],
            "weight": weights[keep],
            "positive": labels[keep] == 1,
        }
    )
    if kept.empty:
        return out
    kept["rank"] = kept.groupby("example_id", sort=False)["weight"].rank(method="average")
    kept["pos_rank"] = kept["rank"].where(kept["positive"], 0.0)
    per = kept.groupby("example_id", sort=False).agg(
        n=("positive", "size"), n_pos=("positive", "sum"), rank_sum=("pos_rank", "sum")
    )
    n_pos = per["n_pos"].to_numpy(dtype=float)
    n_neg = per["n"].to_numpy(dtype=float) - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        auroc = (per["rank_sum"].to_numpy() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    auroc[(n_pos == 0) | (n_neg == 0)] = np.nan
    out.loc[per.index] = auroc
    return out


def specific_labels(
    labels: np.ndarray | Sequence[int], span_kinds: Sequence[str | None]
) -> np.ndarray:
    """Labels for the second alignment view: ``specific`` facts only.

    Returns 1 where the token's span kind is ``"specific"`` (and it was a
    fact token, label 1, in the main view), 0 where the token lies outside
    every span (label 0 and no span kind), and -1 for everything else
    (``shared`` and ``context`` spans, tokens already left out, and
    inconsistent inputs such as a ``specific`` token labelled 0 — these are
    left out rather than guessed).
    """
    y = np.asarray(labels).ravel()
    if len(span_kinds) != y.size:
        raise ValueError(f"labels has {y.size} entries but span_kinds has {len(span_kinds)}")
    kinds = np.array([k if k is not None else "" for k in span_kinds], dtype=object)
    out = np.full(y.shape, -1, dtype=int)
    out[(y == 0) & (kinds == "")] = 0
    out[(y == 1) & (kinds == "specific")] = 1
    return out


def retain_conflict_labels(
    labels: np.ndarray | Sequence[int], span_kinds: Sequence[str | None]
) -> np.ndarray:
    """Labels for the retain-conflict view (METHOD.md §4.3): within fact tokens only, ``specific``
    (1) against ``shared`` (0); every other token −1. A weight that only tracks p_t sits near 0.5
    here; one that has learned what the retain data defends ranks specific above shared."""
    y = np.asarray(labels).ravel()
    if len(span_kinds) != y.size:
        raise ValueError(f"labels has {y.size} entries but span_kinds has {len(span_kinds)}")
    kinds = np.array([k if k is not None else "" for k in span_kinds], dtype=object)
    out = np.full(y.shape, -1, dtype=int)
    out[(y == 1) & (kinds == "specific")] = 1
    out[(y == 1) & (kinds == "shared")] = 0
    return out


def threshold_prf(
    weights: np.ndarray | Sequence[float],
    labels: np.ndarray | Sequence[int],
    threshold: float,
) -> tuple[float, float, float]:
    """Precision, recall and F1 of calling a token "fact" when ``weight >= threshold``.

    Label -1 tokens and non-finite weights are left out.  Precision is NaN
    when nothing is predicted, recall NaN when there is no label-1 token.
    F1 = 2·TP / (2·TP + FP + FN): equal to the harmonic mean of precision and
    recall where both are defined, 0 when both are 0 (or when nothing is
    predicted although facts exist), NaN only when there are neither
    predictions nor facts.
    """
    w, y = _clean_weights_labels(weights, labels)
    pred = w >= threshold
    truth = y == 1
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    precision = tp / (tp + fp) if tp + fp else NAN
    recall = tp / (tp + fn) if tp + fn else NAN
    denom = 2 * tp + fp + fn
    f1 = 2 * tp / denom if denom else NAN
    return float(precision), float(recall), float(f1)
