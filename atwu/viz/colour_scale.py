"""The sequential colour scale of token weights, shared by the inline token view and the overview
matrix: scale ends, a weight's colour, and a readable text colour on it."""

from __future__ import annotations

import math

import plotly.colors as pc

#: Plotly colourscale name used for token weights (here and in the overview heatmap). Cividis is
#: designed to be readable with colour-vision deficiencies and has monotone lightness; reversed so
#: that low weights (the bulk of tokens) are pale and the few high-weight tokens stand out.
COLOURSCALE: str = "Cividis_r"


#: Colour for tokens whose weight is missing (NaN), a neutral grey outside the Cividis hues.
MISSING_COLOUR: str = "#d9d9d9"


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
    return hex_colour(parse_colour(pc.sample_colorscale(COLOURSCALE, [t])[0]))


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance (0 = black, 1 = white) of ``'#rrggbb'`` or ``'rgb(...)'``."""

    def channel(c: float) -> float:
        c = c / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in parse_colour(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour_for(bg: str) -> str:
    """Black or white text, whichever has the higher WCAG contrast ratio against ``bg``."""
    lum = relative_luminance(bg)
    # Contrast with black is (L+0.05)/0.05, with white 1.05/(L+0.05); they are equal at L≈0.179.
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"
