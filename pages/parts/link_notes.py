"""Messages on a link that does not fit: parameters no page reads (dropped from the URL) and
values a page could not show (gathered by ``url_state.seed`` while the page draws), shown above
the page once, when the link is opened."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from atwu.app.view_link import page_url, unknown_names, unknown_params
from pages.parts.url_state import link_note, take_link_notes


def unknown_link_params() -> None:
    """Note and drop the parameters no page reads (a mistyped or foreign link)."""
    names = list(st.query_params.keys())
    for text in unknown_params(names):
        link_note(text)
    for name in unknown_names(names):
        del st.query_params[name]


def link_notes(slot: DeltaGenerator) -> None:
    for text in take_link_notes():
        slot.warning(text, icon=":material/link_off:")


def page_link_box(page_path: str) -> None:
    """The sidebar's "Link to this view": the address with every parameter the page wrote (drawn
    after the page, so its widgets have all been mirrored into the URL)."""
    query = urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
    with st.sidebar.popover("Link to this view", icon=":material/link:", use_container_width=True):
        st.markdown("Opens this page with the same runs, choices and view:")
        st.code(
            page_url(st.context.url, page_path, page_path, query), language=None, wrap_lines=True
        )
