"""Every plotly chart of the app goes through :func:`show_chart`: drawn with a camera button that
downloads it as SVG or PNG (the format picked once, in the sidebar, for every chart) at a paper
column's size (:func:`atwu.viz.plotly_base.download_config`)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from atwu.viz.plotly_base import COLUMN_SIZE, FIGURE_FORMATS, download_config

FORMAT_KEY = "figure_format"


def figure_format_picker() -> None:
    """The sidebar's choice of what every chart's camera button downloads."""
    if st.session_state.get(FORMAT_KEY) not in FIGURE_FORMATS:
        st.session_state[FORMAT_KEY] = st.session_state.get(f"_keep_{FORMAT_KEY}", "svg")
    st.segmented_control(
        "Charts download as",
        list(FIGURE_FORMATS),
        key=FORMAT_KEY,
        format_func=str.upper,
        help="What the camera button above each chart saves: SVG (vector, for a paper) or "
        "PNG (3×, for a slide), sized for a paper column.",
    )
    # kept across pages (a page's widget state is dropped when you leave it)
    picked = st.session_state.get(FORMAT_KEY) or st.session_state.get(f"_keep_{FORMAT_KEY}")
    st.session_state[f"_keep_{FORMAT_KEY}"] = picked or "svg"


def show_chart(
    fig: go.Figure,
    *,
    key: str,
    name: str | None = None,
    where: Any = None,
    size: tuple[int, int] = COLUMN_SIZE,
) -> None:
    """Draw ``fig`` (in ``where``, a column or container; the page by default) with the
    download settings; ``name`` is the downloaded file's name (``key`` when None)."""
    fmt = st.session_state.get(f"_keep_{FORMAT_KEY}") or "svg"
    target = where if where is not None else st
    target.plotly_chart(fig, key=key, config=download_config(name or key, fmt, size=size))
