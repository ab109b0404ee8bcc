"""threshold: w_t = σ(k·(τ − sg(p_t))) with ATWU's τ and no scorer, in ATWU's saturated loss.

The second free heuristic (METHOD.md §2): it selects, by the current probability alone, the tokens
ATWU's scorer step would select if it could see nothing but p_t.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.methods.base import MethodError, SaturatedParams, masked_mean
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class ThresholdParams(SaturatedParams):
    k: float = param(20.0, "sharpness k of w_t = σ(k·(τ − p_t))")
    tau: str = param("batch_mean", "τ: 'batch_mean' (ATWU's default) or a number")

    def validate(self) -> None:
        super().validate()
        if self.tau != "batch_mean":
            try:
                float(self.tau)
            except ValueError:
                raise MethodError(
                    f"threshold: tau must be 'batch_mean' or a number, got {self.tau!r}"
                ) from None


class Threshold(TokenWeightedMethod):
    name = "threshold"
    summary = "static heuristic: w_t = σ(k·(τ − p_t)) with ATWU's τ, in ATWU's saturated loss"
    Params = ThresholdParams
    saturated = True
    # a free heuristic from the literature's toolbox, not a part of ATWU taken away: a rival
    role = "baseline"

    def rule(self, model, forget, fw):
        p = fw.logp.detach().exp()
        if self.params.tau == "batch_mean":
            tau = masked_mean(p, fw.mask)
        else:
            tau = torch.tensor(float(self.params.tau), device=p.device)
        return torch.sigmoid(self.params.k * (tau - p))
