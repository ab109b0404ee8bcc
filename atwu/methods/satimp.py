"""SatImp: saturation-importance weights, w_t = sg(p_t)^β1·sg(1 − p_t)^β2 (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import RetainForgetParams
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class SatImpParams(RetainForgetParams):
    beta1: float = param(5.0, "exponent on p_t")
    beta2: float = param(1.0, "exponent on 1 − p_t")
    gamma: float = param(1.0, "weight of the forget term (its authors: forget 10 : retain 1)")
    alpha: float = param(
        0.1,
        "weight of the retain NLL term (its authors: 0.1; open-unlearning's config file has "
        "gamma=0.1, alpha=1, a hundredth of that ratio: the variant `satimp_ou`)",
    )


class SatImp(TokenWeightedMethod):
    name = "satimp"
    summary = "saturation-importance weights, w_t = sg(p_t)^β1·sg(1 − p_t)^β2"
    Params = SatImpParams

    def rule(self, model, forget, fw):
        p = fw.logp.detach().exp()
        return p.pow(self.params.beta1) * (1 - p).pow(self.params.beta2)
