"""The Token scores page's example: its tokens coloured by weight (one row per compared run),
precision/recall/F1 at the threshold, its generations and its exports."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from atwu.app.token_compare import (
    Row,
    all_examples_help,
    example_header_html,
    ground_truth_caption,
    prf_table,
    relabelled,
    row_label,
    rows_csv,
    score_text,
)
from atwu.app.token_view import example_tokens, generations, scores_csv, threshold_stats
from atwu.runs.read import RunInfo
from atwu.viz.tokens import compare_html, example_page_html
from pages.parts import reads
from pages.parts.token_controls import Controls


def example_rows(run: RunInfo, step: int, view: Controls, example: str) -> list[Row]:
    """The example's token rows: the picked run's, then each compared run's that recorded it."""
    rows: list[Row] = [(row_label(run, step), example_tokens(view.weights_step, example))]
    for other, o_step in view.compared:
        w, _ = reads.weights_at(other.path, o_step)
        o_tokens = example_tokens(w, example) if w is not None else pd.DataFrame()
        if o_tokens.empty:
            st.caption(f"{other.name} did not record example {example}.")
            continue
        rows.append((row_label(other, o_step), o_tokens))
    return rows


def _scale(view: Controls) -> dict[str, Any]:
    return {
        "threshold": view.threshold,
        "normalise": view.normalise,
        "vmin": None if view.normalise else view.lo,
        "vmax": None if view.normalise else view.hi,
        "ground_truth": view.ground_truth,
    }


def _metrics(rows: list[Row], view: Controls, n_examples: int) -> None:
    """Precision/recall/F1 of the threshold over ``rows`` (labelled under the ground truth)."""
    ex_stats = threshold_stats(rows[0][1], view.threshold)
    all_stats = threshold_stats(relabelled(view.weights_step, view.ground_truth), view.threshold)
    m = st.columns(4)
    m[0].metric("precision (example)", score_text(ex_stats["precision"]))
    m[1].metric("recall (example)", score_text(ex_stats["recall"]))
    m[2].metric("F1 (example)", score_text(ex_stats["f1"]))
    m[3].metric(
        "F1 (all examples)",
        score_text(all_stats["f1"]),
        help=all_examples_help(all_stats, n_examples),
    )
    if len(rows) > 1:
        st.dataframe(prf_table(rows, view.threshold, normalise=view.normalise), hide_index=True)
    st.caption(ground_truth_caption(view.ground_truth))


def example_view(
    run: RunInfo, step: int, split: str, view: Controls, example: str, n_examples: int
) -> None:
    rows = example_rows(run, step, view, example)
    # drawn and counted under the chosen ground truth; the CSV export keeps the recorded labels
    shown = [(label, relabelled(frame, view.ground_truth)) for label, frame in rows]
    meta = (reads.examples(run.path)[0] or {}).get(example, {})
    st.html(example_header_html(example, meta.get("question", ""), meta.get("answer", "")))
    st.html(compare_html(shown, **_scale(view)))
    _metrics(shown, view, n_examples)

    ev, ev_err = reads.eval_examples(run.path)
    gen = generations(ev, split, example, step)
    g = st.columns(3)
    g[0].markdown("**Reference**")
    g[0].text(meta.get("answer", ""))
    g[1].markdown("**Generated at step 0**")
    g[1].text(gen["before"] if gen["before"] is not None else "(not generated)")
    shown_step = gen["after_step"] if gen["after_step"] is not None else step
    g[2].markdown(f"**Generated at step {shown_step}**")
    g[2].text(gen["after"] if gen["after"] is not None else "(not generated)")
    if ev_err:
        st.warning(
            f"eval_examples.parquet is unreadable ({ev_err}); generations are not shown. "
            f"`python -m atwu eval {run.path}` rebuilds it."
        )
    elif gen["note"]:
        st.caption(gen["note"])

    # Exports are built only when clicked (deferred data), so they cost nothing per rerun.
    d = st.columns(3)
    prefix = f"{run.name}-step{step}"
    d[0].download_button(
        "Scores of this example (CSV)",
        lambda: rows_csv(rows),
        file_name=f"{prefix}-{example}.csv",
        mime="text/csv",
        key="dl_example_csv",
    )
    d[1].download_button(
        "All examples at this step (CSV)",
        lambda: scores_csv(view.weights_step),
        file_name=f"{prefix}-weights.csv",
        mime="text/csv",
        key="dl_step_csv",
    )
    d[2].download_button(
        "This view (HTML)",
        lambda: example_page_html(
            meta.get("question", ""),
            meta.get("answer", ""),
            shown,
            generated_before=gen["before"],
            generated_after=gen["after"],
            title=f"Token weights: {run.name}, step {step}",
            example_id=example,
            **_scale(view),
        ).encode("utf-8"),
        file_name=f"{prefix}-{example}.html",
        mime="text/html",
        key="dl_html",
    )
