"""The Method comparison page's tables at default settings: final metrics, fact-level forgetting
and damage, a chart of one metric, token alignment, the UQ ranking and the exports."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

from atwu.app.comparison_view import (
    FACT_TABLE,
    FINAL_TABLE,
    formatted_comparison,
    group_labels,
    latex_export,
    present_metrics,
    uq_ranking,
    without_empty_config,
)
from atwu.app.labels import ALIGNMENT_COLUMNS, METRIC_LABELS, metric_label, short_label
from atwu.csv_export import csv_text
from atwu.viz.comparison_figures import comparison_bars
from pages.parts.charts import show_chart
from pages.parts.url_state import keep, seed


def _table(table: pd.DataFrame, metrics: list[str], key: str) -> None:
    st.dataframe(
        without_empty_config(formatted_comparison(table, metrics)),
        hide_index=True,
        key=key,
        # the settings that differ from the defaults: shown whole, not cut at a narrow width
        column_config={"config": st.column_config.TextColumn("config", width="large")},
    )


def _chart(table: pd.DataFrame, labelled: pd.DataFrame) -> None:
    chart_metrics = present_metrics(table, list(METRIC_LABELS))
    if not chart_metrics:
        return
    c1, c2 = st.columns([1, 3])
    with c1:
        first = "uq" if "uq" in chart_metrics else chart_metrics[0]
        seed("cmp_metric", "metric", valid=lambda v: v in chart_metrics, default=first)
        metric = st.selectbox("Chart", chart_metrics, key="cmp_metric", format_func=metric_label)
        keep("cmp_metric", "metric")
        kind: Literal["bar", "dot"] = (
            "dot"
            if st.radio("as", ["bar", "dot"], horizontal=True, key="cmp_kind") == "dot"
            else "bar"
        )
    show_chart(
        comparison_bars(labelled, metric, kind=kind, label=metric_label(metric)),
        key="cmp_chart",
        name=f"comparison-{metric}",
        where=c2,
    )


def _alignment(table: pd.DataFrame, labelled: pd.DataFrame) -> None:
    st.subheader("Alignment of token weights with the fact spans")
    st.caption(
        "AUROC and AUPRC of the weights against the ground-truth fact tokens at the final "
        "checkpoint (uniform weights give AUROC 0.5); *specific* counts only facts unique to "
        "the author against tokens outside every span; *retain conflict* ranks specific facts "
        "against shared ones. At the final checkpoint weights recomputed from the model's "
        "probabilities have moved with its forgetting: compare them at matched forgetting above."
    )
    _table(table, [m for m in ALIGNMENT_COLUMNS if f"{m}_mean" in table.columns], "align_table")
    shown = present_metrics(table, ["auroc", "auroc_specific", "auroc_retain_conflict"])
    if not shown:
        return
    for column, metric in zip(st.columns(len(shown)), shown):
        show_chart(
            comparison_bars(labelled, metric, kind="dot", label=short_label(metric)),
            key=f"{metric}_bars",
            where=column,
        )


def _export(table: pd.DataFrame, present: list[str]) -> None:
    st.subheader("Export")
    e1, e2 = st.columns(2)
    e1.download_button(
        "Table (CSV)",
        csv_text(table).encode("utf-8"),
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


def default_tables(table: pd.DataFrame) -> None:
    """Everything at default settings for the comparison ``table`` (one row per method group)."""
    st.subheader("Final metrics")
    present = present_metrics(table, FINAL_TABLE)
    _table(table, present, "final_table")
    facts = present_metrics(table, FACT_TABLE)
    if facts:
        st.subheader("Fact-level forgetting and damage")
        st.caption(
            "FFE: share of the forget facts' log-probability removed (1 = the retain model); "
            "fact recall: facts still reproduced token by token; generation leakage: fact "
            "values found in greedy answers; damage: log-probability lost on the forget "
            "answers' template, on neighbours' facts, on held-out retain and general data."
        )
        _table(table, facts, "fact_table")
    labelled = group_labels(table)
    _chart(table, labelled)
    _alignment(table, labelled)

    st.subheader("Unlearning quality (UQ) ranking")
    st.caption(
        "UQ = 100 · harmonic mean(forget efficacy, retain preservation), both relative to the "
        "starting model (the project's documented reconstruction of the paper's UQ)."
    )
    st.dataframe(without_empty_config(uq_ranking(table)), hide_index=True, key="uq_table")
    _export(table, present)
    with st.expander("Every column"):
        st.dataframe(table, hide_index=True)
