"""Padding encoded pairs into tensors: one place for masks and label conventions."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from atwu.data.chat import EncodedPair

IGNORE = -100


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, T)
    attention_mask: torch.Tensor  # (B, T)
    labels: torch.Tensor  # (B, T): token id on completion tokens, IGNORE elsewhere

    def to(self, device: torch.device) -> Batch:
        return Batch(
            self.input_ids.to(device), self.attention_mask.to(device), self.labels.to(device)
        )


def collate(pairs: list[EncodedPair], pad_id: int) -> Batch:
    """Right-padded batch; labels cover the completion (answer + EOS) only."""
    width = max(len(p.input_ids) for p in pairs)
    ids = torch.full((len(pairs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    labels = torch.full((len(pairs), width), IGNORE, dtype=torch.long)
    for i, p in enumerate(pairs):
        n = len(p.input_ids)
        ids[i, :n] = torch.tensor(p.input_ids)
        mask[i, :n] = 1
        labels[i, p.prompt_len : n] = ids[i, p.prompt_len : n]
    return Batch(ids, mask, labels)


def shifted_targets(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets aligned with logits: position i predicts token i+1.

    Returns ``(targets, mask)`` of shape (B, T-1); ``mask`` is True on completion tokens, so
    ``logits[:, :-1]`` and hidden states at ``[:, :-1]`` line up with them.
    """
    targets = batch.labels[:, 1:]
    mask = targets != IGNORE
    return targets.clamp(min=0), mask


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) per position, from logits (B, T-1, V).

    ``cross_entropy`` avoids materialising a full log-softmax copy of the logits, which matters
    for 128k-token vocabularies.
    """
    flat = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none"
    )
    return -flat.view(targets.shape)
