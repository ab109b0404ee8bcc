"""The Token scores page's overview matrix: one matrix per run shown (the picked run and each
compared one, same rows, same colour range), a page of examples at a time, sorted and filtered
by the example table's columns. Its controls redraw only this part (a fragment)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atwu.app.overview_view import PAGE_SIZE, SORTS, ordered_examples, page
from atwu.app.token_compare import row_label
from atwu.runs.read import RunInfo
from atwu.viz.overview import overview_matrix
from pages.parts import reads
from pages.parts.charts import show_chart
from pages.parts.token_controls import Controls


def overview_section(run: RunInfo, step: int, view: Controls, table: pd.DataFrame) -> None:
    @st.fragment
    def overview_part() -> None:
        c1, c2, c3 = st.columns([2, 2, 1])
        sort = c1.selectbox("Sort rows by", list(SORTS), key="ov_sort")
        query = c2.text_input(
            "Filter (example id or question contains)",
            key="ov_filter",
            placeholder="e.g. birthplace",
        )
        ids = ordered_examples(table, sort, query)
        pages = max(1, -(-len(ids) // PAGE_SIZE))
        if int(st.session_state.get("ov_page", 1)) > pages:  # a narrower filter: fewer pages
            st.session_state["ov_page"] = pages
        number = c3.number_input(
            f"Page (of {pages})", min_value=1, max_value=pages, value=1, key="ov_page"
        )
        shown, _ = page(ids, int(number))
        if not shown:
            st.info("No example matches the filter.")
            return
        first = (int(number) - 1) * PAGE_SIZE + 1
        st.caption(
            f"Examples {first}–{first + len(shown) - 1} of {len(ids)}"
            + (f" matching “{query.strip()}”" if query.strip() else "")
            + f" ({len(table)} recorded). Rows: examples, columns: answer positions; dots mark "
            "fact tokens; grey: no token there (a shorter answer). One matrix per run, same "
            "rows, same colour range as the rows above."
        )
        scale = (None, None) if view.normalise else (view.lo, view.hi)
        runs = [(run, step, view.weights_step)]
        for other, o_step in view.compared:
            weights, _ = reads.weights_at(other.path, o_step)
            runs.append((other, o_step, weights))
        for i, (info, at, weights) in enumerate(runs):
            if weights is None:
                st.warning(f"{info.name}: its token weights are unreadable; left out.")
                continue
            fig = overview_matrix(
                weights, examples=shown, vmin=scale[0], vmax=scale[1], title=row_label(info, at)
            )
            show_chart(fig, key=f"overview_matrix_{i}", name=f"overview-{info.name}-step{at}")

    overview_part()
