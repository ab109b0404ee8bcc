"""static_p: w_t = 1 − p_ref,t from the frozen starting model, in ATWU's saturated loss.

The free heuristic a learned scorer must beat (METHOD.md §2): a memorising model is least sure of
the facts, so these weights already rank facts above template tokens on the embedded benchmark.

On a memorised model 1 − p_ref is about 0.003 on every token, so in the literal form the loss
barely moves the model at any γ a strength sweep tries (measured: forget NLL +0.01 where uniform
weights give +4 in the same 24 steps). By default the weights are therefore divided by their mean
over the batch's answer tokens (``scale=mean1``): the ranking, which is the heuristic, is kept, and
γ means the same push as for uniform weights; ``scale=raw`` is the literal form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from atwu.methods.base import SaturatedParams, forward, masked_mean
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class StaticPParams(SaturatedParams):
    scale: Literal["mean1", "raw"] = param(
        "mean1",
        "mean1: 1 − p_ref divided by its mean over the batch's answer tokens (rank kept, push "
        "comparable to uniform weights); raw: the literal 1 − p_ref (≈ 0.003 on a memorised model)",
    )


class StaticP(TokenWeightedMethod):
    name = "static_p"
    summary = "static heuristic: w_t = 1 − p_t of the starting model, in ATWU's saturated loss"
    Params = StaticPParams
    saturated = True
    # a free heuristic from the literature's toolbox, not a part of ATWU taken away: a rival
    role = "baseline"
    needs_reference = True

    def rule(self, model, forget, fw):
        weights = 1 - forward(self.ctx.reference_model, forget).logp.exp()
        if self.params.scale == "mean1":
            weights = weights / masked_mean(weights, fw.mask).clamp(min=1e-12)
        return weights
