"""GradDiff: gradient ascent on forget plus gradient descent on retain (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import LossOutput, Method, RetainForgetParams, forward, masked_mean
from atwu.methods.ga import uniform_weights


@dataclass
class GradDiffParams(RetainForgetParams):
    """α and γ only."""


class GradDiff(Method):
    name = "graddiff"
    summary = "gradient ascent on forget + gradient descent on retain"
    Params = GradDiffParams

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        forget_loss = masked_mean(fw.logp, fw.mask)
        retain_loss, logs = self.retain_term(model, retain)
        return LossOutput(
            self.params.gamma * forget_loss + retain_loss,
            uniform_weights(fw),
            {"forget_loss": float(forget_loss.detach()), **logs},
        )
