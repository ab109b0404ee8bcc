"""The token view as a figure for a paper or a slide: one example's answer tokens, one block per
run, each token's box coloured by its weight (or by a difference of weights on the diverging
scale), the ground-truth spans underlined as on the page (solid: specific, dashed: shared / fact,
dotted: context), a title and a legend (colour bar and span key), in a light or a dark theme, as
PNG or SVG, 3.3 in wide (a paper column) by default.

Drawn with matplotlib (no browser, no image engine to install). Text is laid out in a monospace
font, so a line's width is known before drawing: long answers wrap at token boundaries (a token
longer than a line is cut into pieces), and every text is drawn literally (no mathtext: a ``$``
in a token stays a ``$``; control characters are shown as ``↵``, ``→`` or ``·``; a character
the DejaVu fonts lack, e.g. CJK, is drawn as a box in the PNG and kept as text in the SVG)."""

from __future__ import annotations

import io
import math
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from atwu.viz.colour_scale import colour_for, dark_colour_for, text_colour_for
from atwu.viz.diverging_scale import diverging_colour

FORMATS = ("png", "svg")
THEMES: dict[str, tuple[str, str]] = {
    "light": ("#ffffff", "#111111"),
    "dark": ("#0e1117", "#f0f0f0"),
}
"""theme → (background, text colour)."""

#: span kind → (colour, matplotlib line style, legend text), as the page draws them
LineStyle = Literal["-", "--", ":"]

SPAN_MARKS: dict[str, tuple[str, LineStyle, str]] = {
    "specific": ("#D55E00", "-", "specific fact"),
    "shared": ("#0072B2", "--", "shared / fact"),
    "fact": ("#0072B2", "--", "shared / fact"),
    "context": ("#8c8c8c", ":", "context (left out)"),
}
_DARK_SPAN = {"#8c8c8c": "#b0b0b0", "#0072B2": "#56B4E9"}  # lighter on a dark page

FONT = 7.0  # pt, the tokens' size
CHAR = 0.602 * FONT  # advance of one DejaVu Sans Mono character (pt)
LINE = FONT * 2.0  # one line of tokens (pt)
PAD = 1.2  # horizontal padding inside a token's box (pt)
MARGIN = 6.0


@dataclass(frozen=True)
class Scale:
    """How weights become colours: sequential on [vmin, vmax], or diverging on ±limit."""

    vmin: float = 0.0
    vmax: float = 1.0
    diverging_limit: float | None = None

    def colour(self, value: float, theme: str) -> str:
        if self.diverging_limit is not None:
            return diverging_colour(value, self.diverging_limit, theme)
        pick = dark_colour_for if theme == "dark" else colour_for
        return pick(value, self.vmin, self.vmax)


def _printable(text: str) -> str:
    table = {"\n": "↵", "\r": "↵", "\t": "→"}
    return "".join(table.get(c, c if c.isprintable() else "·") for c in text)


def _kind(row: pd.Series) -> str | None:
    kind = row.get("span_kind")
    if isinstance(kind, str) and kind in SPAN_MARKS:
        return kind
    label = row.get("label")
    return "fact" if label is not None and not pd.isna(label) and int(label) == 1 else None


