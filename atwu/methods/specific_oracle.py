"""specific_oracle: the oracle restricted to ``specific`` facts, the reference for neighbour damage.

METHOD.md §4.6: ATWU's saturated loss with weight 1 on the tokens of ``specific`` fact spans (a
value only this author has) and 0 on everything else, ``shared`` facts included. The oracle also
pushes the shared values (a city, a genre) that retain authors have too; this reference does not,
so its neighbour damage is what a method that knows which facts are safe to push would do. Nothing
here is reconstructed: the weights are the labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from atwu.data.labels import KIND_CODES
from atwu.methods.base import SaturatedParams
from atwu.methods.ground_truth import kinds_of, labels_of
from atwu.methods.token_weighted import TokenWeightedMethod


@dataclass
class SpecificOracleParams(SaturatedParams):
    """α and γ only."""


class SpecificOracle(TokenWeightedMethod):
    name = "specific_oracle"
    summary = (
        "reference: ATWU's saturated loss with weight 1 on `specific` fact tokens only "
        "(shared facts and template 0)"
    )
    Params = SpecificOracleParams
    saturated = True
    role = "reference"
    needs_labels = True

    def rule(self, model, forget, fw):
        facts = labels_of(forget, self.name) == 1
        specific = kinds_of(forget, self.name) == KIND_CODES["specific"]
        return (facts & specific).to(fw.logp.dtype)
