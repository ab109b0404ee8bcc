"""shuffled_oracle: as many weighted tokens as the oracle in each answer, at random positions.

METHOD.md §4.6: ATWU's saturated loss with weight 1 on as many tokens of each answer as the oracle
weighs there (its fact tokens), at random non-context positions of that answer, fixed per example
and seed; 0 elsewhere. It pushes as much as the oracle, on the wrong tokens: the targeting gate
asks that the oracle does less template damage than this.

Our choices where §4.6 is silent:

* The candidate positions are the answer tokens the alignment metrics score, labels 1 and 0 (facts
  and template); context tokens and the end-of-answer markers (label −1) are never drawn. A draw
  may land on a fact token: the positions are random, not "anything but facts".
* "Fixed per example and seed": the positions come from a hash of the example's token ids and the
  run's seed (``MethodContext.seed``), not from a random stream, so the same example gets the same
  positions at every step, in every batch it is drawn into, and after ``--resume``; another seed
  draws other positions.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import torch

from atwu.methods.base import SaturatedParams
from atwu.methods.ground_truth import labels_of
from atwu.methods.token_weighted import TokenWeightedMethod


@dataclass
class ShuffledOracleParams(SaturatedParams):
    """α and γ only (the positions depend on the run's seed)."""


def example_key(input_ids: torch.Tensor, seed: int) -> int:
    """A 64-bit key from one example's token ids (unpadded) and a seed: the same on every step,
    device and process (Python's ``hash`` is salted per process, so it cannot serve)."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(str(int(seed)).encode())
    digest.update(b":")
    digest.update(",".join(str(int(t)) for t in input_ids.tolist()).encode())
    return int.from_bytes(digest.digest(), "little")


def shuffled_positions(
    input_ids: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, seed: int
) -> list[int]:
    """Target indices of one example that get weight 1: as many as it has fact tokens (label 1),
    drawn without replacement among its scored answer tokens (labels 0 and 1), sorted."""
    scored = ((labels == 0) | (labels == 1)) & mask
    candidates = scored.nonzero().flatten().tolist()
    n = int(((labels == 1) & mask).sum())
    return sorted(random.Random(example_key(input_ids, seed)).sample(candidates, n))


class ShuffledOracle(TokenWeightedMethod):
    name = "shuffled_oracle"
    summary = (
        "reference: in each answer as many weight-1 tokens as the oracle, at random non-context "
        "positions fixed per example and seed, in ATWU's saturated loss"
    )
    Params = ShuffledOracleParams
    saturated = True
    role = "reference"
    needs_labels = True

    def rule(self, model, forget, fw):
        labels = labels_of(forget, self.name)
        lengths = forget.attention_mask.sum(dim=1).tolist()
        weights = torch.zeros_like(fw.logp)
        for i, length in enumerate(lengths):
            ids = forget.input_ids[i, : int(length)]  # right-padded: the example's own tokens
            chosen = shuffled_positions(ids, labels[i], fw.mask[i], self.ctx.seed)
            weights[i, chosen] = 1.0
        return weights
