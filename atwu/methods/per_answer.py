"""Statistics over each answer's own tokens (one row of a batch, its completion tokens), for the
rules that normalise per answer rather than over the batch (``etw``, ``tokenunlearn``).

Every function takes ``values`` and ``mask`` of shape (B, T-1), ``mask`` True on the answer's
tokens, and returns 0 outside the mask, so a padded position never takes part.
"""

from __future__ import annotations

import math

import torch


def row_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, 1): each answer's mean over its tokens (0 for an answer without tokens)."""
    m = mask.to(values.dtype)
    return (values * m).sum(dim=1, keepdim=True) / m.sum(dim=1, keepdim=True).clamp(min=1)


def row_zscore(values: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(v − mean) / std within each answer (population std); 0 where an answer's values are all
    equal, so a signal that tells its tokens nothing apart adds nothing."""
    m = mask.to(values.dtype)
    centred = (values - row_mean(values, mask)) * m
    std = row_mean(centred**2, mask).sqrt()
    return torch.where(std > eps, centred / std.clamp(min=eps), torch.zeros_like(centred))


def soft_weights(scores: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """n·softmax(s / T) over each answer's n tokens: the answer's weights have mean 1, so the
    forget term pushes as hard as uniform weights at the same γ and only the ranking differs."""
    logits = (scores / temperature).masked_fill(~mask, float("-inf"))
    n = mask.sum(dim=1, keepdim=True).to(scores.dtype)
    probs = torch.softmax(logits, dim=1).nan_to_num(0.0)  # an answer without tokens: all 0
    return probs * n * mask.to(scores.dtype)


def top_share(scores: torch.Tensor, mask: torch.Tensor, share: float) -> torch.Tensor:
    """1 on the ⌈share·n⌉ highest-scoring of each answer's n tokens, 0 elsewhere (of tied
    scores the earlier tokens)."""
    weights = torch.zeros_like(scores)
    ranked = scores.masked_fill(~mask, float("-inf"))
    for i in range(scores.shape[0]):
        n = int(mask[i].sum())
        # the 1e-9 keeps 0.3·10 = 3.0000000000000004 from rounding up to 4
        keep = min(n, math.ceil(share * n - 1e-9))
        if keep:
            order = torch.sort(ranked[i], descending=True, stable=True).indices
            weights[i, order[:keep]] = 1.0
    return weights
