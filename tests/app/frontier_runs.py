"""Fabricated frontier run directories: what ``python -m atwu frontier`` leaves behind (tagged
config.json, eval.jsonl with the fact-level metrics, eval_examples.parquet with the per-example
damage the bootstrap resamples), with known numbers and no training.

Each variant forgets at a rate proportional to its strength multiplier and damages in proportion
to its FFE: ``damage = slope × FFE`` per axis, slightly different per example so the bootstrap has
something to resample. ATWU's template slope is far below every baseline's (it wins on template
damage); the references make the three gates pass unless ``gate_fails`` (the oracle's template
slope then exceeds the shuffled oracle's: the targeting gate fails).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from atwu.evaluate.checkpoint import EXAMPLE_SCHEMA

#: variant -> (method, forget rate per step at multiplier 1, template slope, neighbour slope)
VARIANTS = {
    "atwu": ("atwu", 0.02, 0.05, 0.10),
    "uniform": ("uniform", 0.02, 0.40, 0.20),
    "oracle": ("oracle", 0.02, 0.02, 0.30),
    "wga_b5": ("wga", 0.015, 0.30, 0.12),
    # the gates' references (METHOD.md §4.6): targeting, neighbours, forgetting means facts
    "shuffled_oracle": ("shuffled_oracle", 0.02, 0.35, 0.25),
    "specific_oracle": ("specific_oracle", 0.02, 0.02, 0.10),
    "template_only": ("template_only", 0.003, 4.0, 0.05),
}
STRENGTHS = (0.5, 1.0, 2.0)
STEPS = (0, 10, 20, 30, 40, 50, 60)
FORGET, HELDOUT = "forget10", "retain90_heldout"
N_FORGET, N_HELDOUT = 12, 8
NO_NEIGHBOURS = "the held-out retain pairs have no fact whose value a forget author shares"


def _example_damage(slope: float, ffe: float, i: int) -> float:
    return slope * ffe * (1.0 + 0.3 * math.sin(i + 1))


def make_run(
    root: Path,
    variant: str,
    multiplier: float,
    seed: int,
    *,
    tagged: bool = True,
    gate_fails: bool = False,
    split: str = FORGET,
    neighbours: bool = True,
) -> Path:
    method, rate, td_slope, nd_slope = VARIANTS[variant]
    if gate_fails and variant == "oracle":
        td_slope = 0.8
    name = f"{variant}-x{multiplier:g}-s{seed}" if tagged else f"{method}-plain-s{seed}"
    run = root / name
    run.mkdir(parents=True)
    tags = (
        {
            "variant": variant,
            "strength": 0.5 * multiplier,
            "strength_multiplier": multiplier,
            "strength_param": "gamma/alpha",
        }
        if tagged
        else {}
    )
    config = {
        "method": method,
        "params": {},
        "seed": seed,
        "split": split,
        "tags": tags,
        "resolved": {"split": split, "retain_heldout": HELDOUT},
    }
    (run / "config.json").write_text(json.dumps(config))
    (run / "status.json").write_text(json.dumps({"state": "done", "step": STEPS[-1]}))
    records, rows = [], []
    for step in STEPS:
        ffe = min(1.2, rate * multiplier * step * (1.0 + 0.05 * seed))
        forget_damage = [_example_damage(td_slope, ffe, i) for i in range(N_FORGET)]
        tokens = [5 + i % 3 for i in range(N_FORGET)]
        held = [_example_damage(nd_slope, ffe, i) for i in range(N_HELDOUT)]
        for i, (d, n) in enumerate(zip(forget_damage, tokens)):
            rows.append(
                {
                    "step": step,
                    "split": split,
                    "example_id": f"f{i:02d}",
                    "template_logp_start": -1.0 * n,
                    "template_logp_sum": -1.0 * n - d * n,
                    "template_tokens": n,
                    "forget_loss": 0.1 + ffe,
                }
            )
        for i, d in enumerate(held):
            rows.append(
                {
                    "step": step,
                    "split": HELDOUT,
                    "example_id": f"h{i:02d}",
                    "span_logp_start": [-0.5, -0.5],
                    "span_logp": [-0.5 - d, -0.5],
                    "span_neighbour": [True, False],
                }
            )
        template = sum(d * n for d, n in zip(forget_damage, tokens)) / sum(tokens)
        records.append(
            {
                "step": step,
                "ffe": ffe,
                "ffe_paraphrase": 0.9 * ffe,
                "fact_recall": max(0.0, 1.0 - ffe),
                "fact_recall_forgetting": ffe,
                "generation_leakage": None,
                "template_damage": template,
                "neighbour_damage": sum(held) / N_HELDOUT if neighbours else None,
                "heldout_damage": 0.5 * sum(held) / N_HELDOUT,
                "general_damage": 0.01 * ffe,
                "auroc": 0.9 if variant == "atwu" else 0.5 + 0.01 * step / 10,
                "auroc_retain_conflict": 0.7 if variant == "atwu" else 0.5,
                "pressure_share": 0.6,
                "forget_quality": 1e-12 * (1 + step),
                "model_utility": 0.8 - 0.1 * ffe,
                "ks_statistic": 0.9 - 0.2 * ffe,
                "ks_low": 0.8 - 0.2 * ffe,
                "ks_high": 0.95 - 0.2 * ffe,
                "notes": {
                    "generation_leakage": "not generated at this checkpoint",
                    **({} if neighbours else {"neighbour_damage": NO_NEIGHBOURS}),
                },
            }
        )
    (run / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    pq.write_table(pa.Table.from_pylist(rows, schema=EXAMPLE_SCHEMA), run / "eval_examples.parquet")
    return run


def make_frontier(
    root: Path,
    *,
    seeds: int = 2,
    gate_fails: bool = False,
    variants=tuple(VARIANTS),
    neighbours: bool = True,
) -> Path:
    """``root`` holding every variant × strength × seed (the layout of ``OUT/runs``)."""
    for variant in variants:
        for multiplier in STRENGTHS:
            for seed in range(seeds):
                make_run(
                    root, variant, multiplier, seed, gate_fails=gate_fails, neighbours=neighbours
                )
    return root
