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

Retain support (METHOD.md §1, off by default): with ``conflict_gate`` > 0 or a ``scorer_design``
other than ``plain``, a FIFO bank of the retain batches' answer tokens (filled from the retain
forward pass the retain loss runs anyway, :mod:`atwu.methods.retain_support`) gives each forget
token its support S_t and conflict c_t, which gate the model step's weights or shape the scorer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from safetensors.torch import save

from atwu import distributed
from atwu.data.batching import Batch, shifted_targets
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
from atwu.methods.retain_support import (
    SupportBank,
    answer_tokens,
    conflict_gate,
    load_support,
    pick_hidden,
    save_support,
    support_conflict,
)
from atwu.params import param
from atwu.runs.layout import SCORER as SCORER_FILE
from atwu.runs.layout import SUPPORT as SUPPORT_FILE


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
    conflict_gate: float = param(
        0.0,
        "κ: the model step weighs token t by s_t·2σ(−κ·c_t), c_t the z-scored retain support "
        "log(1+S_t) of the token, so tokens the retain data needs in a similar state are pushed "
        "less (0: off; the recorded weights are the gated ones)",
    )
    scorer_design: Literal["plain", "contrast_head", "low_support_target"] = param(
        "plain",
        "plain: the scorer learns from p alone; contrast_head: a second linear head learns to "
        "tell forget states from retain-bank states of the same token id (logistic loss) and the "
        "weight is the product of both heads; low_support_target: the p-target only on tokens of "
        "below-average retain support (c_t ≤ 0), the others pushed towards 0",
    )
    support_bank: int = param(
        8192,
        "entries of the FIFO bank of retain answer tokens (hidden state and token id) behind the "
        "retain support S_t; used only when conflict_gate > 0 or scorer_design is not plain",
    )
    support_temp: float = param(
        0.1, "temperature T of S_t = Σ_r [y_r = y_t]·exp((cos(h_t, h_r) − 1)/T)"
    )
    support_layer: str = param(
        "scorer",
        "hidden states the support bank compares: 'scorer' (the scorer's layer), 'middle', "
        "'last' or an integer index into the hidden_states tuple",
    )
    support_position: Literal["scorer", "predicting", "token"] = param(
        "scorer",
        "position of the support bank's hidden state: 'scorer' (the scorer's position), "
        "'token' or 'predicting'",
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
        check_support_params("atwu", self, allow_scorer=True)
        if not 0 <= self.conflict_gate < float("inf"):
            raise MethodError("atwu: conflict_gate must be a finite number ≥ 0")

    @property
    def uses_support(self) -> bool:
        """Whether the retain-support bank is kept (a gate or a retain-aware scorer design)."""
        return self.conflict_gate > 0 or self.scorer_design != "plain"


def check_support_params(owner: str, params, *, allow_scorer: bool) -> None:
    """The support bank's options: a positive size and temperature, a layer the model has."""
    if params.support_bank < 1:
        raise MethodError(f"{owner}: support_bank must be ≥ 1 (entries of the bank)")
    if not 0 < params.support_temp < float("inf"):
        raise MethodError(f"{owner}: support_temp must be a positive number")
    named = ("scorer", "middle", "last") if allow_scorer else ("middle", "last")
    if params.support_layer not in named:
        try:
            int(params.support_layer)
        except (TypeError, ValueError):
            raise MethodError(
                f"{owner}: support_layer must be {', '.join(repr(n) for n in named)} or an "
                f"integer, got {params.support_layer!r}"
            ) from None


def layer_index(layer: str, num_layers: int) -> int:
    """'middle' → hidden_states[num_layers // 2] (at least 1), 'last' → −1, else the integer."""
    if layer == "middle":
        return max(1, num_layers // 2)
    if layer == "last":
        return -1
    return int(layer)


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
    data_parallel = True

    @classmethod
    def data_parallel_problem(cls, params: ATWUParams) -> str | None:
        if params.scorer_design == "contrast_head":
            # its negatives are the bank entries sharing a token id with this rank's positives
            return "atwu with scorer_design=contrast_head is not yet split exactly over processes"
        return None

    def replicated_tensors(self) -> list[torch.Tensor]:
        tensors: list[torch.Tensor] = list(self.scorer.parameters())
        if self.contrast is not None:
            tensors += list(self.contrast.parameters())
        return tensors

    def __init__(self, params: ATWUParams, ctx):
        super().__init__(params, ctx)
        self.scorer = LinearScorer(ctx.hidden_size).to(ctx.device)
        self.scorer.reset(params.scorer_init_bias if params.scorer_init == "select_all" else 0.0)
        self._needs_random_init = params.scorer_init == "random"
        self.optimiser = torch.optim.Adam(self.scorer.parameters(), lr=max(params.scorer_lr, 1e-12))
        self.bank: SupportBank | None = None
        self.contrast: LinearScorer | None = None
        if params.uses_support:
            self.bank = SupportBank(params.support_bank, ctx.hidden_size, ctx.device)
        if params.scorer_design == "contrast_head":
            # starts at σ(3) ≈ 0.95 on every token, so the product with s_t barely moves at first
            self.contrast = LinearScorer(ctx.hidden_size).to(ctx.device)
            self.contrast.reset(3.0)
            self.contrast_optimiser = torch.optim.Adam(
                self.contrast.parameters(), lr=max(params.scorer_lr, 1e-12)
            )

    @property
    def warmup_steps(self) -> int:
        if self.params.scorer_warmup_steps is not None:
            return self.params.scorer_warmup_steps
        return round(self.params.scorer_warmup_share * self.ctx.total_steps)

    def resolved(self) -> dict:
        out: dict = {"scorer_warmup_steps": self.warmup_steps, "scorer_layer": self.layer_index}
        if self.bank is not None:
            out.update(
                support_layer=self.support_layer_index, support_position=self.support_position
            )
        return out

    @property
    def layer_index(self) -> int:
        return layer_index(self.params.scorer_layer, self.ctx.num_layers)

    @property
    def support_layer_index(self) -> int:
        if self.params.support_layer == "scorer":
            return self.layer_index
        return layer_index(self.params.support_layer, self.ctx.num_layers)

    @property
    def support_position(self) -> str:
        pos = self.params.support_position
        return self.params.scorer_position if pos == "scorer" else pos

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
        # with the support bank on, the whole hidden_states tuple is kept (the same forward pass),
        # so the bank's layer can differ from the scorer's
        return forward(
            model,
            batch,
            hidden_layer=self.layer_index,
            hidden_at_token=self.params.scorer_position == "token",
            all_hidden=self.bank is not None,
        )

    def _support_hidden(self, fw: Forward) -> torch.Tensor:
        assert fw.hidden_states is not None  # _forward keeps them whenever the bank is on
        return pick_hidden(
            fw.hidden_states, self.support_layer_index, self.support_position == "token"
        ).detach()

    def fill_bank(self, retain_fw: Forward, retain: Batch) -> None:
        """Append the retain batch's answer tokens to the bank (the one place that writes it)."""
        assert self.bank is not None
        hidden, ids = answer_tokens(self._support_hidden(retain_fw), retain)
        # every rank's retain tokens, in batch order: the bank stays the same on every rank
        self.bank.add(distributed.gather_rows(hidden), distributed.gather_rows(ids))

    def support(self, fw: Forward, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(c_t, the support states) of a forget batch's tokens against the bank."""
        s, h = self.support_values(fw, batch)
        return support_conflict(s, fw.mask), h

    def support_values(self, fw: Forward, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(S_t, the support states) of a forget batch's tokens against the bank."""
        assert self.bank is not None
        h = self._support_hidden(fw)
        targets, _ = shifted_targets(batch)
        return self.bank.support(h, targets, self.params.support_temp), h

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
        z = (
            distributed.total(w.sum()).clamp(min=1e-8)
            if by == "mass"
            else fw.n_tokens.to(fw.logp.dtype)
        )
        f = (2.0 / beta) * torch.log1p(torch.exp(beta * (fw.logp - ref)))
        # ∂f/∂log p = 2σ(β·(log p − log p_ref))
        slope = 2 * torch.sigmoid(beta * (fw.logp.detach() - ref))
        return gamma * distributed.pooled((w * f).sum()) / z, gamma * w * slope / z.detach()

    def compute(self, model, forget: ForgetBatch, retain: Batch | None, step: int) -> LossOutput:
        p = self.params
        fw = self._forward(model, forget)
        h = self._hidden(fw)
        # One retain forward serves the retain loss and, with λ > 0, the scorer's negatives and,
        # with the support bank on, the bank's new entries.
        negatives = p.scorer_retain_negatives > 0
        banked = self.bank is not None
        retain_fw = None
        if retain is not None and (p.alpha > 0 or negatives or banked):
            wants_hidden = negatives or banked
            retain_fw = self._forward(model, retain) if wants_hidden else forward(model, retain)
        conflict = support_h = None
        if banked:
            if retain_fw is not None and retain is not None:
                self.fill_bank(retain_fw, retain)
            conflict, support_h = self.support(fw, forget)
        if self._needs_random_init:
            self.scorer.random_init(distributed.gather_rows(h[fw.mask]), target_std=2.0)
            self._needs_random_init = False
        # 1. scorer step, model fixed. The scorer always learns from the saturated f = p.
        logs: dict[str, float] = {}
        f_scorer = fw.logp.detach().exp()
        tau = self._tau(f_scorer, fw.mask)
        if p.scorer_design == "low_support_target" and conflict is not None:
            # τ over the low-support tokens: the p-ranking is learned among them only
            tau = self._tau(f_scorer, fw.mask & (conflict <= 0))
        if step >= self.warmup_steps and p.scorer_lr > 0:
            scorer_loss = self.scorer_objective(h, f_scorer, tau, fw.mask, retain_fw, conflict)
            self.optimiser.zero_grad(set_to_none=True)
            scorer_loss.backward()
            distributed.sum_gradients(self.scorer.parameters())
            self.optimiser.step()
            logs["scorer_loss"] = float(scorer_loss.detach())
        if self.contrast is not None and support_h is not None and p.scorer_lr > 0:
            # the contrast head has its own question (forget or retain state?), so no warm-up
            contrast_loss = self.contrast_objective(support_h, forget, fw.mask)
            if contrast_loss is not None:
                self.contrast_optimiser.zero_grad(set_to_none=True)
                contrast_loss.backward()
                self.contrast_optimiser.step()
                logs["contrast_loss"] = float(contrast_loss.detach())
        # 2. model step, scorer fixed: scores recomputed after the scorer's update.
        with torch.no_grad():
            weights = self._weights(h, fw.mask, support_h, conflict)
        forget_term, pressure = self._model_forget(fw, forget, weights)
        retain_term = torch.zeros((), device=forget_term.device)
        if retain_fw is not None and p.alpha > 0:
            retain_loss = -masked_mean(retain_fw.logp, retain_fw.mask)
            retain_term = p.alpha * retain_loss
            logs["retain_loss"] = float(retain_loss.detach())
        sel = weights[fw.mask]
        if banked:
            assert conflict is not None and self.bank is not None
            logs["bank_size"] = float(self.bank.size)
            if p.conflict_gate > 0:
                gate = conflict_gate(conflict, p.conflict_gate)[fw.mask]
                logs["mean_gate"] = float(distributed.mean_of(gate))
        logs.update(
            forget_loss=float(forget_term.detach()) / p.gamma if p.gamma else 0.0,
            tau=float(tau),
            mean_weight=float(distributed.mean_of(sel)),
            selected_share=float(distributed.mean_of((sel > 0.5).float())),
        )
        return LossOutput(forget_term, retain_term, weights, pressure, logs)

    def scorer_objective(
        self,
        h: torch.Tensor,
        f: torch.Tensor,
        tau: torch.Tensor,
        mask: torch.Tensor,
        retain_fw: Forward | None = None,
        conflict: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The scorer step's loss: mean_t s_t·(sg f_t − τ) + l2·‖v‖² (+ λ·mean_r s_r on the
        retain batch's answer tokens when ``scorer_retain_negatives`` is on).

        ``scorer_design=low_support_target``: the target (f_t − τ) applies only to tokens of
        below-average retain support (c_t ≤ 0); the others get target 1, i.e. s_t is pushed
        towards 0 wherever the retain data needs the token. With an empty bank every c_t is 0,
        so the objective is the plain one until the bank has entries."""
        scores = self.scorer(h)
        if self.params.scorer_design == "low_support_target" and conflict is not None:
            target = torch.where(conflict <= 0, f - tau, torch.ones_like(f))
            objective = masked_mean(scores * target, mask)
        else:
            objective = masked_mean(scores * (f - tau), mask)
        # every rank holds the same scorer: the penalty's gradient counts once over the ranks
        objective = objective + distributed.replicated(
            self.params.scorer_l2 * self.scorer.weight_norm2()
        )
        lam = self.params.scorer_retain_negatives
        if lam > 0 and retain_fw is not None:
            objective = objective + lam * masked_mean(
                self.scorer(self._hidden(retain_fw)), retain_fw.mask
            )
        return objective

    def contrast_objective(
        self, support_h: torch.Tensor, forget: Batch, mask: torch.Tensor
    ) -> torch.Tensor | None:
        """Class-balanced logistic loss of the contrast head: the forget batch's answer tokens
        are positives, the bank's entries with one of their token ids negatives (+ l2·‖v‖²).
        None when the bank holds no entry with those ids."""
        assert self.contrast is not None and self.bank is not None
        targets, _ = shifted_targets(forget)
        pos_h, pos_ids = support_h[mask], targets[mask]
        bank_h, bank_ids = self.bank.entries()
        neg_h = bank_h[torch.isin(bank_ids, pos_ids)]
        if neg_h.shape[0] == 0 or pos_h.shape[0] == 0:
            return None
        scale = (
            float(self.ctx.hidden_size) ** 0.5
        )  # a unit row times √d is the RMS-normalised state
        logit_pos = self.contrast.linear(rms_normalise(pos_h.float())).squeeze(-1)
        logit_neg = self.contrast.linear(neg_h * scale).squeeze(-1)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        loss = bce(logit_pos, torch.ones_like(logit_pos)) + bce(
            logit_neg, torch.zeros_like(logit_neg)
        )
        return loss + self.params.scorer_l2 * self.contrast.weight_norm2()

    @torch.no_grad()
    def token_weights(self, model, forget: ForgetBatch) -> tuple[torch.Tensor, torch.Tensor]:
        weights, mask, _ = self.recorded_tokens(model, forget)
        return weights, mask

    @torch.no_grad()
    def recorded_tokens(
        self, model, forget: ForgetBatch
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """The weights, and with the support bank on the retain support S_t beside them: the
        channel that shows why the gate or a retain-aware design deselected a token."""
        fw = self._forward(model, forget)
        if self.bank is None:
            return self._weights(self._hidden(fw), fw.mask), fw.mask, {}
        support, support_h = self.support_values(fw, forget)
        conflict = support_conflict(support, fw.mask)
        weights = self._weights(self._hidden(fw), fw.mask, support_h, conflict)
        return weights, fw.mask, {"support": support}

    def _weights(
        self,
        h: torch.Tensor,
        mask: torch.Tensor,
        support_h: torch.Tensor | None = None,
        conflict: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The model step's weights: the scores, raised to ``score_power``, times the contrast
        head's score (``scorer_design=contrast_head``) and the conflict gate 2σ(−κ·c_t)
        (``conflict_gate`` κ > 0), normalised."""
        scores = self.scorer(h)
        if self.params.score_power != 1.0:
            scores = scores.pow(self.params.score_power)
        if self.contrast is not None and support_h is not None:
            scores = scores * self.contrast(rms_normalise(support_h.float()))
        if self.params.conflict_gate > 0 and conflict is not None:
            scores = scores * conflict_gate(conflict, self.params.conflict_gate)
        return normalise_weights(scores, mask, self.params.normalise)

    def state_dict(self) -> dict:
        state = {
            "scorer": self.scorer.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "needs_random_init": self._needs_random_init,
        }
        if self.bank is not None:
            state["support_bank"] = self.bank.state_dict()
        if self.contrast is not None:
            state["contrast"] = self.contrast.state_dict()
            state["contrast_optimiser"] = self.contrast_optimiser.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.scorer.load_state_dict(state["scorer"])
        self.optimiser.load_state_dict(state["optimiser"])
        self._needs_random_init = state.get("needs_random_init", False)
        if self.bank is not None and "support_bank" in state:
            self.bank.load_state_dict(state["support_bank"])
        if self.contrast is not None and "contrast" in state:
            self.contrast.load_state_dict(state["contrast"])
            self.contrast_optimiser.load_state_dict(state["contrast_optimiser"])

    def save_artifacts(self, run_dir) -> None:
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.scorer.state_dict().items()}
        meta = {
            "scorer_layer": str(self.layer_index),
            "normalise": self.params.normalise,
            "hidden_size": str(self.ctx.hidden_size),
            "input": "hidden_state / RMS(hidden_state)",
        }
        atomic_write_bytes(Path(run_dir) / SCORER_FILE, save(tensors, metadata=meta))
        if self.bank is not None:
            save_support(Path(run_dir) / SUPPORT_FILE, self.bank, self._support_heads())

    def load_artifacts(self, run_dir) -> None:
        scorer, _ = LinearScorer.load(Path(run_dir) / SCORER_FILE)
        self.scorer.load_state_dict(scorer.state_dict())
        self._needs_random_init = False
        if self.bank is not None:
            path = Path(run_dir) / SUPPORT_FILE
            if not path.is_file():
                raise MethodError(
                    f"{Path(run_dir).name} kept a retain-support bank but has no {SUPPORT_FILE} "
                    "(it predates saving it): its gate cannot be reproduced; rerun it"
                )
            load_support(path, self.bank, self._support_heads())

    def _support_heads(self) -> dict[str, torch.nn.Module]:
        return {"contrast": self.contrast} if self.contrast is not None else {}
