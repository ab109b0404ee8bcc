"""Teacher-forced scoring: every answer variant of every pair in padded batches, one forward pass each.

Every answer variant of every pair (the answer, the paraphrased answer and each perturbed answer)
is one sequence; all sequences of all splits are sorted by length and scored in padded batches.
From the per-token log-probabilities come Prob, the forget loss, the truth ratio and, for the answer
itself, exact memorisation and extraction strength.

Which tokens count: the *completion* of :func:`atwu.data.chat.encode_pair`, i.e. the answer's
tokens plus the end-of-turn/EOS token(s) the chat template adds. This matches the public TOFU
reference, whose labels cover every token after the prompt (answer + EOS), so Prob and the truth
ratio compare with published numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from atwu.data.batching import Batch, collate, shifted_targets, token_logprobs
from atwu.data.chat import EncodedPair, encode_pair
from atwu.data.format import FACT_LABELS, QAPair, Span
from atwu.data.labels import fact_span_index, token_labels
from atwu.evaluate import fact_metrics as F
from atwu.evaluate import tofu_metrics as M

NAN = float("nan")

SCORE_COLUMNS = [
    "example_id",
    "prob",
    "forget_loss",
    "para_prob",
    "pert_probs",
    "option_prob",
    "truth_ratio",
    "exact_memorization",
    "extraction_strength",
    "n_tokens",
    # fact level (METHOD.md §4.5), token log-probabilities floored at log 1e-4:
    "span_logp",  # per fact span of the answer: Σ log p over its tokens (list, span order)
    "span_recalled",  # per fact span: every token is the teacher-forced argmax (list)
    "span_neighbour",  # per fact span: flagged neighbour in the data (list)
    "para_span_logp",  # per fact span of the paraphrased answer (list; None without its spans)
    "template_logp_sum",  # Σ log p over the answer's non-fact, non-context tokens
    "template_tokens",
    "answer_logp_sum",  # Σ log p over every labelled answer token (general damage)
    "answer_tokens",
    "span_kind",  # per fact span: its label (specific, shared or fact; list, span order)
    "span_tokens",  # per fact span: how many answer tokens it covers (list)
]
LIST_COLUMNS = (
    "pert_probs",
    "span_logp",
    "span_recalled",
    "span_neighbour",
    "para_span_logp",
    "span_kind",
    "span_tokens",
)

_ANSWER, _PARA, _PERT = 0, 1, 2


@dataclass(frozen=True)
class TokenRoles:
    """What each completion token of one answer variant is: its fact span (−1 none) and label."""

    span_index: np.ndarray  # per completion token
    labels: np.ndarray  # 1 fact, 0 template, −1 left out (context, special, unknown spans)
    n_spans: int
    neighbour: tuple[bool, ...]
    kinds: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str, offsets: Sequence, spans: Sequence[Span] | None) -> TokenRoles:
        facts = [s for s in spans or [] if s.label in FACT_LABELS]
        labels, _ = token_labels(text, offsets, spans)
        return cls(
            np.asarray(fact_span_index(text, offsets, spans), dtype=int),
            np.asarray(labels, dtype=int),
            len(facts),
            tuple(s.neighbour for s in facts),
            tuple(s.label for s in facts),
        )


@dataclass
class ScoringPlan:
    """Pairs encoded once and grouped into padded batches, reusable across checkpoints.

    Encoding (chat template + tokenisation) costs as much as a tiny model's forward pass, and the
    pairs never change during a run, so :class:`~atwu.evaluate.checkpoint.CheckpointEvaluator`
    builds one plan and scores every checkpoint with it.

    Attributes:
        pairs: the pairs, in output order.
        batches: the padded batches, sorted by length.
        answer_lens: completion length (answer + EOS tokens) of each pair's answer.
    """

    pairs: list[QAPair]
    batches: list[PlannedBatch]
    answer_lens: list[int]
    answer_roles: list[TokenRoles]
    para_roles: list[TokenRoles | None]


@dataclass
class PlannedBatch:
    """One padded batch of answer variants.

    ``rows[i] = (pair index, variant kind, perturbed index)``. ``start`` is the first position
    whose logits are needed (the one predicting the earliest completion token of the batch):
    logits of prompt positions are never used, and skipping them saves the output projection
    there, which dominates for large vocabularies.
    """

    batch: Batch
    rows: list[tuple[int, int, int]]
    start: int


def plan_scoring(
    tokenizer: Any, pairs: Sequence[QAPair], *, batch_size: int = 64, perturbed: bool = True
) -> ScoringPlan:
    """Encode every answer variant of ``pairs`` and group them into batches of ``batch_size``.

    Variants of all pairs are pooled and sorted by length before batching, so each batch holds
    sequences of similar length and padding stays small. ``perturbed=False`` leaves the perturbed
    answers out (no truth ratio, option probability or forget quality; about half the cost: the
    fact-level metrics need only the answers and their paraphrases).
    """
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    items: list[tuple[EncodedPair, tuple[int, int, int]]] = []
    answer_lens: list[int] = []
    answer_roles: list[TokenRoles] = []
    para_roles: list[TokenRoles | None] = []
    for i, pair in enumerate(pairs):
        enc = encode_pair(tokenizer, pair.question, pair.answer)
        answer_lens.append(enc.completion_len)
        answer_roles.append(TokenRoles.of(pair.answer, enc.answer_offsets, pair.spans))
        items.append((enc, (i, _ANSWER, 0)))
        para_roles.append(None)
        if pair.paraphrased_answer:
            para = encode_pair(tokenizer, pair.question, pair.paraphrased_answer)
            if pair.paraphrased_answer_spans is not None:
                para_roles[i] = TokenRoles.of(
                    pair.paraphrased_answer, para.answer_offsets, pair.paraphrased_answer_spans
                )
            items.append((para, (i, _PARA, 0)))
        for j, pert in enumerate(pair.perturbed_answers or [] if perturbed else []):
            items.append((encode_pair(tokenizer, pair.question, pert), (i, _PERT, j)))
    items.sort(key=lambda item: len(item[0].input_ids))
    batches = []
    for lo in range(0, len(items), max(1, batch_size)):
        chunk = items[lo : lo + batch_size]
        start = max(0, min(enc.prompt_len for enc, _ in chunk) - 1)
        batches.append(
            PlannedBatch(collate([enc for enc, _ in chunk], pad), [row for _, row in chunk], start)
        )
    return ScoringPlan(list(pairs), batches, answer_lens, answer_roles, para_roles)


def _model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _forward(model: torch.nn.Module, batch: Batch, keep: int) -> torch.Tensor:
    """Logits of the last ``keep`` positions. ``logits_to_keep`` is supported by every
    transformers causal LM that can generate; remote-code models without it get full logits."""
    try:
        logits = model(
            input_ids=batch.input_ids, attention_mask=batch.attention_mask, logits_to_keep=keep
        ).logits
    except TypeError:
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    return logits[:, -keep:]


@torch.inference_mode()
def score_plan(model: torch.nn.Module, plan: ScoringPlan) -> pd.DataFrame:
    """Score a prepared plan: one padded forward pass per batch. See :func:`score_pairs`."""
    n = len(plan.pairs)
    mean_nll = np.full(n, NAN)
    n_tokens = np.zeros(n, dtype=np.int64)
    para_nll = np.full(n, NAN)
    pert_nll: list[dict[int, float]] = [{} for _ in range(n)]
    correct: list[np.ndarray] = [np.zeros(0, dtype=bool)] * n
    answer_logp: list[np.ndarray] = [np.zeros(0)] * n  # per completion token
    para_logp: list[np.ndarray | None] = [None] * n
    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        for planned in plan.batches:
            batch, rows, start = planned.batch.to(device), planned.rows, planned.start
            keep = batch.input_ids.shape[1] - start
            logits = _forward(model, batch, keep)
            # The kept logits are those of positions start.., so the targets are the labels
            # from start + 1 on: slicing the batch at ``start`` lines shifted_targets up.
            targets, mask = shifted_targets(
                Batch(
                    batch.input_ids[:, start:],
                    batch.attention_mask[:, start:],
                    batch.labels[:, start:],
                )
            )
            lp = token_logprobs(logits[:, :-1], targets)
            counts = mask.sum(dim=1)
            # where() rather than lp * mask: a -inf log-prob on a padded position times 0 is NaN.
            total = torch.where(mask, lp, torch.zeros_like(lp)).sum(dim=1)
            nll = (-total / counts.clamp(min=1)).double().cpu().numpy()
            answer_rows = [r for r, (_, kind, _) in enumerate(rows) if kind == _ANSWER]
            answer_pos = {r: k for k, r in enumerate(answer_rows)}
            if answer_rows:
                sel = torch.tensor(answer_rows, device=device)
                # Argmax only where needed (the answer itself): avoids a second pass over the
                # vocabulary for the paraphrased and perturbed variants.
                hits = (logits[sel, :-1].argmax(dim=-1) == targets[sel]).cpu().numpy()
                hit_mask = mask[sel].cpu().numpy()
            counts_np = counts.cpu().numpy()
            lp_np, mask_np = lp.double().cpu().numpy(), mask.cpu().numpy()
            for r, (i, kind, j) in enumerate(rows):
                if kind == _ANSWER:
                    mean_nll[i] = nll[r]
                    n_tokens[i] = int(counts_np[r])
                    k = answer_pos[r]
                    correct[i] = hits[k][hit_mask[k]]
                    answer_logp[i] = lp_np[r][mask_np[r]]
                elif kind == _PARA:
                    para_nll[i] = nll[r]
                    para_logp[i] = lp_np[r][mask_np[r]]
                else:
                    pert_nll[i][j] = nll[r]
    finally:
        model.train(was_training)
    frame = _score_frame(plan.pairs, mean_nll, n_tokens, para_nll, pert_nll, correct)
    details = [
        _fact_detail(
            answer_logp[i], correct[i], plan.answer_roles[i], para_logp[i], plan.para_roles[i]
        )
        for i in range(n)
    ]
    for column in SCORE_COLUMNS[10:]:
        frame[column] = [d[column] for d in details]
    return frame


def _fact_detail(
    logp: np.ndarray,
    correct: np.ndarray,
    roles: TokenRoles,
    para_logp: np.ndarray | None,
    para_roles: TokenRoles | None,
) -> dict[str, Any]:
    """One pair's fact-level columns from its answer's (and paraphrase's) token log-probs."""
    lp = F.floored(logp)
    if lp.shape != roles.labels.shape:  # no completion scored (an empty answer)
        return {
            "span_logp": [],
            "span_recalled": [],
            "span_neighbour": [],
            "para_span_logp": None,
            "template_logp_sum": 0.0,
            "template_tokens": 0,
            "answer_logp_sum": 0.0,
            "answer_tokens": 0,
            "span_kind": [],
            "span_tokens": [],
        }
    template = roles.labels == 0
    labelled = roles.labels >= 0
    para = None
    if para_logp is not None and para_roles is not None:
        para = F.span_sums(F.floored(para_logp), para_roles.span_index, para_roles.n_spans).tolist()
    return {
        "span_logp": F.span_sums(lp, roles.span_index, roles.n_spans).tolist(),
        "span_recalled": F.span_all(correct, roles.span_index, roles.n_spans).tolist(),
        "span_neighbour": list(roles.neighbour),
        "para_span_logp": para,
        "template_logp_sum": float(lp[template].sum()),
        "template_tokens": int(template.sum()),
        "answer_logp_sum": float(lp[labelled].sum()),
        "answer_tokens": int(labelled.sum()),
        "span_kind": list(roles.kinds),
        "span_tokens": np.bincount(
            roles.span_index[roles.span_index >= 0], minlength=roles.n_spans
        ).tolist(),
    }


def _score_frame(
    pairs: Sequence[QAPair],
    mean_nll: np.ndarray,
    n_tokens: np.ndarray,
    para_nll: np.ndarray,
    pert_nll: list[dict[int, float]],
    correct: list[np.ndarray],
) -> pd.DataFrame:
    rows = []
    for i, pair in enumerate(pairs):
        prob = math.exp(-mean_nll[i]) if n_tokens[i] else NAN
        para_prob = math.exp(-para_nll[i]) if not math.isnan(para_nll[i]) else NAN
        n_pert = len(pert_nll[i])  # the perturbed answers scored (none in a light plan)
        pert_probs = [math.exp(-pert_nll[i][j]) for j in range(n_pert)] if n_pert else None
        ratio = M.truth_ratio(pert_probs, para_prob) if pert_probs else NAN
        # TOFU's Prob on its general-knowledge sets: the answer's share among the answer and the
        # perturbed (wrong) options, which is comparable across models with different fluency.
        option_prob = prob / (prob + sum(pert_probs)) if pert_probs else NAN
        rows.append(
            {
                "example_id": pair.id,
                "prob": prob,
                "forget_loss": float(mean_nll[i]) if n_tokens[i] else NAN,
                "para_prob": para_prob,
                "pert_probs": pert_probs,
                "option_prob": option_prob,
                "truth_ratio": ratio,
                "exact_memorization": M.exact_memorization(correct[i]),
                "extraction_strength": M.extraction_strength(correct[i]),
                "n_tokens": int(n_tokens[i]),
            }
        )
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS[:10])
    return frame.astype({"example_id": object, "n_tokens": "int64"})


