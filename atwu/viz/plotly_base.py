"""What every plotly builder shares: the palette, the layout, the "no data" figure, escaping.

Builders are pure functions from DataFrames to ``go.Figure`` (no Streamlit import): the pages call
``st.plotly_chart(builder(df))``, and the tests inspect the returned figures directly. Empty input
gives a figure with a "no data" annotation instead of raising; runs and methods are coloured with
the Okabe–Ito palette (:data:`OKABE_ITO`); text that comes from data is HTML-escaped before it
reaches hover labels, because plotly renders a subset of HTML tags in them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

#: Okabe–Ito qualitative palette (black moved last: it is kept for reference lines).
OKABE_ITO: list[str] = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def base_layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title=title,
        colorway=OKABE_ITO,
        template="plotly_white",
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
    )
    return fig


def empty_figure(title: str = "", message: str = "no data") -> go.Figure:
    """A blank figure with ``message`` in the middle (what every builder returns on no input)."""
    fig = go.Figure()
    base_layout(fig, title)
    fig.add_annotation(
        text=esc(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font=dict(size=16, color="#777777"),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def is_empty(df: pd.DataFrame | None, required: Sequence[str]) -> bool:
    """True when there is nothing to draw; raises when the columns are wrong (a caller bug)."""
    if df is None or len(df) == 0:
        return True
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; got {list(df.columns)}")
    return False


def legend_below(fig: go.Figure, entries: int, *, per_row: int = 4) -> go.Figure:
    """Put the legend at the bottom of the figure, under the x axis's title (in rows, left-
    aligned), with the bottom margin its ``entries`` need: above the plot a legend of long run
    names covers the title, and inside it the axis title."""
    rows = max(1, -(-entries // per_row))
    fig.update_layout(
        legend=dict(
            orientation="h", yref="container", y=0.0, yanchor="bottom", xanchor="left", x=0
        ),
        margin=dict(b=80 + 24 * rows),
        height=420 + 24 * rows,
    )
    return fig


FIGURE_FORMATS: tuple[str, ...] = ("svg", "png")
"""What a chart's camera button can download: SVG (vector, for a paper) or PNG."""

COLUMN_SIZE: tuple[int, int] = (640, 440)
"""A chart's size in the downloaded file (px): placed 3.3 in wide (a paper column), its 12 px
text reads at about 4.5 pt, and a PNG is written at 3× (1920 px: ~580 dpi in that column)."""


def download_config(
    name: str, fmt: str = "svg", *, size: tuple[int, int] = COLUMN_SIZE
) -> dict[str, object]:
    """``st.plotly_chart``'s ``config``: the modebar's camera button downloads the chart as
    ``name``.``fmt`` at ``size`` (px; PNG at 3×), the plotly logo left out. plotly renders the
    file in the browser, so no server-side image engine is needed."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; choose one of {FIGURE_FORMATS}")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._") or "chart"
    return {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": fmt,
            "filename": safe[:120],
            "width": size[0],
            "height": size[1],
            "scale": 3 if fmt == "png" else 1,
        },
    }
