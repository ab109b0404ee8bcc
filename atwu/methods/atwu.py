"""ATWU: Alternating Token-Weighted Unlearning (the project's reconstruction, METHOD.md §1).

A linear scorer over the model's own (RMS-normalised, detached) hidden states gives each answer
token a weight s_t in (0, 1). Scorer and model alternate on one shared forward pass:

1. scorer step (model fixed): minimise mean_t s_t·(sg f_t − τ) + l2·‖v‖², so tokens whose
   forget loss f_t is still above the threshold τ (the ones the retain objective holds up) are
   switched off, and tokens that are being forgotten are switched on;
2. model step (scorer fixed): minimise γ·mean_t sg(s_t)·f_t(θ) + α·L_ret(θ), with the saturated
   f_t = p_t, whose push fades once a token is forgotten.

No ground-truth label is read. Every reconstruction choice is a parameter below, so a user who
has the paper can switch to its exact choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from safetensors.torch import save

from atwu.data.batching import Batch
from atwu.io import atomic_write_bytes
from atwu.methods.base import (
    ForgetBatch,
    Forward,
    LossOutput,
    Method,
    MethodError,
    SaturatedParams,
    forward,
    masked_mean,
    weighted_forget,
)
from atwu.methods.linear_scorer import LinearScorer, rms_normalise
from atwu.params import param
from atwu.runs.layout import SCORER as SCORER_FILE


@dataclass
class ATWUParams(SaturatedParams):
    forget_loss: Literal["prob", "nll", "npo_token"] = param(
        "prob",
        "model's per-token forget loss: prob (saturated f=p), nll (weighted gradient "
        "ascent, not saturated: the ablation), npo_token ((2/β)·log(1+(p/p_ref)^β))",
    )
    npo_beta: float = param(0.1, "β of forget_loss=npo_token")
    scorer_layer: str = param(
        "middle",
        "which hidden states the scorer reads: 'middle' (hidden_states[num_layers // 2], "
        "the output of the middle block), 'last' (hidden_states[-1], after the final norm), or an "
        "integer index into the hidden_states tuple",
    )
    scorer_position: Literal["predicting", "token"] = param(
        "token",
        "which position's state scores token t: 'token' (the state after reading t; chosen on "
        "the tuning benchmark's frontier, docs/TUNING.md) or 'predicting' (the state before t, "
        "whose output predicts t, as METHOD.md first wrote it)",
    )
    tau: str = param(
        "batch_mean",
        "threshold τ: 'batch_mean' (mean of sg f over the batch's answer tokens) or a number",
    )
    scorer_lr: float = param(
        0.2, "Adam learning rate of the scorer (0 freezes it: the frozen-scorer ablation)"
    )
    scorer_warmup_steps: int | None = param(
        None,
        "steps the scorer is held still at the start (all tokens selected); None: "
        "scorer_warmup_share of the run's steps",
    )
    scorer_warmup_share: float = param(
        0.2,
        "warm-up as a share of the run's steps when scorer_warmup_steps is None (0.2: 31 of "
        "the 156 steps of 12 passes over forget10, 10 of 48 on a 60-pair forget set)",
    )
    scorer_l2: float = param(1e-3, "penalty on ‖v‖² in the scorer step")
    scorer_init: Literal["select_all", "random"] = param(
        "select_all",
        "select_all: v=0, b=3 (every token starts selected); random: v ~ N(0,1) scaled "
        "so vᵀĥ has std 2 on the first batch, b=0",
    )
    scorer_init_bias: float = param(
        1.0,
        "initial bias b for scorer_init=select_all (1: every token starts at s = 0.73; chosen on "
        "the tuning benchmark's frontier over METHOD.md's 3, docs/TUNING.md)",
    )
    normalise: Literal["none", "mean1", "mass"] = param(
        "none",
        "none: the forget term is a mean over answer tokens; mean1: weights divided by their mean "
        "over each sequence; mass: the forget term divided by Σ_t s_t instead of the token count, "
        "so deselecting tokens redistributes the push instead of shrinking it",
    )
    score_power: float = param(
        2.0,
        "k: the model step weighs token t by s_t^k; k > 1 sharpens the selection (a token the "
        "scorer half-selects, s = 0.5, gets 0.5^k), so in the saturated loss, whose push on a "
        "forgotten fact fades, the tokens the retain loss defends keep less of the push (2: "
        "chosen on the tuning benchmark's frontier; 1: the scores as they are)",
    )
    scorer_retain_negatives: float = param(
        0.0,
        "λ: the scorer step also minimises λ·mean_r s_r over the retain batch's answer tokens, so "
        "hidden states that occur on retain data are pushed towards 0 (0: off)",
    )

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.scorer_retain_negatives < float("inf"):
            raise MethodError("atwu: scorer_retain_negatives must be a finite number ≥ 0")
        if not self.score_power > 0:
            raise MethodError("atwu: score_power must be a positive number")
        if self.scorer_layer not in ("middle", "last"):
            try:
                int(self.scorer_layer)
            except (TypeError, ValueError):
                raise MethodError(
                    f"atwu: scorer_layer must be 'middle', 'last' or an integer, "
                    f"got {self.scorer_layer!r}"
                ) from None
        if self.tau != "batch_mean":
            try:
                float(self.tau)
            except ValueError:
                raise MethodError(
                    f"atwu: tau must be 'batch_mean' or a number, got {self.tau!r}"
                ) from None
        if self.scorer_lr < 0:
            raise MethodError("atwu: scorer_lr must be ≥ 0")
        if self.scorer_warmup_steps is not None and self.scorer_warmup_steps < 0:
            raise MethodError("atwu: scorer_warmup_steps must be ≥ 0 (or none)")
        if not 0 <= self.scorer_warmup_share < 1:
            raise MethodError("atwu: scorer_warmup_share must be in [0, 1)")


def normalise_weights(weights: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    if how == "mean1":
        m = mask.to(weights.dtype)
        mean = (weights * m).sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp(min=1)
        # rounded so that equal scores give exactly equal weights (float noise in the division
        # would otherwise break the ties that make a constant weighting score AUROC 0.5)
        return (weights / mean.clamp(min=1e-8)).round(decimals=6)
    return weights


class ATWU(Method):
    name = "atwu"
    summary = (
        "learned linear token scorer over hidden states, alternating with a saturated forget loss"
    )
    Params = ATWUParams
    role = "method"
    token_level = True
    artifacts = (SCORER_FILE,)

    def __init__(self, params: ATWUParams, ctx):
        super().__init__(params, ctx)
        self.scorer = LinearScorer(ctx.hidden_size).to(ctx.device)
        self.scorer.reset(params.scorer_init_bias if params.scorer_init == "select_all" else 0.0)
        self._needs_random_init = params.scorer_init == "random"
        self.optimiser = torch.optim.Adam(self.scorer.parameters(), lr=max(params.scorer_lr, 1e-12))

    @property
    def warmup_steps(self) -> int:
        if self.params.scorer_warmup_steps is not None:
            return self.params.scorer_warmup_steps
        return round(self.params.scorer_warmup_share * self.ctx.total_steps)

    def resolved(self) -> dict:
        return {"scorer_warmup_steps": self.warmup_steps, "scorer_layer": self.layer_index}

    @property
    def layer_index(self) -> int:
        layer = self.params.scorer_layer
        if layer == "middle":
            return max(1, self.ctx.num_layers // 2)
        if layer == "last":
            return -1
        return int(layer)

    @classmethod
    def requires_reference(cls, params: ATWUParams) -> bool:
        return params.forget_loss == "npo_token"

    def _hidden(self, fw: Forward) -> torch.Tensor:
        assert fw.hidden is not None  # every forward of this method asks for the hidden states
        return rms_normalise(fw.hidden.detach().float())

    def _tau(self, f: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.params.tau == "batch_mean":
            return masked_mean(f, mask)
        return torch.tensor(float(self.params.tau), device=f.device)

    def _forward(self, model, batch: Batch) -> Forward:
        return forward(
            model,
            batch,
            hidden_layer=self.layer_index,
            hidden_at_token=self.params.scorer_position == "token",
        )

    def _model_forget(
        self, fw: Forward, forget: ForgetBatch, weights: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """γ·Σ w_t·f_t / Z with the model's f_t (``forget_loss``), and its pressure."""
        gamma = self.params.gamma
        by = "mass" if self.params.normalise == "mass" else "count"
        if self.params.forget_loss in ("prob", "nll"):
            # prob: the saturated f = p; nll: minimising log p, plain weighted gradient ascent
            saturated = self.params.forget_loss == "prob"
            return weighted_forget(fw, weights, gamma, saturated=saturated, normalise_by=by)
        with torch.no_grad():
            ref = forward(self.ctx.reference_model, forget).logp
        beta = self.params.npo_beta
        m = fw.mask.to(fw.logp.dtype)
        w = weights.detach() * m
        z = w.sum().clamp(min=1e-8) if by == "mass" else fw.n_tokens.to(fw.logp.dtype)
        f = (2.0 / beta) * torch.log1p(torch.exp(beta * (fw.logp - ref)))
        # ∂f/∂log p = 2σ(β·(log p − log p_ref))
        slope = 2 * torch.sigmoid(beta * (fw.logp.detach() - ref))
        return gamma * (w * f).sum() / z, gamma * w * slope / z.detach()

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        p = self.params
        fw = self._forward(model, forget)
        h = self._hidden(fw)
        # One retain forward serves both the retain loss and, with λ > 0, the scorer's negatives.
        negatives = p.scorer_retain_negatives > 0
        retain_fw = None
        if retain is not None and (p.alpha > 0 or negatives):
            retain_fw = self._forward(model, retain) if negatives else forward(model, retain)
        if self._needs_random_init:
            self.scorer.random_init(h[fw.mask], target_std=2.0)
            self._needs_random_init = False
        # 1. scorer step, model fixed. The scorer always learns from the saturated f = p.
        logs: dict[str, float] = {}
        f_scorer = fw.logp.detach().exp()
        tau = self._tau(f_scorer, fw.mask)
        if step >= self.warmup_steps and p.scorer_lr > 0:
            scorer_loss = self.scorer_objective(h, f_scorer, tau, fw.mask, retain_fw)
            self.optimiser.zero_grad(set_to_none=True)
            scorer_loss.backward()
            self.optimiser.step()
            logs["scorer_loss"] = float(scorer_loss.detach())
        # 2. model step, scorer fixed: scores recomputed after the scorer's update.
        with torch.no_grad():
            weights = self._weights(h, fw.mask)
        forget_term, pressure = self._model_forget(fw, forget, weights)
        retain_term = torch.zeros((), device=forget_term.device)
        if retain_fw is not None and p.alpha > 0:
            retain_loss = -masked_mean(retain_fw.logp, retain_fw.mask)
            retain_term = p.alpha * retain_loss
            logs["retain_loss"] = float(retain_loss.detach())
        sel = weights[fw.mask]
        logs.update(
            forget_loss=float(forget_term.detach()) / p.gamma if p.gamma else 0.0,
            tau=float(tau),
            mean_weight=float(sel.mean()),
            selected_share=float((sel > 0.5).float().mean()),
        )
        return LossOutput(forget_term, retain_term, weights, pressure, logs)

    def scorer_objective(
        self,
        h: torch.Tensor,
        f: torch.Tensor,
        tau: torch.Tensor,
        mask: torch.Tensor,
        retain_fw: Forward | None = None,
    ) -> torch.Tensor:
        """The scorer step's loss: mean_t s_t·(sg f_t − τ) + l2·‖v‖² (+ λ·mean_r s_r on the
        retain batch's answer tokens when ``scorer_retain_negatives`` is on)."""
        objective = masked_mean(self.scorer(h) * (f - tau), mask)
        objective = objective + self.params.scorer_l2 * self.scorer.weight_norm2()
        lam = self.params.scorer_retain_negatives
        if lam > 0 and retain_fw is not None:
            objective = objective + lam * masked_mean(
                self.scorer(self._hidden(retain_fw)), retain_fw.mask
            )
        return objective

    @torch.no_grad()
    def token_weights(self, model, forget: ForgetBatch) -> tuple[torch.Tensor, torch.Tensor]:
        fw = self._forward(model, forget)
        return self._weights(self._hidden(fw), fw.mask), fw.mask

    def _weights(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The model step's weights: the scores, raised to ``score_power``, normalised."""
        scores = self.scorer(h)
        if self.params.score_power != 1.0:
            scores = scores.pow(self.params.score_power)
        return normalise_weights(scores, mask, self.params.normalise)

    def state_dict(self) -> dict:
        return {
            "scorer": self.scorer.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "needs_random_init": self._needs_random_init,
        }

    def load_state_dict(self, state: dict) -> None:
        self.scorer.load_state_dict(state["scorer"])
        self.optimiser.load_state_dict(state["optimiser"])
        self._needs_random_init = state.get("needs_random_init", False)

    def save_artifacts(self, run_dir) -> None:
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.scorer.state_dict().items()}
        meta = {
            "scorer_layer": str(self.layer_index),
            "normalise": self.params.normalise,
            "hidden_size": str(self.ctx.hidden_size),
            "input": "hidden_state / RMS(hidden_state)",
        }
        atomic_write_bytes(Path(run_dir) / SCORER_FILE, save(tensors, metadata=meta))

    def load_artifacts(self, run_dir) -> None:
        scorer, _ = LinearScorer.load(Path(run_dir) / SCORER_FILE)
        self.scorer.load_state_dict(scorer.state_dict())
        self._needs_random_init = False
