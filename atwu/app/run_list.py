"""Runs as the pages list them: labels, a table of states, progress, the forget split."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pandas as pd

from atwu.analysis.references import REFERENCE_TAG
from atwu.runs.read import RunInfo, list_runs


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
    newest (by start time) that is not a reference launched for another run: what a user just
    launched or looked at (the first run's references start after it)."""
    if not runs:
        return None
    if demo:
        return next((r.name for r in runs if r.method == "atwu"), runs[0].name)
    own = [r for r in runs if REFERENCE_TAG not in (r.config.get("tags") or {})] or runs
    return max(own, key=lambda r: (r.status.get("started_at") or "", r.name)).name


def picker_label(name: str, *, demo: bool = False) -> str:
    """A run as the sidebar's picker lists it: its name only (its state would go stale there,
    and a long label is cut); the caption under the picker says the rest."""
    return f"demo · {name}" if demo else name


def run_caption(info: RunInfo, state: str | None = None) -> str:
    """One line under the sidebar's run picker: method, seed, state, progress, forget split.
    ``state``: the state the pages show for it (:func:`atwu.app.active_runs.run_status`, which
    also knows a launched run whose process died), else its status file's."""
    step = f"step {info.status.get('step', '?')}/{info.status.get('total_steps', '?')}"
    resolved = info.config.get("resolved") or {}
    bench = resolved.get("split") or info.config.get("split") or ""
    return " · ".join(
        x
        for x in (
            info.method,
            f"seed {info.config.get('seed', '?')}",
            state or info.state,
            step,
            bench,
        )
        if x
    )


def variant_of(config: dict) -> str:
    """The variant a run belongs to (``tags.variant`` of a frontier or demo run), else its
    method: what one colour stands for in the figures."""
    tags = config.get("tags") or {}
    return str(tags.get("variant") or config.get("method") or "?")


def benchmark_key(config: dict) -> tuple[str, str]:
    """(benchmark, forget split) of a run: runs are compared only within one. The benchmark is
    the resolved path where the run recorded it (two benchmarks both called "embedded" but
    prepared with other sizes are different data), else the configured one."""
    resolved = config.get("resolved") or {}
    bench = resolved.get("benchmark") or config.get("benchmark") or "embedded"
    return str(bench), forget_split_of(config)


_STAMP = re.compile(r"-(\d{8})-(\d{2})(\d{2})(\d{2})(-\d+)?$")


def short_name(name: str) -> str:
    """A run name short enough for a chip: a launch time stamp becomes the time of day
    (``atwu-s0-20261129-071200`` → ``atwu-s0 07:12:00``)."""
    return _STAMP.sub(lambda m: f" {m[2]}:{m[3]}:{m[4]}{m[5] or ''}", name)


SWEEP_FILE = "sweep.json"


def list_all_runs(root: Path) -> list[RunInfo]:
    """The runs directly under ``root`` and those inside its sweep directories (``python -m
    atwu sweep`` puts its runs in ``<root>/<sweep>/``), the latter named ``<sweep>/<run>``."""
    runs = list_runs(root) if root.is_dir() else []
    if not root.is_dir():
        return runs
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.name.startswith(".") and (child / SWEEP_FILE).is_file():
            runs += [
                dataclasses.replace(r, name=f"{child.name}/{r.name}") for r in list_runs(child)
            ]
    return runs


def time_left_text(info: RunInfo, now: dt.datetime | None = None) -> str:
    """How long a running run still needs, from its pace since it started (steps per second,
    evaluations included); "" before the first step or once it has ended."""
    step, total = info.status.get("step") or 0, info.status.get("total_steps") or 0
    started = info.status.get("started_at")
    if info.state != "running" or not (0 < step < total) or not started:
        return ""
    try:
        begun = dt.datetime.fromisoformat(str(started))
    except ValueError:
        return ""
    now = now or dt.datetime.now(dt.UTC)
    elapsed = (now - begun).total_seconds()
    if elapsed <= 0:
        return ""
    left = elapsed / step * (total - step)
    return f"about {left:.0f} s left" if left < 90 else f"about {left / 60:.0f} min left"


def run_styles(runs: list[RunInfo]) -> dict[str, tuple[str, str]]:
    """Each run's (colour, marker) in the figures: one colour per method (variant), one marker
    per seed (:func:`atwu.viz.run_styles.run_styles`)."""
    from atwu.viz.run_styles import run_styles as styles  # plotly: only where figures are drawn

    return styles([(r.name, variant_of(r.config), r.config.get("seed", 0)) for r in runs])
