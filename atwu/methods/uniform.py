"""Uniform: ATWU's saturated loss with every token weighted 1 (the ablation without scores)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.methods.base import SaturatedParams
from atwu.methods.token_weighted import TokenWeightedMethod


@dataclass
class UniformParams(SaturatedParams):
    """α and γ only."""


class Uniform(TokenWeightedMethod):
    data_parallel = True  # token means only (atwu.distributed)
    name = "uniform"
    summary = "ATWU's saturated loss with uniform weights (the ablation without learned scores)"
    Params = UniformParams
    saturated = True
    role = "ablation"
    token_level = False

    def rule(self, model, forget, fw):
        return torch.ones_like(fw.logp)
