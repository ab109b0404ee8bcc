"""ATWU's token scorer: s_t = sigmoid(vᵀĥ_t + b), ĥ_t = h_t / RMS(h_t).

Dividing by the root mean square over the hidden dimension makes the scorer's step size mean the
same on a 0.5M-parameter model and on an 8B one. Kept separate from the method so the app and
``python -m atwu score`` can apply a saved scorer to any text.
"""

from __future__ import annotations

from pathlib import Path

import torch


def rms_normalise(h: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return h / h.pow(2).mean(-1, keepdim=True).add(eps).sqrt()


class LinearScorer(torch.nn.Module):
    def __init__(self, hidden_size: int):
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)

    def reset(self, bias: float) -> None:
        with torch.no_grad():
            self.linear.weight.zero_()
            self.linear.bias.fill_(bias)

    @torch.no_grad()
    def random_init(self, h: torch.Tensor, target_std: float, seed: int = 0) -> None:
        """v ~ N(0, 1) rescaled so vᵀĥ has standard deviation ``target_std`` on ``h``; b = 0."""
        gen = torch.Generator(device="cpu").manual_seed(seed)
        v = torch.randn(self.linear.weight.shape, generator=gen).to(h.device)
        std = (h @ v.squeeze(0)).std().clamp(min=1e-6)
        self.linear.weight.copy_(v * (target_std / std))
        self.linear.bias.zero_()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(h.float()).squeeze(-1))

    def weight_norm2(self) -> torch.Tensor:
        return self.linear.weight.pow(2).sum()

    @classmethod
    def load(cls, path: str | Path) -> tuple[LinearScorer, dict]:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            # safe_open has keys() but is not iterable (ruff's SIM118 assumes a dict)
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        scorer = cls(tensors["linear.weight"].shape[1])
        scorer.load_state_dict(tensors)
        return scorer, meta
