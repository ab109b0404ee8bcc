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
from atwu.methods.base import ForgetBatch, LossOutput, Method, MethodError, forward, masked_mean
from atwu.methods.linear_scorer import LinearScorer, rms_normalise
from atwu.params import param
from atwu.runs.layout import SCORER as SCORER_FILE


@dataclass
class ATWUParams:
    alpha: float = param(
        2.0,
        "weight of the retain NLL term (tuned on the embedded benchmark: "
        "2 keeps the selection stable late in training; see docs/TUNING.md)",
    )
    gamma: float = param(1.0, "weight of the token-weighted forget term")
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
        "predicting",
        "which position's state scores token t: 'predicting' (the state before t, "
        "whose output predicts t, as METHOD.md writes it) or 'token' (the state after reading t)",
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
    scorer_init_bias: float = param(3.0, "initial bias b for scorer_init=select_all")
    normalise: Literal["none", "mean1"] = param(
        "none", "none, or mean1: divide weights by their mean over each sequence"
    )

    def validate(self) -> None:
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
        self.steps_taken = 0

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

    def _hidden(self, fw) -> torch.Tensor:
        return rms_normalise(fw.hidden.detach().float())

    def _tau(self, f: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.params.tau == "batch_mean":
            return masked_mean(f, mask)
        return torch.tensor(float(self.params.tau), device=f.device)

    def _forget_values(self, fw, forget: ForgetBatch) -> torch.Tensor:
        """The model's per-token forget loss f_t (with gradient)."""
        p = fw.logp.exp()
        if self.params.forget_loss == "prob":
            return p
        if self.params.forget_loss == "nll":
            return fw.logp  # minimising log p: plain (weighted) gradient ascent
        with torch.no_grad():
            ref = forward(self.ctx.reference_model, forget).logp
        beta = self.params.npo_beta
        return (2.0 / beta) * torch.log1p(torch.exp(beta * (fw.logp - ref)))

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        fw = forward(
            model,
            forget,
            hidden_layer=self.layer_index,
            hidden_at_token=self.params.scorer_position == "token",
        )
        h = self._hidden(fw)
        if self._needs_random_init:
            self.scorer.random_init(h[fw.mask], target_std=2.0)
            self._needs_random_init = False
        # 1. scorer step, model fixed. The scorer always learns from the saturated f = p.
        logs: dict[str, float] = {}
        f_scorer = fw.logp.detach().exp()
        tau = self._tau(f_scorer, fw.mask)
        if step >= self.warmup_steps and self.params.scorer_lr > 0:
            scores = self.scorer(h)
            scorer_loss = (
                masked_mean(scores * (f_scorer - tau), fw.mask)
                + self.params.scorer_l2 * self.scorer.weight_norm2()
            )
            self.optimiser.zero_grad(set_to_none=True)
            scorer_loss.backward()
            self.optimiser.step()
            logs["scorer_loss"] = float(scorer_loss.detach())
        # 2. model step, scorer fixed: scores recomputed after the scorer's update.
        with torch.no_grad():
            weights = normalise_weights(self.scorer(h), fw.mask, self.params.normalise)
        f = self._forget_values(fw, forget)
        forget_loss = masked_mean(weights * f, fw.mask)
        retain_loss, retain_logs = self.retain_term(model, retain)
        loss = self.params.gamma * forget_loss + retain_loss
        sel = weights[fw.mask]
        logs.update(
            forget_loss=float(forget_loss.detach()),
            tau=float(tau),
            mean_weight=float(sel.mean()),
            selected_share=float((sel > 0.5).float().mean()),
            **retain_logs,
        )
        return LossOutput(loss=loss, weights=weights, logs=logs)

    @torch.no_grad()
    def token_weights(self, model, forget: ForgetBatch) -> tuple[torch.Tensor, torch.Tensor]:
        fw = forward(
            model,
            forget,
            hidden_layer=self.layer_index,
            hidden_at_token=self.params.scorer_position == "token",
        )
        w = normalise_weights(self.scorer(self._hidden(fw)), fw.mask, self.params.normalise)
        return w, fw.mask

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
