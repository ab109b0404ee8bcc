"""NPO: negative preference optimisation against the frozen starting model (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from atwu.methods.base import Forward, LossOutput, Method, RetainForgetParams, forward
from atwu.methods.ga import uniform_weights
from atwu.params import param


def sequence_logprob(fw: Forward) -> torch.Tensor:
    """Σ_t log p_t over each sequence's completion tokens: (B,)."""
    return (fw.logp * fw.mask).sum(-1)


def per_sequence(values: torch.Tensor, fw: Forward) -> torch.Tensor:
    """A per-sequence value (B,) spread over that sequence's completion tokens (B, T-1)."""
    return values[:, None].expand_as(fw.logp) * fw.mask


@dataclass
class NPOParams(RetainForgetParams):
    beta: float = param(
        0.5,
        "inverse temperature β (open-unlearning: 0.1; 0.5 won the three-value search "
        "{0.05, 0.1, 0.5} on the tuning benchmark's frontier, docs/TUNING.md)",
    )


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
        beta, gamma = self.params.beta, self.params.gamma
        forget_loss = -(2.0 / beta) * F.logsigmoid(-beta * ratio).mean()
        # ∂/∂log p_t of −(2/β)·log σ(−β·Δ) is 2σ(β·Δ), the same for every token of the sequence
        batch = ratio.shape[0]
        pressure = per_sequence(gamma * 2 * torch.sigmoid(beta * ratio.detach()) / batch, fw)
        retain_term, logs = self.retain_term(model, retain)
        logs = {"forget_loss": float(forget_loss.detach()), **logs}
        return LossOutput(gamma * forget_loss, retain_term, uniform_weights(fw), pressure, logs)
