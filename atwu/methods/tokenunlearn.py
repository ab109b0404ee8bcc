"""tokenunlearn: a knowledge signal from masking the question plus the entropy signal, turned into
weights by a softmax over the answer (soft) or by keeping the top share (hard).

Known (METHOD.md §2, from the abstract and summaries of arXiv 2605.00364): a token's importance
combines a *knowledge* signal obtained by masking, how much the token depends on the question's
subject, k_t = log p(y_t | q, y_<t) − log p(y_t | q masked, y_<t), with an *entropy* signal; the
importances become weights either softly or by hard selection of the most important tokens.

Our reconstruction (the paper's masking, combination, temperature and share are not known to us;
name it so in any comparison):

* Masking: the tokens of the question that name its subject (the text the answer restates from
  the question, its ``context`` spans: the author's name; the whole question text when a pair has
  none; see :mod:`atwu.data.subject`) are replaced by one neutral token, the model's pad token
  (else its EOS; ``mask_token`` picks another), keeping the length, the attention mask and the
  positions, so the answer is read at the same positions with only the subject gone. Both
  log-probabilities come from the *current* model, detached. A batch that does not say where the
  subject is (built without :func:`atwu.train.encode.forget_batch`) masks every prompt token
  instead, a BOS token the model's config names excepted.
  Why the subject and not the whole prompt: masking the whole question also hides which
  attribute is asked, so the template words lose their predictability as much as the facts do;
  on the small embedded benchmark's forget10 (20 authors, starting model) k then tells facts from
  template at AUROC 0.52, against 0.88 with the subject masked (pad token; 0.95 with EOS).
* Entropy: H_t of the current model's predictive distribution at the position that predicts t
  (as in ``etw``), detached.
* Combination: s_t = z(k_t) + z(H_t), each z-scored over the answer's own tokens (a signal that is
  equal on every token of an answer adds 0 there).
* ``selection=soft``: w_t = n·softmax(s / temperature) over the answer's n tokens (mean 1 per
  answer, so γ means the push of uniform weights). ``selection=hard``: weight 1 on the ⌈top_share
  · n⌉ highest-scoring tokens of each answer, 0 elsewhere.
* The forget loss is ATWU's saturated one with the shared α and γ, as for every heuristic here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from atwu.data.batching import IGNORE, Batch
from atwu.methods.base import MethodError, SaturatedParams, forward
from atwu.methods.per_answer import row_zscore, soft_weights, top_share
from atwu.methods.token_weighted import TokenWeightedMethod
from atwu.params import param


@dataclass
class TokenUnlearnParams(SaturatedParams):
    selection: Literal["soft", "hard"] = param(
        "soft",
        "soft: w = n·softmax(s / temperature) over each answer (mean 1); hard: weight 1 on the "
        "top_share of each answer's tokens by s, 0 elsewhere",
    )
    temperature: float = param(
        1.0, "softmax temperature of selection=soft over the summed z-scores (smaller: sharper)"
    )
    top_share: float = param(
        0.3, "share of each answer's tokens kept by selection=hard (rounded up, at least one)"
    )
    mask_token: int = param(
        -1,
        "token id that replaces the question's subject for the knowledge signal; -1: the "
        "model's pad token, else its EOS",
    )

    def validate(self) -> None:
        super().validate()
        if not self.temperature > 0:
            raise MethodError(f"tokenunlearn: temperature must be > 0, got {self.temperature}")
        if not 0 < self.top_share <= 1:
            raise MethodError(f"tokenunlearn: top_share must be in (0, 1], got {self.top_share}")
        if self.mask_token < -1:
            raise MethodError(
                f"tokenunlearn: mask_token must be a token id or -1 (the model's pad token), "
                f"got {self.mask_token}"
            )


def neutral_token(model, choice: int) -> int:
    """``choice``, or for −1 the model's pad token id, else its EOS token id."""
    if choice >= 0:
        return choice
    config = getattr(model, "config", None)
    for name in ("pad_token_id", "eos_token_id"):
        value = getattr(config, name, None)
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if value is not None:
            return int(value)
    raise MethodError(
        "tokenunlearn: the model's config names no pad or EOS token; set mask_token to a token id"
    )


def question_masked(batch: Batch, token: int, keep: int | None = None) -> Batch:
    """``batch`` with the question's subject replaced by ``token``: the positions of its
    ``subject_mask`` when it has one, else every prompt token (attended, not a label) except
    those equal to ``keep`` (a BOS)."""
    where = getattr(batch, "subject_mask", None)
    if where is None:
        where = (batch.labels == IGNORE) & batch.attention_mask.bool()
        if keep is not None:
            where = where & (batch.input_ids != keep)
    ids = batch.input_ids.masked_fill(where, token)
    return Batch(ids, batch.attention_mask, batch.labels)


class TokenUnlearn(TokenWeightedMethod):
    name = "tokenunlearn"
    summary = (
        "2026 heuristic (our reconstruction of arXiv 2605.00364): z(log p − log p with the "
        "question's subject masked) + z(entropy) per answer, soft (softmax) or hard (top share) weights, "
        "in ATWU's saturated loss"
    )
    Params = TokenUnlearnParams
    saturated = True
    role = "baseline"
    uses_entropy = True

    def knowledge(self, model, forget, fw) -> torch.Tensor:
        """k_t = log p(y_t | q, y_<t) − log p(y_t | q with its subject masked, y_<t), detached."""
        token = neutral_token(model, self.params.mask_token)
        bos = getattr(getattr(model, "config", None), "bos_token_id", None)
        masked = question_masked(forget, token, bos if isinstance(bos, int) else None)
        with torch.no_grad():
            return fw.logp.detach() - forward(model, masked).logp

    def rule(self, model, forget, fw):
        mask = fw.mask
        score = row_zscore(self.knowledge(model, forget, fw), mask) + row_zscore(fw.entropy, mask)
        if self.params.selection == "hard":
            return top_share(score, mask, self.params.top_share)
        return soft_weights(score, mask, self.params.temperature)
