"""The token view as a PNG/SVG figure, the difference view's diverging scale and HTML, the
weight-by-label figures and the charts' download settings."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from PIL import Image

from atwu.viz.delta_tokens import delta_html
from atwu.viz.diverging_scale import DIVERGING, diverging_colour
from atwu.viz.label_weight_figures import label_weights_matched, label_weights_over_steps
from atwu.viz.plotly_base import download_config
from atwu.viz.token_figure import THEMES, Scale, token_figure

SVG = "{http://www.w3.org/2000/svg}"


def _tokens(texts: list[str], weights: list[float], kinds: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "position": range(len(texts)),
            "token": texts,
            "weight": weights,
            "label": [1 if k in ("specific", "shared") else 0 for k in kinds],
            "span_kind": kinds,
        }
    )


ROW = _tokens(
    ["The", " city", " is", " <b>&$x$", "\n"],
    [0.1, 0.2, 0.3, 0.9, 0.0],
    [None, None, None, "specific", None],
)


def _svg_texts(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_png_decodes_at_a_paper_columns_width_in_both_themes():
    for theme, (background, _) in THEMES.items():
        data = token_figure([("atwu-s0", ROW)], theme=theme, fmt="png", dpi=200)
        image = Image.open(io.BytesIO(data)).convert("RGB")
        assert image.width == pytest.approx(3.3 * 200, abs=2)
        corner = "#{:02x}{:02x}{:02x}".format(*image.getpixel((1, 1)))
        assert corner == background


def test_svg_parses_and_keeps_the_legend_and_every_text_literally():
    data = token_figure([("atwu · <run>", ROW)], fmt="svg", title="a0 & $co$")
    texts = _svg_texts(data)
    for needed in ("token weight", "specific fact", "shared / fact", "context (left out)"):
        assert needed in texts
    # markup and dollar signs stay text (escaped by the SVG writer, no mathtext)
    assert " <b>&$x$" in texts or "<b>&$x$" in texts
    assert "atwu · <run>" in texts and "a0 & $co$" in texts
    assert "↵" in texts  # a newline token is shown, not dropped


def test_long_answers_wrap_and_make_the_figure_taller():
    short = token_figure([("r", ROW)], fmt="png", dpi=100)
    long_row = _tokens([f" word{i}" for i in range(80)], [0.5] * 80, [None] * 80)
    long = token_figure([("r", long_row)], fmt="png", dpi=100)
    h_short = Image.open(io.BytesIO(short)).height
    h_long = Image.open(io.BytesIO(long)).height
    assert Image.open(io.BytesIO(long)).width == Image.open(io.BytesIO(short)).width
    assert h_long > h_short + 50  # 80 tokens of 7 characters need about a dozen lines


def test_difference_figure_names_both_ends_of_the_scale():
    texts = _svg_texts(
        token_figure(
            [("A − B", ROW)],
            scale=Scale(diverging_limit=0.5),
            fmt="svg",
            legend_names=("B higher: static_p-s0", "A higher: atwu-s0"),
        )
    )
    assert "Δ weight (A − B)" in texts
    assert "−0.5" in texts and "+0.5" in texts
    assert any("B higher: static_p-s0" in t for t in texts)


def test_unknown_format_or_theme_is_refused():
    with pytest.raises(ValueError, match="format"):
        token_figure([("r", ROW)], fmt="jpg")
    with pytest.raises(ValueError, match="theme"):
        token_figure([("r", ROW)], theme="sepia")


def test_diverging_scale_is_centred_on_zero_and_clipped():
    low, mid, high = DIVERGING["light"]
    assert diverging_colour(0.0, 2.0) == mid
    assert diverging_colour(2.0, 2.0) == high
    assert diverging_colour(-5.0, 2.0) == low  # clipped
    assert diverging_colour(float("nan"), 2.0) == "#d9d9d9"
    # halfway: the mean of the middle and the end, channel by channel
    half = diverging_colour(1.0, 2.0)
    m, e = int(mid[1:3], 16), int(high[1:3], 16)
    assert int(half[1:3], 16) == round((m + e) / 2)


def test_delta_html_colours_by_sign_draws_spans_and_escapes():
    paired = ROW.assign(
        weight_a=0.5, weight_b=0.5, delta=[0.0, 1.0, -1.0, 1.0, 0.0], group=[None] * 5
    )
    out = delta_html(paired, limit=1.0, name_a="<a>", name_b="b&b")
    low, mid, high = DIVERGING["light"]
    for colour in (low, mid, high):  # Δ −1, 0 and +1 on a limit of 1
        assert f"background-color:{colour}" in out
    assert "border-bottom:3px solid #D55E00" in out  # the specific span, as in the token view
    assert "&lt;b&gt;&amp;$x$" in out and "<b>&" not in out
    assert "A higher: &lt;a&gt;" in out and "B higher: b&amp;b" in out


def _label_table() -> pd.DataFrame:
    rows = []
    for run in ("a", "b"):
        for step in (0, 3):
            for group in ("specific", "template"):
                rows.append(
                    {
                        "run": run,
                        "step": step,
                        "group": group,
                        "mean": 0.5,
                        "q25": 0.4,
                        "median": 0.5,
                        "q75": 0.6,
                        "tokens": 3,
                    }
                )
    return pd.DataFrame(rows)


def test_label_figures_one_panel_per_label_one_legend_entry_per_run():
    fig = label_weights_over_steps(_label_table())
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["specific", "template"]
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == ["a", "b"]
    matched = label_weights_matched(_label_table()[lambda d: d["step"] == 3])
    assert [t.name for t in matched.data if t.mode == "markers"] == ["a (step 3)", "b (step 3)"]
    assert list(matched.layout.xaxis.ticktext) == ["specific", "template"]
    empty = label_weights_matched(_label_table().iloc[0:0])
    assert "no run reaches" in empty.layout.annotations[0].text


def test_download_config_gives_one_format_a_safe_name_and_a_column_size():
    svg = download_config("weight by/label <x>", "svg")["toImageButtonOptions"]
    assert svg == {
        "format": "svg",
        "filename": "weight_by_label__x",
        "width": 640,
        "height": 440,
        "scale": 1,
    }
    assert download_config("c", "png")["toImageButtonOptions"]["scale"] == 3
    with pytest.raises(ValueError, match="format"):
        download_config("c", "jpeg")


def test_characters_the_font_lacks_and_a_token_longer_than_a_line_are_drawn_quietly(recwarn):
    row = _tokens(["北京", "🙂", " " + "x" * 200], [0.1, float("nan"), 0.9], [None] * 3)
    png = token_figure([("r", row)], fmt="png", dpi=100)
    assert Image.open(io.BytesIO(png)).width == 330
    texts = _svg_texts(token_figure([("r", row)], fmt="svg"))
    assert "北京" in texts
    # the 201-character token is cut into line-long pieces that together hold all of it
    pieces = [t.strip() for t in texts if t.strip() and set(t.strip()) == {"x"}]
    assert len(pieces) > 1 and sum(len(p) for p in pieces) == 200
    assert not [w for w in recwarn if "Glyph" in str(w.message)]
