"""Evaluate a causal LM on a benchmark's splits: TOFU-family metrics per example and per model.

Two model passes per evaluation, both batched:

1. **Teacher-forced scoring** (:func:`score_pairs`): every answer variant of every pair (the
   answer, the paraphrased answer and each perturbed answer) is one sequence; all sequences of
   all splits are sorted by length and scored in padded batches, one forward pass each. From the
   per-token log-probabilities come Prob, the forget loss, the truth ratio and, for the answer
   itself, exact memorisation and extraction strength.
2. **Greedy generation** (:func:`atwu.generate.greedy_answers`) of every question, for ROUGE-L.

Which tokens count: the *completion* of :func:`atwu.data.chat.encode_pair`, i.e. the answer's
tokens plus the end-of-turn/EOS token(s) the chat template adds. This matches the public TOFU
reference, whose labels cover every token after the prompt (answer + EOS), so Prob and the
truth ratio compare with published numbers. The same tokens are used for exact memorisation and
extraction strength (open-unlearning also scores every non-masked label).

Forget quality needs the retain model's forget-split truth ratios (:func:`retain_reference`), and
UQ needs the starting model's evaluation (:func:`step0_eval`). Both are the same for every run on
a benchmark, so both are cached under ``<benchmark>/eval_cache/``.

Example::

    bench = Benchmark.load("~/.atwu/benchmarks/embedded")
    ev = evaluate_model(model, tokenizer, bench, "forget10")
    ref = retain_reference(bench, "forget10")
    p, ks, note = forget_quality_vs_reference(ev, ref)
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from atwu.benchmark import Benchmark, BenchmarkError
from atwu.data.batching import Batch, collate, shifted_targets, token_logprobs
from atwu.data.chat import EncodedPair, encode_pair
from atwu.data.format import QAPair
from atwu.evaluate import metrics as M
from atwu.generate import greedy_answers
from atwu.io import atomic_write_bytes, atomic_write_json, clean_for_json, read_json

__all__ = [
    "EXAMPLE_COLUMNS",
    "SCORE_COLUMNS",
    "ModelEval",
    "PlannedBatch",
    "ScoringPlan",
    "eval_splits",
    "evaluate_model",
    "forget_quality_vs_reference",
    "generation_budget",
    "model_fingerprint",
    "option_prob_splits",
    "plan_scoring",
    "reference_ratios",
    "retain_reference",
    "score_pairs",
    "score_plan",
    "step0_eval",
    "summarise",
    "uq_vs_step0",
]

NAN = float("nan")

# Bumped when the cached files' meaning changes, so old caches are recomputed, not misread.
CACHE_VERSION = 1

SCORE_COLUMNS = [
    "example_id", "prob", "forget_loss", "para_prob", "pert_probs", "option_prob",
    "truth_ratio", "exact_memorization", "extraction_strength", "n_tokens",
]
EXAMPLE_COLUMNS = [
    "split", "example_id", "prob", "truth_ratio", "rouge", "forget_loss", "generated",
    "para_prob", "pert_probs", "option_prob", "exact_memorization", "extraction_strength",
    "n_tokens",
]
"""Columns of :attr:`ModelEval.examples`, in order."""

# Greedy generation stops at EOS, but a model that has forgotten often never emits it; so the
# budget is the longest reference completion plus this margin (enough for ROUGE-L recall, which
# only counts reference tokens) rather than a fixed large number.
GENERATION_MARGIN = 8
GENERATION_CAP = 256


# --------------------------------------------------------------------------------------------
# Teacher-forced scoring
# --------------------------------------------------------------------------------------------

_ANSWER, _PARA, _PERT = 0, 1, 2


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
    batches: list["PlannedBatch"]
    answer_lens: list[int]


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


def plan_scoring(tokenizer: Any, pairs: Sequence[QAPair], *, batch_size: int = 64) -> ScoringPlan:
    """Encode every answer variant of ``pairs`` and group them into batches of ``batch_size``.

    Variants of all pairs are pooled and sorted by length before batching, so each batch holds
    sequences of similar length and padding stays small.
    """
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    items: list[tuple[EncodedPair, tuple[int, int, int]]] = []
    answer_lens: list[int] = []
    for i, pair in enumerate(pairs):
        enc = encode_pair(tokenizer, pair.question, pair.answer)
        answer_lens.append(enc.completion_len)
        items.append((enc, (i, _ANSWER, 0)))
        if pair.paraphrased_answer:
            items.append((encode_pair(tokenizer, pair.question, pair.paraphrased_answer),
                          (i, _PARA, 0)))
        for j, pert in enumerate(pair.perturbed_answers or []):
            items.append((encode_pair(tokenizer, pair.question, pert), (i, _PERT, j)))
    items.sort(key=lambda item: len(item[0].input_ids))
    batches = []
    for lo in range(0, len(items), max(1, batch_size)):
        chunk = items[lo:lo + batch_size]
        start = max(0, min(enc.prompt_len for enc, _ in chunk) - 1)
        batches.append(PlannedBatch(collate([enc for enc, _ in chunk], pad),
                                    [row for _, row in chunk], start))
    return ScoringPlan(pairs=list(pairs), batches=batches, answer_lens=answer_lens)


def _model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _forward(model: torch.nn.Module, batch: Batch, keep: int) -> torch.Tensor:
    """Logits of the last ``keep`` positions. ``logits_to_keep`` is supported by every
    transformers causal LM that can generate; remote-code models without it get full logits."""
    try:
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                       logits_to_keep=keep).logits
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
            targets, mask = shifted_targets(Batch(batch.input_ids[:, start:],
                                                  batch.attention_mask[:, start:],
                                                  batch.labels[:, start:]))
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
            for r, (i, kind, j) in enumerate(rows):
                if kind == _ANSWER:
                    mean_nll[i] = nll[r]
                    n_tokens[i] = int(counts_np[r])
                    k = answer_pos[r]
                    correct[i] = hits[k][hit_mask[k]]
                elif kind == _PARA:
                    para_nll[i] = nll[r]
                else:
                    pert_nll[i][j] = nll[r]
    finally:
        model.train(was_training)
    return _score_frame(plan.pairs, mean_nll, n_tokens, para_nll, pert_nll, correct)


def _score_frame(pairs: Sequence[QAPair], mean_nll: np.ndarray, n_tokens: np.ndarray,
                 para_nll: np.ndarray, pert_nll: list[dict[int, float]],
                 correct: list[np.ndarray]) -> pd.DataFrame:
    rows = []
    for i, pair in enumerate(pairs):
        prob = math.exp(-mean_nll[i]) if n_tokens[i] else NAN
        para_prob = math.exp(-para_nll[i]) if not math.isnan(para_nll[i]) else NAN
        n_pert = len(pair.perturbed_answers or [])
        pert_probs = [math.exp(-pert_nll[i][j]) for j in range(n_pert)] if n_pert else None
        ratio = M.truth_ratio(pert_probs, para_prob) if pert_probs else NAN
        # TOFU's Prob on its general-knowledge sets: the answer's share among the answer and the
        # perturbed (wrong) options, which is comparable across models with different fluency.
        option_prob = prob / (prob + sum(pert_probs)) if pert_probs else NAN
        rows.append({
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
        })
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    return frame.astype({"example_id": object, "n_tokens": "int64"})


def score_pairs(model: torch.nn.Module, tokenizer: Any, pairs: Sequence[QAPair], *,
                batch_size: int = 64) -> pd.DataFrame:
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
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "n_tokens" else
                                          (object if c in ("example_id", "pert_probs") else float))
                             for c in SCORE_COLUMNS})
    return score_plan(model, plan_scoring(tokenizer, pairs, batch_size=batch_size))


# --------------------------------------------------------------------------------------------
# One model on a benchmark
# --------------------------------------------------------------------------------------------


def eval_splits(benchmark: Benchmark, forget_split: str) -> list[str]:
    """The splits an evaluation covers: the forget split, the retain-eval split and every utility
    split, in that order, without duplicates and without splits the benchmark lacks."""
    wanted = [forget_split, benchmark.retain_eval_split, *benchmark.utility_splits]
    out: list[str] = []
    for name in wanted:
        if name in benchmark.splits and name not in out:
            out.append(name)
    return out


def option_prob_splits(benchmark: Benchmark) -> list[str]:
    """Utility splits whose Prob is normalised over the answer options (METHOD.md §4.1).

    TOFU normalises Prob on its general-knowledge sets (real authors, world facts) and not on the
    retain set. A manifest may list them under ``option_prob_splits``; by default every utility
    split other than the retain-eval split is treated like TOFU's general-knowledge sets.
    """
    listed = benchmark.manifest.get("option_prob_splits")
    if listed is not None:
        return list(listed)
    return [s for s in benchmark.utility_splits if s != benchmark.retain_eval_split]


def generation_budget(answer_lens: Sequence[int], *, margin: int = GENERATION_MARGIN,
                      cap: int = GENERATION_CAP) -> int:
    """``max_new_tokens`` for greedy generation: the longest reference completion + ``margin``."""
    longest = max(answer_lens, default=0)
    return max(1, min(cap, longest + margin))


@dataclass
class ModelEval:
    """One model's evaluation on a benchmark.

    Attributes:
        examples: one row per (split, example), columns :data:`EXAMPLE_COLUMNS`.
        summary: aggregate metrics (NaN where undefined); see :func:`summarise`.
        notes: metric → why it is NaN.
        forget_split: the forget split evaluated.
    """

    examples: pd.DataFrame
    summary: dict[str, float]
    notes: dict[str, str] = field(default_factory=dict)
    forget_split: str = ""

    def split(self, name: str) -> pd.DataFrame:
        """The rows of one split."""
        return self.examples[self.examples["split"] == name]

    def forget_ratios(self) -> dict[str, float]:
        """Forget-split truth ratio per example id."""
        rows = self.split(self.forget_split)
        return dict(zip(rows["example_id"], rows["truth_ratio"].astype(float)))

    def save(self, stem: Path, *, meta: dict | None = None) -> None:
        """Write ``<stem>.parquet`` (examples) then ``<stem>.json`` (summary, notes, ``meta``).

        The JSON is written last, so its presence says the pair is complete.
        """
        buffer = io.BytesIO()
        self.examples.to_parquet(buffer, index=False)
        atomic_write_bytes(stem.with_suffix(".parquet"), buffer.getvalue())
        atomic_write_json(stem.with_suffix(".json"), {
            "version": CACHE_VERSION, "forget_split": self.forget_split,
            "summary": self.summary, "notes": self.notes, **(meta or {})})

    @classmethod
    def load(cls, stem: Path) -> "ModelEval":
        """Read what :meth:`save` wrote; raises on a missing or unreadable file."""
        meta = read_json(stem.with_suffix(".json"))
        if meta.get("version") != CACHE_VERSION:
            raise ValueError(f"{stem}: cache version {meta.get('version')} != {CACHE_VERSION}")
        examples = pd.read_parquet(stem.with_suffix(".parquet"))
        summary = {k: NAN if v is None else float(v) for k, v in meta["summary"].items()}
        return cls(examples=examples, summary=summary, notes=dict(meta.get("notes", {})),
                   forget_split=meta["forget_split"])


def _mean(values: pd.Series) -> float:
    arr = values.astype(float).to_numpy()
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else NAN


def summarise(examples: pd.DataFrame, benchmark: Benchmark, forget_split: str, *,
              generated: bool) -> tuple[dict[str, float], dict[str, str]]:
    """Aggregate metrics of one model from its per-example rows.

    Keys: ``forget_prob``, ``retain_prob``, ``forget_rouge``, ``retain_rouge``,
    ``forget_truth_ratio`` (mean min(R, 1/R)), ``retain_truth_ratio`` (mean max(0, 1 − R)),
    ``extraction_strength`` and ``exact_memorization`` (forget split), per utility split ``s``:
    ``s_prob``, ``s_rouge``, ``s_truth_ratio``, and ``model_utility`` = harmonic mean of all the
    utility components. Returns ``(summary, notes)``; every NaN has a note.
    """
    notes: dict[str, str] = {}
    by_split = {name: rows for name, rows in examples.groupby("split", sort=False)}
    empty = examples.iloc[0:0]

    def rows_of(split: str) -> pd.DataFrame:
        return by_split.get(split, empty)

    forget = rows_of(forget_split)
    retain_split = benchmark.retain_eval_split
    retain = rows_of(retain_split)
    summary: dict[str, float] = {
        "forget_prob": _mean(forget["prob"]),
        "retain_prob": _mean(retain["prob"]),
        "forget_rouge": _mean(forget["rouge"]),
        "retain_rouge": _mean(retain["rouge"]),
        "forget_truth_ratio": M.forget_truth_ratio_score(forget["truth_ratio"].astype(float)),
        "retain_truth_ratio": M.retain_truth_ratio_score(retain["truth_ratio"].astype(float)),
        "extraction_strength": _mean(forget["extraction_strength"]),
        "exact_memorization": _mean(forget["exact_memorization"]),
    }
    # Which split each value comes from, so that a NaN's note can name it.
    source = {key: retain_split if key.startswith("retain_") else forget_split for key in summary}
    option_splits = set(option_prob_splits(benchmark))
    components: list[str] = []
    for split in benchmark.utility_splits:
        if split not in benchmark.splits:
            notes[f"{split}_prob"] = f"utility split {split!r} is not in the benchmark; left out"
            continue
        rows = rows_of(split)
        prob_col = "option_prob" if split in option_splits else "prob"
        summary[f"{split}_prob"] = _mean(rows[prob_col])
        summary[f"{split}_rouge"] = _mean(rows["rouge"])
        summary[f"{split}_truth_ratio"] = M.retain_truth_ratio_score(
            rows["truth_ratio"].astype(float))
        for part in ("prob", "rouge", "truth_ratio"):
            components.append(f"{split}_{part}")
            source[f"{split}_{part}"] = split

    if not generated:
        summary["model_utility"] = NAN
        notes["model_utility"] = ("needs ROUGE-L of greedy generations "
                                  "(evaluated with generate=False)")
    elif not components:
        summary["model_utility"] = NAN
        notes["model_utility"] = "the benchmark lists no utility splits"
    else:
        # hmean drops NaN parts (e.g. a split without perturbed answers has no truth ratio), so
        # one unavailable component does not erase the others; the note says which were dropped.
        summary["model_utility"] = M.harmonic_mean([summary[c] for c in components])
        dropped = [c for c in components if math.isnan(summary[c])]
        zeros = [c for c in components if summary[c] <= 0]
        if dropped and not math.isnan(summary["model_utility"]):
            notes["model_utility_components"] = f"left out (undefined): {', '.join(dropped)}"
        elif dropped:
            notes["model_utility"] = f"every component is undefined ({', '.join(dropped)})"
        if zeros:
            # One zero part collapses a harmonic mean; say which, or a 0 utility looks like a bug.
            notes["model_utility_components"] = (
                notes.get("model_utility_components", "") + ("; " if dropped else "")
                + f"0 because {', '.join(zeros)} = 0")

    for key, value in summary.items():
        if math.isnan(value) and key not in notes:
            notes[key] = _why_nan(key, source[key], examples, generated)
    return summary, notes


def _why_nan(key: str, split: str, examples: pd.DataFrame, generated: bool) -> str:
    """A reason for a NaN summary value computed on ``split``, for the record's ``notes``."""
    if not (examples["split"] == split).any():
        return f"split {split!r} has no examples"
    if key.endswith("rouge") and not generated:
        return "no greedy generations (evaluated with generate=False)"
    if key.endswith("truth_ratio"):
        return f"no pair of split {split!r} has both a paraphrased and perturbed answers"
    return f"undefined on split {split!r}"


