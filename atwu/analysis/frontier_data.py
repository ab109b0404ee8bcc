"""Frontier inputs rebuilt from run directories alone: every checkpoint of every tagged run as a
point, and the per-example damage the paired bootstrap resamples (METHOD.md §4.6).

A run joins when its ``config.json`` carries ``tags.variant`` (untagged runs count as their method
at strength multiplier 1) and it has evaluated checkpoints; runs on another forget split than the
first one's are left out with a note (frontiers compare methods on one split).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from atwu.analysis.frontier import Samples
from atwu.analysis.variants import variant_of
from atwu.evaluate.fact_eval import span_drop
from atwu.io import read_json
from atwu.runs.read import read_eval_examples, read_evals

POINT_METRICS = (
    "ffe",
    "ffe_specific",
    "ffe_shared",
    "ffe_balanced",
    "template_damage",
    "neighbour_damage",
    "heldout_damage",
    "general_damage",
    "fact_recall",
    "auroc",
    "auroc_retain_conflict",
    "auroc_retain_conflict_span",
    "pressure_share",
    "model_utility",
    "uq",
    "forget_quality",
    "ks_statistic",
    "ks_low",
    "ks_high",
    "generation_leakage",
    "fact_recall_forgetting",
)


@dataclass
class FrontierData:
    """Points (one row per run × checkpoint) and the bootstrap's per-example damage."""

    points: pd.DataFrame
    samples: Samples
    split: str | None
    notes: list[str] = field(default_factory=list)


def run_dirs_under(root: str | Path) -> list[Path]:
    """Every run directory (holding status.json and config.json) at or below ``root``, in name
    order; a run's saved model (RUN/model/config.json) is not one."""
    root = Path(root)
    return sorted(
        p.parent
        for p in root.rglob("status.json")
        if (p.parent / "config.json").is_file() and not p.parent.name.startswith(".")
    )


def load_frontier_data(run_dirs: Iterable[str | Path], *, samples: bool = True) -> FrontierData:
    """Points and samples of ``run_dirs`` (see the module docstring)."""
    rows: list[dict] = []
    sample_map: dict[tuple[str, int, str], tuple[np.ndarray, np.ndarray]] = {}
    notes: list[str] = []
    split: str | None = None
    for run_dir in map(Path, run_dirs):
        try:
            config = read_json(run_dir / "config.json")
            evals = read_evals(run_dir)
        except (OSError, ValueError) as exc:
            notes.append(f"{run_dir.name}: left out, unreadable ({exc})")
            continue
        if evals.empty or "ffe" not in evals.columns:
            notes.append(f"{run_dir.name}: left out, no checkpoint with fact-level metrics")
            continue
        run_split = (config.get("resolved") or {}).get("split") or config.get("split")
        split = split or run_split
        if run_split != split:
            notes.append(f"{run_dir.name}: left out, forget split {run_split} (not {split})")
            continue
        tags = config.get("tags") or {}
        base = {
            "run": run_dir.name,
            "path": str(run_dir),
            "variant": variant_of(config),
            "method": config.get("method"),
            "seed": int(config.get("seed", 0)),
            "strength": float(tags.get("strength", np.nan)),
            "strength_multiplier": float(tags.get("strength_multiplier", 1.0)),
            "strength_param": tags.get("strength_param"),
        }
        for record in evals.to_dict("records"):
            rows.append(
                {
                    **base,
                    "step": int(record["step"]),
                    **{m: _number(record.get(m)) for m in POINT_METRICS},
                }
            )
        if samples:
            sample_map.update(_run_samples(run_dir, run_split, config))
    columns = [
        "run",
        "path",
        "variant",
        "method",
        "seed",
        "strength",
        "strength_multiplier",
        "strength_param",
        "step",
        *POINT_METRICS,
    ]
    return FrontierData(pd.DataFrame(rows, columns=columns), sample_map, split, notes)


def _number(value) -> float:
    return np.nan if value is None else float(value)


def _run_samples(
    run_dir: Path, forget_split: str | None, config: dict
) -> dict[tuple[str, int, str], tuple[np.ndarray, np.ndarray]]:
    """Per checkpoint: template damage per forget example and neighbour damage per held-out
    example, as (Σ damage, count) in example-id order."""
    try:
        ex = read_eval_examples(run_dir)
    except (OSError, ValueError):
        return {}
    if ex.empty or "template_logp_start" not in ex.columns:
        return {}
    heldout = (config.get("resolved") or {}).get("retain_heldout")
    out = {}
    for step, rows in ex.groupby("step"):
        forget = rows[rows["split"] == forget_split].sort_values("example_id")
        held = rows[rows["split"] == heldout].sort_values("example_id")
        if len(forget):
            out[(run_dir.name, int(step), "template_damage")] = (
                (forget["template_logp_start"] - forget["template_logp_sum"]).to_numpy(float),
                forget["template_tokens"].to_numpy(float),
            )
        if len(held):
            sums, counts = span_drop(
                held["span_logp_start"].tolist(),
                held["span_logp"].tolist(),
                held["span_neighbour"].tolist(),
                only_neighbours=True,
            )
            out[(run_dir.name, int(step), "neighbour_damage")] = (sums, counts)
    return out
