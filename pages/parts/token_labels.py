"""The Token scores page's weight by span label: for the picked run and the runs compared with it,
the mean weight (and its 25–75% band) of each span group over checkpoints, and at matched
forgetting (each run at its first checkpoint with FFE ≥ 0.5)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atwu.analysis.label_weights import MATCHED_LEVEL, at_matched, matched_step
from atwu.app.run_list import run_styles
from atwu.app.weight_diff_view import not_matched_note
from atwu.csv_export import csv_text
from atwu.runs.read import RunInfo
from atwu.viz.label_weight_figures import label_weights_matched, label_weights_over_steps
from pages.parts import reads
from pages.parts.charts import show_chart
from pages.parts.token_controls import Controls

WIDE = (1300, 440)  # a figure across both columns of a paper (figure*)


def label_section(run: RunInfo, view: Controls) -> None:
    infos = [run] + [other for other, _ in view.compared]
    tables, steps = [], {}
    for info in infos:
        table, err = reads.label_weights_of(info.path, info.name, shape=view.normalise)
        if table is None:
            st.warning(f"{info.name}: its token weights are unreadable ({err}); left out.")
            continue
        tables.append(table)
        recorded = sorted(set(table["step"].astype(int)))
        steps[info.name] = matched_step(reads.evals(info.path)[0], recorded)
    if not tables:
        return
    joined = pd.concat(tables, ignore_index=True)
    st.caption(
        "Mean token weight of each span label (template: answer tokens in no span; special "
        "tokens left out), the band its 25–75% range over every recorded token of the split. "
        "Runs: this one and those picked under Compare runs."
        + (" Shape only: each example's weights divided by its largest." if view.normalise else "")
    )
    styles = run_styles(infos)
    show_chart(
        label_weights_over_steps(joined, styles=styles),
        key="label_weights_steps",
        name=f"weight-by-label-{run.name}",
        size=WIDE,
    )
    matched = at_matched(joined, steps)
    missing = [name for name, s in steps.items() if s is None]
    if missing:
        st.caption(not_matched_note(missing, MATCHED_LEVEL) + " Left out below.")
    show_chart(
        label_weights_matched(matched, styles=styles, level=MATCHED_LEVEL),
        key="label_weights_matched",
        name=f"weight-by-label-matched-{run.name}",
    )
    st.download_button(
        "Table (CSV)",
        lambda: csv_text(joined).encode("utf-8"),
        file_name=f"weight-by-label-{run.name}.csv",
        mime="text/csv",
        key="dl_label_weights",
        help="run, step, span label, mean, quartiles and token count",
    )
