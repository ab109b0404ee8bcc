"""The ground truth a reference method reads from its forget batch, with one clear error when the
batch has none (a reference weighs by the spans, so it cannot run on a split without them)."""

from __future__ import annotations

import torch

from atwu.methods.base import ForgetBatch


def labels_of(forget: ForgetBatch, method: str) -> torch.Tensor:
    """(B, T-1) token labels: 1 fact, 0 template, −1 context / special / outside the answer."""
    if forget.token_labels is None:
        raise ValueError(f"{method} needs ground-truth spans on the forget split")
    return forget.token_labels


def kinds_of(forget: ForgetBatch, method: str) -> torch.Tensor:
    """(B, T-1) span-kind codes (:data:`atwu.data.labels.KIND_CODES`)."""
    if forget.token_kinds is None:
        raise ValueError(f"{method} needs the span kinds (specific/shared) of the forget split")
    return forget.token_kinds
