"""The reference weightings of METHOD.md §4.6 on a hand-made two-answer batch: specific_oracle,
shuffled_oracle and template_only read the ground truth, so their weights are known token by token.

Answer A (6 tokens): two tokens of a `specific` name, a template token, a `shared` value, a token
restated from the question (context, label −1) and the EOS (label −1). Answer B (4 tokens, padded
by 2): template, a `shared` value, template, EOS. Every token has p = 1/4 under the model.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from atwu.data.batching import IGNORE
from atwu.data.labels import KIND_CODES
from atwu.methods.base import ForgetBatch, MethodContext
from atwu.methods.registry import build_params, get_method
from atwu.methods.shuffled_oracle import shuffled_positions

SPEC, SHARED, CTX, NONE = (KIND_CODES[k] for k in ("specific", "shared", "context", None))
PAD = 0
V = 4  # vocabulary: every token has p = 1/4

#: (prompt ids, answer ids, labels, kinds) per example
A = ([2, 3], [1, 2, 3, 1, 2, 3], [1, 1, 0, 1, -1, -1], [SPEC, SPEC, NONE, SHARED, CTX, NONE])
B = ([3], [2, 1, 3, 3], [0, 1, 0, -1], [NONE, SHARED, NONE, NONE])


class UniformModel(torch.nn.Module):
    """p = 1/V for every token at every position; a parameter so gradients flow."""

    def __init__(self):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(V))

    def forward(self, input_ids, attention_mask, output_hidden_states=False, use_cache=False):
        logits = self.bias.expand(*input_ids.shape, V)
        return SimpleNamespace(logits=logits, hidden_states=None)


def make_batch(*examples) -> ForgetBatch:
    """Right-padded batch; token labels and kinds at target index prompt_len − 1 + j."""
    width = max(len(p) + len(a) for p, a, _, _ in examples)
    ids = torch.full((len(examples), width), PAD)
    attn = torch.zeros_like(ids)
    labels = torch.full_like(ids, IGNORE)
    token_labels = torch.full((len(examples), width - 1), -1)
    kinds = torch.zeros_like(token_labels)
    for i, (prompt, answer, lab, kind) in enumerate(examples):
        n, start = len(prompt) + len(answer), len(prompt)
        ids[i, :n] = torch.tensor(prompt + answer)
        attn[i, :n] = 1
        labels[i, start:n] = torch.tensor(answer)
        token_labels[i, start - 1 : n - 1] = torch.tensor(lab)
        kinds[i, start - 1 : n - 1] = torch.tensor(kind)
    return ForgetBatch(ids, attn, labels, token_labels, kinds)


def method(name: str, seed: int = 0, **params):
    cls = get_method(name)
    ctx = MethodContext(device=torch.device("cpu"), seed=seed)
    return cls(build_params(cls, {k: str(v) for k, v in params.items()}), ctx)


def answer_weights(out_weights: torch.Tensor, batch: ForgetBatch) -> list[list[float]]:
    """Each example's weights on its answer tokens only (in answer order)."""
    mask = batch.labels[:, 1:] != IGNORE
    return [out_weights[i][mask[i]].tolist() for i in range(len(mask))]


def test_the_batch_is_what_the_tests_assume():
    batch = make_batch(A, B)
    mask = batch.labels[:, 1:] != IGNORE
    assert [batch.token_labels[i][mask[i]].tolist() for i in range(2)] == [A[2], B[2]]
    assert [batch.token_kinds[i][mask[i]].tolist() for i in range(2)] == [A[3], B[3]]


def test_specific_oracle_weighs_exactly_the_specific_fact_tokens():
    batch = make_batch(A, B)
    out = method("specific_oracle").compute(UniformModel(), batch, None, 0)
    assert answer_weights(out.weights, batch) == [[1, 1, 0, 0, 0, 0], [0, 0, 0, 0]]
    # saturated loss: γ·Σ w·p / (answer tokens) = 2·(1/4) / 10
    assert out.forget.item() == pytest.approx(2 * 0.25 / 10)
    assert out.pressure.sum().item() == pytest.approx(2 * 0.25 / 10)  # c_t = w·p / N
    # the oracle also weighs the shared values
    oracle = method("oracle").compute(UniformModel(), batch, None, 0)
    assert answer_weights(oracle.weights, batch) == [[1, 1, 0, 1, 0, 0], [0, 1, 0, 0]]


