"""Evaluate a causal LM on a benchmark's splits: TOFU-family metrics per example and per model.

Two model passes per evaluation, both batched: teacher-forced scoring
(:mod:`atwu.evaluate.teacher_forced`) and greedy generation (:mod:`atwu.evaluate.generation`) of
every question, for ROUGE-L. Forget quality and UQ need references (the retain model, the starting
model): see :mod:`atwu.evaluate.reference`.

Example::

    bench = Benchmark.load("~/.atwu/benchmarks/embedded")
    ev = evaluate_model(model, tokenizer, bench, "forget10")
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from atwu.benchmark import Benchmark
from atwu.evaluate import tofu_metrics as M
from atwu.evaluate.generation import greedy_answers
from atwu.evaluate.summary_metrics import SUMMARY_METRICS
from atwu.evaluate.teacher_forced import (
    SCORE_COLUMNS,
    ScoringPlan,
    plan_scoring,
    score_pairs,
    score_plan,
)
from atwu.io import atomic_write_bytes, atomic_write_json, read_json
from atwu.metric_specs import cache_version
from atwu.runs.read import read_parquet

NAN = float("nan")

EXAMPLE_COLUMNS = [
    "split",
    "example_id",
    "prob",
    "truth_ratio",
    "rouge",
    "forget_loss",
    "generated",
    "para_prob",
    "pert_probs",
    "option_prob",
    "exact_memorization",
    "extraction_strength",
    "n_tokens",
    *SCORE_COLUMNS[10:],
    "generated_para",
]
"""Columns of :attr:`ModelEval.examples`, in order (``generated_para``: the greedy answer to the
paraphrased question, forget split only)."""

CACHE_VERSION = cache_version(EXAMPLE_COLUMNS)
"""Carried by every cached evaluation, so a cache written before a change of the metric table,
of these columns or of :data:`atwu.metric_specs.CACHE_BUMP` is recomputed, not misread."""

# Greedy generation stops at EOS, but a model that has forgotten often never emits it; so the
# budget is the longest reference completion plus this margin (enough for ROUGE-L recall, which
# only counts reference tokens) rather than a fixed large number.
GENERATION_MARGIN = 8
GENERATION_CAP = 256


def eval_splits(benchmark: Benchmark, forget_split: str) -> list[str]:
    """The splits an evaluation covers: the forget split, its held-out retain pairs and every
    utility split, in that order, without duplicates and without splits the benchmark lacks."""
    wanted = [forget_split, *benchmark.utility_splits_for(forget_split)]
    out: list[str] = []
    for name in wanted:
        if name in benchmark.splits and name not in out:
            out.append(name)
    return out


def option_prob_splits(benchmark: Benchmark) -> list[str]:
    """Utility splits whose Prob is normalised over the answer options (METHOD.md §4.1).

    TOFU normalises Prob on its general-knowledge sets (real authors, world facts) and not on the
    retain set. A manifest may list them under ``option_prob_splits``; by default every general
    utility split (not the held-out retain pairs) is treated like TOFU's general-knowledge sets.
    """
    listed = benchmark.manifest.get("option_prob_splits")
    if listed is not None:
        return list(listed)
    return list(benchmark.utility_splits)


def generation_budget(
    answer_lens: Sequence[int], *, margin: int = GENERATION_MARGIN, cap: int = GENERATION_CAP
) -> int:
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
        atomic_write_json(
            stem.with_suffix(".json"),
            {
                "version": CACHE_VERSION,
                "forget_split": self.forget_split,
                "summary": self.summary,
                "notes": self.notes,
                **(meta or {}),
            },
        )

    @classmethod
    def load(cls, stem: Path) -> ModelEval:
        """Read what :meth:`save` wrote; raises on a missing or unreadable file."""
        meta = read_json(stem.with_suffix(".json"))
        if meta.get("version") != CACHE_VERSION:
            raise ValueError(f"{stem}: cache version {meta.get('version')} != {CACHE_VERSION}")
        examples = read_parquet(stem.with_suffix(".parquet"))
        summary = {k: NAN if v is None else float(v) for k, v in meta["summary"].items()}
        return cls(
            examples=examples,
            summary=summary,
            notes=dict(meta.get("notes", {})),
            forget_split=meta["forget_split"],
        )


def mean_of(values: pd.Series) -> float:
    """Mean of the non-NaN values (NaN when there is none)."""
    arr = values.astype(float).to_numpy()
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else NAN


def summarise(
    examples: pd.DataFrame, benchmark: Benchmark, forget_split: str, *, generated: bool
) -> tuple[dict[str, float], dict[str, str]]:
    """Aggregate metrics of one model from its per-example rows.

    Keys: ``forget_prob``, ``retain_prob``, ``forget_rouge``, ``retain_rouge``,
    ``forget_truth_ratio`` (mean min(R, 1/R)), ``retain_truth_ratio`` (mean max(0, 1 − R)),
    those of :mod:`atwu.evaluate.summary_metrics` (``extraction_strength`` and
    ``exact_memorization`` of the forget split), per utility split ``s``:
    ``s_prob``, ``s_rouge``, ``s_truth_ratio``, and ``model_utility`` = harmonic mean of all the
    utility components. Returns ``(summary, notes)``; every NaN has a note.
    """
    notes: dict[str, str] = {}
    by_split = {name: rows for name, rows in examples.groupby("split", sort=False)}
    empty = examples.iloc[0:0]

    def rows_of(split: str) -> pd.DataFrame:
        return by_split.get(split, empty)

    forget = rows_of(forget_split)
    retain_split = benchmark.retain_heldout_for(forget_split)
    retain = rows_of(retain_split)
    summary: dict[str, float] = {
        "forget_prob": mean_of(forget["prob"]),
        "retain_prob": mean_of(retain["prob"]),
        "forget_rouge": mean_of(forget["rouge"]),
        "retain_rouge": mean_of(retain["rouge"]),
        "forget_truth_ratio": M.forget_truth_ratio_score(forget["truth_ratio"].astype(float)),
        "retain_truth_ratio": M.retain_truth_ratio_score(retain["truth_ratio"].astype(float)),
    }
    for key, function in SUMMARY_METRICS.items():
        summary[key] = function(forget, retain)
    # Which split each value comes from, so that a NaN's note can name it.
    source = {key: retain_split if key.startswith("retain_") else forget_split for key in summary}
    option_splits = set(option_prob_splits(benchmark))
    components: list[str] = []
    for split in benchmark.utility_splits_for(forget_split):
        if split not in benchmark.splits:
            notes[f"{split}_prob"] = f"utility split {split!r} is not in the benchmark; left out"
            continue
        rows = rows_of(split)
        prob_col = "option_prob" if split in option_splits else "prob"
        summary[f"{split}_prob"] = mean_of(rows[prob_col])
        summary[f"{split}_rouge"] = mean_of(rows["rouge"])
        summary[f"{split}_truth_ratio"] = M.retain_truth_ratio_score(
            rows["truth_ratio"].astype(float)
        )
        for part in ("prob", "rouge", "truth_ratio"):
            components.append(f"{split}_{part}")
            source[f"{split}_{part}"] = split

    if not generated:
        summary["model_utility"] = NAN
        notes["model_utility"] = (
            "needs ROUGE-L of greedy generations (evaluated with generate=False)"
        )
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
                notes.get("model_utility_components", "")
                + ("; " if dropped else "")
                + f"0 because {', '.join(zeros)} = 0"
            )

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


def evaluate_model(
    model: torch.nn.Module,
    tokenizer: Any,
    benchmark: Benchmark,
    forget_split: str,
    *,
    generate: bool = True,
    batch_size: int = 64,
    plan: ScoringPlan | None = None,
    max_new_tokens: int | None = None,
) -> ModelEval:
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

    generated: Sequence[str | None]  # None where the model was not asked to answer
    generated_para: list[str | None] = [None] * len(all_pairs)
    if generate and all_pairs:
        budget = max_new_tokens or generation_budget(plan.answer_lens)
        # the forget pairs' second wording of the question too (generation leakage asks both)
        second = [
            i
            for i, (p, s) in enumerate(zip(all_pairs, split_col))
            if s == forget_split and p.paraphrased_question
        ]
        answers = greedy_answers(
            model,
            tokenizer,
            [p.question for p in all_pairs]
            + [all_pairs[i].paraphrased_question or "" for i in second],
            batch_size=batch_size,
            max_new_tokens=budget,
        )
        generated = answers[: len(all_pairs)]
        for i, text in zip(second, answers[len(all_pairs) :]):
            generated_para[i] = text
        rouge = M.rouge_l_recall_batch(generated, [p.answer for p in all_pairs])
    else:
        generated = [None] * len(all_pairs)
        rouge = [NAN] * len(all_pairs)

    examples = scores.assign(
        split=split_col,
        rouge=np.asarray(rouge, dtype=float),
        generated=pd.Series(generated, dtype=object),
        generated_para=pd.Series(generated_para, dtype=object),
    )
    examples = examples[EXAMPLE_COLUMNS].reset_index(drop=True)
    summary, notes = summarise(examples, benchmark, forget_split, generated=generate)
    return ModelEval(examples=examples, summary=summary, notes=notes, forget_split=forget_split)
