"""One checkpoint's fact-level record (METHOD.md §4.5) from hand-made evaluations of θ, θ0, θR."""

from __future__ import annotations

import pandas as pd
import pytest

from atwu.data.format import QAPair, Span
from atwu.evaluate.fact_eval import NO_GENERATION_NOTE, example_columns, fact_level
from atwu.evaluate.model_eval import ModelEval


def frame(rows: list[dict]) -> ModelEval:
    base = {
        "span_logp": [],
        "span_recalled": [],
        "span_neighbour": [],
        "span_kind": [],
        "span_tokens": [],
        "para_span_logp": None,
        "template_logp_sum": 0.0,
        "template_tokens": 0,
        "answer_logp_sum": 0.0,
        "answer_tokens": 0,
        "generated": None,
        "generated_para": None,
    }
    return ModelEval(pd.DataFrame([{**base, **r} for r in rows]), {}, {}, "forget10")


PAIRS = {
    "f1": QAPair(
        "f1",
        "Where was Ann born?",
        "Ann was born in Lima.",
        spans=[Span(0, 3, "context"), Span(16, 20, "shared")],
    ),
    "f2": QAPair("f2", "Hello?", "Hello there.", spans=[]),  # a pair without facts
}


def start_and_now(now_f1: float, *, generated=None, neighbour=(True, False)):
    start = frame(
        [
            {
                "split": "forget10",
                "example_id": "f1",
                "span_logp": [-0.1],
                "span_recalled": [True],
                "para_span_logp": [-0.2],
                "template_logp_sum": -0.4,
                "template_tokens": 4,
            },
            {
                "split": "forget10",
                "example_id": "f2",
                "template_logp_sum": -0.2,
                "template_tokens": 2,
            },
            {
                "split": "heldout",
                "example_id": "h1",
                "span_logp": [-0.1, -0.3],
                "span_neighbour": list(neighbour),
            },
            {"split": "general", "example_id": "g1", "answer_logp_sum": -0.5, "answer_tokens": 5},
        ]
    )
    now = frame(
        [
            {
                "split": "forget10",
                "example_id": "f1",
                "span_logp": [now_f1],
                "span_recalled": [False],
                "span_kind": ["shared"],
                "span_tokens": [2],
                "para_span_logp": [-2.2],
                "template_logp_sum": -1.0,
                "template_tokens": 4,
                "generated": generated,
                "generated_para": generated,
            },
            {
                "split": "forget10",
                "example_id": "f2",
                "template_logp_sum": -0.8,
                "template_tokens": 2,
                "generated": generated,
                "generated_para": generated,
            },
            {
                "split": "heldout",
                "example_id": "h1",
                "span_logp": [-1.1, -0.4],
                "span_neighbour": list(neighbour),
            },
            {"split": "general", "example_id": "g1", "answer_logp_sum": -1.5, "answer_tokens": 5},
        ]
    )
    return start, now


REFERENCE = {
    "spans": {"f1": {"span_logp": [-4.1], "span_recalled": [False], "para_span_logp": [-4.2]}}
}


def record(now, start, reference=REFERENCE, generated=True):
    return fact_level(
        now,
        start,
        reference,
        PAIRS,
        forget_split="forget10",
        heldout_split="heldout",
        general_splits=["general"],
        generated=generated,
    )


def test_every_value_from_hand_arithmetic():
    start, now = start_and_now(-2.1, generated="Ann was born in Lima.")
    out, notes = record(now, start)
    assert out["ffe"] == pytest.approx((-0.1 - -2.1) / (-0.1 - -4.1))  # 0.5
    assert out["ffe_paraphrase"] == pytest.approx((-0.2 - -2.2) / (-0.2 - -4.2))  # 0.5
    assert out["fact_recall"] == 0.0 and out["fact_recall_forgetting"] == 1.0
    # template damage pools tokens over examples, the pair without facts included
    assert out["template_damage"] == pytest.approx(((-0.4 + -0.2) - (-1.0 + -0.8)) / 6)
    assert out["neighbour_damage"] == pytest.approx(1.0)  # only h1's first span is a neighbour
    assert out["heldout_damage"] == pytest.approx((1.0 + 0.1) / 2)
    assert out["general_damage"] == pytest.approx(0.2)
    assert out["generation_leakage"] == 1.0  # "Lima" said for both wordings; f2 has no value
    # the one fact is shared: FFE on shared facts is the FFE, and balanced (per token) too
    assert out["ffe_shared"] == pytest.approx(0.5) and out["ffe_balanced"] == pytest.approx(0.5)
    assert out["ffe_specific"] is None
    assert notes == {"ffe_specific": "the forget split has no specific fact span"}


def test_over_suppression_is_reported_above_one():
    start, now = start_and_now(-8.1)
    assert record(now, start)[0]["ffe"] == pytest.approx(2.0)


def test_no_neighbours_no_generation_and_no_retain_spans_are_nulls_with_reasons():
    start, now = start_and_now(-2.1, neighbour=(False, False))
    out, notes = record(now, start, reference={"ratios": {}}, generated=False)
    assert out["neighbour_damage"] is None and "no fact whose value" in notes["neighbour_damage"]
    assert out["heldout_damage"] is not None
    assert out["generation_leakage"] is None and notes["generation_leakage"] == NO_GENERATION_NOTE
    assert out["ffe"] is None and "per-span values" in notes["ffe"]
    assert out["fact_recall"] == 0.0  # needs no reference


def test_example_columns_carry_the_start_and_retain_values():
    start, now = start_and_now(-2.1)
    cols = example_columns(now, start, REFERENCE).set_index(["split", "example_id"])
    assert cols.loc[("forget10", "f1"), "span_logp_start"] == [-0.1]
    assert cols.loc[("forget10", "f1"), "span_logp_retain"] == [-4.1]
    assert cols.loc[("heldout", "h1"), "span_logp_retain"] is None
    assert cols.loc[("forget10", "f2"), "template_logp_start"] == -0.2