def score_pairs(
    model: torch.nn.Module, tokenizer: Any, pairs: Sequence[QAPair], *, batch_size: int = 64
) -> pd.DataFrame:
    """Teacher-forced scores of each pair, in the order of ``pairs``.

    All answer variants (answer, paraphrase, perturbed answers) are scored together in padded
    batches of ``batch_size`` sequences sorted by length, one forward pass per batch.

    Columns:
        ``example_id``; ``prob`` = exp(−mean NLL) over the completion (answer + EOS, see the
        module docstring); ``forget_loss`` = that mean NLL; ``para_prob``; ``pert_probs`` (list,
        None when the pair has no perturbed answers); ``option_prob`` = prob / (prob + Σ
        pert_probs); ``truth_ratio`` = geomean(pert_probs) / para_prob (NaN without both);
        ``exact_memorization`` and ``extraction_strength`` from whether the teacher-forced argmax
        at each completion position is the true token; ``n_tokens`` (completion length).
    """
    if not pairs:
        return pd.DataFrame(
            {
                c: pd.Series(
                    dtype="int64"
                    if c in ("n_tokens", "template_tokens", "answer_tokens")
                    else (object if c == "example_id" or c in LIST_COLUMNS else float)
                )
                for c in SCORE_COLUMNS
            }
        )
    return score_plan(model, plan_scoring(tokenizer, pairs, batch_size=batch_size))