def evaluate_model(model: torch.nn.Module, tokenizer: Any, benchmark: Benchmark,
                   forget_split: str, *, generate: bool = True, batch_size: int = 64,
                   plan: ScoringPlan | None = None,
                   max_new_tokens: int | None = None) -> ModelEval:
    """Evaluate ``model`` on the forget split, the retain-eval split and the utility splits.

    Args:
        generate: run greedy generation for ROUGE-L (and so model utility); without it those are
            NaN and only teacher-forced metrics are computed.
        batch_size: sequences per forward pass / questions per generation batch.
        plan: a :class:`ScoringPlan` of exactly ``eval_splits(benchmark, forget_split)``'s pairs
            in order, to skip re-encoding (the checkpoint evaluator passes one).
        max_new_tokens: generation budget; default :func:`generation_budget` of the answers.
    """
    splits = eval_splits(benchmark, forget_split)
    pairs_by_split = {s: benchmark.pairs(s) for s in splits}
    all_pairs = [p for s in splits for p in pairs_by_split[s]]
    split_col = [s for s in splits for _ in pairs_by_split[s]]
    if plan is None:
        plan = plan_scoring(tokenizer, all_pairs, batch_size=batch_size)
    if len(plan.pairs) != len(all_pairs):
        raise ValueError("the scoring plan does not match the benchmark's evaluation splits")
    scores = score_plan(model, plan) if all_pairs else score_pairs(model, tokenizer, [])

    if generate and all_pairs:
        budget = max_new_tokens or generation_budget(plan.answer_lens)
        generated = greedy_answers(model, tokenizer, [p.question for p in all_pairs],
                                   batch_size=batch_size, max_new_tokens=budget)
        rouge = M.rouge_l_recall_batch(generated, [p.answer for p in all_pairs])
    else:
        generated = [None] * len(all_pairs)
        rouge = [NAN] * len(all_pairs)

    examples = scores.assign(split=split_col, rouge=np.asarray(rouge, dtype=float),
                             generated=pd.Series(generated, dtype=object))
    examples = examples[EXAMPLE_COLUMNS].reset_index(drop=True)
    summary, notes = summarise(examples, benchmark, forget_split, generated=generate)
    return ModelEval(examples=examples, summary=summary, notes=notes, forget_split=forget_split)


