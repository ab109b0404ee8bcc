"""open-unlearning compatibility: export a run's results as ``TOFU_EVAL.json`` /
``TOFU_SUMMARY.json``, and import a retain model's ``TOFU_EVAL.json`` for forget quality.

The shapes (from open-unlearning's evaluator; facts, not code, carried over):

``TOFU_EVAL.json``
    ``{metric name: {"agg_value": float | null, "value_by_index": {"<row index>": {...}}}}``,
    keys sorted. Per-index entries: ``{"prob": p, "avg_loss": l}`` for ``*_Q_A_Prob``,
    ``{"rougeL_recall": r, "input": question, "ground_truth": answer, "generation": text}`` for
    ``*_Q_A_ROUGE``, ``{"score": R}`` for truth ratios (R = p̄(perturbed) / p̄(paraphrased), the
    per-question value before aggregation). Aggregates without per-index values
    (``forget_quality``, ``model_utility``, ``extraction_strength``, ``exact_memorization``,
    ``*_Q_A_Prob_normalised``) carry ``agg_value`` only. Metric names: ``forget_Q_A_Prob``,
    ``forget_Q_A_ROUGE``, ``forget_truth_ratio`` (mean min(R, 1/R)), ``retain_Q_A_Prob``,
    ``retain_Q_A_ROUGE``, ``retain_Truth_Ratio`` (mean max(0, 1 − R)), ``ra_*`` (real authors),
    ``wf_*`` (world facts), ``forget_quality``, ``model_utility``.
``TOFU_SUMMARY.json``
    ``{metric name: agg_value}`` for every metric whose ``agg_value`` is not null.
Retain logs
    open-unlearning computes forget quality from a retain model's ``TOFU_EVAL.json``
    (``retain_logs_path``): the KS test between the unlearned model's forget truth ratios and
    ``logs["forget_truth_ratio"]["value_by_index"][i]["score"]``. :func:`read_retain_ratios`
    reads exactly that; :func:`retain_reference_from_logs` turns it into this project's retain
    reference (row index ``i`` ↔ pair id ``<split>-<i>``, as the TOFU conversion numbers them).

Example::

    from atwu.interop.open_unlearning import export_run
    eval_path, summary_path = export_run("~/.atwu/runs/my-run")
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from atwu.benchmark import Benchmark, BenchmarkError
from atwu.data.format import QAPair
from atwu.evaluate import tofu_metrics as M
from atwu.evaluate.model_eval import CACHE_VERSION
from atwu.evaluate.reference import retain_reference_key
from atwu.io import atomic_write_json, atomic_write_text, clean_for_json, read_json, read_jsonl
from atwu.runs.read import read_parquet

__all__ = [
    "TRUTH_RATIO_KEYS",
    "export_run",
    "install_retain_reference",
    "read_retain_ratios",
    "retain_reference_from_logs",
    "summary_from_logs",
    "tofu_eval_logs",
]

TRUTH_RATIO_KEYS = ("forget_truth_ratio", "forget_Truth_Ratio")
"""Where a TOFU_EVAL.json keeps the per-question forget truth ratios (the first is what
open-unlearning's forget_quality reads)."""

_TRAILING_INDEX = re.compile(r"-(\d+)$")


# --------------------------------------------------------------------------------------------
# Import: retain logs → retain reference
# --------------------------------------------------------------------------------------------


def read_retain_ratios(path: str | Path) -> list[float | None]:
    """Per-question forget truth ratios of a retain model's ``TOFU_EVAL.json``, by row index.

    Raises:
        BenchmarkError: a missing or unreadable file, no ``forget_truth_ratio`` entry with
            ``value_by_index``, or entries without ``score``; the message says what was found.
    """
    path = Path(path).expanduser()
    try:
        logs = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchmarkError(f"--retain-logs {path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"--retain-logs {path}: not a JSON file ({exc})") from None
    if not isinstance(logs, dict):
        raise BenchmarkError(f"--retain-logs {path}: expected a JSON object of metrics")
    entry = next((logs[k] for k in TRUTH_RATIO_KEYS if k in logs), None)
    if entry is None:
        entry = next((v for k, v in logs.items() if k.lower() == "forget_truth_ratio"), None)
    if not isinstance(entry, dict) or not isinstance(entry.get("value_by_index"), dict):
        raise BenchmarkError(
            f"--retain-logs {path}: no forget_truth_ratio.value_by_index (an "
            "open-unlearning TOFU_EVAL.json of the retain model has it); keys: "
            f"{', '.join(sorted(logs)[:10])}"
        )
    by_index = entry["value_by_index"]
    try:
        order = sorted(by_index, key=int)
    except ValueError:
        raise BenchmarkError(
            f"--retain-logs {path}: value_by_index keys must be row indices"
        ) from None
    ratios: list[float | None] = []
    for key in order:
        value = by_index[key]
        if value is None:
            ratios.append(None)
            continue
        if not isinstance(value, dict) or "score" not in value:
            raise BenchmarkError(
                f"--retain-logs {path}: forget_truth_ratio.value_by_index[{key}] has no 'score'"
            )
        score = value["score"]
        ratios.append(None if score is None else float(score))
    if [int(k) for k in order] != list(range(len(order))):
        raise BenchmarkError(
            f"--retain-logs {path}: value_by_index should number the rows 0..{len(order) - 1}"
        )
    return ratios


def retain_reference_from_logs(
    path: str | Path, pairs: Sequence[QAPair], forget_split: str
) -> dict:
    """This project's retain reference (see :func:`atwu.evaluate.reference.retain_reference`)
    from a retain model's ``TOFU_EVAL.json``; ``pairs`` is the forget split, in row order."""
    ratios = read_retain_ratios(path)
    if len(ratios) != len(pairs):
        raise BenchmarkError(
            f"--retain-logs {path} has {len(ratios)} forget truth ratios but "
            f"{forget_split} has {len(pairs)} questions; were the logs made for "
            "another forget split?"
        )
    finite = [r for r in ratios if r is not None and math.isfinite(r)]
    return clean_for_json(
        {
            "forget_split": forget_split,
            "source": str(Path(path).expanduser().resolve()),
            "ratios": {p.id: r for p, r in zip(pairs, ratios)},
            "summary": {
                "n": len(ratios),
                "forget_truth_ratio": M.forget_truth_ratio_score(finite),
                "forget_prob": float("nan"),
            },
        }
    )


def install_retain_reference(benchmark: Benchmark, forget_split: str, reference: dict) -> Path:
    """Write ``reference`` as the benchmark's cached retain reference of ``forget_split``.

    The cache is keyed like :func:`atwu.evaluate.reference.retain_reference` keys its own (the
    listed retain model's files and the forget split's data file), so the evaluation reads it
    instead of scoring a model; the retain model entry is then a placeholder directory.
    """
    path, fingerprint = retain_reference_key(benchmark, forget_split)
    data = {
        **reference,
        "version": CACHE_VERSION,
        "forget_split": forget_split,
        "retain_model": benchmark.retain_for(forget_split),
        "fingerprint": fingerprint,
    }
    atomic_write_json(path, clean_for_json(data))
    return path


# --------------------------------------------------------------------------------------------
# Export: a run → TOFU_EVAL.json / TOFU_SUMMARY.json
# --------------------------------------------------------------------------------------------


def _prefixes(benchmark: Benchmark | None, forget_split: str) -> dict[str, str]:
    prefixes = {forget_split: "forget"}
    if benchmark is not None:
        prefixes.setdefault(benchmark.retain_heldout_for(forget_split), "retain")
        for split in benchmark.utility_splits:
            prefixes.setdefault(
                split, {"real_authors": "ra", "world_facts": "wf"}.get(split, split)
            )
    return prefixes


def _index_map(benchmark: Benchmark | None, split: str, ids: Sequence[str]) -> dict[str, str]:
    """example id → open-unlearning row index (the pair's position in the split file)."""
    if benchmark is not None and split in benchmark.splits:
        return {p.id: str(i) for i, p in enumerate(benchmark.pairs(split))}
    out = {}
    for i, ex in enumerate(ids):
        m = _TRAILING_INDEX.search(str(ex))
        out[ex] = m.group(1) if m else str(i)
    return out


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _mean(values) -> float | None:
    vals = _finite(values)
    return float(np.mean(vals)) if vals else None


def tofu_eval_logs(record: dict, examples, benchmark: Benchmark | None, forget_split: str) -> dict:
    """open-unlearning ``TOFU_EVAL.json`` content from one ``eval.jsonl`` record and that step's
    ``eval_examples.parquet`` rows."""
    logs: dict[str, Any] = {}
    pairs_by_split: dict[str, dict[str, QAPair]] = {}
    for split, prefix in _prefixes(benchmark, forget_split).items():
        rows = examples[examples["split"] == split]
        if rows.empty:
            continue
        if benchmark is not None and split in benchmark.splits:
            pairs_by_split[split] = {p.id: p for p in benchmark.pairs(split)}
        pairs = pairs_by_split.get(split, {})
        index = _index_map(benchmark, split, list(rows["example_id"]))
        prob, rouge, ratio = {}, {}, {}
        for row in rows.itertuples(index=False):
            idx = index.get(row.example_id, str(row.example_id))
            p = None if row.prob is None or not math.isfinite(row.prob) else float(row.prob)
            prob[idx] = {"prob": p, "avg_loss": (-math.log(p) if p else None)}
            pair = pairs.get(row.example_id)
            rouge[idx] = {
                "rougeL_recall": None if not math.isfinite(row.rouge) else float(row.rouge),
                "input": pair.question if pair else None,
                "ground_truth": pair.answer if pair else None,
                "generation": row.generated,
            }
            ratio[idx] = {
                "score": None if not math.isfinite(row.truth_ratio) else float(row.truth_ratio)
            }
        logs[f"{prefix}_Q_A_Prob"] = {
            "agg_value": _mean(v["prob"] for v in prob.values()),
            "value_by_index": prob,
        }
        logs[f"{prefix}_Q_A_ROUGE"] = {
            "agg_value": _mean(v["rougeL_recall"] for v in rouge.values()),
            "value_by_index": rouge,
        }
        scores = _finite(v["score"] for v in ratio.values())
        if prefix == "forget":
            agg = M.forget_truth_ratio_score(scores) if scores else None
            logs["forget_truth_ratio"] = {"agg_value": agg, "value_by_index": ratio}
        else:
            agg = M.retain_truth_ratio_score(scores) if scores else None
            logs[f"{prefix}_Truth_Ratio"] = {"agg_value": agg, "value_by_index": ratio}
        if prefix in ("ra", "wf") and record.get(f"{split}_prob") is not None:
            logs[f"{prefix}_Q_A_Prob_normalised"] = {"agg_value": record[f"{split}_prob"]}
    for key in ("forget_quality", "model_utility", "extraction_strength", "exact_memorization"):
        if key in record:
            logs[key] = {"agg_value": record[key]}
    return clean_for_json(dict(sorted(logs.items())))


def summary_from_logs(logs: dict) -> dict:
    """``TOFU_SUMMARY.json``: every metric's ``agg_value`` that is not null."""
    return {
        k: v["agg_value"]
        for k, v in sorted(logs.items())
        if isinstance(v, dict) and v.get("agg_value") is not None
    }


def export_run(
    run_dir: str | Path, out_dir: str | Path | None = None, *, step: int | None = None
) -> tuple[Path, Path]:
    """Write ``TOFU_EVAL.json`` and ``TOFU_SUMMARY.json`` of a run's evaluated checkpoint.

    Args:
        run_dir: the run directory (``config.json``, ``eval.jsonl``, ``eval_examples.parquet``).
        out_dir: where to write (default ``<run_dir>/open_unlearning``).
        step: the checkpoint (default: the last one with model metrics).

    Raises:
        BenchmarkError: no evaluation in the run, or no model metrics at ``step``.
    """
    run_dir = Path(run_dir).expanduser()
    config = read_json(run_dir / "config.json")
    resolved = config.get("resolved", {})
    forget_split = resolved.get("split") or config.get("split")
    eval_path, examples_path = run_dir / "eval.jsonl", run_dir / "eval_examples.parquet"
    if not eval_path.is_file() or not examples_path.is_file():
        raise BenchmarkError(
            f"{run_dir} has no evaluation (eval.jsonl and eval_examples.parquet); "
            f"run `python -m atwu eval {run_dir}` first"
        )
    records = {int(r["step"]): r for r in read_jsonl(eval_path)}
    evaluated = [s for s, r in sorted(records.items()) if r.get("forget_prob") is not None]
    if step is None:
        if not evaluated:
            raise BenchmarkError(f"{run_dir}: no checkpoint has model metrics")
        step = evaluated[-1]
    if step not in evaluated:
        raise BenchmarkError(
            f"{run_dir}: step {step} has no model metrics (evaluated steps: "
            f"{', '.join(map(str, evaluated)) or 'none'})"
        )
    examples = read_parquet(examples_path)
    examples = examples[examples["step"] == step]
    try:
        benchmark = Benchmark.load(resolved.get("benchmark") or config["benchmark"])
    except (OSError, ValueError, KeyError):
        benchmark = None
    logs = tofu_eval_logs(records[step], examples, benchmark, forget_split)
    out = Path(out_dir).expanduser() if out_dir else run_dir / "open_unlearning"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "TOFU_EVAL.json", json.dumps(logs, indent=4))
    atomic_write_text(out / "TOFU_SUMMARY.json", json.dumps(summary_from_logs(logs), indent=4))
    return out / "TOFU_EVAL.json", out / "TOFU_SUMMARY.json"
