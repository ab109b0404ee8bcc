"""The 2026 heuristics (our reconstructions, METHOD.md §2) on distributions built by hand: ``etw``
weighs by the entropy of each predictive distribution, ``tokenunlearn`` adds a knowledge signal
from masking the question and turns the z-scores into soft (mean-1 softmax) or hard (top share)
weights.

A fixed model answers "1 2 3" after the prompt "2 3". With the prompt intact it gives the
distributions REAL at the three predicting positions; when the prompt's first token is the pad
token (0, the question masked) it gives MASKED instead.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from atwu.data.batching import IGNORE, Batch
from atwu.methods.base import ForgetBatch, MethodContext, MethodError
from atwu.methods.registry import build_params, get_method
from atwu.methods.tokenunlearn import question_masked

ANSWER = [1, 2, 3]
REAL = [[0.1, 0.7, 0.1, 0.1], [0.25] * 4, [0.05, 0.05, 0.1, 0.8]]  # p(answer) = 0.7, 0.25, 0.8
MASKED = [[0.1, 0.1, 0.7, 0.1], [0.25] * 4, [0.1, 0.1, 0.4, 0.4]]  # p(answer) = 0.1, 0.25, 0.4
P = [0.7, 0.25, 0.8]
K = [math.log(7), 0.0, math.log(2)]  # log p − log p with the question masked


def entropy(dist: list[float]) -> float:
    return -sum(p * math.log(p) for p in dist)


H = [entropy(d) for d in REAL]


def zscores(values: list[float]) -> list[float]:
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return [(v - mean) / std for v in values]


class PromptAwareModel(torch.nn.Module):
    """REAL or MASKED distributions at the positions predicting the answer, by the first token."""

    config = SimpleNamespace(pad_token_id=0, eos_token_id=1, bos_token_id=None)

    def __init__(self):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(4))  # so that gradients flow

    def forward(self, input_ids, attention_mask, output_hidden_states=False, use_cache=False):
        rows = []
        for seq in input_ids:
            table = MASKED if int(seq[0]) == 0 else REAL
            # positions 0..4; positions 1, 2, 3 predict the answer tokens
            dists = [[0.25] * 4, *table, [0.25] * 4]
            rows.append(torch.tensor(dists).log())
        return SimpleNamespace(logits=torch.stack(rows) + self.bias, hidden_states=None)


def batch() -> ForgetBatch:
    ids = torch.tensor([[2, 3, *ANSWER]])
    labels = torch.tensor([[IGNORE, IGNORE, *ANSWER]])
    return ForgetBatch(ids, torch.ones_like(ids), labels)


def method(name: str, **params):
    cls = get_method(name)
    ctx = MethodContext(device=torch.device("cpu"))
    return cls(build_params(cls, {k: str(v) for k, v in params.items()}), ctx)


def weights(name: str, **params) -> list[float]:
    out = method(name, **params).compute(PromptAwareModel(), batch(), None, 0)
    return out.weights[0, 1:4].tolist()


def test_etw_weighs_by_entropy_over_its_answer_mean():
    mean = sum(H) / 3
    assert weights("etw") == pytest.approx([h / mean for h in H])
    out = method("etw", gamma=2).compute(PromptAwareModel(), batch(), None, 0)
    expected = 2 * sum(h / mean * p for h, p in zip(H, P)) / 3  # saturated: γ·mean w·p
    assert out.forget.item() == pytest.approx(expected)
    assert out.pressure[0, 1:4].tolist() == pytest.approx(
        [2 * h / mean * p / 3 for h, p in zip(H, P)]
    )


def test_tokenunlearn_soft_adds_the_z_scores_and_has_mean_one():
    s = [a + b for a, b in zip(zscores(K), zscores(H))]
    for temperature in (1.0, 0.5):
        e = [math.exp(v / temperature) for v in s]
        expected = [3 * v / sum(e) for v in e]
        got = weights("tokenunlearn", temperature=temperature)
        assert got == pytest.approx(expected, rel=1e-5)  # float32 inside
        assert sum(got) / 3 == pytest.approx(1.0)
    # the first token, which depends most on the question (k = log 7), gets the most weight;
    # by entropy alone the uniform second position would
    assert max(range(3), key=lambda i: s[i]) == 0 and max(range(3), key=lambda i: H[i]) == 1


def test_tokenunlearn_hard_keeps_the_top_share():
    s = [a + b for a, b in zip(zscores(K), zscores(H))]
    top = sorted(range(3), key=lambda i: -s[i])
    for share, kept in ((1 / 3, 1), (0.34, 2), (1.0, 3)):
        got = weights("tokenunlearn", selection="hard", top_share=share)
        assert got == [1.0 if i in top[:kept] else 0.0 for i in range(3)], share


class NoisyModel(torch.nn.Module):
    """Fixed random logits (vocabulary 16) that ignore the input: every token's entropy differs."""

    config = SimpleNamespace(pad_token_id=0)

    def __init__(self, width: int):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.logits = torch.nn.Parameter(3 * torch.randn(2, width, 16, generator=gen))

    def forward(self, input_ids, attention_mask, output_hidden_states=False, use_cache=False):
        return SimpleNamespace(logits=self.logits, hidden_states=None)