# --------------------------------------------------------------------------------------------
# Fingerprints and cache files
# --------------------------------------------------------------------------------------------


def model_fingerprint(model_path: str | Path) -> str:
    """A short hash of a model's path and the newest modification time of its files.

    Re-preparing a benchmark rewrites its models, which changes the mtime and so invalidates
    every cached evaluation of them. A hub id (not a local directory) hashes its name only.
    """
    path = Path(model_path).expanduser()
    stamp = 0
    if path.is_dir():
        path = path.resolve()
        stamp = max((f.stat().st_mtime_ns for f in path.iterdir() if f.is_file()), default=0)
    return hashlib.sha1(f"{path}|{stamp}".encode()).hexdigest()[:12]


def _data_fingerprint(benchmark: Benchmark, splits: Sequence[str]) -> str:
    """Hash of the evaluated split files' mtimes and sizes: edited data means stale caches."""
    parts = []
    for split in splits:
        stat = benchmark.split_path(split).stat()
        parts.append(f"{split}:{stat.st_mtime_ns}:{stat.st_size}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def cache_dir(benchmark: Benchmark) -> Path:
    return benchmark.root / "eval_cache"


def _try_write(write: Any, what: str) -> None:
    """Run a cache write; a read-only benchmark only costs the cache, never the evaluation."""
    try:
        write()
    except OSError as exc:
        warnings.warn(f"could not cache {what} ({exc}); it will be recomputed next time",
                      stacklevel=3)


def _resolve_device(device: str | torch.device | None) -> torch.device:
    from atwu.models import resolve_device

    return device if isinstance(device, torch.device) else resolve_device(device or "auto")


def _load(model_path: str | Path, device: torch.device) -> tuple[torch.nn.Module, Any]:
    from atwu.models import load_model, load_tokenizer  # heavy imports only when loading

    return load_model(model_path, device=device), load_tokenizer(model_path)


# --------------------------------------------------------------------------------------------
# Forget quality: the retain model's truth ratios
# --------------------------------------------------------------------------------------------


def retain_reference(benchmark: Benchmark, forget_split: str, *,
                     device: str | torch.device | None = None, batch_size: int = 64) -> dict:
    """Forget-split truth ratios of the retain model paired with ``forget_split``, cached.

    The retain model is the one the manifest pairs with the forget split
    (``benchmark.retain_for(forget_split)``). The result is stored in
    ``eval_cache/retain_reference_<forget_split>.json``; it is recomputed when that file is
    missing, unreadable, or made for other model files or data. A read-only benchmark directory
    is evaluated without caching.

    Returns:
        ``{"forget_split", "retain_model", "fingerprint", "ratios": {example id: R or None},
        "summary": {"n", "forget_truth_ratio", "forget_prob"}}``.

    Raises:
        BenchmarkError: the forget split has no retain model (the message says which
            ``prepare --retain-splits`` builds it).
    """
    retain_name = benchmark.retain_for(forget_split)
    model_path = benchmark.model_path(retain_name)
    if not Path(model_path).is_dir():
        raise BenchmarkError(
            f"retain model {retain_name!r} is listed but {model_path} is missing; "
            f"build it with `python -m atwu prepare --retain-splits {retain_name}`")
    fingerprint = f"{model_fingerprint(model_path)}-{_data_fingerprint(benchmark, [forget_split])}"
    path = cache_dir(benchmark) / f"retain_reference_{forget_split}.json"
    try:
        cached = read_json(path)
        if (cached.get("version") == CACHE_VERSION and cached.get("fingerprint") == fingerprint
                and isinstance(cached.get("ratios"), dict)):
            return cached
    except (OSError, ValueError):
        pass  # missing or corrupt: recompute below

    model, tokenizer = _load(model_path, _resolve_device(device))
    scores = score_pairs(model, tokenizer, benchmark.pairs(forget_split), batch_size=batch_size)
    del model
    ratios = dict(zip(scores["example_id"], scores["truth_ratio"].astype(float)))
    reference = clean_for_json({
        "version": CACHE_VERSION,
        "forget_split": forget_split,
        "retain_model": retain_name,
        "fingerprint": fingerprint,
        "ratios": ratios,
        "summary": {
            "n": len(ratios),
            "forget_truth_ratio": M.forget_truth_ratio_score(list(ratios.values())),
            "forget_prob": _mean(scores["prob"]),
        },
    })
    _try_write(lambda: atomic_write_json(path, reference), "the retain reference")
    return reference


def reference_ratios(reference: dict) -> list[float]:
    """The reference's truth ratios as floats (null → NaN, dropped by the KS test)."""
    return [NAN if v is None else float(v) for v in reference["ratios"].values()]


def forget_quality_vs_reference(model_eval: ModelEval, reference: dict | None,
                                why_missing: str | None = None) -> tuple[float, float, str | None]:
    """``(forget quality, KS statistic, note)``: the KS test of the model's forget truth ratios
    against the retain model's (:func:`retain_reference`). NaNs come with a note."""
    if reference is None:
        return NAN, NAN, why_missing or "no retain reference"
    ours = list(model_eval.forget_ratios().values())
    p, ks = M.forget_quality(ours, reference_ratios(reference))
    note = None
    if math.isnan(p):
        note = ("no finite truth ratios on the forget split "
                "(needs paraphrased and perturbed answers)")
    return p, ks, note


# --------------------------------------------------------------------------------------------
# Step 0: the starting model, identical for every run on a benchmark
# --------------------------------------------------------------------------------------------


def step0_eval(benchmark: Benchmark, forget_split: str, model_path: str | Path, *,
               model: torch.nn.Module | None = None, tokenizer: Any = None,
               device: str | torch.device | None = None, batch_size: int = 64,
               plan: ScoringPlan | None = None) -> ModelEval:
    """The full evaluation of the starting model, cached per benchmark.

    Stored as ``eval_cache/step0_<forget_split>_<hash of model path + mtime>.{json,parquet}``
    and reused by every later run; recomputed when missing, unreadable or made for other data.
    ``model``/``tokenizer`` skip loading when the caller already holds the starting model.
    """
    key = model_fingerprint(model_path)
    stem = cache_dir(benchmark) / f"step0_{forget_split}_{key}"
    data_key = _data_fingerprint(benchmark, eval_splits(benchmark, forget_split))
    try:
        cached = ModelEval.load(stem)
        if read_json(stem.with_suffix(".json")).get("data") == data_key:
            return cached
    except Exception:  # noqa: BLE001 - missing/corrupt (pyarrow raises its own types): recompute
        pass
    if model is None or tokenizer is None:
        model, tokenizer = _load(model_path, _resolve_device(device))
    result = evaluate_model(model, tokenizer, benchmark, forget_split, batch_size=batch_size,
                            plan=plan)

    _try_write(lambda: result.save(stem, meta={"data": data_key, "model_path": str(model_path)}),
               "the step-0 evaluation")
    return result


def uq_vs_step0(model_eval: ModelEval, step0: ModelEval) -> dict[str, float]:
    """METHOD.md §4.2 relative to the starting model: K = forget_prob, U = model_utility."""
    return M.unlearning_quality(step0.summary["forget_prob"], model_eval.summary["forget_prob"],
                                step0.summary["model_utility"], model_eval.summary["model_utility"])
