"""Tests for the token-level HTML views (atwu.viz.tokens)."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser

import pandas as pd
import pytest

from atwu.viz.colour_scale import colour_for, relative_luminance, text_colour_for
from atwu.viz.tokens import compare_html, example_page_html, legend_html, token_row_html


class _TokenSpans(HTMLParser):
    """Collects each token span's (unescaped) attributes and text, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[dict[str, str]] = []
        self._depth = 0  # >0 while inside a token span

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = {k: v or "" for k, v in attrs}
        if tag == "span" and "atwu-token" in d.get("class", ""):
            self.spans.append({**d, "text": ""})
            self._depth = 1
        elif tag == "span" and self._depth:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.spans[-1]["text"] += data


def spans_of(markup: str) -> list[dict[str, str]]:
    parser = _TokenSpans()
    parser.feed(markup)
    return parser.spans


def style_of(span: dict[str, str]) -> dict[str, str]:
    out = {}
    for part in span["style"].split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def make_tokens(weights: list[float], **cols: list) -> pd.DataFrame:
    n = len(weights)
    base = {
        "step": [10] * n,
        "example_id": ["ex-1"] * n,
        "position": list(range(n)),
        "token": [f" t{i}" for i in range(n)],
        "char_start": [3 * i for i in range(n)],
        "char_end": [3 * i + 3 for i in range(n)],
        "weight": weights,
        "label": [0] * n,
        "span_kind": [None] * n,
    }
    base.update(cols)
    return pd.DataFrame(base)


# --- colours -------------------------------------------------------------------------------


def test_colour_luminance_decreases_monotonically_with_weight() -> None:
    values = [i / 20 for i in range(21)]
    lums = [relative_luminance(colour_for(v, 0.0, 1.0)) for v in values]
    assert all(a > b for a, b in itertools.pairwise(lums)), lums
    # Low weights pale, high weights dark.
    assert lums[0] > 0.6 and lums[-1] < 0.05


def test_colour_clips_and_handles_degenerate_range_and_nan() -> None:
    assert colour_for(-5, 0, 1) == colour_for(0, 0, 1)
    assert colour_for(7, 0, 1) == colour_for(1, 0, 1)
    assert colour_for(1.0, 1.0, 1.0) == colour_for(0.5, 0, 1)
    assert colour_for(float("nan"), 0, 1).startswith("#")


def test_text_colour_readable_on_both_ends() -> None:
    assert text_colour_for(colour_for(0.0, 0, 1)) == "#000000"
    assert text_colour_for(colour_for(1.0, 0, 1)) == "#ffffff"
    assert text_colour_for("rgb(255, 255, 255)") == "#000000"


# --- escaping ------------------------------------------------------------------------------


def test_hostile_token_is_escaped() -> None:
    evil = "<img src=x onerror=alert(1)>"
    df = make_tokens([0.2, 0.9], token=[" ok", evil])
    out = token_row_html(df, label='<b>"method"</b>')
    assert evil not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "<b>" not in out and "&lt;b&gt;&quot;method&quot;&lt;/b&gt;" in out
    # The parsed text round-trips to the original token.
    assert spans_of(out)[1]["text"] == evil


def test_quotes_and_ampersands_cannot_break_attributes() -> None:
    df = make_tokens([0.5], token=['" onmouseover="x()" & \''])
    out = token_row_html(df)
    assert 'onmouseover="x()"' not in out
    span = spans_of(out)[0]
    assert "onmouseover" not in span  # not an attribute of its own
    assert span["text"] == '" onmouseover="x()" & \''


