"""SimNPO: length-normalised NPO without a reference model (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from atwu.methods.base import LossOutput, Method, RetainForgetParams, forward
from atwu.methods.ga import uniform_weights
from atwu.methods.npo import sequence_logprob
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
        beta = self.params.beta
        forget_loss = -(2.0 / beta) * F.logsigmoid(beta * (mean_nll - self.params.delta)).mean()
        retain_loss, logs = self.retain_term(model, retain)
        return LossOutput(
            self.params.gamma * forget_loss + retain_loss,
            uniform_weights(fw),
            {"forget_loss": float(forget_loss.detach()), **logs},
        )
