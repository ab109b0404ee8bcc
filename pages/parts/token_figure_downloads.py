"""Download buttons for the token view as a figure (PNG and SVG, light or dark theme, a paper
column wide): :func:`atwu.viz.token_figure.token_figure`, built only when a button is clicked."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atwu.viz.token_figure import THEMES, Scale, token_figure


def figure_downloads(
    rows: list[tuple[str, pd.DataFrame]],
    *,
    name: str,
    key: str,
    title: str,
    vmin: float = 0.0,
    vmax: float = 1.0,
    diverging_limit: float | None = None,
    legend_names: tuple[str, str] = ("B higher", "A higher"),
) -> None:
    """A theme choice and two buttons: the rows as a PNG and as an SVG figure."""
    scale = Scale(vmin, vmax, diverging_limit)
    c = st.columns([2, 1, 1])
    theme = c[0].radio(
        "Figure theme",
        list(THEMES),
        key=f"{key}_theme",
        horizontal=True,
        help="The figure's background: light for a paper, dark for a dark slide.",
    )
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:120]
    for col, fmt, mime in ((c[1], "png", "image/png"), (c[2], "svg", "image/svg+xml")):
        col.download_button(
            f"Figure ({fmt.upper()})",
            lambda fmt=fmt: token_figure(
                rows,
                scale=scale,
                theme=str(theme),
                fmt=fmt,
                title=title,
                legend_names=legend_names,
            ),
            file_name=f"{safe}-{theme}.{fmt}",
            mime=mime,
            key=f"{key}_{fmt}",
            help="this view as a figure 3.3 in wide (a paper column), with its legend and "
            "span marks",
        )