def test_page_escapes_question_and_everything_else() -> None:
    df = make_tokens([0.1, 0.8], token=[" Lima", "<|end|>"], char_start=[0, -1])
    page = example_page_html(
        "What is <script>alert(1)</script>?",
        "Lima & <i>Peru</i>",
        [("<svg onload=x>", df)],
        generated_before="<b>before</b>",
        generated_after="after </div>",
        title="<title>",
        example_id="<id>",
    )
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    for raw in ("<script>", "<i>Peru</i>", "<svg onload=x>", "<b>before</b>", "<id>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Lima &amp; &lt;i&gt;Peru&lt;/i&gt;" in page
    assert "&lt;svg onload=x&gt;" in page
    assert "Generation before unlearning" in page and "Generation after unlearning" in page


def test_page_omits_missing_generations() -> None:
    page = example_page_html("q", "a", [("m", make_tokens([0.3]))])
    assert "Generation before" not in page and "Generation after" not in page


# --- tooltip, spans, threshold ------------------------------------------------------------


def test_tooltip_has_token_position_weight_label_and_kind() -> None:
    df = make_tokens([0.25, 0.75], label=[0, 1], span_kind=[None, "specific"])
    spans = spans_of(token_row_html(df))
    title = spans[1]["title"]
    assert "' t1'" in title
    assert "position: 1" in title
    assert "weight: 0.750" in title
    assert "label: 1 (fact)" in title
    assert "span: specific" in title
    assert "label: 0 (other)" in spans[0]["title"]


def test_specific_and_shared_spans_styled_differently() -> None:
    df = make_tokens(
        [0.5, 0.5, 0.5, 0.5, 0.5],
        label=[1, 1, 1, -1, 0],
        span_kind=["specific", "shared", "fact", "context", None],
    )
    styles = [style_of(s).get("border-bottom", "") for s in spans_of(token_row_html(df))]
    specific, shared, fact, context, none = styles
    assert "solid" in specific and "dashed" in shared
    assert specific != shared
    assert shared == fact
    assert "dotted" in context
    assert "transparent" in none
    # With the channel switched off no span gets a visible border.
    off = [style_of(s)["border-bottom"] for s in spans_of(token_row_html(df, show_spans=False))]
    assert all("transparent" in b for b in off)


def test_threshold_marker_only_at_or_above_threshold() -> None:
    df = make_tokens([0.1, 0.5, 0.49, 0.9])
    spans = spans_of(token_row_html(df, threshold=0.5))
    marked = [s["data-above-threshold"] == "1" for s in spans]
    assert marked == [False, True, False, True]
    assert ["box-shadow" in style_of(s) for s in spans] == marked
    no_threshold = spans_of(token_row_html(df))
    assert not any("box-shadow" in style_of(s) for s in no_threshold)


def test_rows_sorted_by_position_and_whitespace_preserved() -> None:
    df = make_tokens([0.1, 0.2, 0.3], token=[" a", "\n b", "  c"]).iloc[[2, 0, 1]]
    out = token_row_html(df)
    spans = spans_of(out)
    assert [s["data-position"] for s in spans] == ["0", "1", "2"]
    assert [s["text"] for s in spans] == [" a", "\n b", "  c"]
    assert "white-space:pre-wrap" in spans[0]["style"]


def test_special_token_shown_muted() -> None:
    df = make_tokens([0.1, 0.9], token=[" Lima", "<|end|>"], char_start=[0, -1])
    spans = spans_of(token_row_html(df))
    assert spans[1]["text"] == "<|end|>"
    assert "atwu-special" in spans[1]["class"]
    assert "font-size" in style_of(spans[1]) and "font-size" not in style_of(spans[0])


def test_mixed_examples_rejected() -> None:
    df = make_tokens([0.1, 0.2], example_id=["a", "b"])
    with pytest.raises(ValueError, match="one example"):
        token_row_html(df)


# --- legend and compare --------------------------------------------------------------------


def test_legend_has_ticks_gradient_and_span_key() -> None:
    out = legend_html(0.0, 2.5, title="<w>", threshold=1.0)
    assert "linear-gradient" in out
    assert "0.000" in out and "2.500" in out
    assert "&lt;w&gt;" in out and "<w>" not in out
    assert "specific" in out and "shared / fact" in out and "context" in out
    assert "≥ 1.000" in out


def test_compare_uses_one_shared_scale() -> None:
    a = make_tokens([0.0, 0.4, 1.0])
    b = make_tokens([0.4, 2.0, 0.0])
    out = compare_html([("ATWU", a), ("<WGA>", b)])
    spans = spans_of(out)
    assert len(spans) == 6
    bg = [style_of(s)["background-color"] for s in spans]
    # Weight 0.4 at a[1] and b[0], weight 0.0 at a[0] and b[2]: same colours across rows.
    assert bg[1] == bg[3]
    assert bg[0] == bg[5]
    # The scale spans 0..2 (max over both rows), so 1.0 is not the darkest colour.
    assert bg[2] == colour_for(1.0, 0.0, 2.0) != colour_for(2.0, 0.0, 2.0) == bg[4]
    assert "&lt;WGA&gt;" in out and "<WGA>" not in out
    assert "ATWU" in out


def test_compare_explicit_range_and_normalise() -> None:
    a = make_tokens([0.5, 1.0])
    b = make_tokens([1.0, 2.0])
    same = spans_of(compare_html([("a", a), ("b", b)], normalise=True))
    bg = [style_of(s)["background-color"] for s in same]
    # After dividing by each row's max the two rows have identical shapes, hence colours.
    assert bg[:2] == bg[2:]
    fixed = spans_of(compare_html([("a", a)], vmin=0.0, vmax=10.0))
    assert style_of(fixed[1])["background-color"] == colour_for(1.0, 0.0, 10.0)


def test_compare_empty_rows() -> None:
    assert "no data" in compare_html([])


def test_fragment_has_no_raw_newlines() -> None:
    # Blank lines inside an answer must not split the HTML block when rendered via Markdown.
    df = make_tokens([0.2, 0.6], token=[" a\n\n", "b\r\n"])
    out = compare_html([("m", df)])
    assert "\n" not in out and "\r" not in out
    assert [s["text"] for s in spans_of(out)] == [" a\n\n", "b\r\n"]
    assert "\n" in spans_of(out)[0]["title"]  # tooltips still multi-line


def test_uniform_weights_legend_and_inset_marker() -> None:
    df = make_tokens([0.953, 0.953])
    out = compare_html([("a", df)], threshold=0.5)
    assert "all weights = 0.953" in out
    spans = spans_of(out)
    assert all("inset" in style_of(s)["box-shadow"] for s in spans)


def test_retain_conflict_view_names_labels_and_says_what_counts() -> None:
    # rows arrive relabelled: 1 specific, 0 shared, -1 everything else
    df = make_tokens([0.9, 0.4, 0.1], label=[1, 0, -1], span_kind=["specific", "shared", None])
    out = compare_html([("atwu", df)], threshold=0.5, ground_truth="conflict")
    titles = [s["title"] for s in spans_of(out)]
    assert "label: 1 (specific fact)" in titles[0]
    assert "label: 0 (shared fact)" in titles[1]
    assert "label: -1 (left out)" in titles[2]
    assert "specific facts 1, shared facts 0, template and context left out" in out
    facts = compare_html([("atwu", df)], threshold=0.5, ground_truth="facts")
    assert "fact tokens 1, template 0, context left out" in facts
    assert "label: 0 (other)" in [s["title"] for s in spans_of(facts)][1]
    # no ground truth named: the legend says nothing about counting (the default before)
    assert "counted:" not in compare_html([("atwu", df)], threshold=0.5)
