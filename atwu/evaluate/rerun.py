"""Re-evaluating a finished run from its directory (``python -m atwu eval RUN``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from atwu.benchmark import Benchmark
from atwu.evaluate.checkpoint import (
    ALIGNMENT_METRICS,
    LOOP_METRICS,
    NOT_KEPT_NOTE,
    CheckpointEvaluator,
    write_examples,
)
from atwu.io import UnreadableFileError, read_json_object, read_jsonl, write_jsonl
from atwu.runs.read import read_parquet


def evaluate_run(
    run_dir: str | Path, *, device: str | torch.device | None = None, batch_size: int = 64
) -> None:
    """Rebuild a run's ``eval.jsonl`` and ``eval_examples.parquet`` from its directory.

    Step 0 comes from the benchmark's step-0 cache, the last step from the saved final model
    (``run_dir/model/``, when present) and the alignment metrics of every step from
    ``weights.parquet``. The engine does not keep intermediate models, so their model metrics are
    carried over from the old ``eval.jsonl`` / ``eval_examples.parquet`` when present and are
    null (with a note) otherwise. Both files are replaced atomically at the end.
    """
    from atwu.models import load_model, load_tokenizer, resolve_device

    run_dir = Path(run_dir)
    bench, split, start_model = _run_setup(read_json_object(run_dir / "config.json"))
    final_dir = run_dir / "model"
    tokenizer = load_tokenizer(final_dir if final_dir.is_dir() else start_model)
    evaluator = CheckpointEvaluator(
        bench,
        split,
        tokenizer,
        run_dir,
        device=device,
        starting_model_path=start_model,
        batch_size=batch_size,
    )
    old_path, examples_path = run_dir / "eval.jsonl", run_dir / "eval_examples.parquet"
    old = _old_records(old_path)
    old_rows = read_parquet(examples_path) if examples_path.is_file() else None
    weights_path = run_dir / "weights.parquet"
    weights = read_parquet(weights_path) if weights_path.is_file() else None
    if weights is not None and "step" not in weights.columns:
        raise UnreadableFileError(weights_path, "has no step column; it is not a run's weights")
    weight_steps = [] if weights is None else sorted(int(s) for s in weights["step"].unique())
    steps = sorted({0, *old, *weight_steps})
    final_step = steps[-1]

    records, frames = [], []
    for step in steps:
        at_step = None if weights is None else weights[weights["step"] == step]
        model = None  # step 0 needs none: it comes from the step-0 cache
        if step != 0 and step == final_step and final_dir.is_dir():
            model = load_model(final_dir, device=resolve_device(str(device or "auto")))
        record, rows = evaluator.compute(
            model, step, at_step, full=True, skipped_note=NOT_KEPT_NOTE
        )
        if model is None and step != 0 and step in old:
            record, rows = _carry_over(record, rows, old[step], old_rows)
        for key in LOOP_METRICS:  # only the training loop measures these: keep what it wrote
            if step in old and key in old[step]:
                record[key] = old[step][key]
                record["notes"].pop(key, None)
                if old[step][key] is None and key in (old[step].get("notes") or {}):
                    record["notes"][key] = old[step]["notes"][key]
        records.append(record)
        frames.append(rows)
    write_jsonl(old_path, records)
    write_examples(examples_path, frames)


def _old_records(path: Path) -> dict[int, dict]:
    """The earlier ``eval.jsonl`` by step (a cut last line is left out, with a warning)."""
    if not path.is_file():
        return {}
    records = {}
    for i, record in enumerate(read_jsonl(path, warn_torn=True)):
        step = record.get("step")
        if not isinstance(step, int) or isinstance(step, bool):
            raise UnreadableFileError(path, f"record {i + 1} has no integer step")
        records[step] = record
    return records


def _run_setup(config: Mapping[str, Any]) -> tuple[Benchmark, str, str]:
    """Benchmark, forget split and starting model of a run's ``config.json``.

    The engine writes what it resolved (defaults filled in) under ``resolved``; the top-level
    keys may be null (= the benchmark's defaults) or ``"embedded"``.
    """
    from atwu.paths import EMBEDDED_NAME, default_benchmark_dir

    resolved = config.get("resolved") or {}
    where = resolved.get("benchmark") or config.get("benchmark") or EMBEDDED_NAME
    bench = Benchmark.load(default_benchmark_dir() if where == EMBEDDED_NAME else where)
    split = resolved.get("split") or config.get("split") or bench.default_forget_split
    model = resolved.get("model") or config.get("model") or str(bench.target_model)
    return bench, split, str(model)


def _carry_over(
    record: dict, rows: pd.DataFrame, old_record: Mapping[str, Any], old_rows: pd.DataFrame | None
) -> tuple[dict, pd.DataFrame]:
    """Keep model metrics (and example rows) an earlier evaluation computed for this step."""
    notes = dict(record["notes"])
    old_notes = old_record.get("notes") or {}
    for key, value in old_record.items():
        if key in ("step", "notes", "seconds") or key in ALIGNMENT_METRICS:
            continue
        if record.get(key) is None:
            record[key] = value
            notes.pop(key, None)
            if value is None and key in old_notes:
                notes[key] = old_notes[key]
            elif value is None:
                notes[key] = NOT_KEPT_NOTE
    record["notes"] = notes
    if old_rows is not None:
        previous = old_rows[old_rows["step"] == record["step"]]
        if previous["prob"].notna().any():
            auroc = dict(zip(rows["example_id"], rows["auroc"]))
            previous = previous.copy()
            previous["auroc"] = [auroc.get(ex, math.nan) for ex in previous["example_id"]]
            rows = previous
    return record, rows
