"""The difference view's numbers (run A against run B) and the weight-by-label summary, on small
hand-made token tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from atwu.analysis.label_weights import at_matched, label_weights, matched_step
from atwu.analysis.span_groups import span_groups
from atwu.analysis.weight_diff import (
    delta_limit,
    example_disagreement,
    paired_tokens,
    shape_only,
    token_disagreement,
)


def _rows(example: str, tokens: list[str], weights: list[float], kinds: list, step: int = 3):
    labels = [
        1 if k in ("specific", "shared") else (-1 if k in ("context", "eos") else 0) for k in kinds
    ]
    return pd.DataFrame(
        {
            "step": step,
            "example_id": example,
            "position": range(len(tokens)),
            "token": tokens,
            "weight": weights,
            "label": labels,
            "span_kind": [k if k in ("specific", "shared", "context") else None for k in kinds],
        }
    )


# Example e1: "Ana was born in Lima<eos>"; e2: "Bo likes tea"
A = pd.concat(
    [
        _rows(
            "e1",
            ["Ana", " was", " born", " in", " Lima", "<|eos|>"],
            [0.1, 0.2, 0.2, 0.1, 0.9, 0.5],
            ["context", None, None, None, "specific", "eos"],
        ),
        _rows("e2", ["Bo", " likes", " tea"], [0.3, 0.3, 0.6], ["context", None, "shared"]),
    ]
)
B = pd.concat(
    [
        _rows(
            "e1",
            ["Ana", " was", " born", " in", " Lima", "<|eos|>"],
            [0.1, 0.2, 0.2, 0.1, 0.1, 0.5],
            ["context", None, None, None, "specific", "eos"],
        ),
        # e2 differs by a token text at position 2 (another tokenizer): that token is left out
        _rows("e2", ["Bo", " likes", " te"], [0.2, 0.4, 0.0], ["context", None, "shared"]),
    ]
)


def test_span_groups_name_template_and_leave_out_special_tokens():
    groups = span_groups(A).tolist()
    assert groups[:6] == ["context", "template", "template", "template", "specific", None]
    assert groups[6:] == ["context", "template", "shared"]


def test_paired_tokens_delta_is_a_minus_b_and_mismatched_tokens_are_left_out():
    paired, left_out = paired_tokens(A, B)
    assert left_out == 1  # e2's " tea" against " te"
    assert len(paired) == 8
    lima = paired[(paired["example_id"] == "e1") & (paired["position"] == 4)].iloc[0]
    assert lima["delta"] == pytest.approx(0.8)
    assert lima["group"] == "specific"
    bo = paired[(paired["example_id"] == "e2") & (paired["position"] == 0)].iloc[0]
    assert bo["delta"] == pytest.approx(0.1)


def test_examples_ranked_by_mean_absolute_delta():
    paired, _ = paired_tokens(A, B)
    table = example_disagreement(paired)
    assert table["example_id"].tolist() == ["e1", "e2"]
    e1, e2 = table.iloc[0], table.iloc[1]
    # e1: |Δ| = 0,0,0,0,0.8,0 over 6 tokens → 0.8/6; e2: |Δ| = 0.1, 0.1 over 2 tokens → 0.1
    assert e1["mean |Δw|"] == pytest.approx(0.8 / 6)
    assert e1["max |Δw|"] == pytest.approx(0.8)
    assert e2["mean |Δw|"] == pytest.approx(0.1)
    assert e2["mean Δw"] == pytest.approx(0.0)  # +0.1 and −0.1
    # e2: A = (0.3, 0.3), B = (0.2, 0.4): A is constant, so ρ is undefined
    assert math.isnan(e2["1 − ρ"])
    assert e1["tokens"] == 6 and e2["tokens"] == 2


def test_one_minus_rho_is_zero_for_the_same_order_and_two_for_the_reverse():
    a = _rows("e", ["a", "b", "c"], [0.1, 0.5, 0.9], [None] * 3)
    same = _rows("e", ["a", "b", "c"], [0.0, 0.2, 0.3], [None] * 3)
    rev = _rows("e", ["a", "b", "c"], [0.9, 0.5, 0.1], [None] * 3)
    assert example_disagreement(paired_tokens(a, same)[0])["1 − ρ"][0] == pytest.approx(0.0)
    assert example_disagreement(paired_tokens(a, rev)[0])["1 − ρ"][0] == pytest.approx(2.0)


def test_tokens_that_differ_most_grouped_by_span_label_link_to_their_example():
    paired, _ = paired_tokens(A, B)
    tokens = token_disagreement(paired, per_group=2)
    assert tokens["group"].tolist() == ["specific", "template", "template", "context", "context"]
    lima = tokens.iloc[0]
    assert (lima["token"], lima["example_id"], lima["position"]) == ("Lima", "e1", 4)
    assert lima["mean |Δw|"] == pytest.approx(0.8) and lima["Δw there"] == pytest.approx(0.8)
    # template: "likes" (|Δ| 0.1) before the zero-difference texts, which keep their text order
    assert tokens.iloc[1]["token"] == "likes" and tokens.iloc[1]["mean Δw"] == pytest.approx(-0.1)
    assert tokens.iloc[2]["token"] == "born"
    # context: "Bo" (0.1) then "Ana" (0)
    assert tokens.iloc[3]["token"] == "Bo" and tokens.iloc[4]["token"] == "Ana"


def test_delta_limit_is_a_high_quantile_of_the_differences_or_one():
    paired, _ = paired_tokens(A, B)
    # |Δ| sorted: 0 ×5, 0.1, 0.1, 0.8; the 0.98 quantile lies 0.86 of the way from 0.1 to 0.8
    assert delta_limit(paired) == pytest.approx(0.1 + 0.86 * 0.7)
    assert delta_limit(paired, quantile=1.0) == pytest.approx(0.8)
    assert delta_limit(paired, quantile=0.5) == pytest.approx(1.0)  # median 0: the fallback
    assert delta_limit(paired_tokens(A, A)[0]) == 1.0


def test_label_weights_mean_and_quartiles_per_step_and_group():
    later = _rows(
        "e1",
        ["Ana", " was", " born", " in", " Lima", "<|eos|>"],
        [0.0, 0.4, 0.6, 0.8, 1.0, 0.5],
        ["context", None, None, None, "specific", "eos"],
        step=6,
    )
    table = label_weights(pd.concat([A, later]), run="a")
    at3 = table[table["step"] == 3].set_index("group")
    assert list(at3.index) == ["specific", "shared", "template", "context"]
    # step 3, template: e1's was/born/in (0.2, 0.2, 0.1) and e2's likes (0.3)
    assert at3.loc["template", "mean"] == pytest.approx(0.8 / 4)
    assert at3.loc["template", "tokens"] == 4
    assert at3.loc["template", "median"] == pytest.approx(0.2)
    assert at3.loc["context", "mean"] == pytest.approx(0.2)  # Ana 0.1, Bo 0.3
    at6 = table[table["step"] == 6].set_index("group")
    # template (0.4, 0.6, 0.8): quartiles by linear interpolation 0.5 and 0.7
    assert at6.loc["template", "q25"] == pytest.approx(0.5)
    assert at6.loc["template", "q75"] == pytest.approx(0.7)
    assert (table["run"] == "a").all()
    assert "special" not in set(table["group"])


def test_matched_step_is_the_first_checkpoint_reaching_the_level():
    evals = pd.DataFrame({"step": [0, 3, 6, 9], "ffe": [0.6, 0.2, 0.55, 0.9]})
    # step 0 never counts, even with a high FFE
    assert matched_step(evals, [0, 3, 6, 9]) == 6
    # weights recorded less often: the last weights step before the matched checkpoint
    assert matched_step(evals, [0, 4, 8]) == 4
    assert matched_step(evals, [0, 3, 6, 9], level=0.95) is None
    assert matched_step(pd.DataFrame({"step": [0, 3]}), [0, 3]) is None


def test_at_matched_takes_each_runs_own_step():
    table = pd.concat(
        [
            label_weights(pd.concat([A, A.assign(step=6)]), run="a"),
            label_weights(pd.concat([B, B.assign(step=6)]), run="b"),
        ]
    )
    picked = at_matched(table, {"a": 6, "b": 3, "c": None})
    assert set(zip(picked["run"], picked["step"], strict=True)) == {("a", 6), ("b", 3)}
    assert at_matched(table, {"a": None}).empty


def test_shape_only_divides_each_example_by_its_own_maximum_at_its_step():
    both = pd.concat([A, A.assign(step=6, weight=A["weight"] * 2)])
    scaled = shape_only(both)
    e1 = scaled[(scaled["example_id"] == "e1") & (scaled["step"] == 3)]["weight"].tolist()
    assert e1 == pytest.approx([0.1 / 0.9, 0.2 / 0.9, 0.2 / 0.9, 0.1 / 0.9, 1.0, 0.5 / 0.9])
    e2_later = scaled[(scaled["example_id"] == "e2") & (scaled["step"] == 6)]["weight"].tolist()
    assert e2_later == pytest.approx([0.5, 0.5, 1.0])
    zeros = _rows("z", ["a", "b"], [0.0, 0.0], [None, None])
    assert shape_only(zeros)["weight"].tolist() == [0.0, 0.0]
