"""A comparison table as LaTeX (``compare --latex``, the Method comparison page's export)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from atwu.analysis.compare import COMPARE_METRICS
from atwu.numbers import mean_std_text


def to_latex_table(
    df: pd.DataFrame,
    *,
    metrics: Iterable[str] | None = None,
    precision: int = 3,
    caption: str | None = None,
) -> str:
    """A LaTeX ``tabular`` of :func:`compare_runs`' output: one "mean ± std" cell per metric.

    A group of one run (std NaN) shows the mean alone; a metric with no value shows "--".
    Text is LaTeX-escaped (method names and parameters contain underscores).
    """
    metrics = (
        list(metrics)
        if metrics is not None
        else [
            m
            for m in COMPARE_METRICS
            if f"{m}_mean" in df.columns and df[f"{m}_mean"].notna().any()
        ]
    )

    def cell(mean: float, std: float) -> str:
        if pd.isna(mean):
            return "--"
        return mean_std_text(mean, std, precision, pm="$\\pm$")

    table = pd.DataFrame({"method": df["method"], "config": df["config"], "n": df["n"]})
    for metric in metrics:
        table[metric] = [cell(m, s) for m, s in zip(df[f"{metric}_mean"], df[f"{metric}_std"])]

    # Escape the text ourselves: Styler's escape="latex" would also escape the "$\pm$" cells.
    for col in ("method", "config"):
        table[col] = table[col].map(lambda text: _latex_escape(str(text)))
    table.columns = [_latex_escape(str(c)) for c in table.columns]
    styler = table.style.hide(axis="index")  # Styler.to_latex needs jinja2 (streamlit brings it)
    return styler.to_latex(
        hrules=True, caption=caption, column_format="ll" + "r" * (len(table.columns) - 2)
    )


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _latex_escape(text: str) -> str:
    """Escape LaTeX specials in plain text (metric cells, which hold math, are not passed here)."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)
