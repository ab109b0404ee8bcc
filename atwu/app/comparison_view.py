"""The Method comparison page's data: which runs can be compared, the grouped table, its
formatted forms and the UQ ranking."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atwu.analysis.compare import compare_runs
from atwu.analysis.latex import to_latex_table
from atwu.app.cli_text import ATWU
from atwu.app.labels import FACT_COLUMNS, HEADLINE_METRICS, mean_std_text, metric_label
from atwu.io import read_jsonl
from atwu.methods.registry import all_methods
from atwu.params import defaults_of
from atwu.runs.read import RunInfo


def comparable_runs(runs: list[RunInfo]) -> tuple[list[RunInfo], list[str]]:
    """Runs that can enter the comparison (readable config and at least one eval record) and a
    sentence for each one left out."""
    keep, notes = [], []
    for r in runs:
        if any(p.startswith("config.json") for p in r.problems):
            notes.append(f"{r.name}: left out, its config.json is missing or unreadable")
            continue
        path = r.path / "eval.jsonl"
        try:
            has_eval = path.is_file() and bool(read_jsonl(path))
        except (OSError, ValueError) as exc:
            notes.append(f"{r.name}: left out, eval.jsonl is unreadable ({exc})")
            continue
        if not has_eval:
            notes.append(
                f"{r.name}: left out, it has no evaluation (launched with --no-eval, or "
                f"ended before its first checkpoint; `{ATWU} eval {r.path}` "
                "evaluates it)"
            )
            continue
        keep.append(r)
    return keep, notes


def method_defaults() -> dict[str, dict[str, Any]]:

    return {name: defaults_of(cls.Params) for name, cls in all_methods().items()}


def comparison_table(run_dirs: list[str | Path]) -> tuple[pd.DataFrame, list[str]]:
    """:func:`atwu.evaluate.checkpoint.compare_runs` over the runs (the config column lists the
    parameters that differ from the method's defaults), plus its warnings as sentences."""

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = compare_runs([Path(p) for p in run_dirs], defaults=method_defaults())
    return table, [str(w.message) for w in caught]


def formatted_comparison(table: pd.DataFrame, metrics: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """method, config, n, and one "mean ± std" text column per metric (named by its label)."""
    out = pd.DataFrame({"method": table["method"], "config": table["config"], "n": table["n"]})
    for m in metrics:
        if f"{m}_mean" not in table.columns:
            continue
        # UQ is on a 0..100 scale: one decimal, as in the UQ ranking.
        digits = 1 if m == "uq" else 3
        out[metric_label(m)] = [
            mean_std_text(a, b, digits)
            for a, b in zip(table[f"{m}_mean"], table.get(f"{m}_std", np.nan))
        ]
    return out


def without_empty_config(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its ``config`` column when that column is empty on every row."""
    if "config" not in frame.columns:
        return frame
    col = frame["config"]
    if col.isna().all() or col.fillna("").astype(str).str.strip().eq("").all():
        return frame.drop(columns=["config"])
    return frame


def uq_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Method groups ranked by mean UQ (best first; groups without UQ last)."""
    cols = ["rank", "method", "config", "UQ", "forget efficacy", "retain preservation", "n"]
    if table.empty or "uq_mean" not in table.columns:
        return pd.DataFrame(columns=cols)
    ranked = table.sort_values(
        "uq_mean", ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)
    return pd.DataFrame(
        {
            "rank": range(1, len(ranked) + 1),
            "method": ranked["method"],
            "config": ranked["config"],
            "UQ": [mean_std_text(a, b, 1) for a, b in zip(ranked["uq_mean"], ranked["uq_std"])],
            "forget efficacy": [
                mean_std_text(a, b)
                for a, b in zip(ranked["forget_efficacy_mean"], ranked["forget_efficacy_std"])
            ],
            "retain preservation": [
                mean_std_text(a, b)
                for a, b in zip(
                    ranked["retain_preservation_mean"], ranked["retain_preservation_std"]
                )
            ],
            "n": ranked["n"],
        },
        columns=cols,
    )


def group_labels(table: pd.DataFrame) -> pd.DataFrame:
    """The table with ``method`` made unique per row ("atwu (scorer_lr=0.05)") for charts."""
    out = table.copy()
    out["method"] = [m if not c else f"{m} ({c})" for m, c in zip(table["method"], table["config"])]
    return out


FINAL_METRICS = (
    *HEADLINE_METRICS,
    *FACT_COLUMNS,
    "forget_efficacy",
    "retain_preservation",
    "forget_prob",
    "forget_rouge",
    "ks_statistic",
    "ks_low",
    "ks_high",
)
"""Every column of the tables at default settings, where the runs have them."""

FACT_TABLE = FACT_COLUMNS
"""The fact-level table's columns (METHOD.md §4.5)."""

FINAL_TABLE = tuple(m for m in FINAL_METRICS if m not in FACT_COLUMNS)
"""The Final metrics table's columns: the headline and TOFU metrics."""


def present_metrics(table: pd.DataFrame, metrics: tuple[str, ...] | list[str]) -> list[str]:
    """The ``metrics`` that at least one row of the comparison table has a value for."""
    return [m for m in metrics if f"{m}_mean" in table.columns and table[f"{m}_mean"].notna().any()]


def latex_export(table: pd.DataFrame, metrics: list[str]) -> tuple[str | None, str | None]:
    """The table as LaTeX over the headline ``metrics``, or why it could not be made."""
    try:
        return to_latex_table(table, metrics=[m for m in metrics if m in HEADLINE_METRICS]), None
    except Exception as exc:  # the export is optional: the page says why and goes on
        return None, f"LaTeX export failed: {exc}"


def strength_multiplier(run: RunInfo) -> float:
    """The run's strength as a multiple of its variant's default (1 for untagged runs)."""
    try:
        return float((run.config.get("tags") or {}).get("strength_multiplier", 1.0))
    except (TypeError, ValueError):
        return 1.0


def default_selection(runs: list[RunInfo]) -> list[str]:
    """The runs compared when the URL names none: the finished ones (else all), and of those
    only the ones at their variant's default strength when a strength sweep is among them."""
    pool = [r for r in runs if r.state == "done"] or runs
    at_default = [r.name for r in pool if strength_multiplier(r) == 1.0]
    return at_default or [r.name for r in pool]
