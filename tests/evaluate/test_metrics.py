"""Unit tests for atwu.evaluate.metrics: small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from atwu.evaluate import alignment_metrics as A
from atwu.evaluate import tofu_metrics as M

# --- 4.1 TOFU family --------------------------------------------------------


def test_length_normalised_prob_is_geometric_mean_of_token_probs():
    probs = [0.5, 0.25, 0.125]
    nlls = [-math.log(p) for p in probs]
    assert M.length_normalised_prob(nlls) == pytest.approx((0.5 * 0.25 * 0.125) ** (1 / 3))
    assert math.isnan(M.length_normalised_prob([]))


def test_truth_ratio_from_known_probabilities():
    # geomean(0.1, 0.4) = 0.2; 0.2 / 0.5 = 0.4
    assert M.truth_ratio([0.1, 0.4], 0.5) == pytest.approx(0.4)
    assert M.truth_ratio([0.3], 0.3) == pytest.approx(1.0)


def test_truth_ratio_zero_probabilities_stay_finite():
    assert math.isfinite(M.truth_ratio([0.2], 0.0))
    assert M.truth_ratio([0.0], 0.2) >= 0.0
    assert math.isnan(M.truth_ratio([], 0.5))


def test_truth_ratio_scores_aggregate_and_skip_nan():
    ratios = [0.5, 2.0, 1.0, float("nan")]
    # min(R, 1/R): 0.5, 0.5, 1.0 -> 2/3
    assert M.forget_truth_ratio_score(ratios) == pytest.approx(2 / 3)
    # max(0, 1-R): 0.5, 0, 0 -> 1/6
    assert M.retain_truth_ratio_score(ratios) == pytest.approx(1 / 6)
    assert M.forget_truth_ratio_score([0.0]) == 0.0
    assert math.isnan(M.forget_truth_ratio_score([]))
    assert math.isnan(M.retain_truth_ratio_score([float("nan")]))


def test_forget_quality_matches_scipy_ks_two_sided():
    rng = np.random.default_rng(0)
    a = rng.lognormal(size=40)
    b = rng.lognormal(mean=0.3, size=55)
    p, d = M.forget_quality(a, b)
    ref = stats.ks_2samp(a, b, alternative="two-sided")
    assert p == pytest.approx(ref.pvalue)
    assert d == pytest.approx(ref.statistic)
    # Identical samples: nothing to tell apart.
    assert M.forget_quality(a, a)[0] == pytest.approx(1.0)


def test_forget_quality_empty_side_is_nan_pair():
    p, d = M.forget_quality([], [0.5, 1.0])
    assert math.isnan(p) and math.isnan(d)


def test_harmonic_mean_conventions():
    assert M.harmonic_mean([1.0, 0.5]) == pytest.approx(2 / 3)
    assert M.harmonic_mean([0.8, 0.0, 0.9]) == 0.0
    assert M.harmonic_mean([0.5, float("nan")]) == pytest.approx(0.5)
    assert math.isnan(M.harmonic_mean([]))
    assert math.isnan(M.harmonic_mean([float("nan")]))


def test_rouge_l_recall_known_strings():
    # LCS "the cat on mat" covers 4 of the 6 reference tokens.
    assert M.rouge_l_recall("the cat on mat", "the cat sat on the mat") == pytest.approx(4 / 6)
    assert M.rouge_l_recall("The Cat, sat!", "the cat sat") == pytest.approx(1.0)
    assert M.rouge_l_recall("", "the cat sat") == 0.0
    assert math.isnan(M.rouge_l_recall("the cat", ""))


def test_rouge_l_recall_stems_like_the_reference():
    # Porter stemming: "running" and "runs" both reduce to "run".
    assert M.rouge_l_recall("she runs", "she running") == pytest.approx(1.0)


def test_rouge_l_recall_batch():
    out = M.rouge_l_recall_batch(["a b", ""], ["a b c d", "x"])
    assert out == pytest.approx([0.5, 0.0])
    with pytest.raises(ValueError):
        M.rouge_l_recall_batch(["a"], [])


def test_exact_memorization():
    assert M.exact_memorization([True, False, True, True]) == pytest.approx(0.75)
    assert math.isnan(M.exact_memorization([]))


@pytest.mark.parametrize(
    ("correct", "expected"),
    [
        ([True, True, True, True], 1.0),
        ([False, True, True, True], 0.75),  # k = 1
        ([True, False, True, True], 0.5),  # k = 2
        ([True, True, True, False], 0.0),  # k = n: nothing extractable
        ([False, False, False, False], 0.0),
    ],
)
def test_extraction_strength(correct, expected):
    assert M.extraction_strength(correct) == pytest.approx(expected)


def test_extraction_strength_reference_compat_edge():
    # The public loop stops at k = n - 1, giving 1/n when the last token is wrong.
    assert M.extraction_strength([True, True, True, False], open_unlearning_compat=True) == 0.25
    assert M.extraction_strength([False, True, True, True], open_unlearning_compat=True) == 0.75
    assert math.isnan(M.extraction_strength([]))


# --- 4.2 UQ -----------------------------------------------------------------


def test_unlearning_quality_hand_case():
    out = M.unlearning_quality(0.8, 0.2, 0.6, 0.3)
    assert out["forget_efficacy"] == pytest.approx(0.75)
    assert out["retain_preservation"] == pytest.approx(0.5)
    assert out["uq"] == pytest.approx(100 * 2 * 0.75 * 0.5 / 1.25)


def test_unlearning_quality_rising_forget_prob_gives_zero():
    out = M.unlearning_quality(0.5, 0.7, 0.6, 0.6)
    assert out["forget_efficacy"] == 0.0
    assert out["uq"] == 0.0


def test_unlearning_quality_rising_utility_is_clipped_to_one():
    out = M.unlearning_quality(0.5, 0.0, 0.4, 0.5)
    assert out["retain_preservation"] == 1.0
    assert out["forget_efficacy"] == 1.0
    assert out["uq"] == pytest.approx(100.0)


def test_unlearning_quality_nan_and_zero_before():
    out = M.unlearning_quality(0.0, 0.1, 0.5, 0.5)
    assert math.isnan(out["forget_efficacy"]) and math.isnan(out["uq"])
    assert out["retain_preservation"] == 1.0
    out = M.unlearning_quality(0.5, 0.1, float("nan"), 0.5)
    assert math.isnan(out["retain_preservation"]) and math.isnan(out["uq"])


# --- 4.3 Alignment ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_auroc_auprc_match_sklearn_after_dropping_left_out(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 60))
    labels = rng.choice([-1, 0, 1], size=n, p=[0.2, 0.5, 0.3])
    # Guarantee both classes survive the drop.
    labels[:2] = [0, 1]
    weights = rng.random(n)
    # Coarsen some weights so ties occur too.
    if seed % 2:
        weights = np.round(weights, 1)
    keep = labels != -1
    res = A.alignment_metrics(weights, labels)
    assert res.auroc == pytest.approx(roc_auc_score(labels[keep], weights[keep]))
    assert res.auprc == pytest.approx(average_precision_score(labels[keep], weights[keep]))
    assert res.n_tokens == int(keep.sum())
    assert res.notes == []


def test_uniform_weights_give_auroc_exactly_half():
    labels = np.array([1, 0, 0, 1, -1, 0, 1, 0])
    res = A.alignment_metrics(np.full(labels.shape, 0.3), labels)
    assert res.auroc == 0.5
    # Expected precision under random tie-breaking is the base rate 3/7.
    assert res.precision_at_k == pytest.approx(3 / 7)
    assert res.weight_mass == pytest.approx(3 / 7)


@pytest.mark.parametrize(("value", "word"), [(1, "label 1"), (0, "label 0")])
def test_single_class_gives_nan_with_note(value, word):
    labels = np.full(12, value)
    res = A.alignment_metrics(np.linspace(0, 1, 12), labels)
    assert math.isnan(res.auroc) and math.isnan(res.auprc)
    assert any(f"auroc undefined: all 12 tokens have {word}" in n for n in res.notes)
    assert any(n.startswith("auprc undefined") for n in res.notes)


def test_no_scored_tokens_never_raises():
    res = A.alignment_metrics(np.array([0.5, np.nan]), np.array([-1, 1]))
    assert res.n_tokens == 0
    for v in (res.auroc, res.auprc, res.precision_at_k, res.weight_mass):
        assert math.isnan(v)
    assert len(res.notes) == 4


def test_non_finite_weights_are_dropped():
    res = A.alignment_metrics(np.array([0.9, np.inf, 0.1, np.nan]), np.array([1, 0, 0, 1]))
    assert res.n_tokens == 2 and res.auroc == 1.0


def test_precision_at_k_with_ties_is_order_independent():
    # k = 2 true tokens. One token (0.9, label 0) is clearly top; the remaining
    # slot falls in a 3-way tie at 0.5 holding 2 true tokens -> 2/3 expected hit.
    weights = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    labels = np.array([0, 1, 0, 1, 0])
    expected = (0 + 1 * 2 / 3) / 2
    assert A.alignment_metrics(weights, labels).precision_at_k == pytest.approx(expected)
    perm = np.array([3, 1, 4, 0, 2])
    assert A.alignment_metrics(weights[perm], labels[perm]).precision_at_k == pytest.approx(
        expected
    )


def test_precision_at_k_and_weight_mass_hand_case():
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    labels = np.array([1, 0, 1, 0])
    res = A.alignment_metrics(weights, labels)
    assert res.precision_at_k == pytest.approx(0.5)
    assert res.weight_mass == pytest.approx(0.6)


def test_weight_mass_zero_total_is_nan_with_note():
    res = A.alignment_metrics(np.zeros(4), np.array([1, 0, 1, 0]))
    assert math.isnan(res.weight_mass)
    assert any(n.startswith("weight_mass undefined") for n in res.notes)


def test_alignment_rejects_bad_input():
    with pytest.raises(ValueError):
        A.alignment_metrics(np.ones(3), np.ones(4))
    with pytest.raises(ValueError):
        A.alignment_metrics(np.ones(2), np.array([2, 0]))


def test_per_example_auroc():
    df = pd.DataFrame(
        {
            "example_id": ["a"] * 4 + ["b"] * 3 + ["c"] * 2,
            "weight": [0.9, 0.1, 0.8, 0.2, 0.5, 0.5, 0.1, 0.7, 0.3],
            "label": [1, 0, 0, 1, 1, 0, -1, 0, -1],
        }
    )
    out = A.per_example_auroc(df)
    assert list(out.index) == ["a", "b", "c"]
    # a: positives {0.9, 0.2} vs negatives {0.1, 0.8}: 0.9 beats both, 0.2
    # beats 0.1 only -> 3 of 4 pairs.
    assert out["a"] == pytest.approx(0.75)
    assert out["b"] == pytest.approx(0.5)  # tie
    assert math.isnan(out["c"])  # only label 0 left


def test_specific_labels_view():
    labels = np.array([1, 1, 1, 0, -1, 0])
    kinds = ["specific", "shared", "specific", None, "context", "specific"]
    out = A.specific_labels(labels, kinds)
    # specific facts -> 1, outside spans -> 0, shared/context/inconsistent -> -1
    assert out.tolist() == [1, -1, 1, 0, -1, -1]


def test_threshold_prf_hand_case():
    weights = np.array([0.9, 0.7, 0.6, 0.2, 0.1, 0.8])
    labels = np.array([1, 0, 1, 1, 0, -1])
    # Predicted (>= 0.6): 0.9 (TP), 0.7 (FP), 0.6 (TP); missed: 0.2 (FN).
    p, r, f1 = A.threshold_prf(weights, labels, 0.6)
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(2 / 3)
    assert f1 == pytest.approx(2 / 3)


def test_threshold_prf_degenerate_cases():
    # Nothing predicted but facts exist: precision undefined, recall 0, F1 0.
    p, r, f1 = A.threshold_prf([0.1, 0.2], [1, 0], 0.5)
    assert math.isnan(p) and r == 0.0 and f1 == 0.0
    # Predictions but all wrong: both 0, F1 0.
    p, r, f1 = A.threshold_prf([0.9, 0.1], [0, 1], 0.5)
    assert p == 0.0 and r == 0.0 and f1 == 0.0
    # No facts and no predictions: everything undefined.
    p, r, f1 = A.threshold_prf([0.1], [0], 0.5)
    assert math.isnan(p) and math.isnan(r) and math.isnan(f1)
