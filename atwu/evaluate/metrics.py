"""Pure metric functions for evaluating unlearning (METHOD.md section 4).

Everything here works on plain numbers, strings and numpy arrays: the model
side (losses, greedy generations, teacher-forced argmax, token weights) is
computed elsewhere and handed in.  Keeping the maths free of torch lets the
definitions be unit-tested exactly and reused by the app and the reports.

Conventions shared by all functions:

* An undefined value is ``float("nan")``, never an exception: an evaluation
  over hundreds of questions should not die because one of them is degenerate.
  Malformed *input* (mismatched lengths, unknown label values) does raise
  ``ValueError``, because that is a bug in the caller, not a property of the data.
* Aggregates ignore NaN entries, so one undefined question does not poison the
  mean of the others.

Sections follow METHOD.md: 4.1 TOFU family, 4.2 unlearning quality (UQ),
4.3 alignment of token weights with ground-truth fact spans.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = [
    "AlignmentResult",
    "alignment_metrics",
    "exact_memorization",
    "extraction_strength",
    "forget_quality",
    "forget_truth_ratio_score",
    "harmonic_mean",
    "length_normalised_prob",
    "per_example_auroc",
    "retain_truth_ratio_score",
    "rouge_l_recall",
    "rouge_l_recall_batch",
    "specific_labels",
    "threshold_prf",
    "truth_ratio",
    "unlearning_quality",
]

NAN = float("nan")

# Floor for probabilities before taking logs in the truth ratio.  A model can
# assign an answer a length-normalised probability that underflows to 0; the
# floor keeps R finite (and comparable across questions) instead of producing
# inf/NaN.  It is far below any probability a real model yields for a
# plausible answer, so it never changes a non-degenerate ratio.
_PROB_FLOOR = 1e-30


def _finite_array(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return ``values`` as a 1-D float array with NaN entries removed."""
    arr = np.asarray(values, dtype=float).ravel()
    return arr[~np.isnan(arr)]


# ---------------------------------------------------------------------------
# 4.1 TOFU family
# ---------------------------------------------------------------------------


def length_normalised_prob(token_nlls: Sequence[float]) -> float:
    """Length-normalised probability ``exp(-mean token NLL)`` of an answer.

    Normalising by length (a geometric mean of the token probabilities) makes
    long and short answers comparable, which is what TOFU's "Prob" and truth
    ratio rely on.

    Returns NaN for an empty answer (there is no probability to speak of); a
    NaN token NLL propagates to NaN.
    """
    arr = np.asarray(token_nlls, dtype=float).ravel()
    if arr.size == 0:
        return NAN
    return float(np.exp(-arr.mean()))


def truth_ratio(perturbed_probs: Sequence[float], paraphrased_prob: float) -> float:
    """Truth ratio ``R = geomean(perturbed p̄) / p̄(paraphrased)`` of one question.

    ``perturbed_probs`` are the length-normalised probabilities of the
    perturbed (wrong) answers, ``paraphrased_prob`` that of the paraphrased
    correct answer.  R < 1 means the model prefers the truth; R ≈ 1 means it
    cannot tell truth from plausible falsehood (the target after forgetting).

    Computed in log space so that the product of many small probabilities does
    not underflow; probabilities are floored at ``1e-30`` so a zero yields a
    large-but-finite ratio rather than inf/NaN.  NaN when there are no
    perturbed answers or any input is NaN.
    """
    pert = np.asarray(perturbed_probs, dtype=float).ravel()
    if pert.size == 0 or np.isnan(pert).any() or math.isnan(float(paraphrased_prob)):
        return NAN
    log_pert = np.log(np.maximum(pert, _PROB_FLOOR)).mean()
    log_para = math.log(max(float(paraphrased_prob), _PROB_FLOOR))
    return float(np.exp(log_pert - log_para))


def forget_truth_ratio_score(ratios: Sequence[float]) -> float:
    """Forget-set truth-ratio score: mean of ``min(R, 1/R)`` (1 is best).

    On forget data the goal is indifference between true and false answers,
    so both R ≫ 1 and R ≪ 1 are penalised symmetrically.  NaN entries are
    ignored; NaN if nothing is left.  R = 0 or R = inf contribute 0.
    """
    arr = _finite_array(ratios)
    if arr.size == 0:
        return NAN
    # 1/0 -> inf is intended: min(0, inf) = 0, a fully "false-preferring" score.
    with np.errstate(divide="ignore"):
        inv = 1.0 / arr
    return float(np.minimum(arr, inv).mean())


