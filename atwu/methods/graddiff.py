"""GradDiff: gradient ascent on forget plus gradient descent on retain (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import LossOutput, Method, RetainForgetParams, forward, weighted_forget
from atwu.methods.ga import uniform_weights


@dataclass
class GradDiffParams(RetainForgetParams):
    """α and γ only."""


class GradDiff(Method):
    data_parallel = True  # token means only (atwu.distributed)
    name = "graddiff"
    summary = "gradient ascent on forget + gradient descent on retain"
    Params = GradDiffParams

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        weights = uniform_weights(fw)
        forget_term, pressure = weighted_forget(fw, weights, self.params.gamma, saturated=False)
        retain_term, logs = self.retain_term(model, retain)
        logs = {"forget_loss": float(forget_term.detach()) / max(self.params.gamma, 1e-12), **logs}
        return LossOutput(forget_term, retain_term, weights, pressure, logs)
