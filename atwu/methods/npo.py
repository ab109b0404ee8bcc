"""NPO: negative preference optimisation against the frozen starting model (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from atwu.methods.base import LossOutput, Method, RetainForgetParams, forward
from atwu.methods.ga import uniform_weights
from atwu.params import param


def sequence_logprob(fw) -> torch.Tensor:
    return (fw.logp * fw.mask).sum(-1)


@dataclass
class NPOParams(RetainForgetParams):
    beta: float = param(0.1, "inverse temperature β")


class NPO(Method):
    name = "npo"
    summary = "negative preference optimisation against the frozen starting model"
    Params = NPOParams
    needs_reference = True

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        with torch.no_grad():
            ref = sequence_logprob(forward(self.ctx.reference_model, forget))
        ratio = sequence_logprob(fw) - ref
        beta = self.params.beta
        forget_loss = -(2.0 / beta) * F.logsigmoid(-beta * ratio).mean()
        retain_loss, logs = self.retain_term(model, retain)
        return LossOutput(
            self.params.gamma * forget_loss + retain_loss,
            uniform_weights(fw),
            {"forget_loss": float(forget_loss.detach()), **logs},
        )
