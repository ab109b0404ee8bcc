"""The Token scores page's tabs under the example: the overview matrices, alignment over training
and scoring your own text with every shown run's saved model.

Only the open tab is drawn (the tabs track their state, and the open one is kept in the URL as
``tab``), inside a fragment: switching tabs, and every control inside one, redraws this part
only."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atwu.app.limits import check_typed_text
from atwu.app.run_list import run_styles
from atwu.app.token_compare import (
    alignment_curves,
    no_model_note,
    score_text,
    typed_scores_frame,
    weights_are_labels,
)
from atwu.app.typed_spans import score_against_marks
from atwu.app.weight_diff_view import DIFF_TAB, LABEL_TAB
from atwu.errors import InputError
from atwu.runs.read import RunInfo
from atwu.viz.tokens import compare_html
from atwu.viz.training_figures import auroc_over_steps
from pages.parts import reads
from pages.parts.charts import show_chart
from pages.parts.sidebar import Context
from pages.parts.token_controls import Controls
from pages.parts.token_diff import difference_section
from pages.parts.token_labels import label_section
from pages.parts.token_overview import overview_section
from pages.parts.typed_marks import mark_spans

TABS = ("Overview matrix", DIFF_TAB, LABEL_TAB, "Alignment over training", "Score your own text")


def _alignment(run: RunInfo, view: Controls) -> None:
    infos = [run] + [other for other, _ in view.compared]
    curves, warnings = alignment_curves([(i.name, *reads.evals(i.path)) for i in infos])
    for w in warnings:
        st.warning(w)
    if curves.empty:
        st.info(
            "No evaluation records (eval.jsonl) for these runs: the run was launched with "
            "--no-eval, or it has not reached its first checkpoint."
        )
        return
    styles = run_styles(infos)
    a1, a2 = st.columns(2)
    show_chart(auroc_over_steps(curves, styles=styles), key="auroc_curve", where=a1)
    if view.ground_truth == "conflict" and "auroc_retain_conflict" in curves.columns:
        fig = auroc_over_steps(curves, metric="auroc_retain_conflict", styles=styles)
        fig.update_layout(title="Retain-conflict AUROC: specific against shared facts")
        fig.update_yaxes(title="retain-conflict AUROC")
        fig.add_hline(y=0.5, line=dict(dash="dash", color="#777777"), annotation_text="chance")
        show_chart(fig, key="conflict_curve", where=a2)
    else:
        show_chart(
            auroc_over_steps(curves, metric="auprc", styles=styles), key="auprc_curve", where=a2
        )


def _scorers(run: RunInfo, view: Controls) -> tuple[list[RunInfo], list[str]]:
    """The shown runs whose saved model can score typed text, and a note for each other one."""
    usable, notes = [], []
    for info in [run] + [other for other, _ in view.compared]:
        if weights_are_labels(info.method):
            notes.append(f"{info.name}: {info.method}'s weights are the ground-truth spans.")
        elif not (info.path / "model").is_dir():
            notes.append(no_model_note(info.name, demo=False))
        else:
            usable.append(info)
    return usable, notes


def _typed_text(run: RunInfo, view: Controls, demo: bool) -> None:
    usable, notes = _scorers(run, view)
    if demo and not usable:
        st.info(no_model_note(run.name, demo=True))
    else:
        for note in notes:
            st.caption(note)
    question = st.text_input(
        "Question (optional: the text is scored as its answer)",
        key="typed_question",
        disabled=not usable,
    )
    text = st.text_area(
        "Text to score",
        key="typed_text",
        disabled=not usable,
        placeholder="e.g. Viktor Casvosran was born in Tunis.",
    )
    marks = mark_spans(text, question, disabled=not usable)
    label = "Score" if len(usable) < 2 else f"Score with the {len(usable)} runs' scorers"
    if st.button(label, key="score_text", disabled=not usable):
        from atwu.text_weights import TextWeightsError, weights_for_text  # loads torch: on use

        try:  # scored in the app's own process: a size cap keeps the server responsive
            check_typed_text(text, "The text")
            check_typed_text(question, "The question")
        except InputError as exc:
            st.error(str(exc))
            return

        scored_rows: list[tuple[str, list[tuple[str, float]]]] = []
        for info in usable:
            try:
                with st.spinner(f"Loading {info.name}'s model and scorer…"):
                    scored = weights_for_text(info.path, text, question)
                scored_rows.append((f"{info.method} · {info.name} (final model)", scored))
            except TextWeightsError as exc:
                st.warning(f"{info.name}: {exc}")
            except Exception as exc:
                st.error(f"Scoring with {info.name} failed: {type(exc).__name__}: {exc}")
        st.session_state["typed_scores"] = ([i.name for i in usable], text, scored_rows)
    saved = st.session_state.get("typed_scores")
    if saved and saved[0] == [i.name for i in usable] and saved[1] == text and saved[2]:
        _typed_rows(text, saved[2], marks, view)


def _typed_rows(
    text: str, scored_rows: list[tuple[str, list[tuple[str, float]]]], marks: list, view: Controls
) -> None:
    """The scored rows, labelled by the marks when there are some, with AUROC against them."""
    if not marks:
        rows = [(name, typed_scores_frame(scored)) for name, scored in scored_rows]
        st.html(compare_html(rows, threshold=view.threshold, show_spans=False))
        st.caption("Mark facts in the text above to see each scorer's AUROC against them.")
        return
    results = [(name, score_against_marks(text, scored, marks)) for name, scored in scored_rows]
    cols = st.columns(min(4, len(results)))
    for i, (name, result) in enumerate(results):
        cols[i % len(cols)].metric(
            f"AUROC vs marks · {name.split(' · ')[0]}",
            score_text(result.auroc),
            help=result.note
            or "within this text: marked fact tokens against the rest "
            "(context marks left out), ties counting half",
        )
    rows = [(name, result.tokens) for name, result in results]
    st.html(compare_html(rows, threshold=view.threshold, show_spans=True))


def token_tabs(
    ctx: Context, run: RunInfo, step: int, view: Controls, table: pd.DataFrame, *, demo: bool
) -> None:
    @st.fragment
    def tabs_part() -> None:
        tabs = st.tabs(list(TABS), key="tab", on_change="rerun", bind="query-params")
        tab_matrix, tab_diff, tab_labels, tab_align, tab_text = tabs
        if tab_matrix.open is not False:
            with tab_matrix:
                overview_section(run, step, view, table)
        if tab_diff.open is not False:
            with tab_diff:
                difference_section(ctx, run, step, normalise=view.normalise)
        if tab_labels.open is not False:
            with tab_labels:
                label_section(run, view)
        if tab_align.open is not False:
            with tab_align:
                _alignment(run, view)
        if tab_text.open is not False:
            with tab_text:
                _typed_text(run, view, demo)

    tabs_part()
