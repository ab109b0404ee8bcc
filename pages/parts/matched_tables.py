"""The Method comparison page's first section: methods at matched forgetting (METHOD.md §4.6):
each variant's least damage at the FFE levels with its spread over seeds, and the alignment of
its token weights at the first checkpoint that forgets half of the facts."""

from __future__ import annotations

import streamlit as st

from atwu.app.frontier_view import alignment_table, levels_table, unmeasured_axes
from atwu.app.labels import metric_label
from atwu.csv_export import csv_text
from pages import common
from pages.parts import frontier_source
from pages.parts.sidebar import Context


def matched_section(ctx: Context) -> None:
    st.header("At matched forgetting")
    st.caption(
        "Methods compared where they forget equally much: the least damage each variant does "
        "among its points (every strength, every checkpoint after step 0) that reach a fact "
        "forget efficacy (FFE) level, averaged over seeds. A level is *not reached* when one "
        "of the variant's seeds never gets there."
    )
    frontier = frontier_source.load(ctx, bootstrap=False)
    if frontier is None:
        return
    frontier_source.describe(frontier)
    tables = frontier.result["tables"]

    st.subheader("Damage at matched forgetting")
    unmeasured = unmeasured_axes(frontier.result)
    levels = levels_table(tables.get("levels"), skip_axes=unmeasured)
    st.dataframe(levels, hide_index=True, key="levels_table")
    for axis in unmeasured:
        st.caption(f"{metric_label(axis).capitalize()}: not measured (no run records it).")
    st.page_link(
        common.PAGES["tradeoffs"],
        label="The frontiers, and ATWU against the comparator with intervals: Trade-offs",
        icon=":material/scatter_plot:",
    )

    st.subheader("Alignment at matched forgetting")
    alignment = alignment_table(tables.get("alignment"))
    st.dataframe(alignment, hide_index=True, key="alignment_matched")
    st.caption(
        "AUROC of the token weights against the fact tokens, and the retain-conflict AUROC "
        "(specific facts against facts a retain author shares; 0.5 = no preference), at each "
        "variant's default strength at the first checkpoint whose FFE reaches 0.5 (that FFE "
        "and step beside them; mean ± std over the seeds that reach it). Weights recomputed "
        "from the model's probabilities change as it forgets, so this is where methods compare."
    )
    d1, d2 = st.columns(2)
    d1.download_button(
        "Damage at matched forgetting (CSV)",
        csv_text(levels).encode("utf-8"),
        file_name="atwu-matched-damage.csv",
        mime="text/csv",
        key="dl_matched",
    )
    d2.download_button(
        "Alignment at matched forgetting (CSV)",
        csv_text(alignment).encode("utf-8"),
        file_name="atwu-matched-alignment.csv",
        mime="text/csv",
        key="dl_alignment_matched",
    )
