"""Comparing runs: final metrics grouped by method and parameters, seeds pooled
(``python -m atwu compare``, the Method comparison page)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from atwu.evaluate.checkpoint import STABLE_KEYS
from atwu.io import read_json_object, read_jsonl

COMPARE_METRICS = tuple(k for k in STABLE_KEYS if k not in ("step", "notes", "seconds"))
"""Metrics :func:`compare_runs` aggregates (those of :data:`STABLE_KEYS` that are numbers)."""


def _last_record(run_dir: Path) -> dict | None:
    """The last evaluated checkpoint; a cut last line is left out with a warning naming the file
    (the previous checkpoint is then the last one, which the user must know)."""
    path = run_dir / "eval.jsonl"
    if not path.is_file():
        return None
    records = read_jsonl(path, warn_torn=True)
    return records[-1] if records else None


def _config_label(params: Mapping[str, Any], shown: Iterable[str]) -> str:
    """``"lr=1e-05, alpha=0.5"``: the chosen parameters, in a stable order."""
    return ", ".join(f"{k}={params[k]}" for k in sorted(shown) if k in params)


def compare_runs(
    run_dirs: Iterable[str | Path], *, defaults: Mapping[str, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """Final metrics of runs, grouped by method and parameters (seeds pooled).

    Each run contributes its ``config.json`` (``method``, ``params``, ``seed``) and the last line
    of its ``eval.jsonl``; runs without an evaluation are skipped with a warning. Runs that share
    the method and every parameter (all but the seed) form one group. A damaged file raises
    :class:`~atwu.io.UnreadableFileError` naming it; a cut last line of ``eval.jsonl`` is left
    out with a :class:`~atwu.io.TornLineWarning`.

    Args:
        defaults: method → its default parameters. The ``config`` column then shows the
            parameters that differ from them; without it, the parameters that differ between the
            compared runs of the same method (so identical setups show an empty string).

    Returns:
        One row per group with ``method``, ``config``, ``n`` (runs), ``seeds``, then
        ``<metric>_mean`` and ``<metric>_std`` (ddof=1; NaN for one run) for every metric of
        :data:`COMPARE_METRICS` (nulls are skipped by the mean).
    """
    runs: list[dict[str, Any]] = []
    for run_dir in map(Path, run_dirs):
        config = read_json_object(run_dir / "config.json")
        record = _last_record(run_dir)
        if record is None:
            warnings.warn(
                f"{run_dir}: no eval.jsonl record; left out of the comparison", stacklevel=2
            )
            continue
        params = dict(config.get("params") or {})
        runs.append(
            {
                "method": str(config.get("method", "?")),
                "params": params,
                "key": json.dumps(params, sort_keys=True, default=str),
                "seed": config.get("seed"),
                "record": record,
            }
        )

    columns = [
        "method",
        "config",
        "n",
        "seeds",
        *[f"{m}_{s}" for m in COMPARE_METRICS for s in ("mean", "std")],
    ]
    if not runs:
        return pd.DataFrame(columns=columns)

    varying: dict[str, set[str]] = {}
    for method in {r["method"] for r in runs}:
        same = [r["params"] for r in runs if r["method"] == method]
        names = set().union(*same)
        varying[method] = {
            k for k in names if len({json.dumps(p.get(k), default=str) for p in same}) > 1
        }

    groups: dict[tuple[str, str], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["method"], run["key"]), []).append(run)
    rows = []
    for (method, _), members in groups.items():
        params = members[0]["params"]
        if defaults is not None and method in defaults:
            shown = [k for k in params if params[k] != defaults[method].get(k)]
        else:
            shown = list(varying[method])
        row: dict[str, Any] = {
            "method": method,
            "config": _config_label(params, shown),
            "n": len(members),
            "seeds": ",".join(str(m["seed"]) for m in members),
        }
        for metric in COMPARE_METRICS:
            values = pd.Series([m["record"].get(metric) for m in members], dtype=float)
            row[f"{metric}_mean"] = values.mean()
            row[f"{metric}_std"] = values.std(ddof=1)  # NaN for a single run, by design
        rows.append(row)
    return pd.DataFrame(rows, columns=columns).sort_values(["method", "config"], ignore_index=True)
