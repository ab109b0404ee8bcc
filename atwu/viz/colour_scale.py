"""The sequential colour scale of token weights, shared by the inline token view and the overview
matrix: scale ends, a weight's colour, and a readable text colour on it.

Two themes, one rule: low weights (the bulk of tokens) recede toward the page's background and the
few high weights stand out from it. On a light page that is reversed Cividis (pale yellow to dark
blue); on a dark page Cividis itself from :data:`DARK_START` (dim blue to bright yellow), so the
tokens a method forgets hardest are never dark blue on a dark background. The inline token view
carries both colours and lets the browser pick by the page's ``color-scheme``
(:func:`theme_style`); tests/viz/test_colour_scale.py checks each end's contrast with each
theme's background.
"""

from __future__ import annotations

import functools
import math

import plotly.colors as pc

#: Plotly colourscale name used for token weights (here and in the overview heatmap). Cividis is
#: designed to be readable with colour-vision deficiencies and has monotone lightness; reversed so
#: that low weights (the bulk of tokens) are pale and the few high-weight tokens stand out.
COLOURSCALE: str = "Cividis_r"


#: Colour for tokens whose weight is missing (NaN), a neutral grey outside the Cividis hues.
MISSING_COLOUR: str = "#d9d9d9"

#: The dark theme's scale: Cividis (dim blue → bright yellow), from this point of it on, so that
#: even its low end stands apart from a dark page.
DARK_COLOURSCALE: str = "Cividis"
DARK_START: float = 0.15
DARK_MISSING_COLOUR: str = "#5a5a5a"

#: The page backgrounds the scale is checked against: Streamlit's light theme, and its dark
#: theme's (this version's and the older one's).
LIGHT_BACKGROUND: str = "#ffffff"
DARK_BACKGROUNDS: tuple[str, ...] = ("#171614", "#0e1117")


def hex_colour(rgb: tuple[float, float, float]) -> str:
    r, g, b = (max(0, min(255, round(c))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def parse_colour(colour: str) -> tuple[float, float, float]:
    """``'#rrggbb'`` or ``'rgb(r, g, b)'`` -> floats in 0..255."""
    colour = colour.strip()
    if colour.startswith("#"):
        return pc.hex_to_rgb(colour)
    return pc.unlabel_rgb(colour)


def position_on_scale(value: float, vmin: float, vmax: float) -> float:
    """Where ``value`` falls on [vmin, vmax], clipped to 0..1."""
    if not (vmax > vmin):
        # No spread to show (e.g. a uniform-weight baseline alone on the scale): the middle colour
        # says "neither low nor high" better than either end would.
        return 0.5
    return min(1.0, max(0.0, (value - vmin) / (vmax - vmin)))


def scale_range(lo: float, hi: float) -> tuple[float, float]:
    """The colour-scale ends for weights spanning [lo, hi] (shared with the overview heatmap).

    Weights all inside [0, 1] use 0..1, so probabilities and 0/1 oracles read on their natural
    scale; other ranges use their own min..max; when every weight is equal (``lo == hi``) the
    scale is 0..max(1, value), so the single colour still says how large the value is.
    """
    lo, hi = float(lo), float(hi)
    if math.isnan(lo) or math.isnan(hi):
        return 0.0, 1.0
    if hi <= lo:
        return min(0.0, lo), max(1.0, hi)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return lo, hi


def colour_for(value: float, vmin: float, vmax: float) -> str:
    """Background colour (``'#rrggbb'``) for a weight on the shared scale [vmin, vmax].

    Values outside the range are clipped to its ends; NaN gives :data:`MISSING_COLOUR`; when
    ``vmax <= vmin`` every value gets the middle colour of the scale.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_COLOUR
    t = position_on_scale(float(value), float(vmin), float(vmax))
    return _sample(COLOURSCALE, round(t * STEPS) / STEPS)


#: Positions on a scale are rounded to 1/STEPS (invisible) so each colour is computed once: a
#: page draws thousands of tokens on every change of its controls.
STEPS = 1024


@functools.lru_cache(maxsize=8 * STEPS)
def _sample(scale: str, t: float) -> str:
    return hex_colour(parse_colour(pc.sample_colorscale(scale, [t])[0]))


def dark_colour_for(value: float, vmin: float, vmax: float) -> str:
    """The dark theme's colour for a weight (same clipping and NaN rule as :func:`colour_for`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DARK_MISSING_COLOUR
    t = round(position_on_scale(float(value), float(vmin), float(vmax)) * STEPS) / STEPS
    return _sample(DARK_COLOURSCALE, DARK_START + (1.0 - DARK_START) * t)


def scale_stops(theme: str = "light", n: int = 11) -> list[str]:
    """``n`` colours evenly along the scale of ``theme`` ("light" or "dark"), low to high."""
    pick = dark_colour_for if theme == "dark" else colour_for
    return [pick(i / (n - 1), 0.0, 1.0) for i in range(n)]


def theme_style(value: float, vmin: float, vmax: float) -> str:
    """Inline CSS for a token's background and text: the light theme's colours as plain
    ``background-color``/``color`` (what a page without dark-theme support shows), both themes'
    as custom properties that :data:`atwu.viz.tokens.THEME_CSS` picks from with
    ``light-dark()``."""
    bg, dark_bg = colour_for(value, vmin, vmax), dark_colour_for(value, vmin, vmax)
    fg, dark_fg = text_colour_for(bg), text_colour_for(dark_bg)
    return (
        f"--atwu-bg:{bg};--atwu-fg:{fg};--atwu-dark-bg:{dark_bg};--atwu-dark-fg:{dark_fg};"
        f"background-color:{bg};color:{fg};"
    )


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance (0 = black, 1 = white) of ``'#rrggbb'`` or ``'rgb(...)'``."""

    def channel(c: float) -> float:
        c = c / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in parse_colour(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@functools.lru_cache(maxsize=4096)
def text_colour_for(bg: str) -> str:
    """Black or white text, whichever has the higher WCAG contrast ratio against ``bg``."""
    lum = relative_luminance(bg)
    # Contrast with black is (L+0.05)/0.05, with white 1.05/(L+0.05); they are equal at L≈0.179.
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"