def retain_truth_ratio_score(ratios: Sequence[float]) -> float:
    """Retain/other-set truth-ratio score: mean of ``max(0, 1 - R)`` (1 is best).

    On data that should be kept the model ought to prefer the truth (R → 0).
    NaN entries are ignored; NaN if nothing is left.
    """
    arr = _finite_array(ratios)
    if arr.size == 0:
        return NAN
    return float(np.maximum(0.0, 1.0 - arr).mean())


def forget_quality(
    unlearned_ratios: Sequence[float], retain_ratios: Sequence[float]
) -> tuple[float, float]:
    """Forget quality: two-sided two-sample KS test between truth-ratio samples.

    ``unlearned_ratios`` are the forget-set truth ratios of the unlearned model,
    ``retain_ratios`` those of the model trained without the forget set.
    Returns ``(p_value, ks_statistic)``; a high p-value means the two
    distributions cannot be told apart, i.e. the forgetting looks like never
    having learned.  NaN entries are dropped; ``(nan, nan)`` when either side
    is empty.
    """
    a = _finite_array(unlearned_ratios)
    b = _finite_array(retain_ratios)
    if a.size == 0 or b.size == 0:
        return NAN, NAN
    res = stats.ks_2samp(a, b, alternative="two-sided")
    return float(res.pvalue), float(res.statistic)


def harmonic_mean(values: Sequence[float]) -> float:
    """Harmonic mean used for model utility and UQ.

    Conventions (chosen so that the aggregate is always defined when some
    component is):

    * NaN components are dropped (a sub-metric that could not be computed on
      this benchmark should not erase the others); NaN if nothing is left.
    * If any remaining component is ``<= 0`` the result is ``0.0``: the
      harmonic mean's purpose is that one collapsed component collapses the
      whole, and it is not defined for negative values anyway.
    """
    arr = _finite_array(values)
    if arr.size == 0:
        return NAN
    if (arr <= 0).any():
        return 0.0
    return float(stats.hmean(arr))


# Tokenisation used by ``rouge_score`` (and so by TOFU / open-unlearning):
# lowercase, every run of non [a-z0-9] characters becomes a separator.  We
# only use it to decide whether a reference has any tokens at all.
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    """One shared ``RougeScorer`` (building it loads the Porter stemmer).

    Imported lazily so that modules importing this file do not need
    ``rouge-score`` unless they actually score text.
    """
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ROUGE-L needs the 'rouge-score' package (pip install rouge-score==0.1.2)"
        ) from exc
    # use_stemmer=True matches the public TOFU / open-unlearning evaluation.
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l_recall(generated: str, reference: str) -> float:
    """ROUGE-L recall of ``generated`` against ``reference``.

    Recall = LCS(tokens) / len(reference tokens), with Google's
    ``rouge_score`` (lowercased, non-alphanumerics as separators, Porter
    stemming), as in the public TOFU reference.  Recall rather than F1 because
    the question is "how much of the true answer did the model reproduce".

    Returns NaN if the reference has no tokens (recall is undefined; the
    library would silently say 0) and 0.0 for an empty generation.
    """
    if not _ROUGE_TOKEN.search(reference.lower()):
        return NAN
    if not _ROUGE_TOKEN.search(generated.lower()):
        return 0.0
    # rouge_score's signature is score(target, prediction).
    return float(_rouge_scorer().score(reference, generated)["rougeL"].recall)


def rouge_l_recall_batch(gens: Sequence[str], refs: Sequence[str]) -> list[float]:
    """:func:`rouge_l_recall` for aligned lists of generations and references."""
    if len(gens) != len(refs):
        raise ValueError(
            f"rouge_l_recall_batch: {len(gens)} generations but {len(refs)} references"
        )
    return [rouge_l_recall(g, r) for g, r in zip(gens, refs)]


def exact_memorization(correct: Sequence[bool]) -> float:
    """Exact memorisation: share of answer tokens whose teacher-forced argmax is right.

    ``correct[i]`` says whether the model's argmax at answer position ``i``
    (given the true prefix) equals the true token.  NaN for an empty answer.
    """
    arr = np.asarray(correct, dtype=bool).ravel()
    if arr.size == 0:
        return NAN
    return float(arr.mean())


