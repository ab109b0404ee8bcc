"""Which examples the overview matrix shows, in which order: sorted by a column of the example
table, filtered by text, a page at a time (a run of 200+ examples stays readable).

    ids = ordered_examples(table, "AUROC (lowest first)", "birthplace")
    page_ids, n_pages = page(ids, 2, PAGE_SIZE)
"""

from __future__ import annotations

import math

import pandas as pd

PAGE_SIZE = 40
"""Examples per page of the matrix (each row keeps a readable height)."""

SORTS: dict[str, tuple[str | None, bool]] = {
    "benchmark order": (None, True),
    "AUROC (lowest first)": ("AUROC", True),
    "AUROC (highest first)": ("AUROC", False),
    "mean weight on facts (highest first)": ("mean weight (facts)", False),
    "mean weight elsewhere (highest first)": ("mean weight (other)", False),
    "forget loss (highest first)": ("forget loss", False),
}
"""How the matrix can be sorted: label → (example table column, ascending)."""


def ordered_examples(table: pd.DataFrame, sort: str, query: str = "") -> list[str]:
    """The example ids of ``table`` (the Token scores page's example table) whose id or question
    contains ``query`` (any case), sorted by ``sort`` (a key of :data:`SORTS`; missing values
    last, ties in benchmark order)."""
    if table is None or table.empty:
        return []
    rows = table
    text = query.strip().lower()
    if text:
        haystack = rows["example_id"].astype(str).str.lower()
        if "question" in rows.columns:
            haystack = haystack + " " + rows["question"].fillna("").astype(str).str.lower()
        rows = rows[haystack.str.contains(text, regex=False)]
    column, ascending = SORTS.get(sort, (None, True))
    if column is not None and column in rows.columns:
        rows = rows.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    return rows["example_id"].astype(str).tolist()


def page(ids: list[str], number: int, size: int = PAGE_SIZE) -> tuple[list[str], int]:
    """Page ``number`` (1-based, clipped to the pages there are) of ``ids``, and how many pages
    there are (at least one)."""
    pages = max(1, math.ceil(len(ids) / size))
    number = min(max(1, int(number)), pages)
    return ids[(number - 1) * size : number * size], pages
