"""Findings: the views pinned on the Token scores page, each with its note (edit, delete, reopen),
and the write-up of them all (Markdown with one figure per pin, in a zip)."""

from __future__ import annotations

from urllib.parse import parse_qs

import streamlit as st

from atwu.app.findings_view import pin_rows, pin_title, write_up
from atwu.app.view_link import page_url
from atwu.errors import InputError
from atwu.findings import Pin, delete_pin, findings_dir, load_pins, update_note
from atwu.viz.tokens import compare_html
from pages import common

st.title("Findings")
directory = findings_dir()
st.caption(
    f"Views pinned on the Token scores page with a note, kept in `{directory}` (one file per "
    "pin; they survive restarts). Export them all as a write-up: Markdown with each pinned "
    "token view as a PNG."
)

pins, problems = load_pins(directory)
for problem in problems:
    st.warning(problem)
if not pins:
    st.info(
        "No pinned views yet. On the Token scores page, open an example and use "
        "**Pin this view** beside it."
    )
    st.page_link(
        common.PAGES["tokens"], label="Go to Token scores", icon=":material/format_color_text:"
    )
    st.stop()

base = page_url(st.context.url, "findings", "", "").rstrip("/")
c1, c2 = st.columns([1, 3])
theme = c1.radio("Figures", ["light", "dark"], horizontal=True, key="findings_theme")
c2.download_button(
    f"Write-up of the {len(pins)} pin(s) (Markdown + figures, zip)",
    lambda: write_up(pins, base_url=base, theme=str(theme)),
    file_name="atwu-findings.zip",
    mime="application/zip",
    key="dl_findings",
    icon=":material/download:",
)


def pin_card(pin: Pin) -> None:
    with st.container(border=True):
        st.markdown(f"**{pin_title(pin)}**")
        st.caption(
            f"pinned {pin.created_at}" + (f" · edited {pin.updated_at}" if pin.updated_at else "")
        )
        if pin.question:
            st.text(f"Q: {pin.question}")
        if pin.rows:
            st.html(
                compare_html(
                    pin_rows(pin),
                    vmin=pin.view.get("vmin"),
                    vmax=pin.view.get("vmax"),
                    threshold=pin.view.get("threshold"),
                )
            )
        note = st.text_area("Note", value=pin.note, key=f"note_{pin.id}")
        b1, b2, b3 = st.columns([1, 1, 2])
        if b1.button("Save note", key=f"save_{pin.id}", disabled=note.strip() == pin.note):
            try:
                update_note(directory, pin.id, note)
            except (InputError, OSError) as exc:
                st.error(f"The note was not saved: {exc}")
            else:
                st.rerun()
        with b2.popover("Delete", icon=":material/delete:"):
            st.caption("Removes this pin and its note (the runs are not touched).")
            if st.button("Delete this pin", key=f"delete_{pin.id}", type="primary"):
                delete_pin(directory, pin.id)
                st.rerun()
        b3.page_link(
            common.PAGES["tokens"],
            label="Reopen this view",
            icon=":material/open_in_new:",
            query_params={k: v if len(v) > 1 else v[0] for k, v in parse_qs(pin.link).items()},
        )


for pin in pins:
    pin_card(pin)