def extraction_strength(
    correct: Sequence[bool], *, open_unlearning_compat: bool = False
) -> float:
    """Extraction strength ``ES = 1 - k/n`` (teacher-forced).

    ``k`` is the shortest true prefix after which the model reproduces the
    whole rest of the answer by argmax, i.e. the smallest ``k`` in ``0..n``
    with ``correct[k:]`` all True; ``n`` is the number of answer tokens.
    So all correct → 1.0 and a wrong last token → ``k = n`` → 0.0 (the empty
    suffix is the only one reproduced: nothing is extractable).

    The public open-unlearning code searches ``k`` only over ``0..n-1`` and so
    reports ``1/n`` instead of 0 when the last token is wrong; pass
    ``open_unlearning_compat=True`` to reproduce its numbers exactly.  Both
    agree everywhere else.  NaN for an empty answer.
    """
    arr = np.asarray(correct, dtype=bool).ravel()
    n = arr.size
    if n == 0:
        return NAN
    wrong = np.flatnonzero(~arr)
    # The suffix after the last mistake is the longest fully-correct suffix.
    k = 0 if wrong.size == 0 else int(wrong[-1]) + 1
    if open_unlearning_compat:
        k = min(k, n - 1)
    return 1.0 - k / n


# ---------------------------------------------------------------------------
# 4.2 Unlearning quality
# ---------------------------------------------------------------------------


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def unlearning_quality(
    forget_prob_before: float,
    forget_prob_after: float,
    utility_before: float,
    utility_after: float,
) -> dict[str, float]:
    """The project's UQ (0–100), relative to the starting model (METHOD.md 4.2).

    * ``forget_efficacy`` FE = clip(1 − K_after / K_before, 0, 1), with K the
      mean length-normalised probability of the forget answers.  If forgetting
      made the answers *more* likely FE is 0, not negative.
    * ``retain_preservation`` RP = clip(U_after / U_before, 0, 1), with U the
      model utility; improving utility does not earn more than 1.
    * ``uq`` = 100 · harmonic mean(FE, RP), 0 when either is 0.

    Each part is NaN when its inputs are NaN or its "before" value is not
    positive (a ratio against nothing is meaningless); ``uq`` is NaN when
    either part is.
    """

    def ratio(before: float, after: float) -> float:
        before, after = float(before), float(after)
        if math.isnan(before) or math.isnan(after) or before <= 0:
            return NAN
        return after / before

    k_ratio = ratio(forget_prob_before, forget_prob_after)
    u_ratio = ratio(utility_before, utility_after)
    fe = NAN if math.isnan(k_ratio) else _clip01(1.0 - k_ratio)
    rp = NAN if math.isnan(u_ratio) else _clip01(u_ratio)
    if math.isnan(fe) or math.isnan(rp):
        uq = NAN
    else:
        uq = 100.0 * harmonic_mean([fe, rp])
    return {"forget_efficacy": fe, "retain_preservation": rp, "uq": uq}


# ---------------------------------------------------------------------------
# 4.3 Alignment of token weights with ground-truth spans
# ---------------------------------------------------------------------------


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
    """AUROC of the weights within each example.

    ``df`` has one row per token with columns ``example_id``, ``weight`` and
    ``label`` (-1 / 0 / 1 as in :func:`alignment_metrics`).  Returns a float
    Series indexed by ``example_id`` (in order of first appearance), NaN for
    examples where AUROC is undefined (one class only after dropping -1 and
    non-finite weights).  Pooled AUROC can hide that a method ranks well
    across examples but not within them; this view shows it.
    """
    missing = {"example_id", "weight", "label"} - set(df.columns)
    if missing:
        raise ValueError(f"per_example_auroc: missing columns {sorted(missing)}")

    def one(group: pd.DataFrame) -> float:
        w, y = _clean_weights_labels(group["weight"].to_numpy(), group["label"].to_numpy())
        if _single_class_note("auroc", y) is not None:
            return NAN
        return float(roc_auc_score(y, w))

    values = {
        ex_id: one(group) for ex_id, group in df.groupby("example_id", sort=False)
    }
    out = pd.Series(values, dtype=float, name="auroc")
    out.index.name = "example_id"
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
