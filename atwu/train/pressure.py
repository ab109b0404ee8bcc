"""Where the unlearning push went: the pressure share (METHOD.md §4.3).

Per step, a method reports c_t, the coefficient of ∇log p_t in its forget term, for every answer
token of the forget batch. The share accumulated over the steps so far,
PS = Σ_{t ∈ facts} c_t / Σ_{t ∉ context} c_t, puts token-level and sample-level methods on one axis:
1 means every bit of the push went to fact tokens, the facts' share of tokens means no preference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu import distributed


@dataclass
class PressureTally:
    """Σ c_t over fact tokens and over all scored (non-context) answer tokens, since step 0."""

    facts: float = 0.0
    scored: float = 0.0

    def add(self, pressure: torch.Tensor, labels: torch.Tensor) -> None:
        """One step's c_t (B, T-1) with the batch's token labels (1 fact, 0 other, −1 left out)."""
        c = pressure.detach().float().abs()
        # every rank's shard in a data-parallel step (atwu.distributed; else the sums themselves)
        self.facts += float(distributed.total(c[labels == 1].sum()))
        self.scored += float(distributed.total(c[labels >= 0].sum()))

    @property
    def share(self) -> float | None:
        """PS so far; None before any pressure was recorded."""
        return self.facts / self.scored if self.scored > 0 else None

    def state_dict(self) -> dict[str, float]:
        return {"facts": self.facts, "scored": self.scored}

    @classmethod
    def from_state(cls, state: dict | None) -> PressureTally:
        state = state or {}
        return cls(float(state.get("facts", 0.0)), float(state.get("scored", 0.0)))
