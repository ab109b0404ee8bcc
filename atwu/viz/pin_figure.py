"""A pinned token view as a PNG (matplotlib): one block per row (a run at a checkpoint), each token
a box coloured by its weight on the rows' shared scale, ground-truth spans as underlines in the
token view's styles (solid specific, dashed shared, dotted context), and a colour bar.

Used by the Findings write-up (:mod:`atwu.findings_export`). Tokens are set in a monospace font, so
their widths are known without a renderer and long answers wrap at ``chars_per_line`` characters'
width.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from atwu.findings import PinnedRow
from atwu.viz.colour_scale import (
    DARK_BACKGROUNDS,
    LIGHT_BACKGROUND,
    colour_for,
    dark_colour_for,
    scale_range,
    scale_stops,
    text_colour_for,
)

# span kind -> (colour, matplotlib line style): the token view's SPAN_STYLES
SPAN_LINES: dict[str, tuple[str, str]] = {
    "specific": ("#D55E00", "solid"),
    "shared": ("#0072B2", "dashed"),
    "fact": ("#0072B2", "dashed"),
    "context": ("#8c8c8c", "dotted"),
}

CHAR_W = 0.6  # a monospace character's width, in units of the font size
FONT_PT = 9.0
GAP = 1.5  # points between two token boxes
PAD = 1.0  # points of box on each side of a token's text


def token_width(token: str) -> float:
    """Points a token's box takes (its text in the monospace font, and its padding)."""
    return max(1, len(token.replace("\n", " "))) * CHAR_W * FONT_PT + 2 * PAD


def _lines(tokens: Sequence[str], line_width: float) -> list[list[int]]:
    """Token indices per visual line: a token starts a new line when its box would pass
    ``line_width`` points (or when it starts with a line break)."""
    lines: list[list[int]] = [[]]
    used = 0.0
    for i, token in enumerate(tokens):
        width = token_width(token) + GAP
        if lines[-1] and (used + width > line_width or token.startswith("\n")):
            lines.append([])
            used = 0.0
        lines[-1].append(i)
        used += width
    return lines


def weight_range(rows: Sequence[PinnedRow]) -> tuple[float, float]:
    values = [w for r in rows for w in r.weights if w is not None and math.isfinite(w)]
    if not values:
        return 0.0, 1.0
    return scale_range(min(values), max(values))


def pin_figure_png(
    rows: Sequence[PinnedRow],
    *,
    title: str = "",
    theme: str = "light",
    vmin: float | None = None,
    vmax: float | None = None,
    chars_per_line: int = 72,
    dpi: int = 200,
) -> bytes:
    """The rows as a PNG image (``theme`` "light" or "dark"); all rows share one colour scale
    (``vmin``..``vmax``, by default the rows' own range as the token view sets it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.patches import Rectangle

    dark = theme == "dark"
    lo, hi = weight_range(rows)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    pick = dark_colour_for if dark else colour_for
    background = DARK_BACKGROUNDS[0] if dark else LIGHT_BACKGROUND
    ink = "#e8e8e8" if dark else "#1a1a1a"

    char_pt = CHAR_W * FONT_PT
    line_pt = FONT_PT * 2.2
    line_width = char_pt * chars_per_line
    layout = [(row, _lines(row.tokens, line_width)) for row in rows]
    height_pt = sum(line_pt * (1.6 + len(lines)) for _, lines in layout) + 60.0
    width_pt = line_width + 4 * char_pt
    fig = plt.figure(figsize=(width_pt / 72, height_pt / 72), dpi=dpi, facecolor=background)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width_pt)
    ax.set_ylim(height_pt, 0)
    ax.axis("off")
    font: dict[str, Any] = {"family": "monospace", "size": FONT_PT}

    y = 8.0
    if title:
        ax.text(char_pt, y, title, color=ink, va="top", fontsize=FONT_PT + 1, weight="bold")
        y += line_pt
    for row, lines in layout:
        ax.text(char_pt, y + 2, row.label, color=ink, va="top", fontsize=FONT_PT - 0.5)
        y += line_pt * 0.9
        for line in lines:
            x = char_pt
            for i in line:
                token = row.tokens[i].replace("\n", " ")
                w = token_width(token)
                weight = row.weights[i]
                bg = pick(float("nan") if weight is None else weight, lo, hi)
                # boxes a little apart, so equal neighbours still read as two tokens
                ax.add_patch(Rectangle((x, y), w, line_pt * 0.8, color=bg, lw=0))
                ax.text(
                    x + PAD,
                    y + line_pt * 0.4,
                    token,
                    color=text_colour_for(bg),
                    va="center",
                    **font,
                )
                kind = row.spans[i]
                if kind in SPAN_LINES:
                    colour, style = SPAN_LINES[kind]
                    ax.plot([x, x + w], [y + line_pt * 0.9] * 2, color=colour, ls=style, lw=1.6)
                x += w + GAP
            y += line_pt
        y += line_pt * 0.5

    # colour bar and span key along the bottom
    bar = fig.add_axes((0.05, 18 / height_pt, 0.35, 10 / height_pt))
    cmap = LinearSegmentedColormap.from_list("atwu", scale_stops("dark" if dark else "light", 33))
    bar.imshow([[i / 255 for i in range(256)]], aspect="auto", cmap=cmap, extent=(lo, hi, 0, 1))
    bar.set_yticks([])
    bar.tick_params(colors=ink, labelsize=FONT_PT - 2, length=2)
    bar.set_facecolor(background)
    for spine in bar.spines.values():
        spine.set_color(ink)
    bar.set_title("token weight", color=ink, fontsize=FONT_PT - 1, loc="left", pad=2)
    x0 = width_pt * 0.45
    keys = (("specific", "specific fact"), ("shared", "shared fact"), ("context", "context"))
    for kind, name in keys:
        colour, style = SPAN_LINES[kind]
        yk = height_pt - 22
        ax.plot([x0, x0 + 16], [yk, yk], color=colour, ls=style, lw=1.6)
        ax.text(x0 + 19, yk, name, color=ink, va="center", fontsize=FONT_PT - 1.5)
        x0 += 19 + len(name) * (FONT_PT - 1.5) * 0.55 + 10

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor=background, dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()
