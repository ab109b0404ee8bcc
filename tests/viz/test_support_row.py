"""The retain-support channel under a weight row: drawn only for runs that recorded it, on one
log scale for every row in view, every text escaped; the exports carry the column."""

from __future__ import annotations

import math

import pandas as pd

from atwu.app.token_view import scores_csv
from atwu.viz.support_row import support_row_html, support_top
from atwu.viz.tokens import compare_html


def _tokens(support: list[float] | None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "step": [3, 3, 3],
            "example_id": ["e1"] * 3,
            "position": [0, 1, 2],
            "token": ["Ana", " <b>wrote</b>", "</s>"],
            "char_start": [0, 3, -1],
            "char_end": [3, 16, -1],
            "weight": [0.9, 0.1, 0.0],
            "label": [1, 0, -1],
            "span_kind": ["specific", None, None],
        }
    )
    if support is not None:
        frame["support"] = support
    return frame


def test_a_row_with_support_gets_the_channel_and_its_key():
    html = compare_html([("atwu_gate", _tokens([0.0, 3.0, math.nan])), ("static_p", _tokens(None))])
    assert html.count('class="atwu-support-row"') == 1  # only the run that recorded it
    assert "atwu_gate: retain support" in html
    assert "retain support S (0 … 3" in html  # the key names the largest support in view
    assert "&lt;b&gt;wrote&lt;/b&gt;" in html and "<b>wrote" not in html
    assert "retain support S = 3" in html and "retain support: n/a" in html


def test_no_support_anywhere_draws_no_channel():
    html = compare_html([("uniform", _tokens(None))])
    assert "atwu-support" not in html


def test_shading_is_log1p_support_over_the_largest_in_view():
    a, b = _tokens([0.0, 1.0, 0.0]), _tokens([0.0, 3.0, 0.0])
    top = support_top([a, b])
    assert top == math.log1p(3.0)
    row = support_row_html(a, top=top)
    # S = 1 → log 2 / log 4 = 0.5 of the hue; S = 0 → transparent
    assert "rgba(0,158,115,0.500)" in row and "rgba(0,158,115,0.000)" in row


def test_token_csv_carries_the_support_column():
    text = scores_csv(_tokens([0.0, 2.5, math.nan])).decode()
    header = text.splitlines()[0].split(",")
    assert header[-1] == "support" and "2.5" in text
