"""Sample-level baselines: every answer token gets the same weight (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from atwu.data.batching import Batch
from atwu.methods.base import (ForgetBatch, LossOutput, Method, RetainForgetParams, forward,
                               masked_mean, param)
from atwu.methods.registry import register


def _ones(fw) -> torch.Tensor:
    return torch.ones_like(fw.logp)


@dataclass
class GAParams:
    pass


@register
class GA(Method):
    name = "ga"
    summary = "gradient ascent on the forget NLL, no retain term"
    Params = GAParams
    uses_retain = False

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        fw = forward(model, forget)
        loss = masked_mean(fw.logp, fw.mask)  # minimising log p = ascending the NLL
        return LossOutput(loss, _ones(fw), {"forget_loss": float(loss.detach())})


@dataclass
class GradDiffParams(RetainForgetParams):
    """α and γ only."""


@register
class GradDiff(Method):
    name = "graddiff"
    summary = "gradient ascent on forget + gradient descent on retain"
    Params = GradDiffParams

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        forget_loss = masked_mean(fw.logp, fw.mask)
        retain_loss, logs = self.retain_term(model, retain)
        return LossOutput(self.params.gamma * forget_loss + retain_loss, _ones(fw),
                          {"forget_loss": float(forget_loss.detach()), **logs})


def sequence_logprob(fw) -> torch.Tensor:
    return (fw.logp * fw.mask).sum(-1)


@dataclass
class NPOParams(RetainForgetParams):
    beta: float = param(0.1, "inverse temperature β")


@register
class NPO(Method):
    name = "npo"
    summary = "negative preference optimisation against the frozen starting model"
    Params = NPOParams
    needs_reference = True

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        with torch.no_grad():
            ref = sequence_logprob(forward(self.ctx.reference_model, forget))
        ratio = sequence_logprob(fw) - ref
        beta = self.params.beta
        forget_loss = -(2.0 / beta) * F.logsigmoid(-beta * ratio).mean()
        retain_loss, logs = self.retain_term(model, retain)
        return LossOutput(self.params.gamma * forget_loss + retain_loss, _ones(fw),
                          {"forget_loss": float(forget_loss.detach()), **logs})


@dataclass
class SimNPOParams(RetainForgetParams):
    beta: float = param(4.5, "inverse temperature β")
    delta: float = param(0.0, "reward margin δ")
    gamma: float = param(0.125, "weight of the forget term")


@register
class SimNPO(Method):
    name = "simnpo"
    summary = "length-normalised NPO without a reference model"
    Params = SimNPOParams

    def compute(self, model, forget, retain, step):
        fw = forward(model, forget)
        lengths = fw.mask.sum(-1).clamp(min=1)
        mean_nll = -sequence_logprob(fw) / lengths
        beta = self.params.beta
        forget_loss = -(2.0 / beta) * F.logsigmoid(beta * (mean_nll - self.params.delta)).mean()
        retain_loss, logs = self.retain_term(model, retain)
        return LossOutput(self.params.gamma * forget_loss + retain_loss, _ones(fw),
                          {"forget_loss": float(forget_loss.detach()), **logs})


@dataclass
class RMUParams:
    layer: int = param(-2, "hidden_states index whose activations are steered (-2: the middle of a 2-layer model; "
                           "use about a third of the depth on large models)")
    steering_coeff: float = param(2.0, "c: forget activations are pushed to c·(mean activation norm)·u")
    alpha: float = param(1.0, "weight of keeping retain activations equal to the frozen model's")
    seed: int = param(0, "seed of the random direction u")


@register
class RMU(Method):
    name = "rmu"
    summary = "representation misdirection: steer forget activations to a random direction"
    Params = RMUParams
    needs_reference = True

    def __init__(self, params, ctx):
        super().__init__(params, ctx)
        gen = torch.Generator().manual_seed(params.seed)
        u = torch.rand(ctx.hidden_size, generator=gen)
        self.direction = (u / u.norm()).to(ctx.device)
        self.scale: float | None = None

    def compute(self, model, forget, retain, step):
        layer = self.params.layer
        fw = forward(model, forget, hidden_layer=layer)
        if self.scale is None:
            # "c scaled to the model": activation norms differ by orders of magnitude across
            # models, so c multiplies the frozen model's mean forget activation norm.
            with torch.no_grad():
                ref_h = forward(self.ctx.reference_model, forget, hidden_layer=layer).hidden
                self.scale = float(ref_h[fw.mask].norm(dim=-1).mean())
        target = self.params.steering_coeff * self.scale * self.direction
        forget_loss = masked_mean((fw.hidden.float() - target).pow(2).mean(-1), fw.mask)
        logs = {"forget_loss": float(forget_loss.detach())}
        loss = forget_loss
        if retain is not None and self.params.alpha:
            rw = forward(model, retain, hidden_layer=layer)
            with torch.no_grad():
                ref = forward(self.ctx.reference_model, retain, hidden_layer=layer).hidden
            retain_loss = masked_mean((rw.hidden.float() - ref.float()).pow(2).mean(-1), rw.mask)
            loss = loss + self.params.alpha * retain_loss
            logs["retain_loss"] = float(retain_loss.detach())
        return LossOutput(loss, _ones(fw), logs)
