"""Runs as the pages list them: labels, a table of states, progress, the forget split."""

from __future__ import annotations

import pandas as pd

from atwu.runs.read import RunInfo


def forget_split_of(config: dict) -> str:
    """The run's forget split (the resolved one, else the configured one, else forget10)."""
    resolved = config.get("resolved") or {}
    return str(resolved.get("split") or config.get("split") or "forget10")


def run_label(info: RunInfo, *, demo: bool = False) -> str:
    seed = info.config.get("seed", "?")
    prefix = "demo · " if demo else ""
    return f"{prefix}{info.name} ({info.method}, seed {seed}, {info.state})"


def run_table(runs: list[RunInfo]) -> pd.DataFrame:
    """One row per run: what the run lists on the pages show."""
    rows = []
    for r in runs:
        resolved = r.config.get("resolved") or {}
        rows.append(
            {
                "run": r.name,
                "method": r.method,
                "seed": r.config.get("seed"),
                "state": r.state,
                "step": r.status.get("step"),
                "total": r.status.get("total_steps"),
                "message": r.status.get("message", ""),
                "sweep": r.config.get("sweep_id"),
                "device": resolved.get("device"),
                "problems": "; ".join(r.problems),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "run",
            "method",
            "seed",
            "state",
            "step",
            "total",
            "message",
            "sweep",
            "device",
            "problems",
        ],
    )


def progress_of(info: RunInfo) -> float:
    """Fraction of steps done (0..1)."""
    step = info.status.get("step") or 0
    total = info.status.get("total_steps") or 0
    if info.state == "done":
        return 1.0
    return float(min(1.0, max(0.0, step / total))) if total else 0.0


def default_run(runs: list[RunInfo], *, demo: bool) -> str | None:
    """The run the sidebar picks when the URL names none: ATWU's among the demo runs, else the
    newest (by start time): what a user just launched or looked at."""
    if not runs:
        return None
    if demo:
        return next((r.name for r in runs if r.method == "atwu"), runs[0].name)
    return max(runs, key=lambda r: (r.status.get("started_at") or "", r.name)).name


def run_caption(info: RunInfo) -> str:
    """One line under the sidebar's run picker: method, seed, state, progress, forget split."""
    step = f"step {info.status.get('step', '?')}/{info.status.get('total_steps', '?')}"
    resolved = info.config.get("resolved") or {}
    bench = resolved.get("split") or info.config.get("split") or ""
    return " · ".join(
        x
        for x in (info.method, f"seed {info.config.get('seed', '?')}", info.state, step, bench)
        if x
    )
