"""One rank of the two-process check of atwu.distributed's primitives (started by
test_distributed_helpers.py with RANK/WORLD_SIZE/MASTER_* set). Each rank computes, on its half of a batch,
what one process computes on the whole batch, and writes the differences to ``<out>/rank<r>.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from atwu import distributed
from atwu.methods.base import masked_mean
from atwu.methods.retain_support import SupportBank, support_conflict


def full_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Six sequences of five tokens, ragged masks, one weight vector (the same on every rank)."""
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(6, 5, 3, generator=gen)
    mask = torch.rand(6, 5, generator=gen) > 0.3
    mask[:, 0] = True
    w = torch.randn(3, generator=gen)
    return x, mask, w


def loss_of(x: torch.Tensor, mask: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """A token mean of p = σ(x·w), minus τ = its detached batch mean, plus an L2 term on w."""
    p = torch.sigmoid(x @ w)
    tau = masked_mean(p.detach(), mask)
    return masked_mean(p * (p.detach() - tau), mask) + distributed.replicated(0.1 * w.pow(2).sum())


def main(out: Path) -> None:
    ranks = distributed.ranks_from_env()
    distributed.start(ranks, torch.device("cpu"))
    x, mask, w0 = full_batch()
    # one process, whole batch (outside pooling: every helper is the identity)
    w_one = w0.clone().requires_grad_(True)
    one = loss_of(x, mask, w_one)
    one.backward()
    # this rank's half, pooled, gradients summed over the ranks
    mine = distributed.shard(list(range(6)), ranks)
    w_split = w0.clone().requires_grad_(True)
    with distributed.pooling():
        split = loss_of(x[mine], mask[mine], w_split)
        split.backward()
        distributed.sum_gradients([w_split])
        rows = distributed.gather_rows(x[mine][mask[mine]])
        ids = distributed.gather_rows(torch.arange(6)[mine])
        conflict = support_conflict(
            torch.rand(6, 5, generator=torch.Generator().manual_seed(1))[mine], mask[mine]
        )
    conflict_one = support_conflict(
        torch.rand(6, 5, generator=torch.Generator().manual_seed(1)), mask
    )
    bank = SupportBank(8, 3)
    bank.add(rows, torch.arange(rows.shape[0]))
    result = {
        "loss_diff": abs(float(split) - float(one)),
        "grad_diff": float((w_split.grad - w_one.grad).abs().max()),
        "rows_equal": bool(torch.equal(rows, x[mask])),
        "ids": ids.tolist(),
        "conflict_diff": float((conflict - conflict_one[mine]).abs().max()),
        "digests": distributed.digests([w_split.grad, bank.hidden]),
        "outside_pooling_is_identity": distributed.total(w0) is w0,
    }
    (out / f"rank{ranks.rank}.json").write_text(json.dumps(result))
    distributed.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
