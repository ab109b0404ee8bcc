"""The token colour scale reads on light and dark pages: the high end (tokens forgotten hardest)
stands out from the page's background in both themes, the low end stays distinguishable from it,
and the ends stay far apart."""

from __future__ import annotations

import itertools
import re

import pytest

from atwu.viz.colour_scale import (
    DARK_BACKGROUNDS,
    LIGHT_BACKGROUND,
    colour_for,
    contrast_ratio,
    dark_colour_for,
    relative_luminance,
    scale_stops,
    text_colour_for,
    theme_style,
)
from atwu.viz.tokens import THEME_CSS, compare_html

THEMES = [("light", LIGHT_BACKGROUND)] + [("dark", bg) for bg in DARK_BACKGROUNDS]


@pytest.mark.parametrize(("theme", "background"), THEMES)
def test_high_end_stands_out_from_the_page(theme: str, background: str) -> None:
    high = scale_stops(theme)[-1]
    assert contrast_ratio(high, background) >= 7.0, (theme, high, background)


@pytest.mark.parametrize(("theme", "background"), THEMES)
def test_low_end_is_distinguishable_from_the_page(theme: str, background: str) -> None:
    low = scale_stops(theme)[0]
    assert contrast_ratio(low, background) >= 1.2, (theme, low, background)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_ends_far_apart_and_steps_monotone(theme: str) -> None:
    stops = scale_stops(theme, n=21)
    assert contrast_ratio(stops[0], stops[-1]) >= 7.0
    lums = [relative_luminance(c) for c in stops]
    # light: weight darkens the colour; dark: weight brightens it
    pairs = itertools.pairwise(lums)
    assert all((a > b) if theme == "light" else (a < b) for a, b in pairs), lums


def test_dark_scale_clips_and_keeps_nan_grey() -> None:
    assert dark_colour_for(-3, 0, 1) == dark_colour_for(0, 0, 1)
    assert dark_colour_for(9, 0, 1) == dark_colour_for(1, 0, 1)
    nan = dark_colour_for(float("nan"), 0, 1)
    assert nan.startswith("#") and nan not in scale_stops("dark", n=101)


def test_theme_style_carries_both_themes_with_readable_text() -> None:
    style = dict(
        part.split(":", 1) for part in theme_style(1.0, 0.0, 1.0).strip(";").split(";") if part
    )
    assert style["background-color"] == style["--atwu-bg"] == colour_for(1.0, 0, 1)
    assert style["--atwu-dark-bg"] == dark_colour_for(1.0, 0, 1)
    for bg, fg in (("--atwu-bg", "--atwu-fg"), ("--atwu-dark-bg", "--atwu-dark-fg")):
        assert style[fg] == text_colour_for(style[bg])
        assert contrast_ratio(style[fg], style[bg]) >= 4.5


def test_the_token_view_ships_its_dark_theme_rule() -> None:
    out = compare_html([])
    assert f"<style>{THEME_CSS}</style>" in out
    assert "light-dark(var(--atwu-bg), var(--atwu-dark-bg))" in THEME_CSS
    # the legend bar's dark gradient uses the dark scale's colours, end to end
    dark = scale_stops("dark")
    assert re.search(re.escape(dark[0]) + r"\) 0%", THEME_CSS)
    assert re.search(re.escape(dark[-1]) + r"\) 100%", THEME_CSS)


def test_method_colours_show_on_light_and_dark_pages() -> None:
    from atwu.viz.frontier_figures import PALETTE, VARIANT_COLOURS

    for colour in [*VARIANT_COLOURS.values(), *PALETTE]:
        for _, background in THEMES:
            assert contrast_ratio(colour, background) >= 2.0, (colour, background)
