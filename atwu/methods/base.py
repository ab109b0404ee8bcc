"""What every unlearning method is: a small class with a params dataclass and one loss.

A method gets a :class:`ForgetBatch` and a retain :class:`~atwu.data.batching.Batch` each step
and returns a :class:`LossOutput`: its forget term and its retain term (kept apart, so a test can
flip the forget term's sign and see the method stop forgetting), the per-token weights its forget
loss applied (ones for sample-level methods: every method can be drawn on the token heatmap and
scored against ground truth), and the per-token *pressure* (METHOD.md §4.3: the coefficient of
∇log p_t in the forget term, for the pressure-share metric). The loop (:mod:`atwu.train`) owns
optimisation, checkpoints and the run directory; a method owns only its loss (and, for ATWU, its
scorer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch

from atwu import distributed
from atwu.data.batching import Batch, shifted_targets, token_logprobs
from atwu.errors import InputError
from atwu.params import param

Role = Literal["method", "baseline", "ablation", "reference"]

StrengthParam = Literal["gamma/alpha", "lr", "steering_coeff"]
"""The one knob a frontier sweeps to make a method forget harder (METHOD.md §4.6): the ratio γ/α
of its forget to retain weight (γ scaled, α kept), the learning rate (a method without a retain
term, whose loss has no weight to scale), or a parameter of its own loss (RMU's steering
coefficient c)."""

#: α and γ of ATWU and of everything compared with it as an ablation (uniform, oracle, the frozen
#: random scorer, the static heuristics, the auxiliary model): one value, so that a difference
#: between them can only come from the weights (METHOD.md §1, "an ablation changes one thing").
SATURATED_ALPHA = 2.0
SATURATED_GAMMA = 1.0


class MethodError(InputError):
    """Unknown method, unknown hyperparameter or a value of the wrong type."""


@dataclass
class RetainForgetParams:
    """The two weights every "forget loss + retain loss" method shares (loss = γ·forget + α·retain)."""

    alpha: float = param(1.0, "weight of the retain NLL term")
    gamma: float = param(1.0, "weight of the forget term")

    def validate(self) -> None:
        check_weights(self)


@dataclass
class SaturatedParams(RetainForgetParams):
    """α and γ of ATWU's saturated loss, shared by ATWU and the weightings compared with it."""

    alpha: float = param(
        SATURATED_ALPHA,
        "weight of the retain NLL term (shared by atwu and every weighting compared with it in "
        "the saturated loss, so only the weights differ)",
    )
    gamma: float = param(SATURATED_GAMMA, "weight of the forget term")


def check_weights(params: Any) -> None:
    """α and γ must be finite and non-negative (a negative γ would turn forgetting into learning)."""
    for name in ("alpha", "gamma"):
        value = getattr(params, name, None)
        if value is not None and not (0 <= value < float("inf")):
            raise MethodError(f"{name} must be a finite number ≥ 0, got {value}")


@dataclass
class ForgetBatch(Batch):
    """A forget batch plus, per completion token, its ground-truth label (only methods with
    ``needs_labels`` read it; the loop also uses it for the pressure share)."""

    token_labels: torch.Tensor | None = None  # (B, T-1) aligned with targets: 1 fact, 0, -1
    #: (B, T-1) aligned with targets: the span kind of each token as a code of
    #: :data:`atwu.data.labels.KIND_CODES` (0 outside every span; the references that tell
    #: ``specific`` from ``shared`` facts read it)
    token_kinds: torch.Tensor | None = None
    #: (B, T) bool over the *input* positions: the prompt tokens naming the question's subject
    #: (:mod:`atwu.data.subject`; tokenunlearn masks them)
    subject_mask: torch.Tensor | None = None

    def to(self, device: torch.device) -> ForgetBatch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return ForgetBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.labels.to(device),
            move(self.token_labels),
            move(self.token_kinds),
            move(self.subject_mask),
        )


@dataclass
class Forward:
    """One forward pass, aligned with the targets: position i predicts token i+1."""

    logp: torch.Tensor  # (B, T-1) log p(true token)
    mask: torch.Tensor  # (B, T-1) bool, completion tokens
    hidden: torch.Tensor | None  # (B, T-1, d) hidden states predicting each token, if asked
    hidden_states: tuple | None = None
    #: (B, T-1) entropy (nats) of the predictive distribution at the position that predicts each
    #: token, detached; only when asked (it reads the whole vocabulary's probabilities)
    entropy: torch.Tensor | None = None

    @property
    def n_tokens(self) -> torch.Tensor:
        """Completion tokens in the batch (at least 1): the denominator of every token mean
        (the whole batch's, every rank's shard together, in a data-parallel step)."""
        return distributed.total(self.mask.sum()).clamp(min=1)


def forward(
    model,
    batch: Batch,
    *,
    hidden_layer: int | None = None,
    all_hidden: bool = False,
    hidden_at_token: bool = False,
    entropy: bool = False,
) -> Forward:
    """``hidden`` is the state that predicts each target token (input position t-1) or, with
    ``hidden_at_token``, the state at the target token itself (after reading it); ``entropy``
    adds the detached entropy of each predictive distribution."""
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
        logp=logp,
        mask=mask,
        hidden=hidden,
        hidden_states=out.hidden_states if all_hidden else None,
        entropy=predictive_entropy(out.logits[:, :-1]) if entropy else None,
    )


@torch.no_grad()
def predictive_entropy(logits: torch.Tensor) -> torch.Tensor:
    """H = −Σ_v p_v·log p_v over the last axis, in nats, in float32 (no gradient)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over completion tokens of the whole batch (token-level, as open-unlearning); in a
    data-parallel step, over every rank's shard, with this rank's gradient share
    (:mod:`atwu.distributed`)."""
    m = mask.to(values.dtype)
    return distributed.pooled((values * m).sum()) / distributed.total(m.sum()).clamp(min=1)


