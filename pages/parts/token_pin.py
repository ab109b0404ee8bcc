"""The Token scores page's "Pin this view" (a note kept with the view on the Findings page) and
"Link to this view" (the address that reopens it exactly)."""

from __future__ import annotations

import streamlit as st

from atwu.app.findings_view import make_pin
from atwu.app.token_compare import Row
from atwu.app.view_link import TokenLink, page_url, token_query
from atwu.errors import InputError
from atwu.findings import findings_dir, save_pin
from atwu.runs.read import RunInfo
from pages import common
from pages.parts.token_controls import Controls
from pages.parts.url_state import qp_one


def view_query(run: RunInfo, step: int, view: Controls, example: str) -> str:
    """The query string of the view drawn now (the sidebar's pick names demo runs demo/…)."""
    link = TokenLink(
        run=str(st.session_state.get("run") or run.name),
        step=step,
        example=example,
        compare=tuple(other.name for other, _ in view.compared),
        normalise=view.normalise,
        threshold=view.threshold,
        truth=view.ground_truth,
        dir=qp_one("dir"),
        with_demo=qp_one("with_demo") == "1",
    )
    return token_query(link)


def pin_and_link(
    run: RunInfo, step: int, view: Controls, example: str, meta: dict, rows: list[Row]
) -> None:
    query = view_query(run, step, view, example)
    left, right = st.columns(2)
    with left.popover("Pin this view", icon=":material/push_pin:", use_container_width=True):
        note = st.text_area(
            "Note",
            key="pin_note",
            placeholder="What this example shows, e.g. ATWU weights the award, WGA the name.",
            help="Kept with the example, step and runs on the Findings page (editable there).",
        )
        if st.button("Pin", key="pin_save", type="primary"):
            pin = make_pin(
                note=note,
                run=run.name,
                step=step,
                example=example,
                compared=[other.name for other, _ in view.compared],
                link=query,
                rows=rows,
                question=meta.get("question", ""),
                answer=meta.get("answer", ""),
                view={
                    "ground_truth": view.ground_truth,
                    "normalise": view.normalise,
                    "threshold": view.threshold,
                    "vmin": 0.0 if view.normalise else view.lo,
                    "vmax": 1.0 if view.normalise else view.hi,
                },
            )
            try:
                save_pin(findings_dir(), pin)
            except (InputError, OSError) as exc:
                st.error(f"The pin was not saved: {exc}")
            else:
                st.session_state["_pinned"] = query
        if st.session_state.get("_pinned") == query:
            st.success("Pinned. The Findings page lists it with its note.")
            st.page_link(
                common.PAGES["findings"], label="Open Findings", icon=":material/push_pin:"
            )
    with right.popover("Link to this view", icon=":material/link:", use_container_width=True):
        st.caption("Opens this run, step, example, compared runs and threshold exactly:")
        st.code(page_url(st.context.url, "tokens", "tokens", query), language=None, wrap_lines=True)
