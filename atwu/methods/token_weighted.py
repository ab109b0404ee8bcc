"""The shape every rule-based token-weighting method shares: a fixed rule turns each token's
probability into its weight, and the weights multiply a per-token forget loss: gradient ascent
(WGA, SatImp, TNPO) or ATWU's saturated loss f_t = p_t (aux, oracle, uniform, static heuristics),
then + α·L_ret (METHOD.md §2). A method of this kind is a params dataclass plus :meth:`rule`.
"""

from __future__ import annotations

import torch

from atwu import distributed
from atwu.data.batching import Batch
from atwu.methods.base import ForgetBatch, Forward, LossOutput, Method, forward, weighted_forget


class TokenWeightedMethod(Method):
    """Shared shape: weights from a rule, forget loss = γ·mean w_t·g_t, plus the retain term."""

    token_level = True
    saturated = False  # g_t = p_t (saturated) when True, g_t = log p_t (ascent) when False
    uses_entropy = False  # the rule reads ``fw.entropy`` (computed in the same forward pass)

    def rule(self, model, forget: ForgetBatch, fw: Forward) -> torch.Tensor:
        """The weights w_t (no gradient flows through them)."""
        raise NotImplementedError

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        fw = forward(model, forget, entropy=self.uses_entropy)
        with torch.no_grad():
            weights = self.rule(model, forget, fw)
        gamma = getattr(self.params, "gamma", 1.0)
        forget_term, pressure = weighted_forget(fw, weights, gamma, saturated=self.saturated)
        retain_term, logs = self.retain_term(model, retain)
        logs = {
            "forget_loss": float(forget_term.detach()) / gamma if gamma else 0.0,
            "mean_weight": float(distributed.mean_of(weights[fw.mask])),
            **logs,
        }
        return LossOutput(forget_term, retain_term, weights, pressure, logs)

    @torch.no_grad()
    def token_weights(self, model, forget):
        fw = forward(model, forget, entropy=self.uses_entropy)
        return self.rule(model, forget, fw), fw.mask
