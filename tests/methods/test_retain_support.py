"""Retain support (METHOD.md §1, issue 23): the bank, S_t and c_t, ATWU's conflict gate and scorer
designs, and the static_support baseline, on tiny hand-made tensors and a tiny random Llama."""

from __future__ import annotations

import copy
import io
import math
from types import SimpleNamespace

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from atwu.data.batching import IGNORE, Batch, shifted_targets
from atwu.methods.base import ForgetBatch, MethodContext, MethodError, forward
from atwu.methods.registry import build_params, get_method
from atwu.methods.retain_support import (
    SupportBank,
    conflict_gate,
    pick_hidden,
    support_conflict,
)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# -- the bank and S_t ----------------------------------------------------------------------------
def test_support_matrix_form_equals_a_hand_loop():
    gen = torch.Generator().manual_seed(0)
    bank = SupportBank(capacity=16, hidden_size=5)
    bank_h = torch.randn(11, 5, generator=gen)
    bank_ids = torch.tensor([1, 2, 3, 1, 1, 2, 4, 3, 1, 2, 2])
    bank.add(bank_h, bank_ids)
    queries = torch.randn(2, 3, 5, generator=gen)
    ids = torch.tensor([[1, 2, 7], [3, 4, 1]])
    temp = 0.3
    got = bank.support(queries, ids, temp)
    assert got.shape == (2, 3)
    for b in range(2):
        for t in range(3):
            expected = 0.0
            for r in range(11):
                if int(bank_ids[r]) != int(ids[b, t]):
                    continue
                q, k = queries[b, t].tolist(), bank_h[r].tolist()
                cos = sum(x * y for x, y in zip(q, k)) / (
                    math.sqrt(sum(x * x for x in q)) * math.sqrt(sum(y * y for y in k))
                )
                expected += math.exp((cos - 1) / temp)
            assert float(got[b, t]) == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert float(got[0, 2]) == 0.0  # id 7 is not in the bank


def test_identical_state_and_id_counts_one_and_an_empty_bank_supports_nothing():
    bank = SupportBank(capacity=4, hidden_size=3)
    h = torch.tensor([[1.0, 2.0, 3.0]])
    assert bank.support(h, torch.tensor([5]), 0.1).tolist() == [0.0]
    bank.add(h * 7, torch.tensor([5]))  # cosine ignores the length
    assert bank.support(h, torch.tensor([5]), 0.1).tolist() == pytest.approx([1.0])


def test_fifo_keeps_the_last_n_entries_in_order():
    bank = SupportBank(capacity=4, hidden_size=2)
    for start in (0, 3, 6):  # 9 entries in three batches of 3
        ids = torch.arange(start, start + 3)
        bank.add(torch.stack([ids.float() + 1, torch.ones(3)], -1), ids)
    _, kept = bank.entries()
    assert kept.tolist() == [5, 6, 7, 8]
    assert bank.size == 4
    bank.add(torch.ones(6, 2), torch.arange(100, 106))  # more than the capacity at once
    assert bank.entries()[1].tolist() == [102, 103, 104, 105]


def test_bank_state_dict_round_trip_survives_torch_save():
    bank = SupportBank(capacity=5, hidden_size=3)
    bank.add(torch.randn(7, 3), torch.arange(7))
    buffer = io.BytesIO()
    torch.save(bank.state_dict(), buffer)
    buffer.seek(0)
    restored = SupportBank(capacity=5, hidden_size=3)
    restored.load_state_dict(torch.load(buffer, weights_only=True))  # as --resume loads it
    for a, b in zip(bank.entries(), restored.entries()):
        assert torch.equal(a, b)
    more_h, more_ids = torch.randn(3, 3), torch.tensor([40, 41, 42])
    bank.add(more_h, more_ids)
    restored.add(more_h, more_ids)
    for a, b in zip(bank.entries(), restored.entries()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="support_bank"):
        SupportBank(capacity=2, hidden_size=3).load_state_dict(bank.state_dict())


