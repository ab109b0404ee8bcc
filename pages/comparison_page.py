"""Method comparison: final metrics per method (mean ± std over seeds), charts, token-alignment per
method, the UQ ranking; CSV and LaTeX export."""

from __future__ import annotations

import streamlit as st

from atwu.app.comparison_view import (
    FINAL_METRICS,
    comparable_runs,
    comparison_table,
    default_selection,
    formatted_comparison,
    group_labels,
    latex_export,
    present_metrics,
    uq_ranking,
    without_empty_config,
)
from atwu.app.labels import ALIGNMENT_COLUMNS, METRIC_LABELS, metric_label
from atwu.viz.comparison_figures import comparison_bars
from pages import common
from pages.parts.url_state import keep, seed

ctx = common.context()
st.title("Method comparison")
st.caption(
    "Each run contributes its last evaluated checkpoint; runs of one method with the same "
    "hyperparameters are pooled over seeds (mean ± standard deviation; one seed: no ±)."
)

if not ctx.runs:
    common.no_run_message()
    st.stop()

usable, notes = comparable_runs(ctx.runs)
names = [r.name for r in usable]
if notes:
    with st.expander(f"{len(notes)} run(s) left out"):
        for note in notes:
            st.markdown(f"- {note}")
if not usable:
    st.info(
        "No run has an evaluation yet. Launch runs on the Run page (evaluation is on by "
        "default), or evaluate finished ones with `python -m atwu eval RUN`."
    )
    st.stop()

default = default_selection(usable)
seed(
    "cmp_runs",
    "cmp",
    multi=True,
    default=default,
    valid=lambda v: isinstance(v, list) and bool(v) and set(v) <= set(names),
)
chosen = st.multiselect("Runs", names, key="cmp_runs", format_func=ctx.label)
keep("cmp_runs", "cmp", to_url=lambda v: None if v == default else v)
if not chosen:
    st.info("Pick at least one run.")
    st.stop()

try:
    table, warns = comparison_table([ctx.get(n).path for n in chosen])
except Exception as exc:
    st.error(
        f"Could not compare these runs: {type(exc).__name__}: {exc}. A run directory may "
        "be damaged; leave it out of the selection."
    )
    st.stop()
for w in warns:
    st.warning(w)
if table.empty:
    st.info("None of the chosen runs has an evaluation record.")
    st.stop()

st.subheader("Final metrics")
present = present_metrics(table, FINAL_METRICS)
st.dataframe(
    without_empty_config(formatted_comparison(table, present)), hide_index=True, key="final_table"
)

chart_metrics = present_metrics(table, list(METRIC_LABELS))
c1, c2 = st.columns([1, 3])
with c1:
    first = "uq" if "uq" in chart_metrics else chart_metrics[0]
    seed("cmp_metric", "metric", valid=lambda v: v in chart_metrics, default=first)
    metric = st.selectbox("Chart", chart_metrics, key="cmp_metric", format_func=metric_label)
    keep("cmp_metric", "metric")
    kind = st.radio("as", ["bar", "dot"], horizontal=True, key="cmp_kind")
labelled = group_labels(table)
c2.plotly_chart(
    comparison_bars(labelled, metric, kind=kind, label=metric_label(metric)), key="cmp_chart"
)

st.subheader("Alignment of token weights with the fact spans")
st.caption(
    "AUROC and AUPRC of the weights against the ground-truth fact tokens at the final "
    "checkpoint (uniform weights give AUROC 0.5); *specific* counts only facts unique to "
    "the author against tokens outside every span."
)
align = [m for m in ALIGNMENT_COLUMNS if f"{m}_mean" in table.columns]
st.dataframe(
    without_empty_config(formatted_comparison(table, align)), hide_index=True, key="align_table"
)
if present_metrics(table, ["auroc"]):
    a1, a2 = st.columns(2)
    a1.plotly_chart(
        comparison_bars(labelled, "auroc", kind="dot", label=metric_label("auroc")),
        key="auroc_bars",
    )
    if present_metrics(table, ["auroc_specific"]):
        a2.plotly_chart(
            comparison_bars(
                labelled, "auroc_specific", kind="dot", label=metric_label("auroc_specific")
            ),
            key="auroc_specific_bars",
        )

st.subheader("Unlearning quality (UQ) ranking")
st.caption(
    "UQ = 100 · harmonic mean(forget efficacy, retain preservation), both relative to the "
    "starting model (the project's documented reconstruction of the paper's UQ)."
)
st.dataframe(without_empty_config(uq_ranking(table)), hide_index=True, key="uq_table")

st.subheader("Export")
e1, e2 = st.columns(2)
e1.download_button(
    "Table (CSV)",
    table.to_csv(index=False).encode("utf-8"),
    file_name="atwu-comparison.csv",
    mime="text/csv",
    key="dl_csv",
)
latex, latex_error = latex_export(table, present)
if latex is None:
    e2.warning(latex_error)
else:
    e2.download_button(
        "Table (LaTeX)",
        latex.encode("utf-8"),
        file_name="atwu-comparison.tex",
        mime="text/x-tex",
        key="dl_latex",
    )
with st.expander("Every column"):
    st.dataframe(table, hide_index=True)
