"""The shape every rule-based token-weighting method shares: a fixed rule turns each token's
probability into its weight, and the weights multiply a per-token forget loss: gradient ascent
(WGA, SatImp, TNPO) or ATWU's saturated loss f_t = p_t (aux, oracle, uniform, static heuristics),
then + α·L_ret (METHOD.md §2). A method of this kind is a params dataclass plus :meth:`rule`.
"""

from __future__ import annotations

import torch

from atwu.methods.base import ForgetBatch, LossOutput, Method, forward, masked_mean


class TokenWeightedMethod(Method):
    """Shared shape: weights from a rule, forget loss = γ·mean w_t·g_t, plus the retain term."""

    token_level = True
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
        return LossOutput(
            gamma * forget_loss + retain_loss,
            weights,
            {
                "forget_loss": float(forget_loss.detach()),
                "mean_weight": float(weights[fw.mask].mean()),
                **logs,
            },
        )

    @torch.no_grad()
    def token_weights(self, model, forget):
        fw = forward(model, forget)
        return self.rule(model, forget, fw), fw.mask
