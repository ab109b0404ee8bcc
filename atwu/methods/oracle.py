"""Oracle: ATWU's saturated loss with the ground-truth weights, the reference ceiling (METHOD.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import SaturatedParams
from atwu.methods.token_weighted import TokenWeightedMethod


@dataclass
class OracleParams(SaturatedParams):
    """α and γ only."""


class Oracle(TokenWeightedMethod):
    name = "oracle"
    summary = (
        "ATWU's saturated loss with ground-truth weights (1 on fact tokens): the reference ceiling"
    )
    Params = OracleParams
    saturated = True
    role = "reference"
    needs_labels = True

    def rule(self, model, forget, fw):
        if forget.token_labels is None:
            raise ValueError("oracle needs ground-truth spans on the forget split")
        return (forget.token_labels == 1).to(fw.logp.dtype)
