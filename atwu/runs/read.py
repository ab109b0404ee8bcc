"""Reading run directories: the one set of readers the CLI, the reports and the app share.

:func:`read_run` never raises for a damaged directory (it lists the problems, so a list of runs
always shows); the file readers return an empty frame for a missing file and raise on a damaged
one, so the caller can say which file is at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from atwu.errors import InputError
from atwu.io import read_json, read_jsonl
from atwu.runs.layout import (
    CONFIG,
    EVAL_EXAMPLES,
    EVAL_LOG,
    EXAMPLES,
    OLD_TRAIN_LOG,
    STATUS,
    TRAIN_LOG,
    WEIGHT_COLUMNS,
    WEIGHTS,
)
from atwu.runs.status import effective_state

EVAL_EXAMPLE_COLUMNS = [
    "step",
    "split",
    "example_id",
    "prob",
    "truth_ratio",
    "rouge",
    "forget_loss",
    "generated",
    "auroc",
]


class RunDirError(InputError):
    """A run directory that cannot be read (missing, corrupt or not a run)."""


@dataclass
class RunInfo:
    """What the app and ``atwu list`` need to know about a run, read defensively."""

    path: Path
    name: str
    config: dict
    status: dict
    problems: list[str]

    @property
    def state(self) -> str:
        return self.status.get("state", "unknown")

    @property
    def method(self) -> str:
        return self.config.get("method", "?")

    @property
    def label(self) -> str:
        seed = self.config.get("seed")
        return f"{self.name} ({self.method}, seed {seed}, {self.state})"


def read_run(path: str | Path) -> RunInfo:
    """Read config and status; never raises for a damaged directory, it lists problems."""
    root = Path(path)
    problems: list[str] = []
    config: dict = {}
    status: dict = {}
    if not root.is_dir():
        raise RunDirError(f"{root} is not a directory")
    try:
        config = read_json(root / CONFIG)
    except FileNotFoundError:
        problems.append("config.json is missing: not a run directory, or its start failed")
    except (ValueError, OSError) as exc:
        problems.append(f"config.json is unreadable ({exc})")
    try:
        status = read_json(root / STATUS)
    except FileNotFoundError:
        problems.append("status.json is missing")
    except (ValueError, OSError) as exc:
        problems.append(f"status.json is unreadable ({exc})")
    if status:
        state, message = effective_state(status)
        if state != status.get("state"):
            status = {**status, "state": state, "message": message}
    return RunInfo(path=root, name=root.name, config=config, status=status, problems=problems)


def list_runs(runs_dir: str | Path) -> list[RunInfo]:
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    runs = []
    for child in sorted(root.iterdir()):
        if (
            child.is_dir()
            and not child.name.startswith(".")
            and ((child / CONFIG).exists() or (child / STATUS).exists())
        ):
            runs.append(read_run(child))
    return runs


def train_log_path(run_dir: str | Path) -> Path:
    """The run's training log (under its old name in runs made before it was renamed)."""
    path = Path(run_dir) / TRAIN_LOG
    old = Path(run_dir) / OLD_TRAIN_LOG
    return old if not path.is_file() and old.is_file() else path


def read_train_log(run_dir: str | Path) -> pd.DataFrame:
    """``train_log.jsonl``: one row per optimiser step (empty frame when missing)."""
    path = train_log_path(run_dir)
    return pd.DataFrame(read_jsonl(path)) if path.is_file() else pd.DataFrame()


def read_evals(run_dir: str | Path) -> pd.DataFrame:
    """``eval.jsonl`` as a frame, one row per evaluated checkpoint (a re-evaluated step keeps
    its last record). Raises ValueError when a line in the middle is not JSON."""
    path = Path(run_dir) / EVAL_LOG
    if not path.is_file():
        return pd.DataFrame()
    frame = pd.DataFrame(read_jsonl(path))
    if frame.empty or "step" not in frame.columns:
        return pd.DataFrame()
    return frame.drop_duplicates("step", keep="last").sort_values("step", ignore_index=True)


def read_weights(run_dir: str | Path, *, step: int | None = None) -> pd.DataFrame:
    """``weights.parquet`` (one step's rows with ``step``), example ids as text; an empty frame
    with the contract's columns when missing. Raises when the file is damaged or lacks columns."""
    path = Path(run_dir) / WEIGHTS
    if not path.is_file():
        return pd.DataFrame(columns=WEIGHT_COLUMNS)
    filters = [("step", "==", int(step))] if step is not None else None
    frame = pd.read_parquet(path, filters=filters)
    missing = {"step", "example_id", "position", "token", "weight"} - set(frame.columns)
    if missing:
        raise ValueError(f"weights.parquet lacks column(s) {', '.join(sorted(missing))}")
    frame["example_id"] = frame["example_id"].astype(str)
    return frame


def read_eval_examples(run_dir: str | Path) -> pd.DataFrame:
    """``eval_examples.parquet`` (empty frame when missing; raises when damaged)."""
    path = Path(run_dir) / EVAL_EXAMPLES
    if not path.is_file():
        return pd.DataFrame(columns=EVAL_EXAMPLE_COLUMNS)
    frame = pd.read_parquet(path)
    if "example_id" in frame.columns:
        frame["example_id"] = frame["example_id"].astype(str)
    return frame


def read_examples(run_dir: str | Path) -> list[dict]:
    """``examples.jsonl``: the recorded forget examples, in recording order."""
    path = Path(run_dir) / EXAMPLES
    return read_jsonl(path) if path.is_file() else []


def examples_by_id(run_dir: str | Path) -> dict[str, dict]:
    """:func:`read_examples` keyed by example id."""
    return {str(r.get("example_id")): r for r in read_examples(run_dir)}
