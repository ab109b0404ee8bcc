"""TNPO: token-wise NPO weights against the frozen starting model (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import RetainForgetParams, forward
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class TNPOParams(RetainForgetParams):
    beta: float = param(
        2.0,
        "exponent β (open-unlearning: 4; 2 won the three-value search {2, 4, 8} on the tuning "
        "benchmark's frontier, docs/TUNING.md)",
    )


class TNPO(TokenWeightedMethod):
    name = "tnpo"
    summary = "token-wise NPO weights, w_t = 2·p_t^β / (p_t^β + p_ref,t^β)"
    Params = TNPOParams
    needs_reference = True

    def rule(self, model, forget, fw):
        p = fw.logp.detach().exp().pow(self.params.beta)
        ref = forward(self.ctx.reference_model, forget).logp.exp().pow(self.params.beta)
        return 2 * p / (p + ref).clamp(min=1e-12)
