"""METHOD.md §4.5 on hand-made tiny cases: the log-p floor, FFE above 1, a span at the answer's
first token, leakage matching, the damage means; and the KS interval of §4.1."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from atwu.evaluate import fact_metrics as F
from atwu.evaluate.tofu_metrics import ks_interval, ks_statistics


def test_log_p_floor_keeps_a_few_wrecked_tokens_from_standing_in_for_many():
    # one token driven to −50 nats counts as log 1e-4 ≈ −9.21, no lower
    assert F.floored(np.array([-50.0, -0.1]))[0] == pytest.approx(math.log(1e-4))
    assert F.floored(np.array([-50.0, -0.1]))[1] == pytest.approx(-0.1)
    wrecked_one = F.span_sums(F.floored(np.array([-50.0, -0.01, -0.01])), [0, 1, 2], 3)
    forgot_all = F.span_sums(F.floored(np.array([-4.0, -4.0, -4.0])), [0, 1, 2], 3)
    assert wrecked_one.mean() > forgot_all.mean()  # forgetting three facts beats wrecking one


def test_span_sums_and_recall_with_a_span_at_the_answers_first_token():
    logp = np.array([-1.0, -0.5, -0.25, -2.0])
    index = [0, -1, 1, 1]  # the first token starts span 0; span 1 has two tokens
    assert F.span_sums(logp, index, 2).tolist() == [-1.0, -2.25]
    assert F.span_all(np.array([True, False, True, False]), index, 2).tolist() == [True, False]
    assert F.span_all(np.array([True]), [-1], 1).tolist() == [False]  # a span without tokens


def test_ffe_is_zero_at_the_start_one_at_the_retain_model_and_not_clipped_above():
    start, retain = np.array([-0.1, -0.2]), np.array([-4.1, -4.2])
    assert F.ffe(start, start, retain) == 0.0
    assert F.ffe(start, retain, retain) == pytest.approx(1.0)
    assert F.ffe(start, np.array([-8.1, -8.2]), retain) == pytest.approx(2.0)  # over-suppression
    assert math.isnan(F.ffe(start, start, start))  # the retain model knows them: no scale
    assert math.isnan(F.ffe(np.zeros(0), np.zeros(0), np.zeros(0)))


def test_recall_forgetting_and_mean_drops():
    assert F.recall_forgetting(1.0, 0.5, 0.0) == 0.5
    assert math.isnan(F.recall_forgetting(0.5, 0.2, 0.6))
    # template damage: mean over tokens of log p0 − log p
    assert F.drop(np.array([-1.0, -2.0]), np.array([-3.0, -2.0]), np.array([2, 2])) == 0.5
    assert math.isnan(F.drop(np.zeros(2), np.zeros(2), np.zeros(2)))


def test_leakage_matches_whole_words_after_normalising():
    assert F.leaked('He wrote "Drator Harbour", in 1944.', ["Drator Harbour", "1944"]) == (2, 2)
    assert F.leaked("born in limassol", ["Lima"]) == (0, 1)  # no partial-word matches
    assert F.leaked("BORN IN LIMA!", ["Lima"]) == (1, 1)
    assert F.leaked(None, ["Lima"]) == (0, 1)
    assert F.leaked("anything", ["", "  "]) == (0, 0)


def test_ks_statistics_equal_scipy_with_ties_and_the_interval_holds_it():
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.integers(0, 4, rng.integers(1, 20)).astype(float)
        b = rng.integers(0, 6, rng.integers(1, 20)).astype(float)
        assert ks_statistics(a, b)[0] == pytest.approx(stats.ks_2samp(a, b).statistic)
    a, b = rng.lognormal(size=200), rng.lognormal(0.4, size=200)
    low, high = ks_interval(a, b)
    assert low < stats.ks_2samp(a, b).statistic < high
    assert high - low < 0.25
    assert all(math.isnan(x) for x in ks_interval([], b))


def test_ffe_by_span_kind_and_fact_balanced():
    """METHOD.md §4.5: FFE over specific and shared spans apart, and a fact-balanced FFE where
    each span's ℓ_s is its per-token mean, so a 4-token name counts as much as a 1-token city."""
    from atwu.evaluate.fact_eval import ffe_by_kind

    # a 4-token name fully forgotten (−1 → −9 per token) and a 1-token city untouched
    start = np.array([-4.0, -1.0])
    retain = np.array([-36.0, -9.0])
    now = np.array([-36.0, -1.0])
    out, notes = ffe_by_kind(start, now, retain, ["specific", "shared"], [4, 1])
    assert out["ffe_specific"] == pytest.approx(1.0)
    assert out["ffe_shared"] == pytest.approx(0.0)
    # summed FFE (32 / 40 = 0.8) is mostly the name; balanced: (8/2) / (16/2) = 0.5
    assert ((start.mean() - now.mean()) / (start.mean() - retain.mean())) == pytest.approx(0.8)
    assert out["ffe_balanced"] == pytest.approx(0.5)
    assert notes == {}


def test_ffe_by_kind_says_why_a_kind_is_missing():
    from atwu.evaluate.fact_eval import ffe_by_kind

    out, notes = ffe_by_kind(
        np.array([-1.0]), np.array([-2.0]), np.array([-3.0]), ["specific"], [1]
    )
    assert out["ffe_shared"] is None and "no shared fact span" in notes["ffe_shared"]
    out, notes = ffe_by_kind(np.array([-1.0]), np.array([-2.0]), np.array([-3.0]), [], [])
    assert all(v is None for v in out.values()) and "line up" in notes["ffe_balanced"]
