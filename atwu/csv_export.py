"""CSV exports: every CSV the project writes or offers for download goes through :func:`csv_text`,
which neutralises text cells a spreadsheet would run as formulas (a run name or a token such as
``=HYPERLINK(...)`` opened in Excel)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from atwu.io import atomic_write_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (and what Excel also treats so)."""


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'`` so that it is
    shown as text; numbers and other values unchanged (a negative number stays a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text with every text cell and column name
    neutralised (:func:`neutralise_cell`): what every CSV export of the project writes."""
    safe = frame.copy()
    safe.columns = [neutralise_cell(str(c)) for c in safe.columns]
    for column in safe.columns:
        # object, pandas' "str"/"string" and categorical columns can hold text
        dtype = safe[column].dtype
        if (
            pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or (pd.api.types.is_object_dtype(dtype))
        ):
            safe[column] = safe[column].astype(object).map(neutralise_cell)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as a neutralised CSV file (:func:`csv_text`), atomically."""
    atomic_write_text(path, csv_text(frame))