def _layout(tokens: pd.DataFrame, width: float) -> list[tuple[int, float, str, float, str | None]]:
    """Per piece of token drawn: (line, x, text, weight, span kind); lines wrap at ``width``."""
    per_line = max(1, int((width - 2 * PAD) // CHAR))
    out: list[tuple[int, float, str, float, str | None]] = []
    line, x = 0, 0.0
    for _, row in tokens.sort_values("position", kind="stable").iterrows():
        raw = "" if row["token"] is None or pd.isna(row["token"]) else str(row["token"])
        text = _printable(raw) or "∅"
        weight = float(row["weight"]) if pd.notna(row["weight"]) else math.nan
        kind = _kind(row)
        pieces = [text[i : i + per_line] for i in range(0, len(text), per_line)]
        for piece in pieces:
            w = len(piece) * CHAR + PAD
            if x > 0 and x + w > width:
                line, x = line + 1, 0.0
                piece = piece.lstrip() or piece  # a line does not start with a space
                w = len(piece) * CHAR + PAD
            out.append((line, x, piece, weight, kind))
            x += w + 0.6
    return out


def _legend_height(diverging: bool) -> float:
    return 47.0 if diverging else 34.0


def token_figure(
    rows: Sequence[tuple[str, pd.DataFrame]],
    *,
    scale: Scale = Scale(),
    theme: str = "light",
    fmt: str = "png",
    title: str | None = None,
    width_in: float = 3.3,
    legend_names: tuple[str, str] = ("B higher", "A higher"),
    dpi: int = 300,
) -> bytes:
    """The figure's file (PNG or SVG bytes).

    Args:
        rows: ``(label, token rows of one example)``: ``position, token, weight`` and, for the
            span marks, ``label`` / ``span_kind`` (as in ``weights.parquet``).
        scale: sequential (``vmin``, ``vmax``) or diverging (``diverging_limit``: the rows'
            ``weight`` holds a difference, coloured on ±limit).
        theme: ``"light"`` or ``"dark"``.
        fmt: ``"png"`` (at ``dpi``) or ``"svg"`` (text kept as text).
        title: drawn above the rows when given.
        width_in: the figure's width in inches; its height follows from the text.
        legend_names: the diverging bar's end captions (low end, high end).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; choose one of {FORMATS}")
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of {list(THEMES)}")
    bg, fg = THEMES[theme]
    width = width_in * 72.0
    inner = width - 2 * MARGIN
    label_chars = max(10, int(inner // (0.55 * 6.5)))

    blocks = []
    for label, frame in rows:
        lines = textwrap.wrap(_printable(str(label)), label_chars) or [""]
        blocks.append((lines, _layout(frame, inner)))
    title_lines = textwrap.wrap(_printable(title), int(inner // (0.55 * 7.5))) if title else []
    diverging = scale.diverging_limit is not None
    height = MARGIN + 10.0 * len(title_lines) + _legend_height(diverging)
    for lines, pieces in blocks:
        n = (max(p[0] for p in pieces) + 1) if pieces else 1
        height += 8.5 * len(lines) + n * LINE + 4.0
    height += MARGIN

    fig = Figure(figsize=(width_in, height / 72.0), facecolor=bg)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    ax.set_facecolor(bg)

    def text(x: float, y: float, s: str, **kw) -> None:
        ax.text(x, y, s, color=kw.pop("color", fg), va="baseline", parse_math=False, **kw)

    y = MARGIN
    for line in title_lines:
        y += 9.0
        text(MARGIN, y, line, fontsize=7.5, fontweight="bold", family="DejaVu Sans")
    y += 4.0
    y = _draw_legend(ax, text, y, scale, theme, fg, legend_names)
    for lines, pieces in blocks:
        for line in lines:
            y += 8.5
            text(MARGIN, y, line, fontsize=6.5, fontweight="bold", family="DejaVu Sans")
        top = y + 2.0
        for line_no, x, piece, weight, kind in pieces:
            box_top = top + line_no * LINE
            colour = scale.colour(weight, theme)
            w = len(piece) * CHAR + PAD
            ax.add_patch(
                Rectangle((MARGIN + x, box_top), w, FONT * 1.45, facecolor=colour, linewidth=0)
            )
            text(
                MARGIN + x + PAD / 2,
                box_top + FONT * 1.08,
                piece,
                fontsize=FONT,
                family="DejaVu Sans Mono",
                color=text_colour_for(colour),
            )
            if kind is not None:
                c, style, _ = SPAN_MARKS[kind]
                c = _DARK_SPAN.get(c, c) if theme == "dark" else c
                under = box_top + FONT * 1.45 + 1.1
                ax.add_line(
                    Line2D(
                        [MARGIN + x, MARGIN + x + w],
                        [under, under],
                        color=c,
                        linestyle=style,
                        linewidth=1.1,
                    )
                )
        n = (max(p[0] for p in pieces) + 1) if pieces else 1
        y = top + n * LINE + 2.0

    buf = io.BytesIO()
    meta = {"png": {"Software": "atwu"}, "svg": {"Date": None}}[fmt]
    # SVG text as <text> elements: searchable, and editable in a paper's figure
    with matplotlib.rc_context({"svg.fonttype": "none"}), warnings.catch_warnings():
        # a character the font lacks (CJK, emoji) is drawn as a box: say nothing per glyph
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format=fmt, dpi=dpi, facecolor=bg, metadata=meta)
    return buf.getvalue()


def _draw_legend(ax, text, y: float, scale: Scale, theme: str, fg: str, names) -> float:
    """The colour bar (and what its ends mean) and the span key; returns the y below them."""
    bar_w, bar_h, n = 110.0, 6.0, 48
    x0 = MARGIN
    title = "Δ weight (A − B)" if scale.diverging_limit is not None else "token weight"
    y += 7.0
    text(x0, y, title, fontsize=6, family="DejaVu Sans")
    top = y + 2.0
    for i in range(n):
        if scale.diverging_limit is not None:
            lim = scale.diverging_limit
            value = -lim + 2 * lim * (i + 0.5) / n
        else:
            value = scale.vmin + (scale.vmax - scale.vmin) * (i + 0.5) / n
        ax.add_patch(
            Rectangle(
                (x0 + bar_w * i / n, top),
                bar_w / n + 0.05,
                bar_h,
                facecolor=scale.colour(value, theme),
                linewidth=0,
            )
        )
    ax.add_patch(Rectangle((x0, top), bar_w, bar_h, fill=False, edgecolor="#888888", linewidth=0.4))
    ticks_y = top + bar_h + 6.5
    if scale.diverging_limit is not None:
        lim = scale.diverging_limit
        text(x0, ticks_y, f"−{lim:.3g}", fontsize=5.5, family="DejaVu Sans")
        text(x0 + bar_w / 2, ticks_y, "0", fontsize=5.5, family="DejaVu Sans", ha="center")
        text(x0 + bar_w, ticks_y, f"+{lim:.3g}", fontsize=5.5, family="DejaVu Sans", ha="right")
        # one line per end: two run names side by side would run into each other
        text(x0, ticks_y + 7, f"◀ {_printable(names[0])}", fontsize=5.5, family="DejaVu Sans")
        text(x0, ticks_y + 14, f"▶ {_printable(names[1])}", fontsize=5.5, family="DejaVu Sans")
    else:
        text(x0, ticks_y, f"{scale.vmin:.3g}", fontsize=5.5, family="DejaVu Sans")
        text(
            x0 + bar_w, ticks_y, f"{scale.vmax:.3g}", fontsize=5.5, family="DejaVu Sans", ha="right"
        )
    # span key, to the right of the bar
    kx, ky = x0 + bar_w + 14.0, y
    for kind in ("specific", "shared", "context"):
        c, style, desc = SPAN_MARKS[kind]
        c = _DARK_SPAN.get(c, c) if theme == "dark" else c
        ax.add_line(
            Line2D([kx, kx + 14], [ky - 2, ky - 2], color=c, linestyle=style, linewidth=1.1)
        )
        text(kx + 17, ky, desc, fontsize=5.5, family="DejaVu Sans")
        ky += 8.0
    return y + _legend_height(scale.diverging_limit is not None) - 7.0