def test_hard_selection_keeps_the_stated_share_of_every_answer():
    # answers of 10 and 7 tokens (the second padded); ⌈0.3·10⌉ = 3, ⌈0.3·7⌉ = 3, ⌈0.5·7⌉ = 4
    ids = torch.tensor([[5, *range(1, 11), 0], [5, 6, *range(1, 8), 0, 0, 0]])
    attn = torch.tensor([[1] * 11 + [0], [1] * 9 + [0] * 3])
    labels = ids.masked_fill(attn == 0, IGNORE)
    labels[:, 0] = IGNORE
    labels[1, 1] = IGNORE
    fb = ForgetBatch(ids, attn, labels)
    mask = labels[:, 1:] != IGNORE
    for share, counts in ((0.3, [3, 3]), (0.5, [5, 4])):
        w, m = method("tokenunlearn", selection="hard", top_share=share).token_weights(
            NoisyModel(12), fb
        )
        assert torch.equal(m, mask)
        assert [int(w[i][mask[i]].sum()) for i in range(2)] == counts
        assert w[~mask].sum() == 0
    soft, _ = method("tokenunlearn").token_weights(NoisyModel(12), fb)
    assert [float(soft[i][mask[i]].mean()) for i in range(2)] == pytest.approx([1.0, 1.0])


def test_masking_replaces_the_subject_or_the_prompt_and_nothing_else():
    b = Batch(
        torch.tensor([[9, 5, 6, 7, 8, 0]]),
        torch.tensor([[1, 1, 1, 1, 1, 0]]),
        torch.tensor([[IGNORE, IGNORE, IGNORE, 7, 8, IGNORE]]),
    )
    assert question_masked(b, 4).input_ids.tolist() == [[4, 4, 4, 7, 8, 0]]
    assert question_masked(b, 4, keep=9).input_ids.tolist() == [[9, 4, 4, 7, 8, 0]]  # a BOS stays
    # a forget batch that knows where the question's subject is masks only the subject
    subject = torch.tensor([[False, True, False, False, False, False]])
    fb = ForgetBatch(b.input_ids, b.attention_mask, b.labels, subject_mask=subject)
    assert question_masked(fb, 4, keep=9).input_ids.tolist() == [[9, 4, 6, 7, 8, 0]]


def test_bad_settings_are_refused():
    for params, what in (
        ({"temperature": "0"}, "temperature"),
        ({"top_share": "0"}, "top_share"),
        ({"top_share": "1.5"}, "top_share"),
        ({"mask_token": "-2"}, "mask_token"),
    ):
        with pytest.raises(MethodError, match=what):
            build_params(get_method("tokenunlearn"), params)
    with pytest.raises(MethodError, match="selection"):
        build_params(get_method("tokenunlearn"), {"selection": "medium"})
