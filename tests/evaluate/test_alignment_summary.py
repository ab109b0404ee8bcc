"""atwu.evaluate.alignment: one checkpoint's weights frame → alignment metrics with notes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from atwu.evaluate.alignment import ALIGNMENT_KEYS, alignment_summary, per_example_alignment


def frame(rows: list[tuple[str, float, int, str | None]], step: int = 10) -> pd.DataFrame:
    """(example_id, weight, label, span_kind) rows as a weights.parquet-shaped frame."""
    return pd.DataFrame(
        [
            {
                "step": step,
                "example_id": ex,
                "position": i,
                "token": f"t{i}",
                "char_start": i,
                "char_end": i + 1,
                "weight": w,
                "label": y,
                "span_kind": kind,
            }
            for i, (ex, w, y, kind) in enumerate(rows)
        ]
    )


ROWS = [
    ("a", 0.9, 1, "specific"),
    ("a", 0.2, 0, None),
    ("a", 0.6, 1, "shared"),
    ("a", 0.5, -1, "context"),
    ("a", 0.1, 0, None),
    ("b", 0.3, 1, "specific"),
    ("b", 0.4, 0, None),
    ("b", 0.8, 0, None),
]


def test_pooled_metrics_match_sklearn():
    out = alignment_summary(frame(ROWS))
    kept = [(w, y) for _, w, y, _ in ROWS if y != -1]
    w = np.array([k[0] for k in kept])
    y = np.array([k[1] for k in kept])
    assert out["auroc"] == pytest.approx(roc_auc_score(y, w))
    assert out["auprc"] == pytest.approx(average_precision_score(y, w))
    # k = 3 true tokens; the top 3 weights are 0.9 (1), 0.8 (0), 0.6 (1)
    assert out["precision_at_k"] == pytest.approx(2 / 3)
    assert out["weight_mass"] == pytest.approx(w[y == 1].sum() / w.sum())
    assert out["n_tokens"] == 7 and out["n_true"] == 3 and out["n_examples"] == 2
    assert out["notes"] == {}


def test_specific_view_and_per_example():
    out = alignment_summary(frame(ROWS))
    # specific view: 'shared' and 'context' tokens are left out
    w = np.array([0.9, 0.2, 0.1, 0.3, 0.4, 0.8])
    y = np.array([1, 0, 0, 1, 0, 0])
    assert out["auroc_specific"] == pytest.approx(roc_auc_score(y, w))
    assert out["auprc_specific"] == pytest.approx(average_precision_score(y, w))

    per = per_example_alignment(frame(ROWS))
    assert list(per.columns) == ["example_id", "auroc"]
    assert per.set_index("example_id")["auroc"].to_dict() == pytest.approx({"a": 1.0, "b": 0.0})
    assert out["auroc_mean_per_example"] == pytest.approx(0.5)


def test_all_labels_one_gives_nan_with_notes():
    out = alignment_summary(
        frame([("a", 0.3, 1, "fact"), ("a", 0.7, 1, "fact"), ("b", 0.5, 1, "fact")])
    )
    assert math.isnan(out["auroc"]) and math.isnan(out["auprc"])
    assert "label 1" in out["notes"]["auroc"] and "auprc" in out["notes"]
    assert out["precision_at_k"] == pytest.approx(1.0)
    assert out["weight_mass"] == pytest.approx(1.0)
    assert math.isnan(out["auroc_mean_per_example"])
    assert "one class" in out["notes"]["auroc_mean_per_example"]
    for key in ALIGNMENT_KEYS:
        assert not math.isnan(out[key]) or key in out["notes"], key


def test_span_kind_missing_values_and_empty_frame():
    rows = frame(ROWS)
    rows["span_kind"] = rows["span_kind"].astype(object).where(rows["span_kind"].notna(), np.nan)
    assert alignment_summary(rows)["auroc_specific"] == pytest.approx(
        alignment_summary(frame(ROWS))["auroc_specific"]
    )

    empty = alignment_summary(frame(ROWS).iloc[0:0])
    assert all(math.isnan(empty[k]) for k in ALIGNMENT_KEYS)
    assert set(ALIGNMENT_KEYS) <= set(empty["notes"])
    assert per_example_alignment(frame(ROWS).iloc[0:0]).empty


def test_several_steps_are_refused():
    both = pd.concat([frame(ROWS, step=1), frame(ROWS, step=2)])
    with pytest.raises(ValueError, match="one step at a time"):
        alignment_summary(both)


def test_fast_per_example_auroc_equals_the_reference_implementation():
    from atwu.evaluate.alignment_metrics import per_example_auroc

    rng = np.random.default_rng(0)
    rows = []
    for ex in range(30):
        n = int(rng.integers(1, 12))
        labels = rng.choice([-1, 0, 1], size=n)
        # rounded weights make ties, which both must count half
        weights = np.round(rng.random(n), 1)
        rows += [(f"e{ex}", float(w), int(y), None) for w, y in zip(weights, labels)]
    df = frame(rows)
    df.loc[3, "weight"] = np.nan  # a non-finite weight is left out, as in the metrics module
    ours = per_example_alignment(df).set_index("example_id")["auroc"]
    reference = per_example_auroc(df)
    assert list(ours.index) == list(reference.index)
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), equal_nan=True)


def test_span_level_retain_conflict_counts_each_span_once():
    """A 4-token name whose last three pieces are weighted low outnumbers two shared cities at
    token level; with one score per span (the mean of its tokens) the name ranks first."""
    from atwu.evaluate.alignment import span_scores

    rows = [
        ("a", 0.9, 1, "specific"),
        ("a", 0.5, 1, "specific"),
        ("a", 0.5, 1, "specific"),
        ("a", 0.5, 1, "specific"),
        ("a", 0.1, 0, None),
        ("a", 0.55, 1, "shared"),
        ("a", 0.1, 0, None),
        ("a", 0.55, 1, "shared"),
    ]
    spans = span_scores(frame(rows))
    assert list(spans["kind"]) == ["specific", "shared", "shared"]
    assert spans["weight"].tolist() == pytest.approx([0.6, 0.55, 0.55])
    summary = alignment_summary(frame(rows))
    assert summary["auroc_retain_conflict"] == pytest.approx(0.25)  # 1 of 4 name tokens above
    assert summary["auroc_retain_conflict_span"] == pytest.approx(1.0)
    assert "auroc_retain_conflict_span" in ALIGNMENT_KEYS


def test_span_level_view_without_both_kinds_says_why():
    summary = alignment_summary(frame([("a", 0.9, 1, "specific"), ("a", 0.1, 0, None)]))
    assert math.isnan(summary["auroc_retain_conflict_span"])
    assert summary["notes"]["auroc_retain_conflict_span"] == (
        "auroc undefined: all 1 spans have kind specific"
    )
