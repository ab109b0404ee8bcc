"""Per-checkpoint evaluation records of a run (re-evaluation: :mod:`atwu.evaluate.rerun`).

A run directory gets two files from :class:`CheckpointEvaluator`:

``eval.jsonl``
    One line per evaluated checkpoint with (at least) the keys of :data:`STABLE_KEYS`. A metric
    that is undefined or was not computed is ``null`` and ``notes[metric]`` says why.
``eval_examples.parquet``
    One row per (step, split, example), columns :data:`EXAMPLE_SCHEMA`: the TOFU-family values,
    the greedy answers, the example's alignment AUROC (forget split), and the fact-level values
    METHOD.md §4.5 is computed from (per-span log-probs of the model, the starting model and the
    retain model; template sums; neighbour flags), so that any tool can recompute FFE and the
    damage axes from the file. Rewritten atomically with every row so far after each checkpoint.

Every checkpoint evaluated with a model gets every teacher-forced metric; greedy generation
(ROUGE-L, model utility, UQ, generation leakage) runs at every checkpoint, or with ``quick`` only
at step 0 and the final one. Typical use inside a training loop::

    ev = CheckpointEvaluator(bench, "forget10", tokenizer, run_dir, quick=True)
    ev.evaluate(model, 0, weights_at_0)                 # step 0: the cached starting-model eval
    ev.evaluate(model, 50, weights_at_50)               # quick: teacher-forced metrics only
    ev.evaluate(model, 100, weights_at_100, full=True)  # final: everything
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from atwu.benchmark import Benchmark, BenchmarkError
from atwu.data.format import QAPair
from atwu.evaluate.alignment import summary_and_per_example
from atwu.evaluate.fact_eval import example_columns, fact_level
from atwu.evaluate.model_eval import ModelEval, eval_splits, evaluate_model
from atwu.evaluate.reference import (
    forget_quality_vs_reference,
    reference_ratios,
    retain_reference,
    step0_eval,
    uq_vs_step0,
)
from atwu.evaluate.rwku_probes import rwku_scores
from atwu.evaluate.teacher_forced import ScoringPlan, plan_scoring
from atwu.evaluate.tofu_metrics import ks_interval
from atwu.io import (
    append_jsonl,
    atomic_write_bytes,
    clean_for_json,
    read_jsonl,
)
from atwu.metric_specs import EXAMPLE_COLUMNS, METRICS, keys
from atwu.runs.read import read_parquet

__all__ = [
    "ALIGNMENT_METRICS",
    "MODEL_METRICS",
    "QUICK_NOTE",
    "STABLE_KEYS",
    "CheckpointEvaluator",
    "write_examples",
]

MODEL_METRICS = (*keys("model"), *keys("fact"))
"""Metrics that need the model (scoring and generation)."""

GENERATED_METRICS = tuple(s.key for s in METRICS if s.generated)
"""Metrics that need greedy generations (null at a --quick checkpoint between the ends)."""

ALIGNMENT_METRICS = keys("alignment", stable=True)
"""Metrics of the token weights against the ground-truth spans."""

LOOP_METRICS = keys("loop")
"""Measured by the training loop itself and handed to :meth:`CheckpointEvaluator.evaluate`."""

STABLE_KEYS = ("step", *MODEL_METRICS, *ALIGNMENT_METRICS, *LOOP_METRICS, "notes", "seconds")
"""Keys every ``eval.jsonl`` record has; readers (the app, :func:`compare_runs`) rely on them."""

QUICK_NOTE = (
    "not evaluated at this checkpoint (--quick: generation and the perturbed answers "
    "only at step 0 and the end)"
)
NO_MODEL_NOTE = "not evaluated: no model was given"
NOT_KEPT_NOTE = "not evaluated: only the final model is saved, this checkpoint's model is gone"


def _arrow_type(dtype: str) -> pa.DataType:
    """A type of :data:`atwu.metric_specs.EXAMPLE_COLUMNS` as pyarrow's (``list<T>``: a list)."""
    if dtype.startswith("list<") and dtype.endswith(">"):
        return pa.list_(_arrow_type(dtype[5:-1]))
    return pa.type_for_alias(dtype)


EXAMPLE_SCHEMA = pa.schema([(name, _arrow_type(dtype)) for name, dtype in EXAMPLE_COLUMNS.items()])
"""Schema of ``eval_examples.parquet``: fixed, so all-null columns keep their types."""


