"""template_only: weight 1 on template tokens only, the reference that forgets the wrong thing.

METHOD.md §4.6: ATWU's saturated loss with weight 1 on the answer's template tokens (label 0: in
no span, so neither a fact nor a value restated from the question) and 0 on facts, context and the
end-of-answer markers. The FFE gate runs it: a fact-forgetting metric must stay low for it while
its template damage is high. Nothing here is reconstructed: the weights are the labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import SaturatedParams
from atwu.methods.ground_truth import labels_of
from atwu.methods.token_weighted import TokenWeightedMethod


@dataclass
class TemplateOnlyParams(SaturatedParams):
    """α and γ only."""


class TemplateOnly(TokenWeightedMethod):
    name = "template_only"
    summary = "reference: ATWU's saturated loss with weight 1 on template tokens only (facts 0)"
    Params = TemplateOnlyParams
    saturated = True
    role = "reference"
    needs_labels = True

    def rule(self, model, forget, fw):
        return (labels_of(forget, self.name) == 0).to(fw.logp.dtype)
