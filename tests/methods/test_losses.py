"""Every method's loss on tiny hand-made tensors, against values computed by hand.

A fixed "model" returns chosen logits (and hidden states), so p_t of the two answer tokens is
known exactly: p = 0.5 (a fact token, label 1) and p = 0.8 (a template token, label 0). Where a
method reads a reference or auxiliary model, that model gives p = 0.25 and 0.8. Each test checks
the forget term (and the pressure c_t = ∂forget/∂log p_t where it exists) against arithmetic done
by hand, and that the retain term is separate.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from atwu.data.batching import IGNORE
from atwu.data.labels import KIND_CODES
from atwu.methods.base import ForgetBatch, MethodContext, forward
from atwu.methods.registry import all_methods, build_params, get_method

P = (0.5, 0.8)  # p_t of the two answer tokens under the model being unlearned
P_REF = (0.25, 0.8)  # under the reference / auxiliary model
LABELS = (1, 0)  # token 1 is a fact, token 2 a template token
KINDS = (KIND_CODES["specific"], KIND_CODES[None])  # the fact is specific to its author


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


class FixedModel(torch.nn.Module):
    """Logits that give the target token id 0 the probabilities ``probs`` at the two predicting
    positions (vocabulary of 2), and fixed hidden states; logits are a parameter so gradients flow."""

    def __init__(self, probs: tuple[float, float], hidden: torch.Tensor | None = None):
        super().__init__()
        rows = [[math.log(p / (1 - p)), 0.0] for p in probs] + [[0.0, 0.0]]
        self.logits = torch.nn.Parameter(torch.tensor([rows]))
        self.hidden = hidden if hidden is not None else torch.zeros(1, 3, 2)

    def forward(self, input_ids, attention_mask, output_hidden_states=False, use_cache=False):
        states = (self.hidden, self.hidden, self.hidden) if output_hidden_states else None
        return SimpleNamespace(logits=self.logits, hidden_states=states)


def batch() -> ForgetBatch:
    """One sequence: a prompt token, then two answer tokens (ids 0 and 0)."""
    ids = torch.tensor([[1, 0, 0]])
    labels = torch.tensor([[IGNORE, 0, 0]])
    return ForgetBatch(
        ids, torch.ones_like(ids), labels, torch.tensor([list(LABELS)]), torch.tensor([list(KINDS)])
    )


def make(name: str, hidden: torch.Tensor | None = None, **params):
    cls = get_method(name)
    ctx = MethodContext(
        device=torch.device("cpu"),
        reference_model=FixedModel(P_REF),
        aux_model=FixedModel(P_REF),
        hidden_size=2,
        num_layers=2,
        total_steps=10,
    )
    method = cls(build_params(cls, {k: str(v) for k, v in params.items()}), ctx)
    return method, FixedModel(P, hidden)


def run(name: str, step: int = 0, hidden=None, **params):
    method, model = make(name, hidden, **params)
    return method.compute(model, batch(), None, step)


def close(tensor: torch.Tensor, expected) -> None:
    assert tensor.detach().flatten().tolist() == pytest.approx(list(expected), rel=1e-5, abs=1e-7)


L1, L2 = math.log(P[0]), math.log(P[1])


def test_fixture_probabilities_are_what_the_tests_assume():
    _, model = make("ga")
    fw = forward(model, batch())
    close(fw.logp.exp()[fw.mask], P)


def test_ga_and_graddiff_ascend_the_mean_log_likelihood():
    out = run("ga")
    close(out.forget, [(L1 + L2) / 2])
    close(out.pressure[0], [0.5, 0.5])
    close(out.retain, [0.0])
    out = run("graddiff", gamma=2)
    close(out.forget, [2 * (L1 + L2) / 2])
    close(out.pressure[0], [1.0, 1.0])


def test_wga_weights_by_p_to_the_beta():
    out = run("wga", beta=1)
    close(out.forget, [(0.5 * L1 + 0.8 * L2) / 2])
    close(out.weights[0], [0.5, 0.8])
    close(out.pressure[0], [0.5 / 2, 0.8 / 2])
    out = run("wga", beta=5)
    close(out.forget, [(0.5**5 * L1 + 0.8**5 * L2) / 2])


def test_satimp_weights_by_p_beta1_times_one_minus_p_beta2():
    out = run("satimp")  # β1 = 5, β2 = 1, γ = 1 (its authors' setting)
    w = (0.5**5 * 0.5, 0.8**5 * 0.2)  # 0.015625, 0.065536
    close(out.weights[0], w)
    close(out.forget, [(w[0] * L1 + w[1] * L2) / 2])
    out = run("satimp", gamma=0.1, alpha=1)  # open-unlearning's setting: a tenth of the push
    close(out.forget, [0.1 * (w[0] * L1 + w[1] * L2) / 2])


def test_tnpo_weights_against_the_reference():
    out = run("tnpo", beta=4)  # open-unlearning's β, for round numbers
    w1 = 2 * 0.5**4 / (0.5**4 + 0.25**4)  # 1.88235...
    close(out.weights[0], [w1, 1.0])  # equal probabilities give weight 1
    close(out.forget, [(w1 * L1 + L2) / 2])


def test_saturated_weightings_push_on_p_not_log_p():
    # uniform: mean p; the pressure of a saturated loss is w·p (it fades as p → 0)
    out = run("uniform")
    close(out.forget, [(0.5 + 0.8) / 2])
    close(out.pressure[0], [0.5 / 2, 0.8 / 2])
    out = run("oracle")  # weight 1 on the fact token only
    close(out.forget, [0.5 / 2])
    close(out.pressure[0], [0.25, 0.0])
    out = run("static_p", scale="raw")  # w = 1 − p_ref = 0.75, 0.2
    close(out.weights[0], [0.75, 0.2])
    close(out.forget, [(0.75 * 0.5 + 0.2 * 0.8) / 2])
    out = run("static_p")  # scale=mean1: divided by their mean 0.475
    close(out.weights[0], [0.75 / 0.475, 0.2 / 0.475])
    out = run("aux")  # w = σ(log p − log p_aux) = σ(log 2), σ(0)
    close(out.weights[0], [2 / 3, 0.5])
    close(out.forget, [(2 / 3 * 0.5 + 0.5 * 0.8) / 2])
    out = run("threshold")  # τ = mean p = 0.65, k = 20
    w = (sigmoid(20 * (0.65 - 0.5)), sigmoid(20 * (0.65 - 0.8)))
    close(out.weights[0], w)
    close(out.forget, [(w[0] * 0.5 + w[1] * 0.8) / 2])


def test_reference_weightings_read_the_labels():
    # the fact token is `specific`, so specific_oracle is the oracle here (the full cases, with
    # shared facts, context and shuffled positions, are in test_reference_weights.py)
    out = run("specific_oracle")
    close(out.weights[0], [1.0, 0.0])
    close(out.forget, [0.5 / 2])
    out = run("template_only")  # the template token only
    close(out.weights[0], [0.0, 1.0])
    close(out.forget, [0.8 / 2])
    close(out.pressure[0], [0.0, 0.8 / 2])
    out = run("shuffled_oracle")  # one weighted token, as the oracle has, on one of the two
    assert sorted(out.weights[0].tolist()) == [0.0, 1.0]


#: entropies of the two predictive distributions (vocabulary of 2): p = 0.5 and p = 0.8
H1 = math.log(2)
H2 = -(0.8 * math.log(0.8) + 0.2 * math.log(0.2))


def test_entropy_weightings():
    out = run("etw")  # w = H / mean H over the answer
    mean_h = (H1 + H2) / 2
    close(out.weights[0], [H1 / mean_h, H2 / mean_h])
    close(out.forget, [(H1 / mean_h * 0.5 + H2 / mean_h * 0.8) / 2])
    close(out.pressure[0], [H1 / mean_h * 0.5 / 2, H2 / mean_h * 0.8 / 2])
    # tokenunlearn: this model ignores its input, so masking the question changes nothing and the
    # knowledge signal is 0 on both tokens; z(H) of two tokens is +1, −1
    out = run("tokenunlearn", mask_token=1)  # soft, T = 1: w = 2·softmax(1, −1)
    close(out.weights[0], [2 * sigmoid(2), 2 * sigmoid(-2)])
    close(out.forget, [(2 * sigmoid(2) * 0.5 + 2 * sigmoid(-2) * 0.8) / 2])
    out = run("tokenunlearn", mask_token=1, temperature=0.5)  # sharper: 2·softmax(2, −2)
    close(out.weights[0], [2 * sigmoid(4), 2 * sigmoid(-4)])
    out = run("tokenunlearn", mask_token=1, selection="hard", top_share=0.5)  # ⌈0.5·2⌉ = 1 kept
    close(out.weights[0], [1.0, 0.0])
    close(out.forget, [0.5 / 2])


def test_npo_and_simnpo_are_sequence_level():
    out = run("npo", beta=0.1)  # Δ = log(0.4) − log(0.2) = log 2
    delta = math.log(2)
    close(out.forget, [-(2 / 0.1) * math.log(sigmoid(-0.1 * delta))])
    close(out.pressure[0], [2 * sigmoid(0.1 * delta)] * 2)
    close(out.weights[0], [1.0, 1.0])
    out = run("simnpo")  # β = 4.5, δ = 0, γ = 0.125; m = mean NLL
    m = -(L1 + L2) / 2
    close(out.forget, [0.125 * -(2 / 4.5) * math.log(sigmoid(4.5 * m))])
    close(out.pressure[0], [0.125 * 2 * sigmoid(-4.5 * m) / 2] * 2)


def test_rmu_steers_hidden_states_to_c_u():
    # predicting positions hold h = [0, 0] and [1, 1]; u = [1, 0], c = 2 (absolute) → target [2, 0]
    hidden = torch.tensor([[[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]])
    method, model = make("rmu", hidden, coeff_mode="absolute", steering_coeff=2)
    method.direction = torch.tensor([1.0, 0.0])
    out = method.compute(model, batch(), None, 0)
    close(out.forget, [((4 + 0) / 2 + (1 + 1) / 2) / 2])
    assert out.pressure is None and method.no_pressure_reason


def atwu_hidden() -> torch.Tensor:
    # RMS-normalised rows stay as they are: [1, 1] and [1, −1] (the last position is unused)
    return torch.tensor([[[1.0, 1.0], [1.0, -1.0], [0.0, 0.0]]])


#: METHOD.md's first form of the scores, so that the arithmetic below reads plainly: b = 3, the
#: scores as they are (k = 1), the state that predicts each token
PLAIN = {
    "scorer_init_bias": 3,
    "score_power": 1,
    "scorer_position": "predicting",
    "scorer_warmup_steps": 5,
}


def test_atwu_model_step_during_warmup_uses_the_initial_scores():
    # select_all: v = 0, b = 3, so every s_t = σ(3); warm-up holds the scorer still at step 0
    out = run("atwu", hidden=atwu_hidden(), **PLAIN)
    s = sigmoid(3)
    close(out.weights[0], [s, s])
    close(out.forget, [s * (0.5 + 0.8) / 2])
    close(out.pressure[0], [s * 0.5 / 2, s * 0.8 / 2])
    out = run("atwu", hidden=atwu_hidden(), **{**PLAIN, "normalise": "mass"})
    close(out.forget, [(s * 0.5 + s * 0.8) / (2 * s)])  # divided by Σ s_t, not by 2 tokens
    out = run("atwu", hidden=atwu_hidden(), **{**PLAIN, "forget_loss": "nll"})
    close(out.forget, [s * (L1 + L2) / 2])
    out = run("atwu", hidden=atwu_hidden(), **{**PLAIN, "score_power": 4})
    close(out.weights[0], [s**4, s**4])  # the scores sharpened before they weigh the loss
    close(out.forget, [s**4 * (0.5 + 0.8) / 2])


def test_atwu_defaults_start_every_token_at_sigmoid_one_squared():
    # the tuned defaults: b = 1 and k = 2, so every weight starts at σ(1)² ≈ 0.53
    out = run("atwu", hidden=atwu_hidden(), scorer_warmup_steps=5)
    close(out.weights[0], [sigmoid(1) ** 2] * 2)


def test_atwu_scorer_step_objective():
    method, model = make("atwu", atwu_hidden(), scorer_l2=0.001, scorer_position="predicting")
    with torch.no_grad():
        method.scorer.linear.weight.copy_(torch.tensor([[0.0, 1.0]]))
        method.scorer.linear.bias.zero_()
    fw = method._forward(model, batch())
    h = method._hidden(fw)
    f = fw.logp.detach().exp()
    tau = torch.tensor(0.65)
    objective = method.scorer_objective(h, f, tau, fw.mask)
    # s = σ(+1), σ(−1); mean_t s_t·(p_t − τ) + l2·‖v‖²
    expected = (sigmoid(1) * (0.5 - 0.65) + sigmoid(-1) * (0.8 - 0.65)) / 2 + 0.001 * 1.0
    close(objective, [expected])
    # with retain negatives: + λ·mean_r s_r over the retain batch's answer tokens (here the same
    # two hidden states, so + λ·(σ(1) + σ(−1)) / 2 = λ/2)
    method.params.scorer_retain_negatives = 0.3
    retain_fw = method._forward(model, batch())
    objective = method.scorer_objective(h, f, tau, fw.mask, retain_fw)
    close(objective, [expected + 0.3 * 0.5])


def test_atwu_scorer_step_moves_the_scores_towards_the_token_being_forgotten():
    # After a scorer step, the token below τ (p = 0.5) gains weight and the one above loses it.
    method, model = make("atwu", atwu_hidden(), scorer_warmup_steps=0, scorer_position="predicting")
    out = method.compute(model, batch(), None, step=0)
    assert out.weights[0, 0] > out.weights[0, 1]


def test_every_method_has_a_hand_computed_case():
    covered = {
        "ga",
        "graddiff",
        "wga",
        "satimp",
        "tnpo",
        "uniform",
        "oracle",
        "specific_oracle",
        "template_only",
        "shuffled_oracle",
        "static_p",
        "aux",
        "threshold",
        "etw",
        "tokenunlearn",
        "npo",
        "simnpo",
        "rmu",
        "atwu",
        "static_support",  # tests/methods/test_retain_support.py
    }
    assert set(all_methods()) == covered


def test_retain_term_is_alpha_times_retain_nll_and_kept_apart():
    method, model = make("graddiff", alpha=3)
    out = method.compute(model, batch(), batch(), 0)
    close(out.retain, [3 * -(L1 + L2) / 2])
    close(out.loss, [out.forget.item() + out.retain.item()])


def test_wga_beta_one_has_the_gradient_of_uniform_and_beta_five_does_not():
    def grad(name: str, **params) -> torch.Tensor:
        method, model = make(name, **params)
        method.compute(model, batch(), None, 0).forget.backward()
        return model.logits.grad.clone()

    uniform = grad("uniform", alpha=1, gamma=1)
    torch.testing.assert_close(grad("wga", beta=1, alpha=1, gamma=1), uniform)
    assert not torch.allclose(grad("wga", beta=5, alpha=1, gamma=1), uniform)