def nll(model, batch: Batch) -> torch.Tensor:
    fw = forward(model, batch)
    return -masked_mean(fw.logp, fw.mask)


@dataclass
class LossOutput:
    """One step's loss of a method, in parts.

    ``forget`` is the forget term as the model minimises it (γ included), ``retain`` the retain
    term (α included; 0 when the method has none); the loop minimises their sum. ``weights`` are
    the per-token weights of the forget loss, detached. ``pressure`` is c_t = ∂forget/∂log p_t
    per completion token, detached (METHOD.md §4.3), or None when the forget loss is not a
    function of the token probabilities (RMU).
    """

    forget: torch.Tensor
    retain: torch.Tensor
    weights: torch.Tensor  # (B, T-1), meaningful where mask
    pressure: torch.Tensor | None  # (B, T-1), meaningful where mask
    logs: dict[str, float] = field(default_factory=dict)

    @property
    def loss(self) -> torch.Tensor:
        return self.forget + self.retain


@dataclass
class MethodContext:
    """What a method may need besides the model being unlearned."""

    device: torch.device
    reference_model: Any = None  # frozen copy of the starting model (NPO, TNPO, RMU, static_p, ...)
    aux_model: Any = None  # auxiliary model (aux)
    hidden_size: int = 0
    num_layers: int = 0
    total_steps: int = 0  # the run's optimiser steps (for warm-ups given as a share)
    seed: int = 0  # the run's seed (shuffled_oracle draws its fixed positions from it)


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
    #: the knob a frontier sweeps (:data:`StrengthParam`); ``gamma/alpha`` needs ``Params`` with
    #: ``gamma`` and ``alpha``, any other name but ``lr`` a ``Params`` field of that name
    strength_param: ClassVar[StrengthParam] = "gamma/alpha"
    #: files :meth:`save_artifacts` writes into the run directory (ATWU: its scorer)
    artifacts: ClassVar[tuple[str, ...]] = ()
    #: why :attr:`LossOutput.pressure` is None for this method (None: it is always given)
    no_pressure_reason: ClassVar[str | None] = None
    #: whether N processes with batch b compute what one process with batch N·b computes (every
    #: loss term a token mean or a pooled batch sum, :mod:`atwu.distributed`); a method without it
    #: is refused under a multi-process launcher
    data_parallel: ClassVar[bool] = False

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

    @torch.no_grad()
    def recorded_tokens(
        self, model, forget: ForgetBatch
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """What a run records per token at a checkpoint: (weights, mask, channels). ``channels``
        are signals beside the weights, aligned with them (:data:`atwu.runs.layout.CHANNEL_COLUMNS`:
        ``support``, the retain support S_t of methods that keep a support bank); none by default."""
        weights, mask = self.token_weights(model, forget)
        return weights, mask, {}

    @classmethod
    def data_parallel_problem(cls, params: Any) -> str | None:
        """Why this method with these parameters cannot run split over several processes
        (None: it can)."""
        if cls.data_parallel:
            return None
        return f"{cls.name} has a loss that is not yet split exactly over processes"

    def replicated_tensors(self) -> list[torch.Tensor]:
        """Tensors the method keeps and updates itself that every rank must hold bit-equal
        (ATWU: its scorer); a data-parallel run compares their digests after every step."""
        return []

    def state_dict(self) -> dict:
        """Method state to checkpoint for ``--resume`` (ATWU: the scorer and its optimiser)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def resolved(self) -> dict[str, Any]:
        """Values the method derived from the run (e.g. a warm-up given as a share of the steps),
        written under ``resolved.method`` in config.json."""
        return {}

    def save_artifacts(self, run_dir: Path) -> None:
        """Files a finished run keeps beside its weights (ATWU: ``scorer.safetensors``)."""

    def load_artifacts(self, run_dir: Path) -> None:
        """Read back what :meth:`save_artifacts` wrote (to weigh new text with a finished run)."""

    def retain_term(self, model, retain: Batch | None) -> tuple[torch.Tensor, dict[str, float]]:
        """α·(mean retain NLL), or 0 when there is no retain batch or α = 0."""
        alpha = getattr(self.params, "alpha", 1.0)
        if retain is None or not self.uses_retain or alpha == 0:
            return torch.zeros((), device=self.ctx.device), {}
        loss = nll(model, retain)
        return alpha * loss, {"retain_loss": float(loss.detach())}


def weighted_forget(
    fw: Forward,
    weights: torch.Tensor,
    gamma: float,
    *,
    saturated: bool,
    normalise_by: str = "count",
) -> tuple[torch.Tensor, torch.Tensor]:
    """γ·Σ w_t·g_t / Z and its pressure c_t = ∂/∂log p_t, with g_t = p_t (saturated, pushing
    ever less as p_t → 0) or log p_t (gradient ascent).

    ``normalise_by="count"``: Z = number of completion tokens; ``"mass"``: Z = Σ_t w_t (the push
    is redistributed over the selected tokens instead of shrinking with them).
    """
    m = fw.mask.to(fw.logp.dtype)
    w = weights.detach() * m
    z = (
        distributed.total(w.sum()).clamp(min=1e-8)
        if normalise_by == "mass"
        else fw.n_tokens.to(fw.logp.dtype)
    )
    per_token = fw.logp.exp() if saturated else fw.logp
    forget = gamma * distributed.pooled((w * per_token).sum()) / z
    # d(p)/d(log p) = p; d(log p)/d(log p) = 1
    slope = fw.logp.detach().exp() if saturated else torch.ones_like(fw.logp)
    pressure = gamma * w * slope / z.detach()
    return forget, pressure
