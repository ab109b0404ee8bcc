"""How numbers are written for people: "mean ± std" over seeds, the one format every table uses
(pages, the report, the LaTeX export)."""

from __future__ import annotations

import math
from typing import Any


def mean_std_text(mean: float, std: float, digits: int = 3, *, pm: str = "±") -> str:
    """``"0.937 ± 0.005"``; the mean alone without a spread (one seed), ``–`` without a mean;
    tiny values (p-values) in scientific notation. ``pm``: the sign (LaTeX: ``$\\pm$``)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}g}" if abs(mean) < 1e-3 and mean != 0 else f"{mean:.{digits}f}"
    if abs(mean) < 1e-3 and mean != 0:
        return f"{mean:.{digits}g} {pm} {std:.2g}"
    return f"{mean:.{digits}f} {pm} {std:.{digits}f}"


def as_number(value: Any) -> float:
    """``value`` as a float; NaN for None and anything that is not a number (a JSON null, text)."""
    try:
        return math.nan if value is None else float(value)
    except (TypeError, ValueError):
        return math.nan


def number_text(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals, "–" where there is none."""
    x = as_number(value)
    return "–" if math.isnan(x) else f"{x:.{digits}f}"
