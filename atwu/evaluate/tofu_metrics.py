"""TOFU-family metrics and the project's UQ, as pure functions (METHOD.md §4.1–4.2).

Everything here works on plain numbers, strings and numpy arrays: the model side (losses, greedy
generations, teacher-forced argmax) is computed elsewhere and handed in, so the definitions are
unit-tested exactly and reused by the app and the reports.

Conventions: an undefined value is ``float("nan")``, never an exception (an evaluation over
hundreds of questions should not die because one of them is degenerate); malformed *input*
(mismatched lengths) raises ``ValueError``. Aggregates ignore NaN entries.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

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
    unlearned_ratios: Sequence[float] | np.ndarray, retain_ratios: Sequence[float] | np.ndarray
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


def ks_statistics(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The two-sample KS statistic D of each row pair of ``a`` (r × n) and ``b`` (r × m), at once.

    D is the largest gap between the two empirical CDFs. Sorting each row's pooled values and
    walking them with steps +1/n (a value of ``a``) and −1/m (of ``b``) gives the CDF gap after
    every value; only the gaps after the last of tied values count, as in ``ks_2samp``.
    """
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    n, m = a.shape[1], b.shape[1]
    pooled = np.concatenate([a, b], axis=1)
    order = np.argsort(pooled, axis=1, kind="stable")
    values = np.take_along_axis(pooled, order, axis=1)
    steps = np.where(order < n, 1.0 / n, -1.0 / m)
    gaps = np.abs(np.cumsum(steps, axis=1))
    last_of_ties = np.ones_like(values, dtype=bool)
    last_of_ties[:, :-1] = values[:, :-1] != values[:, 1:]
    return np.where(last_of_ties, gaps, 0.0).max(axis=1)


def ks_interval(
    unlearned_ratios: Sequence[float] | np.ndarray,
    retain_ratios: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap percentile interval of the KS statistic D (METHOD.md §4.1): both samples are
    resampled with replacement, independently. At a few hundred questions p-values of 1e-12 and
    1e-7 cannot be told apart in any useful sense; D with its interval can."""
    a = _finite_array(unlearned_ratios)
    b = _finite_array(retain_ratios)
    if a.size == 0 or b.size == 0:
        return NAN, NAN
    rng = np.random.default_rng(seed)
    d = ks_statistics(
        a[rng.integers(0, a.size, (n_resamples, a.size))],
        b[rng.integers(0, b.size, (n_resamples, b.size))],
    )
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(d, [tail, 100 - tail])
    return float(low), float(high)


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


def exact_memorization(correct: Sequence[bool] | np.ndarray) -> float:
    """Exact memorisation: share of answer tokens whose teacher-forced argmax is right.

    ``correct[i]`` says whether the model's argmax at answer position ``i``
    (given the true prefix) equals the true token.  NaN for an empty answer.
    """
    arr = np.asarray(correct, dtype=bool).ravel()
    if arr.size == 0:
        return NAN
    return float(arr.mean())


def extraction_strength(
    correct: Sequence[bool] | np.ndarray, *, open_unlearning_compat: bool = False
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


# 4.2 Unlearning quality ----------------------------------------------------------------------


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
