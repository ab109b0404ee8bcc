"""etw: entropy-guided token weights, w_t = H_t / (mean H over the answer), in ATWU's saturated loss.

Known (METHOD.md §2, from the abstract and summaries of "Entropy-guided Token Weighting", arXiv
2604.17785): each answer token is weighted by the entropy of the model's predictive distribution
at the position that predicts it, so the unlearning push goes to the tokens the model is least
certain about.

Our reconstruction (the paper's own loss and normalisation are not known to us; name it so in
any comparison):

* H_t is the entropy, in nats, of the *current* model's distribution over the whole vocabulary at
  the position that predicts token t, detached (no gradient flows through the weights). It comes
  from the same forward pass as the loss.
* The weights are divided by their mean over the answer's own tokens (answer text and the
  end-of-answer tokens), so each answer's weights have mean 1: γ means the same push as uniform
  weights, and only the ranking is the heuristic.
* The forget loss is ATWU's saturated one, with the α and γ every heuristic here shares, so that
  only the weights differ from uniform, oracle, static_p and ATWU.
"""

from __future__ import annotations

from dataclasses import dataclass

from atwu.methods.base import SaturatedParams
from atwu.methods.per_answer import row_mean
from atwu.methods.token_weighted import TokenWeightedMethod


@dataclass
class ETWParams(SaturatedParams):
    """α and γ only."""


class ETW(TokenWeightedMethod):
    name = "etw"
    summary = (
        "2026 heuristic (our reconstruction of Entropy-guided Token Weighting): w_t = H_t / mean H "
        "over the answer, H_t the current model's predictive entropy, in ATWU's saturated loss"
    )
    Params = ETWParams
    saturated = True
    role = "baseline"
    uses_entropy = True

    def rule(self, model, forget, fw):
        entropy = fw.entropy * fw.mask
        return entropy / row_mean(entropy, fw.mask).clamp(min=1e-12)
