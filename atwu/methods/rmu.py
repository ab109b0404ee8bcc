"""RMU: representation misdirection, steering forget activations to a random direction (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.methods.base import LossOutput, Method, forward, masked_mean
from atwu.methods.ga import uniform_weights
from atwu.params import param


@dataclass
class RMUParams:
    layer: int = param(
        -2,
        "hidden_states index whose activations are steered (-2: the middle of a 2-layer model; "
        "use about a third of the depth on large models)",
    )
    steering_coeff: float = param(
        2.0, "c: forget activations are pushed to c·(mean activation norm)·u"
    )
    alpha: float = param(1.0, "weight of keeping retain activations equal to the frozen model's")
    seed: int = param(0, "seed of the random direction u")


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
        return LossOutput(loss, uniform_weights(fw), logs)