def test_conflict_is_a_z_score_of_log1p_support_and_the_gate_is_two_sigmoid():
    support = torch.tensor([[1.0, 0.0, 5.0]])
    mask = torch.tensor([[True, True, False]])
    c = support_conflict(support, mask)
    # log1p: ln 2 and 0 over the two masked tokens: mean ln2/2, std ln2/2 → +1, −1; 0 off the mask
    assert c[0].tolist() == pytest.approx([1.0, -1.0, 0.0])
    assert support_conflict(torch.zeros(1, 3), mask).tolist() == [[0.0, 0.0, 0.0]]
    gate = conflict_gate(c, 2.0)
    assert gate[0].tolist() == pytest.approx([2 * sigmoid(-2), 2 * sigmoid(2), 1.0])


# -- ATWU with the bank, on a tiny random Llama ---------------------------------------------------
def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=12,
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=32,
        pad_token_id=0,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def qa_batch(rows: list[list[int]], prompt: int = 2, forget: bool = True) -> Batch:
    ids = torch.tensor(rows)
    labels = ids.clone()
    labels[:, :prompt] = IGNORE
    if not forget:
        return Batch(ids, torch.ones_like(ids), labels)
    token_labels = torch.zeros(ids.shape[0], ids.shape[1] - 1, dtype=torch.long)
    return ForgetBatch(ids, torch.ones_like(ids), labels, token_labels)


FORGET = qa_batch([[1, 2, 3, 4, 5, 6], [1, 7, 3, 8, 5, 9]])
RETAINS = [
    qa_batch([[1, 10, 3, 4, 5, 11], [1, 2, 3, 8, 9, 6]], forget=False),
    qa_batch([[1, 11, 3, 6, 5, 4], [1, 10, 3, 4, 8, 6]], forget=False),
    qa_batch([[1, 2, 7, 4, 3, 6], [1, 9, 3, 8, 5, 4]], forget=False),
    qa_batch([[1, 7, 3, 4, 5, 10], [1, 2, 3, 4, 5, 6]], forget=False),
]


def make_atwu(name: str = "atwu", **params):
    cls = get_method(name)
    model = tiny_llama()
    ctx = MethodContext(
        device=torch.device("cpu"),
        reference_model=copy.deepcopy(model).eval().requires_grad_(False),
        hidden_size=8,
        num_layers=2,
        total_steps=20,
    )
    return cls(build_params(cls, {k: str(v) for k, v in params.items()}), ctx), model


def train(method, model, steps: int, start: int = 0):
    """``steps`` training steps as the loop takes them; the weights each step used."""
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    used = []
    for k in range(start, start + steps):
        out = method.compute(model, FORGET, RETAINS[k % len(RETAINS)], k)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        used.append(out.weights.clone())
    return used


def test_bank_options_off_leave_default_atwu_bit_identical():
    # κ = 0 (the default) with the bank's own options changed: no bank is kept and every step's
    # weights and losses are exactly the default's
    plain, model_a = make_atwu(scorer_warmup_steps=1)
    tuned, model_b = make_atwu(scorer_warmup_steps=1, support_bank=3, support_temp=0.5)
    assert tuned.bank is None and "support_bank" not in tuned.state_dict()
    for a, b in zip(train(plain, model_a, 4), train(tuned, model_b, 4)):
        assert torch.equal(a, b)
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(pa, pb)


