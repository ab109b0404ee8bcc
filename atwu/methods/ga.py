"""GA: gradient ascent on the forget NLL, no retain term (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.data.batching import Batch
from atwu.methods.base import ForgetBatch, Forward, LossOutput, Method, forward, weighted_forget


def uniform_weights(fw: Forward) -> torch.Tensor:
    """Sample-level methods weigh every answer token alike."""
    return torch.ones_like(fw.logp)


@dataclass
class GAParams:
    """No parameter: GA's strength is its learning rate (METHOD.md §4.6)."""


class GA(Method):
    data_parallel = True  # token means only (atwu.distributed)
    name = "ga"
    summary = "gradient ascent on the forget NLL, no retain term"
    Params = GAParams
    uses_retain = False
    strength_param = "lr"  # no retain term: no γ/α to scale

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        fw = forward(model, forget)
        weights = uniform_weights(fw)
        forget_term, pressure = weighted_forget(fw, weights, 1.0, saturated=False)
        zero = torch.zeros((), device=forget_term.device)
        return LossOutput(
            forget_term, zero, weights, pressure, {"forget_loss": float(forget_term.detach())}
        )
