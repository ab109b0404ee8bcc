"""Reading run directories: the one set of readers the CLI, the reports and the app share.

:func:`read_run` never raises for a damaged directory (it lists the problems, so a list of runs
always shows); the file readers return an empty frame for a missing file and raise
:class:`~atwu.io.UnreadableFileError` (path and reason, one line) for a damaged one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from atwu.file_limits import file_limit
from atwu.io import UnreadableFileError, check_file_size, read_json_object, read_jsonl
from atwu.metric_specs import EXAMPLE_COLUMNS
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

DAMAGED = "damaged"
"""The state :func:`read_run` shows for a run with a file over its size limit: whatever its
status says, its results cannot be read."""

_SIZE_CHECKED = {
    TRAIN_LOG: "jsonl",
    OLD_TRAIN_LOG: "jsonl",
    EXAMPLES: "jsonl",
    EVAL_LOG: "jsonl",
    WEIGHTS: "parquet",
    EVAL_EXAMPLES: "parquet",
}
"""The result files of a run whose size :func:`read_run` checks (config and status are checked
as they are read)."""

EVAL_EXAMPLE_COLUMNS = list(EXAMPLE_COLUMNS)
"""Columns of ``eval_examples.parquet`` (the empty frame of a run without one has them)."""


class RunDirError(UnreadableFileError):
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
        raise RunDirError(root, "is not a directory")
    try:
        config = read_json_object(root / CONFIG)
    except FileNotFoundError:
        problems.append("config.json is missing: not a run directory, or its start failed")
    except (ValueError, OSError) as exc:
        problems.append(f"config.json is unreadable ({_reason(exc)})")
    try:
        status = read_json_object(root / STATUS)
    except FileNotFoundError:
        problems.append("status.json is missing")
    except (ValueError, OSError) as exc:
        problems.append(f"status.json is unreadable ({_reason(exc)})")
    if status:
        state, message = effective_state(status)
        if state != status.get("state"):
            status = {**status, "state": state, "message": message}
    oversized = _oversized_files(root)
    if oversized:
        problems.extend(oversized)
        status = {**status, "state": DAMAGED, "message": "a result file is over its size limit"}
    return RunInfo(path=root, name=root.name, config=config, status=status, problems=problems)


def _oversized_files(root: Path) -> list[str]:
    """One line for each result file of the run over its size limit (a stat each: cheap enough
    for every row of a run list)."""
    found = []
    for name, kind in _SIZE_CHECKED.items():
        try:
            check_file_size(root / name, file_limit(kind))
        except UnreadableFileError as exc:
            found.append(f"{name}: {exc.reason}")
        except OSError:
            continue  # missing: not every run has every file
    return found


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, UnreadableFileError) else str(exc)


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
    its last record). A cut last line is left out with a :class:`~atwu.io.TornLineWarning`;
    a damaged line elsewhere raises :class:`~atwu.io.UnreadableFileError`."""
    path = Path(run_dir) / EVAL_LOG
    if not path.is_file():
        return pd.DataFrame()
    frame = pd.DataFrame(read_jsonl(path, warn_torn=True))
    if frame.empty or "step" not in frame.columns:
        return pd.DataFrame()
    return frame.drop_duplicates("step", keep="last").sort_values("step", ignore_index=True)


def read_parquet(path: str | Path, **options) -> pd.DataFrame:
    """A parquet file of a run; :class:`~atwu.io.UnreadableFileError` when it is over its size
    limit, cut or damaged (pyarrow's own errors name neither the file nor the cause a user can
    fix)."""
    check_file_size(path, file_limit("parquet"))
    try:
        return pd.read_parquet(path, **options)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, TypeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFileError(
            path, f"is not a readable parquet file ({first}); it is damaged or was cut"
        ) from None


def read_weights(run_dir: str | Path, *, step: int | None = None) -> pd.DataFrame:
    """``weights.parquet`` (one step's rows with ``step``), example ids as text; an empty frame
    with the contract's columns when missing. Raises when the file is damaged or lacks columns."""
    path = Path(run_dir) / WEIGHTS
    if not path.is_file():
        return pd.DataFrame(columns=WEIGHT_COLUMNS)
    filters = [("step", "==", int(step))] if step is not None else None
    frame = read_parquet(path, filters=filters)
    missing = {"step", "example_id", "position", "token", "weight"} - set(frame.columns)
    if missing:
        raise UnreadableFileError(path, f"lacks column(s) {', '.join(sorted(missing))}")
    frame["example_id"] = frame["example_id"].astype(str)
    return frame


def read_eval_examples(run_dir: str | Path) -> pd.DataFrame:
    """``eval_examples.parquet`` (empty frame when missing; raises when damaged)."""
    path = Path(run_dir) / EVAL_EXAMPLES
    if not path.is_file():
        return pd.DataFrame(columns=EVAL_EXAMPLE_COLUMNS)
    frame = read_parquet(path)
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
