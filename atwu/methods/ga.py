"""GA: gradient ascent on the forget NLL, no retain term (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.data.batching import Batch
from atwu.methods.base import ForgetBatch, LossOutput, Method, forward, masked_mean


def uniform_weights(fw) -> torch.Tensor:
    """Sample-level methods weigh every answer token alike."""
    return torch.ones_like(fw.logp)


@dataclass
class GAParams:
    pass


class GA(Method):
    name = "ga"
    summary = "gradient ascent on the forget NLL, no retain term"
    Params = GAParams
    uses_retain = False

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        fw = forward(model, forget)
        loss = masked_mean(fw.logp, fw.mask)  # minimising log p = ascending the NLL
        return LossOutput(loss, uniform_weights(fw), {"forget_loss": float(loss.detach())})
