"""Retain support: how much the retain data needs the same token in a similar state (METHOD.md §1).

A bounded FIFO bank keeps the retain batches' answer tokens: the hidden state at one layer and
position (detached, stored as a unit row, since only its direction matters) and the token id. For
a forget token t with target id y_t,

    S_t = Σ_{r in bank} [y_r = y_t] · exp((cos(h_t, h_r) − 1) / T)

is high for template words and for values that retain examples share in similar contexts, low for
a forget example's own facts. c_t, the z-score of log(1 + S_t) over the batch's answer tokens, is
the conflict channel; ``2σ(−κ·c_t)`` is the gate a method multiplies its weights by (1 at the batch's
typical support, towards 2 for unsupported tokens, towards 0 for well supported ones).

Everything here is a pure tensor function or the small bank object, so ATWU, ``static_support``,
the step-0 diagnostic and the tests share one implementation.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save

from atwu import distributed
from atwu.data.batching import Batch, shifted_targets
from atwu.io import atomic_write_bytes


def unit_rows(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Rows scaled to length 1 (float32), so a dot product is a cosine."""
    h = h.float()
    return h / h.norm(dim=-1, keepdim=True).clamp(min=eps)


def pick_hidden(states: tuple, layer: int, at_token: bool) -> torch.Tensor:
    """The hidden state of each target token from a ``hidden_states`` tuple, aligned with the
    targets: the state after reading the token (``at_token``) or the one predicting it."""
    s = states[layer]
    return s[:, 1:] if at_token else s[:, :-1]


def answer_tokens(hidden: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(hidden states, target ids) of a batch's answer tokens, flattened: what the bank stores."""
    targets, mask = shifted_targets(batch)
    return hidden[mask].detach(), targets[mask]


class SupportBank:
    """A bounded FIFO of (unit hidden state, token id) pairs from the retain batches.

    :meth:`add` is the only writer, so a multi-process run can all-gather one step's
    ``(hidden, ids)`` across ranks and call it once with the result. The bank's content is part of
    the method's checkpoint (:meth:`state_dict`), so a resumed run sees the same supports.
    """

    def __init__(self, capacity: int, hidden_size: int, device: torch.device | str = "cpu"):
        if capacity < 1:
            raise ValueError(f"support bank capacity must be ≥ 1, got {capacity}")
        self.capacity = capacity
        self.hidden = torch.zeros(capacity, hidden_size, device=device)
        self.ids = torch.full((capacity,), -1, dtype=torch.long, device=device)
        self.next = 0  # the slot the next entry goes to (the oldest entry once full)
        self.size = 0

    @torch.no_grad()
    def add(self, hidden: torch.Tensor, ids: torch.Tensor) -> None:
        """Append rows (hidden: (n, d), ids: (n,)); once full, each new row replaces the oldest."""
        n = int(ids.numel())
        if n == 0:
            return
        if n > self.capacity:  # only the newest ``capacity`` rows can survive anyway
            hidden, ids, n = hidden[-self.capacity :], ids[-self.capacity :], self.capacity
        slots = (self.next + torch.arange(n, device=self.ids.device)) % self.capacity
        self.hidden[slots] = unit_rows(hidden.detach()).to(self.hidden.device)
        self.ids[slots] = ids.to(self.ids.device)
        self.next = (self.next + n) % self.capacity
        self.size = min(self.capacity, self.size + n)

    def entries(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(unit hidden states, ids) of the filled slots, oldest first."""
        if self.size < self.capacity:
            return self.hidden[: self.size], self.ids[: self.size]
        order = (self.next + torch.arange(self.capacity, device=self.ids.device)) % self.capacity
        return self.hidden[order], self.ids[order]

    @torch.no_grad()
    def support(self, hidden: torch.Tensor, ids: torch.Tensor, temp: float) -> torch.Tensor:
        """S for each query row (hidden: (..., d), ids: (...)), one matrix product per call."""
        shape = ids.shape
        q = unit_rows(hidden.reshape(-1, hidden.shape[-1]))
        if self.size == 0:
            return torch.zeros(shape, device=hidden.device)
        bank_h, bank_ids = self.hidden[: self.size], self.ids[: self.size]
        kernel = torch.exp((q @ bank_h.T - 1.0) / temp)  # (n, N): exp((cos − 1)/T)
        same = ids.reshape(-1, 1) == bank_ids.reshape(1, -1)
        return (kernel * same).sum(-1).reshape(shape)

    def state_dict(self) -> dict:
        return {
            "hidden": self.hidden[: self.size].clone(),
            "ids": self.ids[: self.size].clone(),
            "next": self.next,
            "size": self.size,
        }

    def load_state_dict(self, state: dict) -> None:
        size = int(state["size"])
        if size > self.capacity:
            raise ValueError(
                f"the saved support bank holds {size} entries but support_bank is "
                f"{self.capacity}; resume with the run's own support_bank"
            )
        self.hidden.zero_()
        self.ids.fill_(-1)
        self.hidden[:size] = state["hidden"][:size].to(self.hidden.device)
        self.ids[:size] = state["ids"][:size].to(self.ids.device)
        self.next, self.size = int(state["next"]), size


def support_conflict(support: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """c_t: the z-score of log(1 + S_t) over the batch's answer tokens (0 off the mask, and 0
    everywhere when the supports are all equal, e.g. an empty bank)."""
    x = torch.log1p(support.float())
    m = mask.to(x.dtype)
    # over the whole batch: every rank's shard in a data-parallel step
    n = distributed.total(m.sum()).clamp(min=1)
    mean = distributed.total((x * m).sum()) / n
    var = distributed.total(((x - mean).pow(2) * m).sum()) / n
    std = var.sqrt()
    if float(std) < 1e-8:
        return torch.zeros_like(x)
    return (x - mean) / std * m


def conflict_gate(conflict: torch.Tensor, kappa: float) -> torch.Tensor:
    """2σ(−κ·c): 1 at average support, below 1 for tokens the retain data supports more."""
    return 2 * torch.sigmoid(-kappa * conflict)


def save_support(path: Path, bank: SupportBank, heads: dict[str, torch.nn.Module]) -> None:
    """A finished run's bank (and learned heads such as the contrast head) as one safetensors
    file, so that scoring new text reproduces the weights the run's model step used."""
    state = bank.state_dict()
    tensors = {"bank.hidden": state["hidden"], "bank.ids": state["ids"]}
    for name, head in heads.items():
        tensors |= {f"{name}.{k}": v for k, v in head.state_dict().items()}
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    meta = {"next": str(state["next"]), "size": str(state["size"])}
    atomic_write_bytes(path, save(tensors, metadata=meta))


def load_support(path: Path, bank: SupportBank, heads: dict[str, torch.nn.Module]) -> None:
    """Read back :func:`save_support`'s file into ``bank`` and ``heads``."""
    from safetensors import safe_open

    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    bank.load_state_dict(
        {
            "hidden": tensors["bank.hidden"],
            "ids": tensors["bank.ids"],
            "next": int(meta.get("next", 0)),
            "size": int(meta.get("size", tensors["bank.ids"].numel())),
        }
    )
    for name, head in heads.items():
        prefix = f"{name}."
        head.load_state_dict(
            {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        )
