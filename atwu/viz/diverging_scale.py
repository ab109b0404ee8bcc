"""The diverging colour scale of a weight difference Δw = w_A − w_B, centred on 0: tokens both
runs weight alike fade into a neutral middle, tokens A weights more turn orange, tokens B weights
more purple (the ends of ColorBrewer's PuOr, told apart under the common colour-vision
deficiencies). Each theme has its own middle (near the page's background) and ends (dark on a
light page, bright on a dark one), so the largest differences always stand out from the page."""

from __future__ import annotations

from atwu.viz.colour_scale import hex_colour, parse_colour, text_colour_for

#: theme → (B-higher end, middle, A-higher end)
DIVERGING: dict[str, tuple[str, str, str]] = {
    "light": ("#5e3c99", "#f7f7f7", "#e66101"),
    "dark": ("#b2abd2", "#2e2e33", "#fdb863"),
}
MISSING: dict[str, str] = {"light": "#d9d9d9", "dark": "#5a5a5a"}


def diverging_colour(value: float, limit: float, theme: str = "light") -> str:
    """``'#rrggbb'`` of ``value`` on [−limit, +limit] (clipped; NaN: the theme's grey)."""
    if value is None or value != value:  # NaN
        return MISSING[theme]
    low, mid, high = DIVERGING[theme]
    t = max(-1.0, min(1.0, float(value) / limit)) if limit > 0 else 0.0
    end = parse_colour(high if t >= 0 else low)
    m = parse_colour(mid)
    a = abs(t)
    return hex_colour(tuple(mc + a * (ec - mc) for mc, ec in zip(m, end, strict=True)))  # type: ignore[arg-type]


def diverging_stops(theme: str = "light", n: int = 11) -> list[str]:
    """``n`` colours from −1 to +1 on the scale of ``theme``."""
    return [diverging_colour(-1.0 + 2.0 * i / (n - 1), 1.0, theme) for i in range(n)]


def diverging_style(value: float, limit: float) -> str:
    """Inline CSS for a token's background and text in both themes, in the custom properties
    that :data:`atwu.viz.tokens.THEME_CSS` picks from (the light ones also as plain CSS)."""
    bg, dark_bg = diverging_colour(value, limit, "light"), diverging_colour(value, limit, "dark")
    fg, dark_fg = text_colour_for(bg), text_colour_for(dark_bg)
    return (
        f"--atwu-bg:{bg};--atwu-fg:{fg};--atwu-dark-bg:{dark_bg};--atwu-dark-fg:{dark_fg};"
        f"background-color:{bg};color:{fg};"
    )
