"""Every metric a checkpoint record carries, declared once.

One :class:`MetricSpec` row per metric says what it is called (in full and on a narrow chart),
which part of the evaluation computes it, which way is better, which columns of
``eval_examples.parquet`` it is computed from and whether it needs greedy generations. The
evaluation's key lists (:mod:`atwu.evaluate.checkpoint`, :mod:`atwu.evaluate.alignment`,
:mod:`atwu.evaluate.fact_eval`), the file schema of ``eval_examples.parquet``, the readers'
empty frame (:mod:`atwu.runs.read`), the pages' labels (:mod:`atwu.app.labels`) and the evaluation
cache's version are all derived from this table; ``tests/evaluate/test_metric_specs.py`` checks
that they agree.

The row order is the order keys appear in ``eval.jsonl`` records and their notes, so a new row
goes at the end of its group.

Plain data only (no numpy, no torch): the runs layer and the app import it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CACHE_BUMP",
    "EXAMPLE_COLUMNS",
    "METRICS",
    "MetricSpec",
    "cache_version",
    "keys",
    "spec",
]

Group = Literal["model", "fact", "alignment", "loop"]
"""Which part of the evaluation computes a metric: ``model`` the TOFU-family summary of the model
(:mod:`atwu.evaluate.model_eval`, :mod:`atwu.evaluate.reference`), ``fact`` the fact-level values
(:mod:`atwu.evaluate.fact_eval`), ``alignment`` the token weights against the spans
(:mod:`atwu.evaluate.alignment`), ``loop`` measured by the training loop itself."""

Better = Literal["higher", "lower", ""]
"""Which way is better for unlearning ("" where neither is, e.g. an interval's bound)."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric of a checkpoint record.

    Attributes:
        key: the record's key (``eval.jsonl``) and the comparison's column stem.
        label: how a page names it.
        group: which part of the evaluation computes it (:data:`Group`).
        better: which way is better (:data:`Better`).
        short: a name short enough for a narrow chart (default: ``label``).
        example_columns: the ``eval_examples.parquet`` columns it is computed from (each one
            in :data:`EXAMPLE_COLUMNS`); empty when the file cannot recompute it.
        generated: needs greedy generations, so it is null at a ``--quick`` checkpoint between
            the ends.
        stable: every record has it (:data:`atwu.evaluate.checkpoint.STABLE_KEYS`); False for
            a value recorded beside the metrics but not promised to readers.
    """

    key: str
    label: str
    group: Group
    better: Better
    short: str = ""
    example_columns: tuple[str, ...] = ()
    generated: bool = False
    stable: bool = True

    @property
    def short_label(self) -> str:
        return self.short or self.label


EXAMPLE_COLUMNS: dict[str, str] = {
    "step": "int64",
    "split": "string",
    "example_id": "string",
    "prob": "float64",
    "truth_ratio": "float64",
    "rouge": "float64",
    "forget_loss": "float64",
    "generated": "string",
    "generated_para": "string",
    "auroc": "float64",
    "span_logp": "list<float64>",
    "span_logp_start": "list<float64>",
    "span_logp_retain": "list<float64>",
    "span_recalled": "list<bool>",
    "span_neighbour": "list<bool>",
    "span_kind": "list<string>",
    "span_tokens": "list<int64>",
    "para_span_logp": "list<float64>",
    "template_logp_sum": "float64",
    "template_logp_start": "float64",
    "template_tokens": "int64",
}
"""Columns of ``eval_examples.parquet`` in file order, and their types (``list<T>``: a list of
T per row). One row per (step, split, example)."""

_SPANS = ("span_logp", "span_logp_start", "span_logp_retain")
_BY_KIND = (*_SPANS, "span_kind", "span_tokens")

M: Group = "model"
F: Group = "fact"
A: Group = "alignment"
L: Group = "loop"

METRICS: tuple[MetricSpec, ...] = (
    # -- the TOFU family (METHOD.md §4.1) and UQ ------------------------------------------------
    MetricSpec("forget_quality", "forget quality", M, "higher", example_columns=("truth_ratio",)),
    MetricSpec(
        "model_utility",
        "model utility",
        M,
        "higher",
        example_columns=("prob", "truth_ratio", "rouge"),
        generated=True,
    ),
    MetricSpec("uq", "UQ", M, "higher", example_columns=("prob",), generated=True),
    MetricSpec("forget_efficacy", "forget efficacy", M, "higher", example_columns=("prob",)),
    MetricSpec(
        "retain_preservation",
        "retain preservation",
        M,
        "higher",
        example_columns=("prob", "truth_ratio", "rouge"),
        generated=True,
    ),
    MetricSpec("forget_prob", "forget prob", M, "lower", example_columns=("prob",)),
    MetricSpec("retain_prob", "retain prob", M, "higher", example_columns=("prob",)),
    MetricSpec(
        "forget_rouge", "forget ROUGE-L", M, "lower", example_columns=("rouge",), generated=True
    ),
    MetricSpec(
        "retain_rouge", "retain ROUGE-L", M, "higher", example_columns=("rouge",), generated=True
    ),
    MetricSpec(
        "forget_truth_ratio", "forget truth ratio", M, "higher", example_columns=("truth_ratio",)
    ),
    MetricSpec(
        "retain_truth_ratio", "retain truth ratio", M, "higher", example_columns=("truth_ratio",)
    ),
    MetricSpec("ks_statistic", "KS statistic", M, "lower", example_columns=("truth_ratio",)),
    MetricSpec("ks_low", "KS statistic, 2.5%", M, "", example_columns=("truth_ratio",)),
    MetricSpec("ks_high", "KS statistic, 97.5%", M, "", example_columns=("truth_ratio",)),
    MetricSpec("extraction_strength", "extraction strength", M, "lower"),
    MetricSpec("exact_memorization", "exact memorisation", M, "lower"),
    # -- fact level (METHOD.md §4.5) ------------------------------------------------------------
    MetricSpec(
        "ffe", "fact forget efficacy (FFE)", F, "higher", short="FFE", example_columns=_SPANS
    ),
    MetricSpec(
        "ffe_specific",
        "FFE on specific facts",
        F,
        "higher",
        short="FFE (specific)",
        example_columns=_BY_KIND,
    ),
    MetricSpec(
        "ffe_shared",
        "FFE on shared facts",
        F,
        "higher",
        short="FFE (shared)",
        example_columns=_BY_KIND,
    ),
    MetricSpec(
        "ffe_balanced",
        "fact-balanced FFE (each span once)",
        F,
        "higher",
        short="FFE (balanced)",
        example_columns=_BY_KIND,
    ),
    MetricSpec(
        "ffe_paraphrase",
        "FFE on paraphrases",
        F,
        "higher",
        short="FFE (paraphrases)",
        example_columns=("para_span_logp",),
    ),
    MetricSpec("fact_recall", "fact recall", F, "lower", example_columns=("span_recalled",)),
    MetricSpec(
        "fact_recall_forgetting",
        "fact recall forgetting",
        F,
        "higher",
        example_columns=("span_recalled",),
    ),
    MetricSpec(
        "generation_leakage",
        "generation leakage",
        F,
        "lower",
        example_columns=("generated", "generated_para"),
        generated=True,
    ),
    MetricSpec(
        "template_damage",
        "template damage",
        F,
        "lower",
        example_columns=("template_logp_sum", "template_logp_start", "template_tokens"),
    ),
    MetricSpec(
        "neighbour_damage",
        "neighbour damage",
        F,
        "lower",
        example_columns=("span_logp", "span_logp_start", "span_neighbour"),
    ),
    MetricSpec(
        "heldout_damage",
        "held-out retain damage",
        F,
        "lower",
        example_columns=("span_logp", "span_logp_start"),
    ),
    MetricSpec(
        "general_damage",
        "general damage",
        F,
        "lower",
        example_columns=("span_logp", "span_logp_start"),
    ),
    # -- alignment of the token weights with the spans (METHOD.md §4.3) -------------------------
    MetricSpec("auroc", "AUROC", A, "higher", example_columns=("auroc",)),
    MetricSpec("auprc", "AUPRC", A, "higher"),
    MetricSpec("precision_at_k", "precision at k", A, "higher"),
    MetricSpec("weight_mass", "weight mass on facts", A, "higher"),
    MetricSpec(
        "auroc_mean_per_example",
        "auroc mean per example",
        A,
        "higher",
        example_columns=("auroc",),
        stable=False,
    ),
    MetricSpec("auroc_specific", "AUROC (specific facts)", A, "higher", short="AUROC (specific)"),
    MetricSpec("auprc_specific", "AUPRC (specific facts)", A, "higher", short="AUPRC (specific)"),
    MetricSpec(
        "auroc_retain_conflict",
        "AUROC (retain conflict: specific vs shared)",
        A,
        "higher",
        short="retain-conflict AUROC",
    ),
    MetricSpec(
        "auroc_retain_conflict_span",
        "AUROC (retain conflict, one score per span)",
        A,
        "higher",
        short="retain-conflict AUROC (spans)",
    ),
    # -- measured by the training loop ----------------------------------------------------------
    MetricSpec("pressure_share", "pressure share on facts", L, "higher"),
)
"""Every metric, grouped and in record order."""

del M, F, A, L

_BY_KEY = {s.key: s for s in METRICS}


def keys(group: Group | None = None, *, stable: bool | None = None) -> tuple[str, ...]:
    """The metric keys in record order, of one ``group`` (default all), and only the
    ``stable`` ones (or only the others) when given."""
    return tuple(
        s.key
        for s in METRICS
        if (group is None or s.group == group) and (stable is None or s.stable == stable)
    )


def spec(key: str) -> MetricSpec | None:
    """The row of ``key`` (None for a key that is not a declared metric, e.g. ``rwku_*``)."""
    return _BY_KEY.get(key)


CACHE_BUMP = 3
"""Raise by hand when the cached evaluations' meaning changes in a way the table cannot see
(a metric's formula, a scoring fix). 2: fact-level columns and the held-out retain split;
3: per-span kind and token count."""


def cache_version(*extra: Iterable[str]) -> str:
    """The version the evaluation caches (step 0, the retain reference) carry: :data:`CACHE_BUMP`
    and a hash of what decides their content: the ``model`` rows (they are computed before the
    cache is written), the example columns and ``extra`` (e.g. the cached frame's columns). A
    fact, alignment or loop row, or a label, does not reach the cache and leaves it valid."""
    content = {
        "model": [
            [s.key, list(s.example_columns), s.generated] for s in METRICS if s.group == "model"
        ],
        "example_columns": EXAMPLE_COLUMNS,
        "extra": [list(part) for part in extra],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
    return f"{CACHE_BUMP}-{digest}"
