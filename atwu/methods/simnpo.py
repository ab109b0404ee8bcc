"""SimNPO: length-normalised NPO without a reference model (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from atwu.methods.base import LossOutput, Method, RetainForgetParams, forward
from atwu.methods.ga import uniform_weights
from atwu.methods.npo import per_sequence, sequence_logprob
from atwu.params import param


@dataclass
class SimNPOParams(RetainForgetParams):
    beta: float = param(4.5, "inverse temperature β")
    delta: float = param(0.0, "reward margin δ")
    gamma: float = param(0.125, "weight of the forget term")


class SimNPO(Method):
    name = "simnpo"
    summary = "length-normalised NPO without a reference model"
    Params = SimNPOParams

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        lengths = fw.mask.sum(-1).clamp(min=1)
        mean_nll = -sequence_logprob(fw) / lengths
        beta, gamma = self.params.beta, self.params.gamma
        margin = beta * (mean_nll - self.params.delta)
        forget_loss = -(2.0 / beta) * F.logsigmoid(margin).mean()
        # ∂/∂log p_t of −(2/β)·log σ(β·(−mean log p − δ)) is 2σ(−β·(m − δ)) / |y|
        batch = lengths.shape[0]
        coefficient = gamma * 2 * torch.sigmoid(-margin.detach()) / (lengths * batch)
        retain_term, logs = self.retain_term(model, retain)
        logs = {"forget_loss": float(forget_loss.detach()), **logs}
        return LossOutput(
            gamma * forget_loss,
            retain_term,
            uniform_weights(fw),
            per_sequence(coefficient, fw),
            logs,
        )
