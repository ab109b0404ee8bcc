"""static_support: w_t = (1 − p_ref,t)·2σ(−κ·c_t) from the frozen starting model, no scorer.

The free reference for ATWU's ``conflict_gate`` (METHOD.md §1): ``static_p``'s weights times the
same retain-support gate, with every ingredient read from the starting model. c_t is the z-scored
log(1 + S_t) of the token against a FIFO bank of the retain batches seen so far, whose hidden
states also come from the starting model (:mod:`atwu.methods.retain_support`). A learned method
that uses retain conflict has to beat this too.

Like ``static_p``, the weights are divided by their mean over the batch's answer tokens by default
(``scale=mean1``): on a memorised model 1 − p_ref is ≈ 0.003 everywhere and the literal form barely
pushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from atwu.data.batching import Batch, shifted_targets
from atwu.methods.atwu import check_support_params, layer_index
from atwu.methods.base import (
    ForgetBatch,
    LossOutput,
    MethodError,
    SaturatedParams,
    forward,
    masked_mean,
)
from atwu.methods.retain_support import (
    SupportBank,
    answer_tokens,
    conflict_gate,
    load_support,
    pick_hidden,
    save_support,
    support_conflict,
)
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param
from atwu.runs.layout import SUPPORT as SUPPORT_FILE


@dataclass
class StaticSupportParams(SaturatedParams):
    kappa: float = param(
        1.0,
        "κ of the gate 2σ(−κ·c_t) on 1 − p_ref (0: static_p's weights), c_t the z-scored retain "
        "support log(1+S_t) of the token under the starting model",
    )
    scale: Literal["mean1", "raw"] = param(
        "mean1",
        "mean1: the weights divided by their mean over the batch's answer tokens (rank kept, push "
        "comparable to uniform weights); raw: the literal (1 − p_ref)·gate",
    )
    support_bank: int = param(
        8192, "entries of the FIFO bank of retain answer tokens (starting model's hidden states)"
    )
    support_temp: float = param(
        0.1, "temperature T of S_t = Σ_r [y_r = y_t]·exp((cos(h_t, h_r) − 1)/T)"
    )
    support_layer: str = param(
        "middle",
        "hidden states the bank compares: 'middle' (ATWU's default scorer layer), 'last' or an "
        "integer index into the hidden_states tuple",
    )
    support_position: Literal["predicting", "token"] = param(
        "token", "position of the compared hidden state (ATWU's default scorer position: token)"
    )

    def validate(self) -> None:
        super().validate()
        check_support_params("static_support", self, allow_scorer=False)
        if not 0 <= self.kappa < float("inf"):
            raise MethodError("static_support: kappa must be a finite number ≥ 0")


class StaticSupport(TokenWeightedMethod):
    name = "static_support"
    summary = (
        "static reference: w_t = (1 − p_ref,t)·2σ(−κ·c_t), static_p gated by the starting model's "
        "retain support, in ATWU's saturated loss"
    )
    Params = StaticSupportParams
    saturated = True
    role = "baseline"
    needs_reference = True
    artifacts = (SUPPORT_FILE,)  # the bank, so scoring new text reproduces the gate

    def __init__(self, params: StaticSupportParams, ctx):
        super().__init__(params, ctx)
        self.bank = SupportBank(params.support_bank, ctx.hidden_size, ctx.device)

    def _reference(self, batch: Batch):
        """The starting model's forward: log p and the bank's hidden state of each target."""
        fw = forward(self.ctx.reference_model, batch, all_hidden=True)
        assert fw.hidden_states is not None
        layer = layer_index(self.params.support_layer, self.ctx.num_layers)
        hidden = pick_hidden(fw.hidden_states, layer, self.params.support_position == "token")
        return fw, hidden

    @torch.no_grad()
    def fill_bank(self, retain: Batch) -> None:
        """Append the retain batch's answer tokens, as the starting model sees them."""
        _, hidden = self._reference(retain)
        self.bank.add(*answer_tokens(hidden, retain))

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        if retain is not None:
            self.fill_bank(retain)
        out = super().compute(model, forget, retain, step)
        out.logs["bank_size"] = float(self.bank.size)
        return out

    def rule(self, model, forget, fw):
        return self._weights_and_support(forget, fw)[0]

    def _weights_and_support(self, forget, fw) -> tuple[torch.Tensor, torch.Tensor]:
        """(w_t, S_t): the gated weights and the retain support that gated them."""
        ref, hidden = self._reference(forget)
        targets, _ = shifted_targets(forget)
        support = self.bank.support(hidden, targets, self.params.support_temp)
        gate = conflict_gate(support_conflict(support, fw.mask), self.params.kappa)
        weights = (1 - ref.logp.exp()) * gate
        if self.params.scale == "mean1":
            weights = weights / masked_mean(weights, fw.mask).clamp(min=1e-12)
        return weights, support

    @torch.no_grad()
    def recorded_tokens(self, model, forget):
        fw = forward(model, forget, entropy=self.uses_entropy)
        weights, support = self._weights_and_support(forget, fw)
        return weights, fw.mask, {"support": support}

    def state_dict(self) -> dict:
        return {"support_bank": self.bank.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "support_bank" in state:
            self.bank.load_state_dict(state["support_bank"])

    def save_artifacts(self, run_dir) -> None:
        save_support(Path(run_dir) / SUPPORT_FILE, self.bank, {})

    def load_artifacts(self, run_dir) -> None:
        load_support(Path(run_dir) / SUPPORT_FILE, self.bank, {})
