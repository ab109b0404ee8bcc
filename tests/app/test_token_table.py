"""The example table fits its two fifths of the page: the narrow set of columns by default (as
each ground truth names them), every column behind the "All columns" toggle."""

from __future__ import annotations

import pandas as pd
import pytest
from navigation import goto

from pages.parts.token_table import narrow_columns

FULL = [
    "example_id",
    "forget loss",
    "mean weight (facts)",
    "mean weight (other)",
    "fact tokens",
    "tokens",
    "AUROC",
]
CONFLICT = [
    "example_id",
    "forget loss",
    "mean weight (specific)",
    "mean weight (shared)",
    "specific tokens",
    "tokens",
    "AUROC",
]


def test_the_narrow_columns_under_each_ground_truth():
    assert narrow_columns(pd.DataFrame(columns=FULL), "facts") == [
        "example_id",
        "AUROC",
        "mean weight (facts)",
        "mean weight (other)",
        "forget loss",
    ]
    assert narrow_columns(pd.DataFrame(columns=CONFLICT), "conflict") == [
        "example_id",
        "AUROC",
        "mean weight (specific)",
        "mean weight (shared)",
        "forget loss",
    ]


@pytest.mark.slow
def test_all_columns_toggle_widens_the_table(app, app_runs):
    at = goto(app, "pages/token_scores.py", run="atwu-s0")
    assert not at.exception
    table = at.dataframe(key="example_table")
    assert list(table.proto.column_order) == narrow_columns(table.value, "facts")
    at.toggle(key="table_all_columns").set_value(True).run()
    assert not at.exception
    assert list(at.dataframe(key="example_table").proto.column_order) == []
