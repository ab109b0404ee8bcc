"""Progress of the models ``prepare`` trains side by side: which model, which epoch, time left.

Each model trains in a worker process (:mod:`atwu.prepare.build`); the worker writes a small
JSON file per model (``<benchmark being built>/.progress/<model>.json``: step, total steps,
epochs) at its first step and at the end of every epoch, and the parent reads them back between
waits and turns them into one line for the progress callback (the app's progress bar):

    training models: full epoch 5/21 · retain90 epoch 4/23 · base waiting · about 2 min left

Files, not a queue: workers are spawned interpreters, and a file written atomically is all the
parent needs to read while it waits for them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from atwu.io import atomic_write_json, read_json

PROGRESS_DIR = ".progress"


def progress_file(root: Path, name: str) -> Path:
    return Path(root) / PROGRESS_DIR / f"{name}.json"


def epoch_reporter(
    root: Path, name: str, *, epochs: int, steps_per_epoch: int
) -> Callable[[int, int], None]:
    """An ``on_step(step, total)`` callback for the memoriser that records model ``name``'s
    progress at its first step and at the end of each epoch."""
    path = progress_file(root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()

    def on_step(step: int, total: int) -> None:
        if step == 1 or step % steps_per_epoch == 0 or step == total:
            atomic_write_json(
                path,
                {
                    "name": name,
                    "step": step,
                    "total": total,
                    "epoch": math.ceil(step / steps_per_epoch),
                    "epochs": epochs,
                    "started": started,
                },
            )

    return on_step


def read_progress(root: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """The latest progress record of each model that has started (unreadable ones skipped)."""
    out = {}
    for name in names:
        try:
            record = read_json(progress_file(root, name))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("total"):
            out[name] = record
    return out


def duration_text(seconds: float) -> str:
    """A rough duration for "time left": seconds under a minute, else minutes."""
    seconds = max(0.0, seconds)
    if seconds < 55:
        return f"{max(5, round(seconds / 5) * 5):.0f} s"
    return f"{max(1, round(seconds / 60))} min"


def summary(
    names: list[str],
    records: dict[str, dict[str, Any]],
    done: set[str],
    *,
    now: float | None = None,
) -> tuple[str, float]:
    """(message, fraction of the training done) for models ``names``, given their progress
    ``records`` and the models already ``done``. Totals of models not started yet are taken as
    the mean of the known ones; time left assumes the models go on at the speed they have had
    together so far."""
    now = time.time() if now is None else now
    known = [int(r["total"]) for r in records.values()]
    mean_total = sum(known) / len(known) if known else 0.0
    total = steps = 0.0
    parts = []
    for name in names:
        r = records.get(name)
        if name in done:
            size = float(r["total"]) if r else mean_total
            total, steps = total + size, steps + size
            parts.append(f"{name} done")
        elif r is None:
            total += mean_total
            parts.append(f"{name} waiting")
        else:
            total, steps = total + float(r["total"]), steps + float(r["step"])
            parts.append(f"{name} epoch {int(r['epoch'])}/{int(r['epochs'])}")
    fraction = steps / total if total > 0 else 0.0
    message = "training models: " + " · ".join(parts)
    starts = [float(r["started"]) for r in records.values() if r.get("started")]
    if starts and 0.02 < fraction < 1.0:
        elapsed = now - min(starts)
        message += f" · about {duration_text(elapsed * (1 - fraction) / fraction)} left"
    return message, fraction