def test_template_only_is_the_complement_of_facts_minus_context_and_markers():
    batch = make_batch(A, B)
    out = method("template_only").compute(UniformModel(), batch, None, 0)
    assert answer_weights(out.weights, batch) == [[0, 0, 1, 0, 0, 0], [1, 0, 1, 0]]
    assert out.forget.item() == pytest.approx(3 * 0.25 / 10)


def test_shuffled_oracle_draws_the_oracles_count_on_scored_tokens():
    batch = make_batch(A, B)
    for seed in range(20):
        out = method("shuffled_oracle", seed=seed).compute(UniformModel(), batch, None, 0)
        a, b = answer_weights(out.weights, batch)
        assert sum(a) == 3 and sum(b) == 1  # the oracle's count in each answer
        assert a[4] == a[5] == 0 and b[3] == 0  # never on context or the EOS
        assert set(a) <= {0.0, 1.0}
        assert out.weights[~(batch.labels[:, 1:] != IGNORE)].sum() == 0  # nor outside answers
        assert out.forget.item() == pytest.approx(4 * 0.25 / 10)  # the oracle's push


def long_example(facts: int, length: int = 20):
    labels = [1] * facts + [0] * (length - facts)
    kinds = [SPEC] * facts + [NONE] * (length - facts)
    return ([2, 3], [(3 * j) % V for j in range(length)], labels, kinds)


def test_shuffled_positions_are_fixed_per_example_and_seed():
    ex = long_example(5)
    alone = make_batch(ex)
    beside = make_batch(B, ex)  # another row, more padding: the same example
    run = method("shuffled_oracle", seed=7)

    def positions(batch, row, m):
        w = answer_weights(m.token_weights(UniformModel(), batch)[0], batch)[row]
        return [j for j, v in enumerate(w) if v]

    first = positions(alone, 0, run)
    assert len(first) == 5
    assert positions(alone, 0, run) == first  # every step
    assert positions(beside, 1, run) == first  # in any batch
    assert positions(alone, 0, method("shuffled_oracle", seed=7)) == first  # after a resume
    others = {tuple(positions(alone, 0, method("shuffled_oracle", seed=s))) for s in range(8, 12)}
    assert tuple(first) not in others  # another seed draws other positions (C(20, 5) = 15504)
    assert len(others) > 1
    # positions depend on the example's tokens, not only on its labels
    moved = (ex[0], [(t + 1) % V for t in ex[1]], ex[2], ex[3])
    assert positions(make_batch(moved), 0, run) != first


def test_shuffled_positions_spread_over_the_answer():
    # over many seeds every scored position is drawn sometimes, facts no more than template
    ex = long_example(4, 12)
    batch = make_batch(ex)
    ids = batch.input_ids[0]
    mask = batch.labels[0, 1:] != IGNORE
    counts = torch.zeros(len(mask))
    for seed in range(300):
        counts[shuffled_positions(ids, batch.token_labels[0], mask, seed)] += 1
    drawn = counts[mask]
    assert (drawn > 0).all()
    assert drawn.sum() == 300 * 4
    assert drawn[:4].mean() == pytest.approx(100, rel=0.25)  # 4/12 of 300 each, on average


def test_references_without_ground_truth_say_so():
    batch = make_batch(A)
    bare = ForgetBatch(batch.input_ids, batch.attention_mask, batch.labels)
    for name in ("specific_oracle", "shuffled_oracle", "template_only"):
        with pytest.raises(ValueError, match=f"{name} needs"):
            method(name).compute(UniformModel(), bare, None, 0)
        assert get_method(name).role == "reference" and get_method(name).needs_labels
