"""RMU: representation misdirection, steering forget activations to a random direction (METHOD.md §2).

Forget: mean over the steered positions of ‖h_t − c·u‖² at one layer (u a fixed random unit
vector); retain: ‖h_r − h_r^frozen‖² at the same layer. Two reconstruction choices are options:
the steering scale (adaptive: c times the frozen model's mean activation norm, so one c fits models
whose activation norms differ by orders of magnitude; absolute: c as given, as the original RMU),
and the steered positions (the answer tokens, or every token of the forget sequence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from atwu.methods.base import LossOutput, Method, MethodError, forward, masked_mean
from atwu.methods.ga import uniform_weights
from atwu.params import param


@dataclass
class RMUParams:
    layer: int = param(
        -2,
        "index into the model's hidden_states tuple: 0 is the embedding output, k the output of "
        "decoder block k (1-based), -1 the last (after the final norm on most models). -2 is the "
        "middle of the tiny 2-layer models; RMU's reference setting on Llama-3-8B (block 7 of 32, "
        "0-based, as in open-unlearning) is 8; about a third of the depth in general",
    )
    steering_coeff: float = param(
        2.0, "c: forget activations are pushed to c·u (absolute) or c·(mean activation norm)·u"
    )
    coeff_mode: Literal["adaptive", "absolute"] = param(
        "adaptive",
        "adaptive: c times the frozen model's mean forget-activation norm; absolute: c as given "
        "(the original RMU, whose c is tuned per model, e.g. 6.5 for Zephyr-7B)",
    )
    positions: Literal["answer", "all"] = param(
        "answer", "steered positions: the answer tokens, or every token of the forget sequence"
    )
    alpha: float = param(1.0, "weight of keeping retain activations equal to the frozen model's")
    seed: int = param(0, "seed of the random direction u")

    def validate(self) -> None:
        if not 0 <= self.alpha < float("inf"):
            raise MethodError(f"rmu: alpha must be a finite number ≥ 0, got {self.alpha}")


class RMU(Method):
    name = "rmu"
    summary = "representation misdirection: steer forget activations to a random direction"
    Params = RMUParams
    needs_reference = True
    strength_param = "steering_coeff"  # its forget loss has no γ: c sets how hard it pushes
    no_pressure_reason = (
        "RMU's forget loss acts on hidden states, not on token probabilities: no ∇log p_t term"
    )

    def __init__(self, params, ctx):
        super().__init__(params, ctx)
        gen = torch.Generator().manual_seed(params.seed)
        u = torch.rand(ctx.hidden_size, generator=gen)
        self.direction = (u / u.norm()).to(ctx.device)
        self.scale: float | None = None

    def _positions(self, fw, batch) -> torch.Tensor:
        if self.params.positions == "all":
            return batch.attention_mask[:, :-1].bool()
        return fw.mask

    def compute(self, model, forget, retain, step):
        layer = self.params.layer
        fw = forward(model, forget, hidden_layer=layer)
        assert fw.hidden is not None  # asked for with hidden_layer
        steered = self._positions(fw, forget)
        if self.scale is None:
            if self.params.coeff_mode == "absolute":
                self.scale = 1.0
            else:
                with torch.no_grad():
                    ref_h = forward(self.ctx.reference_model, forget, hidden_layer=layer).hidden
                    assert ref_h is not None
                    self.scale = float(ref_h[steered].norm(dim=-1).mean())
        target = self.params.steering_coeff * self.scale * self.direction
        forget_loss = masked_mean((fw.hidden.float() - target).pow(2).mean(-1), steered)
        logs = {"forget_loss": float(forget_loss.detach())}
        retain_term = torch.zeros((), device=forget_loss.device)
        if retain is not None and self.params.alpha:
            rw = forward(model, retain, hidden_layer=layer)
            with torch.no_grad():
                ref = forward(self.ctx.reference_model, retain, hidden_layer=layer).hidden
            assert rw.hidden is not None and ref is not None
            retain_loss = masked_mean((rw.hidden.float() - ref.float()).pow(2).mean(-1), rw.mask)
            retain_term = self.params.alpha * retain_loss
            logs["retain_loss"] = float(retain_loss.detach())
        return LossOutput(forget_loss, retain_term, uniform_weights(fw), None, logs)

    def state_dict(self) -> dict:
        # the adaptive scale is measured on the first batch: a resumed run must keep it
        return {"scale": self.scale}

    def load_state_dict(self, state: dict) -> None:
        self.scale = state.get("scale")
