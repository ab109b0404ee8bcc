"""Writing the run directory's tables (JSON files go through :mod:`atwu.io`)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from atwu.io import atomic_write_bytes
from atwu.runs.layout import WEIGHTS


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Atomic parquet write (serialised in memory, then temp file + rename)."""
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def write_weights(root: Path, frame: pd.DataFrame) -> None:
    write_parquet(root / WEIGHTS, frame)
