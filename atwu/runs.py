"""The run directory: the contract between the engine (writer) and the app (reader).

    config.json            everything needed to reproduce (schema_version, method, params, data,
                           model, training settings, seed)
    status.json            state (queued | running | done | failed | cancelled), message, pid,
                           started_at, ended_at, heartbeat_at (UTC ISO 8601), step, total_steps
    metrics.jsonl          one line per logged step: step, loss, the method's logs, lr, seconds
    examples.jsonl         the recorded forget examples: example_id, question, answer, spans
    weights.parquet        per checkpoint × recorded example × answer token: step, example_id,
                           position, token, char_start, char_end, weight, label, span_kind
    eval.jsonl             one line per checkpoint (atwu.evaluate.checkpoint)
    eval_examples.parquet  one row per (step, split, example)
    scorer.safetensors     ATWU's final learned scorer
    model/                 the final model (--save-model; default on under 100M parameters)
    state/                 the latest resumable state (replaced at each checkpoint)

Every file is written atomically. A running state whose heartbeat is older than
:data:`STALE_AFTER_S` means the process died (killed without a chance to say so).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from atwu.io import atomic_write_bytes, atomic_write_json, read_json, read_jsonl

SCHEMA_VERSION = 1
STATES = ("queued", "running", "done", "failed", "cancelled")
HEARTBEAT_EVERY_S = 5.0
STALE_AFTER_S = 60.0

WEIGHT_COLUMNS = ["step", "example_id", "position", "token", "char_start", "char_end", "weight",
                  "label", "span_kind"]


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


class RunDirError(ValueError):
    """A run directory that cannot be read (missing, corrupt or not a run)."""


class StatusWriter:
    """Owns ``status.json`` for a live run; a daemon thread refreshes the heartbeat."""

    def __init__(self, root: Path, total_steps: int):
        self.path = root / "status.json"
        self.lock = threading.Lock()
        self.status: dict[str, Any] = {
            "state": "queued", "message": "", "pid": os.getpid(), "started_at": None,
            "ended_at": None, "heartbeat_at": utc_now(), "step": 0, "total_steps": total_steps,
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, **fields: Any) -> None:
        with self.lock:
            self.status.update(fields)
            self.status["heartbeat_at"] = utc_now()
            atomic_write_json(self.path, self.status)

    def start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(HEARTBEAT_EVERY_S):
                self.update()
        self._thread = threading.Thread(target=beat, name="atwu-heartbeat", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Atomic parquet write (serialised in memory, then temp file + rename)."""
    import io
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def write_weights(root: Path, frame: pd.DataFrame) -> None:
    write_parquet(root / "weights.parquet", frame)


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


def effective_state(status: dict, *, now: dt.datetime | None = None) -> tuple[str, str]:
    """(state, message), with a running run whose heartbeat stopped reported as died."""
    state = status.get("state", "unknown")
    message = status.get("message", "")
    if state == "running":
        beat = parse_time(status.get("heartbeat_at"))
        now = now or dt.datetime.now(dt.timezone.utc)
        if beat is None or (now - beat).total_seconds() > STALE_AFTER_S:
            return "failed", ("the process stopped without reporting (no heartbeat for over "
                              f"{int(STALE_AFTER_S)} s); it was probably killed")
    return state, message


def read_run(path: str | Path) -> RunInfo:
    """Read config and status; never raises for a damaged directory, it lists problems."""
    root = Path(path)
    problems: list[str] = []
    config: dict = {}
    status: dict = {}
    if not root.is_dir():
        raise RunDirError(f"{root} is not a directory")
    try:
        config = read_json(root / "config.json")
    except FileNotFoundError:
        problems.append("config.json is missing: not a run directory, or its start failed")
    except (ValueError, OSError) as exc:
        problems.append(f"config.json is unreadable ({exc})")
    try:
        status = read_json(root / "status.json")
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
        if child.is_dir() and not child.name.startswith(".") and (
                (child / "config.json").exists() or (child / "status.json").exists()):
            runs.append(read_run(child))
    return runs


def read_metrics(path: str | Path) -> pd.DataFrame:
    file = Path(path) / "metrics.jsonl"
    return pd.DataFrame(read_jsonl(file)) if file.is_file() else pd.DataFrame()


def read_evals(path: str | Path) -> pd.DataFrame:
    file = Path(path) / "eval.jsonl"
    return pd.DataFrame(read_jsonl(file)) if file.is_file() else pd.DataFrame()


def read_weights(path: str | Path, *, step: int | None = None) -> pd.DataFrame:
    file = Path(path) / "weights.parquet"
    if not file.is_file():
        return pd.DataFrame(columns=WEIGHT_COLUMNS)
    filters = [("step", "==", int(step))] if step is not None else None
    return pd.read_parquet(file, filters=filters)


def read_examples(path: str | Path) -> list[dict]:
    file = Path(path) / "examples.jsonl"
    return read_jsonl(file) if file.is_file() else []
