"""Auxiliary-model weighting in ATWU's saturated loss: forget what a model that never saw the data
cannot predict. Our design in the spirit of TIF ("Not All Tokens Are Meant To Be Forgotten"), not
TIF's own loss (TIF uses a logit-preference loss on the marked words); METHOD.md §2."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.methods.base import SaturatedParams, forward
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class AuxParams(SaturatedParams):
    kappa: float = param(1.0, "sharpness κ of w_t = sigmoid(κ·(log p_t − log p_aux,t))")


class Aux(TokenWeightedMethod):
    name = "aux"
    summary = (
        "auxiliary-model weights in ATWU's saturated loss (our TIF-style design, not TIF's "
        "loss): forget what a model that never saw the data cannot predict"
    )
    Params = AuxParams
    needs_aux = True
    saturated = True

    def rule(self, model, forget, fw):
        aux = forward(self.ctx.aux_model, forget).logp
        return torch.sigmoid(self.params.kappa * (fw.logp.detach() - aux))
