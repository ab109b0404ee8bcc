"""WGA: weighted gradient ascent, w_t = sg(p_t)^β (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import RetainForgetParams
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class WGAParams(RetainForgetParams):
    beta: float = param(
        1.0,
        "w_t = p_t^β. β = 1 is open-unlearning's setting, and its gradient is exactly that of "
        "`uniform` (p·∇log p = ∇p) at equal α and γ; β = 5 (the variant `wga_b5`) is the one "
        "that weighs tokens differently",
    )


class WGA(TokenWeightedMethod):
    name = "wga"
    summary = "weighted gradient ascent, w_t = sg(p_t)^β"
    Params = WGAParams

    def rule(self, model, forget, fw):
        return fw.logp.detach().exp().pow(self.params.beta)
