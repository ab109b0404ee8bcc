"""What every unlearning method is: a small class with a params dataclass and one loss.

A method gets a :class:`ForgetBatch` and a retain :class:`~atwu.data.batching.Batch` each step
and returns a :class:`LossOutput` whose ``weights`` are the per-token weights its forget loss
applied (ones for sample-level methods), so every method can be drawn on the token heatmap and
scored against ground truth. The loop (:mod:`atwu.train`) owns optimisation, checkpoints and the
run directory; a method owns only its loss (and, for ATWU, its scorer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch

from atwu.data.batching import Batch, shifted_targets, token_logprobs
from atwu.errors import InputError
from atwu.params import param

Role = Literal["method", "baseline", "ablation", "reference"]


class MethodError(InputError):
    """Unknown method, unknown hyperparameter or a value of the wrong type."""


@dataclass
class RetainForgetParams:
    """The two weights every "forget loss + retain loss" method shares (loss = γ·forget + α·retain)."""

    alpha: float = param(1.0, "weight of the retain NLL term")
    gamma: float = param(1.0, "weight of the forget term")


@dataclass
class ForgetBatch(Batch):
    """A forget batch plus, per completion token, its ground-truth label (only `oracle` reads it)."""

    token_labels: torch.Tensor | None = None  # (B, T-1) aligned with targets: 1 fact, 0, -1

    def to(self, device: torch.device) -> ForgetBatch:
        return ForgetBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.labels.to(device),
            None if self.token_labels is None else self.token_labels.to(device),
        )


@dataclass
class Forward:
    """One forward pass, aligned with the targets: position i predicts token i+1."""

    logp: torch.Tensor  # (B, T-1) log p(true token)
    mask: torch.Tensor  # (B, T-1) bool, completion tokens
    hidden: torch.Tensor | None  # (B, T-1, d) hidden states predicting each token, if asked
    hidden_states: tuple | None = None


def forward(
    model,
    batch: Batch,
    *,
    hidden_layer: int | None = None,
    all_hidden: bool = False,
    hidden_at_token: bool = False,
) -> Forward:
    """``hidden`` is the state that predicts each target token (input position t-1) or, with
    ``hidden_at_token``, the state at the target token itself (after reading it)."""
    want_hidden = hidden_layer is not None or all_hidden
    out = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        output_hidden_states=want_hidden,
        use_cache=False,
    )
    targets, mask = shifted_targets(batch)
    logp = token_logprobs(out.logits[:, :-1], targets)
    hidden = None
    if hidden_layer is not None:
        states = out.hidden_states[hidden_layer]
        hidden = states[:, 1:] if hidden_at_token else states[:, :-1]
    return Forward(
        logp=logp, mask=mask, hidden=hidden, hidden_states=out.hidden_states if all_hidden else None
    )


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over completion tokens of the whole batch (token-level, as open-unlearning)."""
    m = mask.to(values.dtype)
    return (values * m).sum() / m.sum().clamp(min=1)


def nll(model, batch: Batch) -> torch.Tensor:
    fw = forward(model, batch)
    return -masked_mean(fw.logp, fw.mask)


@dataclass
class LossOutput:
    loss: torch.Tensor
    weights: torch.Tensor  # (B, T-1) detached, meaningful where mask
    logs: dict[str, float] = field(default_factory=dict)


@dataclass
class MethodContext:
    """What a method may need besides the model being unlearned."""

    device: torch.device
    reference_model: Any = None  # frozen copy of the starting model (NPO, TNPO, RMU, npo_token)
    aux_model: Any = None  # auxiliary model (aux)
    hidden_size: int = 0
    num_layers: int = 0
    total_steps: int = 0  # the run's optimiser steps (for warm-ups given as a share)


class Method:
    """Base class. Subclasses set ``name``, ``Params`` and implement :meth:`compute`.

    A subclass with a ``name`` in any module of :mod:`atwu.methods` is found by the registry;
    nothing else registers it.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    Params: ClassVar[type] = object
    #: what the method is in a comparison: the proposed method, a baseline from the literature,
    #: an ablation of ATWU, or a reference that reads the ground truth (never a rival)
    role: ClassVar[Role] = "baseline"
    token_level: ClassVar[bool] = False  # weights vary across tokens
    needs_labels: ClassVar[bool] = False  # reads the ground-truth spans (oracle)
    needs_reference: ClassVar[bool] = False
    needs_aux: ClassVar[bool] = False
    uses_retain: ClassVar[bool] = True

    def __init__(self, params: Any, ctx: MethodContext):
        self.params = params
        self.ctx = ctx

    # -- the one thing a method must define ---------------------------------------------------
    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        raise NotImplementedError

    @classmethod
    def requires_reference(cls, params: Any) -> bool:
        """Whether the loop must keep a frozen copy of the starting model for this method."""
        return cls.needs_reference

    # -- optional hooks -----------------------------------------------------------------------
    @torch.no_grad()
    def token_weights(self, model, forget: ForgetBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Weights the forget loss would apply now, without a training step: (weights, mask)."""
        fw = forward(model, forget)
        return torch.ones_like(fw.logp), fw.mask

    def state_dict(self) -> dict:
        """Method state to checkpoint for ``--resume`` (ATWU: the scorer and its optimiser)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def resolved(self) -> dict[str, Any]:
        """Values the method derived from the run (e.g. a warm-up given as a share of the steps),
        written under ``resolved.method`` in config.json."""
        return {}

    #: files :meth:`save_artifacts` writes into the run directory (ATWU: its scorer)
    artifacts: ClassVar[tuple[str, ...]] = ()

    def save_artifacts(self, run_dir) -> None:
        """Files a finished run keeps beside its weights (ATWU: ``scorer.safetensors``)."""

    def load_artifacts(self, run_dir) -> None:
        """Read back what :meth:`save_artifacts` wrote (to weigh new text with a finished run)."""

    def retain_term(self, model, retain: Batch | None) -> tuple[torch.Tensor, dict[str, float]]:
        alpha = getattr(self.params, "alpha", 1.0)
        if retain is None or not self.uses_retain or alpha == 0:
            return torch.zeros((), device=self.ctx.device), {}
        loss = nll(model, retain)
        return alpha * loss, {"retain_loss": float(loss.detach())}
