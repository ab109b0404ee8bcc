"""One configuration counted once: runs that computed the same thing (same method, parameters,
training settings, benchmark, split and seed; only their names or launch times differ) are
duplicates. Pooled "over seeds" they would read as two seeds agreeing perfectly (n = 2,
± 0.000); the pages keep one of them and say which were left out.

    kept, notes = without_duplicates(runs)
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from atwu.app.run_list import benchmark_key
from atwu.runs.read import RunInfo

NOT_COMPUTED = (
    "name",
    "sweep_id",
    "schema_version",
    "created_at",
    "resolved",
    "versions",
    "benchmark",
    "split",
    "device",
    "threads",
)
"""config.json fields that name, group or place a run without changing what it computes (the
benchmark and split enter as the resolved :func:`~atwu.app.run_list.benchmark_key`). The tags
stay: runs a frontier sweep labels as different variants or strengths are never duplicates."""


def computed_key(config: dict) -> str:
    """What a run computed, as text: equal for duplicates."""
    kept = {k: v for k, v in config.items() if k not in NOT_COMPUTED}
    kept["_benchmark"] = benchmark_key(config)
    return json.dumps(kept, sort_keys=True, default=str)


def _preference(run: RunInfo) -> tuple:
    """Which duplicate is kept: a finished one, then the most recent, then by name."""
    ended = str(run.status.get("ended_at") or run.status.get("started_at") or "")
    return (run.state == "done", ended, run.name)


def without_duplicates(runs: Sequence[RunInfo]) -> tuple[list[RunInfo], list[str]]:
    """``runs`` with one run per computed configuration (in their order), and a sentence per
    duplicate left out. Runs without a readable config are kept as they are."""
    groups: dict[str, list[RunInfo]] = {}
    for r in runs:
        if r.config:
            groups.setdefault(computed_key(r.config), []).append(r)
    keep = {id(max(group, key=_preference)) for group in groups.values()}
    kept, notes = [], []
    for r in runs:
        if not r.config or id(r) in keep:
            kept.append(r)
            continue
        twin = max(groups[computed_key(r.config)], key=_preference)
        notes.append(
            f"{r.name} repeats {twin.name} (same configuration and seed {r.config.get('seed')}): "
            "counted once, as a second seed it would fake agreement"
        )
    return kept, notes
