"""Token-weighting baselines: a fixed rule turns each token's probability into its weight.

Each is ``weights(...)`` plus the forget loss it feeds: gradient ascent (WGA, SatImp, TNPO) or
ATWU's saturated loss f_t = p_t (aux, oracle, uniform), then + α·L_ret (METHOD.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.data.batching import Batch
from atwu.methods.base import (ForgetBatch, LossOutput, Method, RetainForgetParams, forward,
                               masked_mean, param)
from atwu.methods.registry import register


class TokenWeightedMethod(Method):
    """Shared shape: weights from a rule, forget loss = γ·mean w_t·g_t, plus the retain term."""

    token_weighting = True
    saturated = False  # g_t = p_t (saturated) when True, g_t = log p_t (ascent) when False

    def rule(self, model, forget: ForgetBatch, fw) -> torch.Tensor:
        raise NotImplementedError

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        with torch.no_grad():
            weights = self.rule(model, forget, fw)
        per_token = fw.logp.exp() if self.saturated else fw.logp
        forget_loss = masked_mean(weights * per_token, fw.mask)
        retain_loss, logs = self.retain_term(model, retain)
        gamma = getattr(self.params, "gamma", 1.0)
        return LossOutput(gamma * forget_loss + retain_loss, weights,
                          {"forget_loss": float(forget_loss.detach()),
                           "mean_weight": float(weights[fw.mask].mean()), **logs})

    @torch.no_grad()
    def token_weights(self, model, forget):
        fw = forward(model, forget)
        return self.rule(model, forget, fw), fw.mask


@dataclass
class WGAParams(RetainForgetParams):
    beta: float = param(1.0, "w_t = p_t^β (1 as in open-unlearning; 5 in the original paper)")


@register
class WGA(TokenWeightedMethod):
    name = "wga"
    summary = "weighted gradient ascent, w_t = sg(p_t)^β"
    Params = WGAParams

    def rule(self, model, forget, fw):
        return fw.logp.detach().exp().pow(self.params.beta)


@dataclass
class SatImpParams(RetainForgetParams):
    beta1: float = param(5.0, "exponent on p_t")
    beta2: float = param(1.0, "exponent on 1 − p_t")
    gamma: float = param(0.1, "weight of the forget term")


@register
class SatImp(TokenWeightedMethod):
    name = "satimp"
    summary = "saturation-importance weights, w_t = sg(p_t)^β1·sg(1 − p_t)^β2"
    Params = SatImpParams

    def rule(self, model, forget, fw):
        p = fw.logp.detach().exp()
        return p.pow(self.params.beta1) * (1 - p).pow(self.params.beta2)


@dataclass
class TNPOParams(RetainForgetParams):
    beta: float = param(4.0, "exponent β")


@register
class TNPO(TokenWeightedMethod):
    name = "tnpo"
    summary = "token-wise NPO weights, w_t = 2·p_t^β / (p_t^β + p_ref,t^β)"
    Params = TNPOParams
    needs_reference = True

    def rule(self, model, forget, fw):
        p = fw.logp.detach().exp().pow(self.params.beta)
        ref = forward(self.ctx.reference_model, forget).logp.exp().pow(self.params.beta)
        return 2 * p / (p + ref).clamp(min=1e-12)


@dataclass
class AuxParams(RetainForgetParams):
    kappa: float = param(1.0, "sharpness κ of w_t = sigmoid(κ·(log p_t − log p_aux,t))")


@register
class Aux(TokenWeightedMethod):
    name = "aux"
    summary = "auxiliary-model weighting (TIF family): forget what a model that never saw the data cannot predict"
    Params = AuxParams
    needs_aux = True
    saturated = True

    def rule(self, model, forget, fw):
        aux = forward(self.ctx.aux_model, forget).logp
        return torch.sigmoid(self.params.kappa * (fw.logp.detach() - aux))


@dataclass
class OracleParams(RetainForgetParams):
    """α and γ only."""


@register
class Oracle(TokenWeightedMethod):
    name = "oracle"
    summary = "ATWU's saturated loss with ground-truth weights (1 on fact tokens): the reference ceiling"
    Params = OracleParams
    saturated = True

    def rule(self, model, forget, fw):
        if forget.token_labels is None:
            raise ValueError("oracle needs ground-truth spans on the forget split")
        return (forget.token_labels == 1).to(fw.logp.dtype)


@dataclass
class UniformParams(RetainForgetParams):
    """α and γ only."""


@register
class Uniform(TokenWeightedMethod):
    name = "uniform"
    summary = "ATWU's saturated loss with uniform weights (the ablation without learned scores)"
    Params = UniformParams
    saturated = True
    token_weighting = False

    def rule(self, model, forget, fw):
        return torch.ones_like(fw.logp)