def test_gate_multiplies_the_weights_by_two_sigmoid_minus_kappa_c():
    kappa = 1.5
    plain, model = make_atwu(scorer_warmup_steps=5)
    gated, _ = make_atwu(scorer_warmup_steps=5, conflict_gate=kappa)
    retain = RETAINS[0]
    out_plain = plain.compute(model, FORGET, retain, 0)
    out_gated = gated.compute(model, FORGET, retain, 0)
    # c by hand: the bank holds this step's retain answer tokens (the retain forward's states at
    # the scorer's layer and position); S from a loop over them
    with torch.no_grad():
        states = model(FORGET.input_ids, output_hidden_states=True).hidden_states
        r_states = model(retain.input_ids, output_hidden_states=True).hidden_states
    layer = gated.support_layer_index
    h = pick_hidden(states, layer, at_token=True)
    rh = pick_hidden(r_states, layer, at_token=True)
    targets, mask = shifted_targets(FORGET)
    r_targets, r_mask = shifted_targets(retain)
    bank = [(rh[b, t], int(r_targets[b, t])) for b, t in r_mask.nonzero().tolist()]
    support = torch.zeros(targets.shape)
    for b, t in mask.nonzero().tolist():
        for hr, yr in bank:
            if yr == int(targets[b, t]):
                cos = torch.nn.functional.cosine_similarity(h[b, t], hr, dim=0)
                support[b, t] += math.exp((float(cos) - 1) / 0.1)
    c = support_conflict(support, mask)
    assert float(c[mask].std()) > 0.1  # the case is not degenerate
    expected = out_plain.weights * 2 * torch.sigmoid(-kappa * c)
    assert torch.allclose(out_gated.weights[mask], expected[mask], rtol=1e-5, atol=1e-6)
    # the weights a run records elsewhere (token_weights) are the gated ones as well
    recorded, _ = gated.token_weights(model, FORGET)
    assert torch.allclose(recorded[mask], out_gated.weights[mask], rtol=1e-5, atol=1e-6)


def test_resume_from_state_dict_gives_the_same_steps():
    method, model = make_atwu(scorer_warmup_steps=1, conflict_gate=1.0, support_bank=10)
    train(method, model, 3)
    buffer = io.BytesIO()
    torch.save(method.state_dict(), buffer)
    buffer.seek(0)
    resumed, _ = make_atwu(scorer_warmup_steps=1, conflict_gate=1.0, support_bank=10)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    model_copy = copy.deepcopy(model)
    assert method.bank is not None and method.bank.size == 10  # the FIFO has wrapped
    for a, b in zip(train(method, model, 3, start=3), train(resumed, model_copy, 3, start=3)):
        assert torch.equal(a, b)


@pytest.mark.parametrize("design", ["contrast_head", "low_support_target"])
def test_learned_designs_train_without_nan_and_weights_stay_in_0_1(design):
    method, model = make_atwu(scorer_warmup_steps=0, scorer_design=design)
    before = [p.clone() for p in method.scorer.parameters()]
    used = train(method, model, 8)
    _, mask = shifted_targets(FORGET)
    for w in used:
        assert torch.isfinite(w[mask]).all()
        assert float(w[mask].min()) >= 0 and float(w[mask].max()) <= 1
    assert any(not torch.equal(a, b) for a, b in zip(before, method.scorer.parameters()))
    if design == "contrast_head":
        assert method.contrast is not None
        assert float(method.contrast.linear.weight.detach().abs().sum()) > 0  # the head learned
        assert "contrast" in method.state_dict()


