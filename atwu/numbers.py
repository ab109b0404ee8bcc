"""How numbers are written for people: "mean ± std" over seeds, the one format every table uses
(pages, the report, the LaTeX export)."""

from __future__ import annotations

import math


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
