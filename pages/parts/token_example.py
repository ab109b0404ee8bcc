"""The Token scores page's example: the example table beside its tokens coloured by weight (one
row per compared run), the threshold with precision/recall/F1 at it, its generations and its
exports.

Two fragments, so a control redraws only what it changes: picking an example redraws the table
and the example; moving the threshold redraws only the example (its rings, legend and numbers).
Neither reruns the page (the overview and alignment tabs below stay as they are).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from atwu.app.cli_text import ATWU
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
from atwu.viz.tokens import compare_html, example_page_html, normalised_by_max
from pages.parts import reads
from pages.parts.token_controls import Controls, threshold_slider
from pages.parts.token_figure_downloads import figure_downloads
from pages.parts.token_pin import pin_and_link
from pages.parts.token_table import example_picker


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


def _generations(run: RunInfo, step: int, split: str, example: str, answer: str) -> dict:
    ev, ev_err = reads.eval_examples(run.path)
    gen = generations(ev, split, example, step)
    g = st.columns(3)
    g[0].markdown("**Reference**")
    g[0].text(answer)
    g[1].markdown("**Generated at step 0**")
    g[1].text(gen["before"] if gen["before"] is not None else "(not generated)")
    shown_step = gen["after_step"] if gen["after_step"] is not None else step
    g[2].markdown(f"**Generated at step {shown_step}**")
    g[2].text(gen["after"] if gen["after"] is not None else "(not generated)")
    if ev_err:
        st.warning(
            f"eval_examples.parquet is unreadable ({ev_err}); generations are not shown. "
            f"`{ATWU} eval {run.path}` rebuilds it."
        )
    elif gen["note"]:
        st.caption(gen["note"])
    return gen


def _rows_at_threshold(
    run: RunInfo, step: int, view: Controls, example: str, meta: dict, gen: dict, n: int
) -> None:
    """What the threshold changes: the stacked rows (rings, legend), the numbers, the HTML
    export of the view."""
    rows = example_rows(run, step, view, example)
    # drawn and counted under the chosen ground truth; the CSV export keeps the recorded labels
    shown = [(label, relabelled(frame, view.ground_truth)) for label, frame in rows]
    st.html(compare_html(shown, **_scale(view)))
    _metrics(shown, view, n)
    pin_and_link(run, step, view, example, meta, shown)
    d = st.columns(3)
    prefix = f"{run.name}-step{step}"
    # Exports are built only when clicked (deferred data), so they cost nothing per rerun.
    d[0].download_button(
        "Example (CSV)",
        lambda: rows_csv(rows),
        help="the token scores of this example, one line per token and stacked row",
        file_name=f"{prefix}-{example}.csv",
        mime="text/csv",
        key="dl_example_csv",
    )
    d[1].download_button(
        "All examples (CSV)",
        lambda: scores_csv(view.weights_step),
        help=f"every recorded token score of {run.name} at step {step}",
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
        help="a page of its own: question, answer, the stacked rows and their legend",
    )
    figure_downloads(
        [(label, normalised_by_max(f)) for label, f in shown] if view.normalise else shown,
        name=f"{prefix}-{example}",
        key="example_fig",
        title=f"{example}: token weights" + (" ÷ row max" if view.normalise else ""),
        vmin=0.0 if view.normalise else view.lo,
        vmax=1.0 if view.normalise else view.hi,
    )


def example_view(
    run: RunInfo, step: int, split: str, view: Controls, example: str, n_examples: int
) -> None:
    """The example: its question and answer, the threshold with the stacked rows and their
    numbers (an inner fragment: the threshold redraws only that), then its generations."""
    meta = (reads.examples(run.path)[0] or {}).get(example, {})
    st.html(example_header_html(example, meta.get("question", ""), meta.get("answer", "")))
    rows_slot = st.container()
    gen = _generations(run, step, split, example, meta.get("answer", ""))

    @st.fragment
    def threshold_panel() -> None:
        threshold = threshold_slider(view.lo, view.hi)
        at = dataclasses.replace(view, threshold=threshold)
        _rows_at_threshold(run, step, at, example, meta, gen, n_examples)

    with rows_slot:
        threshold_panel()


def example_section(
    run: RunInfo, step: int, split: str, view: Controls, table: pd.DataFrame
) -> None:
    """The example table (left) and the example (right), in a fragment: picking an example
    redraws this part only."""

    @st.fragment
    def example_panel() -> None:
        left, right = st.columns([2, 3])
        with left:
            example = example_picker(table, step, view.ground_truth)
        with right:
            example_view(run, step, split, view, example, n_examples=len(table))

    example_panel()