def test_low_support_target_pushes_supported_tokens_towards_zero():
    method, _ = make_atwu(scorer_design="low_support_target", scorer_l2=0.0)
    with torch.no_grad():
        method.scorer.linear.weight.zero_()
        method.scorer.linear.bias.zero_()  # every s = 0.5
    h = torch.zeros(1, 3, 8)
    f = torch.tensor([[0.2, 0.9, 0.4]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    conflict = torch.tensor([[-1.0, -0.5, 1.5]])  # the third token is well supported
    objective = method.scorer_objective(h, f, torch.tensor(0.5), mask, None, conflict)
    # mean of 0.5·(0.2 − 0.5), 0.5·(0.9 − 0.5) and 0.5·1 (target 1: pushed down)
    assert float(objective.detach()) == pytest.approx((0.5 * -0.3 + 0.5 * 0.4 + 0.5) / 3)


# -- static_support on a constructed case ---------------------------------------------------------
class TableModel(torch.nn.Module):
    """Logits and hidden states looked up from the input token alone: the state at token t is
    ``EMB[t]``, and the input token picks the next-token distribution."""

    EMB = torch.tensor(
        [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [0.5, 0.5]]
    )  # ids 0..5

    def __init__(self):
        super().__init__()
        logits = torch.zeros(6, 6)
        logits[5, 1] = math.log(20)  # after token 5, p(1) = 20 / (20 + 5) = 0.8
        logits[1, 2] = math.log(5 / 3)  # after token 1, p(2) = (5/3) / (5/3 + 5) = 0.25
        self.table = torch.nn.Parameter(logits)

    def forward(self, input_ids, attention_mask=None, output_hidden_states=False, use_cache=False):
        h = self.EMB[input_ids]
        states = (h, h, h) if output_hidden_states else None
        return SimpleNamespace(logits=self.table[input_ids], hidden_states=states)


@pytest.mark.parametrize("scale", ["raw", "mean1"])
def test_static_support_weights_on_a_constructed_case(scale):
    cls = get_method("static_support")
    model = TableModel()
    ctx = MethodContext(
        device=torch.device("cpu"), reference_model=model, hidden_size=2, num_layers=2
    )
    method = cls(build_params(cls, {"kappa": "1", "scale": scale}), ctx)
    forget = qa_batch([[4, 5, 1, 2]])  # answer tokens 1 (p_ref 0.8) and 2 (p_ref 0.25)
    retain = qa_batch([[4, 5, 1, 3]], forget=False)  # the bank gets ids 1 and 3
    out = method.compute(model, forget, retain, 0)
    # token 1: the bank holds id 1 in the same state → S = 1; token 2: no id 2 → S = 0.
    # c = z-score of (ln 2, 0) = (+1, −1); gate = 2σ(−1), 2σ(+1)
    raw = [(1 - 0.8) * 2 * sigmoid(-1), (1 - 0.25) * 2 * sigmoid(1)]
    if scale == "mean1":
        mean = sum(raw) / 2
        raw = [w / mean for w in raw]
    _, mask = shifted_targets(forget)
    assert out.weights[mask].tolist() == pytest.approx(raw, rel=1e-5)
    assert method.bank.size == 2
    weights, _ = method.token_weights(model, forget)
    assert weights[mask].tolist() == pytest.approx(raw, rel=1e-5)


def test_static_support_with_kappa_zero_is_static_p():
    model = tiny_llama()
    ref = copy.deepcopy(model).eval().requires_grad_(False)
    ctx = MethodContext(
        device=torch.device("cpu"), reference_model=ref, hidden_size=8, num_layers=2
    )
    out = {}
    for name, params in (("static_p", {}), ("static_support", {"kappa": "0"})):
        cls = get_method(name)
        out[name] = cls(build_params(cls, params), ctx).compute(model, FORGET, RETAINS[0], 0)
    _, mask = shifted_targets(FORGET)
    assert torch.allclose(out["static_p"].weights[mask], out["static_support"].weights[mask])


def test_support_options_reject_bad_values():
    from atwu.errors import InputError

    for name, key, value in (
        ("atwu", "support_bank", "0"),
        ("atwu", "support_temp", "0"),
        ("atwu", "conflict_gate", "-1"),
        ("atwu", "support_layer", "deep"),
        ("static_support", "support_layer", "scorer"),
        ("static_support", "kappa", "-0.5"),
    ):
        cls = get_method(name)
        with pytest.raises(InputError, match=key if key != "kappa" else "kappa"):
            build_params(cls, {key: value})


def test_forward_helper_keeps_hidden_states_for_the_bank():
    model = tiny_llama()
    fw = forward(model, FORGET, hidden_layer=1, all_hidden=True)
    assert fw.hidden_states is not None and len(fw.hidden_states) == 3


def test_low_support_target_is_the_plain_objective_while_the_bank_is_empty():
    # no retain batch yet: every c_t is 0, so no token is pushed down for being supported
    method, _ = make_atwu(scorer_design="low_support_target", scorer_l2=0.0)
    plain, _ = make_atwu(scorer_l2=0.0)
    h = torch.randn(1, 3, 8, generator=torch.Generator().manual_seed(1))
    f = torch.tensor([[0.2, 0.9, 0.4]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    conflict = support_conflict(torch.zeros(1, 3), mask)
    tau = torch.tensor(0.5)
    got = method.scorer_objective(h, f, tau, mask, None, conflict)
    expected = plain.scorer_objective(h, f, tau, mask).detach()
    assert float(got.detach()) == pytest.approx(float(expected))


def test_recorded_support_is_the_banks_support_and_plain_atwu_records_none():
    gated, model = make_atwu(scorer_warmup_steps=5, conflict_gate=1.5)
    gated.compute(model, FORGET, RETAINS[0], 0)  # fills the bank with the retain answer tokens
    weights, mask, channels = gated.recorded_tokens(model, FORGET)
    assert set(channels) == {"support"}
    with torch.no_grad():
        fw_states = model(FORGET.input_ids, output_hidden_states=True).hidden_states
    h = pick_hidden(fw_states, gated.support_layer_index, at_token=True)
    targets, _ = shifted_targets(FORGET)
    expected = gated.bank.support(h, targets, gated.params.support_temp)
    assert torch.allclose(channels["support"][mask], expected[mask], rtol=1e-5, atol=1e-7)
    assert float(channels["support"][mask].max()) > 0  # some forget token is supported
    # the recorded weights are the ones token_weights gives (the gated weights the step used)
    assert torch.equal(weights, gated.token_weights(model, FORGET)[0])
    plain, _ = make_atwu(scorer_warmup_steps=5)
    assert plain.recorded_tokens(model, FORGET)[2] == {}


def test_static_support_records_the_support_that_gated_its_weights():
    method, model = make_atwu("static_support", kappa=2.0)
    method.fill_bank(RETAINS[0])
    weights, mask, channels = method.recorded_tokens(model, FORGET)
    assert torch.equal(weights, method.token_weights(model, FORGET)[0])
    support = channels["support"]
    c = support_conflict(support, mask)
    with torch.no_grad():
        p_ref = method.ctx.reference_model(FORGET.input_ids).logits.log_softmax(-1)
    targets, _ = shifted_targets(FORGET)
    p = p_ref[:, :-1].gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1).exp()
    raw = (1 - p) * conflict_gate(c, 2.0)
    expected = raw / raw[mask].mean()  # scale mean1: normalised to mean 1 over the answer tokens
    assert torch.allclose(weights[mask], expected[mask], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "name, params",
    [
        ("atwu", {"scorer_warmup_steps": 1, "conflict_gate": 1.5}),
        ("atwu", {"scorer_warmup_steps": 0, "scorer_design": "contrast_head"}),
        ("static_support", {"kappa": 2.0}),
    ],
)
def test_a_finished_runs_artifacts_reproduce_its_gated_weights(tmp_path, name, params):
    # what scoring new text relies on: a fresh method that loads the run's files weighs tokens
    # exactly as the trained one (bank, contrast head and scorer included)
    method, model = make_atwu(name, **params)
    if name == "static_support":
        method.fill_bank(RETAINS[0])
        method.fill_bank(RETAINS[1])
    else:
        train(method, model, 4)
    method.save_artifacts(tmp_path)
    assert (tmp_path / "support.safetensors").is_file()
    fresh, _ = make_atwu(name, **params)
    fresh.load_artifacts(tmp_path)
    assert fresh.bank.size == method.bank.size > 0
    w_trained, mask, ch_trained = method.recorded_tokens(model, FORGET)
    w_loaded, _, ch_loaded = fresh.recorded_tokens(model, FORGET)
    assert torch.allclose(w_loaded[mask], w_trained[mask], rtol=1e-6, atol=1e-7)
    assert torch.allclose(ch_loaded["support"], ch_trained["support"])


def test_a_gated_run_without_its_support_file_says_so(tmp_path):
    method, _ = make_atwu(scorer_warmup_steps=1, conflict_gate=1.0)
    method.save_artifacts(tmp_path)
    (tmp_path / "support.safetensors").unlink()
    fresh, _ = make_atwu(scorer_warmup_steps=1, conflict_gate=1.0)
    with pytest.raises(MethodError, match=r"support\.safetensors.*rerun"):
        fresh.load_artifacts(tmp_path)