_UQ_NOTES = {
    "forget_efficacy": "forget_prob of this model or of the starting model is undefined "
    "(or the starting model's is 0)",
    "retain_preservation": "model_utility of this model or of the starting model is undefined "
    "(or the starting model's is 0)",
    "uq": "needs both forget_efficacy and retain_preservation",
}


class CheckpointEvaluator:
    """Evaluates one run's checkpoints and appends the results to its run directory.

    Expensive shared pieces are computed lazily and once: the encoded evaluation pairs, the
    retain model's truth ratios (forget quality) and the starting model's evaluation (UQ); the
    last two are also cached in the benchmark directory for every other run.

    Args:
        benchmark: the benchmark (or its directory).
        forget_split: the forget split of the run.
        tokenizer: the run model's tokenizer.
        run_dir: where ``eval.jsonl`` and ``eval_examples.parquet`` go.
        quick: generate greedy answers only when :meth:`evaluate` is called with ``full=True``
            (the engine does so for the final checkpoint); step 0 is always full because it
            comes from the cache; teacher-forced metrics are computed at every checkpoint.
        device: where to load the retain / starting models when they must be evaluated.
        starting_model_path: the model the run started from (default: the benchmark's target).
        batch_size: sequences per forward pass and questions per generation batch.
    """

    def __init__(
        self,
        benchmark: Benchmark | str | Path,
        forget_split: str,
        tokenizer: Any,
        run_dir: str | Path,
        *,
        quick: bool = False,
        device: str | torch.device | None = None,
        starting_model_path: str | Path | None = None,
        batch_size: int = 64,
    ) -> None:
        self.benchmark = (
            benchmark if isinstance(benchmark, Benchmark) else Benchmark.load(benchmark)
        )
        self.forget_split = forget_split
        self.tokenizer = tokenizer
        self.run_dir = Path(run_dir)
        self.quick = quick
        self.device = device
        self.starting_model_path = Path(starting_model_path or self.benchmark.target_model)
        self.batch_size = batch_size
        self._plans: dict[bool, ScoringPlan] = {}
        self._step0: ModelEval | None = None
        self._reference: dict | None = None
        self._reference_note: str | None = None
        self._reference_tried = False
        self._frames: dict[int, pd.DataFrame] | None = None  # loaded at the first evaluate()

    # -- shared pieces -------------------------------------------------------------------------

    def plan(self, *, perturbed: bool = True) -> ScoringPlan:
        """The encoded evaluation pairs (built on first use, then reused every checkpoint);
        ``perturbed=False``: without the perturbed answers (a --quick checkpoint between the
        ends, where the frontiers need only the fact-level metrics)."""
        if perturbed not in self._plans:
            pairs = [
                p
                for s in eval_splits(self.benchmark, self.forget_split)
                for p in self.benchmark.pairs(s)
            ]
            self._plans[perturbed] = plan_scoring(
                self.tokenizer, pairs, batch_size=self.batch_size, perturbed=perturbed
            )
        return self._plans[perturbed]

    def step0(self, model: torch.nn.Module | None = None) -> ModelEval:
        """The starting model's evaluation (from the benchmark's cache when present)."""
        if self._step0 is None:
            self._step0 = step0_eval(
                self.benchmark,
                self.forget_split,
                self.starting_model_path,
                model=model,
                tokenizer=self.tokenizer if model is not None else None,
                device=self.device,
                batch_size=self.batch_size,
                plan=self.plan() if model is not None else None,
            )
        return self._step0

    def reference(self) -> tuple[dict | None, str | None]:
        """The retain model's forget truth ratios, or None and the reason they are missing."""
        if not self._reference_tried:
            self._reference_tried = True
            try:
                self._reference = retain_reference(
                    self.benchmark,
                    self.forget_split,
                    device=self.device,
                    batch_size=self.batch_size,
                )
            except BenchmarkError as exc:
                self._reference_note = str(exc)
        return self._reference, self._reference_note

    # -- one checkpoint ------------------------------------------------------------------------

    def compute(
        self,
        model: torch.nn.Module | None,
        step: int,
        weights_df: pd.DataFrame | None = None,
        *,
        full: bool | None = None,
        skipped_note: str | None = None,
    ) -> tuple[dict, pd.DataFrame]:
        """The record and the per-example rows of one checkpoint, without writing anything.

        ``full=None`` means "full unless the evaluator is quick". Step 0 is always full and may
        pass ``model=None``: its evaluation is the starting model's, from the benchmark's cache
        (or loaded from ``starting_model_path``). At other steps ``model=None`` means alignment
        only, and the model metrics are null with ``skipped_note`` (default: the ``--quick``
        note, or "no model given" when there is no model).
        """
        start = time.perf_counter()
        step = int(step)
        generate = (not self.quick) if full is None else full
        record: dict[str, Any] = {"step": step}
        notes: dict[str, str] = {}

        model_eval: ModelEval | None = None
        if step == 0 or model is not None:
            if step == 0:
                model_eval = self.step0(model)
            else:
                assert model is not None
                model_eval = evaluate_model(
                    model,
                    self.tokenizer,
                    self.benchmark,
                    self.forget_split,
                    batch_size=self.batch_size,
                    plan=self.plan(perturbed=generate),
                    generate=generate,
                )
            record.update(self._model_metrics(model_eval, notes, generated=step == 0 or generate))
            if model is not None and (step == 0 or generate):
                record.update(self._probe_scores(model))
        else:
            reason = skipped_note or NO_MODEL_NOTE
            for key in MODEL_METRICS:
                record[key] = None
                notes[key] = reason

        alignment_rows = self._alignment(weights_df, record, notes)
        rows = self._example_rows(step, model_eval, alignment_rows)
        for key in LOOP_METRICS:  # filled in by evaluate(extra=...) during training
            record[key] = None
            notes[key] = "measured by the training loop; not recorded for this checkpoint"

        record = clean_for_json(record)  # NaN -> None, numpy scalars -> Python numbers
        for key, value in record.items():
            if value is None and key not in notes:
                notes[key] = "undefined"
        record["notes"] = notes
        record["seconds"] = round(time.perf_counter() - start, 3)
        return record, rows

    def _model_metrics(
        self, model_eval: ModelEval, notes: dict[str, str], *, generated: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = dict(model_eval.summary)  # includes the per-utility-split parts
        notes.update(model_eval.notes)
        reference, why = self.reference()
        out["forget_quality"], out["ks_statistic"], note = forget_quality_vs_reference(
            model_eval, reference, why
        )
        out["ks_low"], out["ks_high"] = (
            ks_interval(list(model_eval.forget_ratios().values()), reference_ratios(reference))
            if reference is not None
            else (math.nan, math.nan)
        )
        if note:
            for key in ("forget_quality", "ks_statistic", "ks_low", "ks_high"):
                notes[key] = note
        facts, fact_notes = fact_level(
            model_eval,
            self.step0(),
            reference,
            self._forget_pairs(),
            forget_split=self.forget_split,
            heldout_split=self.benchmark.retain_heldout_for(self.forget_split),
            general_splits=[s for s in self.benchmark.utility_splits if s in self.benchmark.splits],
            generated=generated,
        )
        out.update(facts)
        notes.update(fact_notes)
        step0 = self.step0()
        uq = uq_vs_step0(model_eval, step0)
        out.update(uq)
        for key, value in uq.items():
            if math.isnan(value):
                notes[key] = _UQ_NOTES[key]
        if math.isnan(uq["retain_preservation"]) and step0.summary.get("model_utility") == 0:
            why = step0.notes.get("model_utility_components", "")
            notes["retain_preservation"] = f"the starting model's model_utility is 0 ({why})"
        if not generated:
            for key in GENERATED_METRICS:
                notes[key] = QUICK_NOTE
        return out

    def _probe_scores(self, model: torch.nn.Module) -> dict[str, Any]:
        """On an RWKU benchmark, its forget and neighbour probe scores (ROUGE-L recall of greedy
        answers per probe level, :mod:`atwu.evaluate.rwku_probes`) as ``rwku_<level>`` keys."""
        if self.benchmark.manifest.get("kind") != "rwku":
            return {}
        scores = rwku_scores(model, self.tokenizer, self.benchmark, batch_size=self.batch_size)
        return {f"rwku_{k}": v for k, v in scores.items() if k != "n"}

    def _forget_pairs(self) -> dict[str, QAPair]:
        return {p.id: p for p in self.benchmark.pairs(self.forget_split)}

    def _alignment(
        self, weights_df: pd.DataFrame | None, record: dict[str, Any], notes: dict[str, str]
    ) -> pd.DataFrame | None:
        """Fill the alignment metrics; return the per-example AUROCs (None without weights)."""
        if weights_df is None or weights_df.empty:
            for key in (*ALIGNMENT_METRICS, *keys("alignment", stable=False)):
                record[key] = None
                notes[key] = "no token weights recorded at this step"
            return None
        summary, per_example = summary_and_per_example(weights_df)
        for key in (*ALIGNMENT_METRICS, *keys("alignment", stable=False)):
            record[key] = summary[key]
        notes.update(summary["notes"])
        return per_example

    def _example_rows(
        self, step: int, model_eval: ModelEval | None, alignment_rows: pd.DataFrame | None
    ) -> pd.DataFrame:
        columns = [f.name for f in EXAMPLE_SCHEMA]
        if model_eval is not None:
            rows = model_eval.examples[
                [c for c in columns if c in model_eval.examples.columns]
            ].copy()
            extra = example_columns(model_eval, self.step0(), self.reference()[0])
            rows = rows.merge(extra, on=["split", "example_id"], how="left")
        elif alignment_rows is not None:
            # Quick step: no model scores, but per-example alignment of the tracked forget examples.
            rows = pd.DataFrame(
                {"split": self.forget_split, "example_id": alignment_rows["example_id"].to_numpy()}
            )
        else:
            return pd.DataFrame(columns=columns)
        rows.insert(0, "step", step)
        auroc = (
            dict(zip(alignment_rows["example_id"], alignment_rows["auroc"]))
            if alignment_rows is not None
            else {}
        )
        is_forget = rows["split"] == self.forget_split
        rows["auroc"] = [
            auroc.get(ex, math.nan) if f else math.nan
            for ex, f in zip(rows["example_id"], is_forget)
        ]
        return rows.reindex(columns=columns)

    # -- writing -------------------------------------------------------------------------------

    def _resumed_rows(self) -> dict[int, pd.DataFrame]:
        """Rows of ``eval_examples.parquet`` for the steps ``eval.jsonl`` already records.

        Read at the first :meth:`evaluate`, not at construction: a resumed run keeps its earlier
        checkpoints' rows, while a fresh run (whose engine removes ``eval.jsonl`` first) does not
        inherit rows of an earlier attempt.
        """
        eval_path = self.run_dir / "eval.jsonl"
        examples_path = self.run_dir / "eval_examples.parquet"
        if not (eval_path.is_file() and examples_path.is_file()):
            return {}
        steps = {int(r["step"]) for r in read_jsonl(eval_path)}
        try:
            old = read_parquet(examples_path)
        except Exception:
            warnings.warn(f"{examples_path} is unreadable; its rows are dropped", stacklevel=3)
            return {}
        return {int(step): rows for step, rows in old.groupby("step") if int(step) in steps}

    def evaluate(
        self,
        model: torch.nn.Module | None,
        step: int,
        weights_df: pd.DataFrame | None = None,
        *,
        full: bool | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict:
        """Evaluate one checkpoint, append its record to ``eval.jsonl`` and rewrite
        ``eval_examples.parquet``; returns the record (see :data:`STABLE_KEYS`).

        ``extra`` holds values the training loop measured itself (e.g. ``pressure_share``), with
        an optional ``notes`` dict explaining its nulls; they join the record as they are.
        """
        record, rows = self.compute(model, step, weights_df, full=full)
        if extra:
            extra = dict(extra)
            for key in extra:
                record["notes"].pop(key, None)
            record["notes"].update(extra.pop("notes", {}))
            record.update(clean_for_json(extra))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self._frames is None:
            self._frames = self._resumed_rows()
        append_jsonl(self.run_dir / "eval.jsonl", record)
        self._frames[record["step"]] = rows  # a re-evaluated step replaces its rows
        write_examples(self.run_dir / "eval_examples.parquet", self._frames.values())
        return record


def write_examples(path: Path, frames: Iterable[pd.DataFrame]) -> None:
    """Write per-example rows atomically with :data:`EXAMPLE_SCHEMA`."""
    columns = [f.name for f in EXAMPLE_SCHEMA]
    parts = [f for f in frames if not f.empty]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    frame = frame.reindex(columns=columns).astype({"step": "int64"})
    # Missing text must be None (not NaN) for a string column; missing lists None too.
    for col in ("split", "example_id", "generated", "generated_para"):
        frame[col] = [v if isinstance(v, str) else None for v in frame[col]]
    for field in EXAMPLE_SCHEMA:
        if pa.types.is_list(field.type):
            frame[field.name] = [
                None if v is None or (isinstance(v, float) and math.isnan(v)) else list(v)
                for v in frame[field.name]
            ]
        elif pa.types.is_integer(field.type) and field.name != "step":
            frame[field.name] = pd.array(frame[field.name], dtype="Int64")
    table = pa.Table.from_pandas(frame, schema=EXAMPLE_SCHEMA, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    atomic_write_bytes(path, buffer.getvalue())
