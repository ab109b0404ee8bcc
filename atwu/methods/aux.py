"""Auxiliary-model weighting in the spirit of TIF: forget what a model that never saw the data
cannot predict (METHOD.md §2; our design, not TIF's own loss)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.methods.base import RetainForgetParams, forward
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class AuxParams(RetainForgetParams):
    kappa: float = param(1.0, "sharpness κ of w_t = sigmoid(κ·(log p_t − log p_aux,t))")


class Aux(TokenWeightedMethod):
    name = "aux"
    summary = "auxiliary-model weighting (TIF family): forget what a model that never saw the data cannot predict"
    Params = AuxParams
    needs_aux = True
    saturated = True

    def rule(self, model, forget, fw):
        aux = forward(self.ctx.aux_model, forget).logp
        return torch.sigmoid(self.params.kappa * (fw.logp.detach() - aux))
