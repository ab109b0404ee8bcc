"""The Token scores page's tabs under the example: the overview matrix, alignment over training
and scoring your own text with the run's saved model."""

from __future__ import annotations

import streamlit as st

from atwu.app.token_compare import alignment_curves, no_model_note, typed_scores_frame
from atwu.runs.read import RunInfo
from atwu.viz.overview import overview_matrix
from atwu.viz.tokens import compare_html
from atwu.viz.training_figures import auroc_over_steps
from pages.parts import reads
from pages.parts.token_controls import Controls


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
    a1, a2 = st.columns(2)
    a1.plotly_chart(auroc_over_steps(curves), key="auroc_curve")
    if view.ground_truth == "conflict" and "auroc_retain_conflict" in curves.columns:
        fig = auroc_over_steps(curves, metric="auroc_retain_conflict")
        fig.update_layout(title="Retain-conflict AUROC: specific against shared facts")
        fig.update_yaxes(title="retain-conflict AUROC")
        fig.add_hline(y=0.5, line=dict(dash="dash", color="#777777"), annotation_text="chance")
        a2.plotly_chart(fig, key="conflict_curve")
    else:
        a2.plotly_chart(auroc_over_steps(curves, metric="auprc"), key="auprc_curve")


def _typed_text(run: RunInfo, view: Controls, demo: bool) -> None:
    has_model = (run.path / "model").is_dir()
    if run.method == "oracle":
        st.info("The oracle's weights are the ground-truth spans: typed text has none to score.")
    elif not has_model:
        st.info(no_model_note(run.name, demo=demo))
    question = st.text_input(
        "Question (optional: the text is scored as its answer)",
        key="typed_question",
        disabled=not has_model,
    )
    text = st.text_area(
        "Text to score",
        key="typed_text",
        disabled=not has_model,
        placeholder="e.g. Viktor Casvosran was born in Tunis.",
    )
    if st.button("Score", key="score_text", disabled=not has_model or run.method == "oracle"):
        from atwu.text_weights import TextWeightsError, weights_for_text  # loads torch: on use

        try:
            with st.spinner("Loading the run's model and scorer…"):
                scored = weights_for_text(run.path, text, question)
            st.session_state["typed_scores"] = (run.name, scored)
        except TextWeightsError as exc:
            st.warning(str(exc))
        except Exception as exc:
            st.error(f"Scoring failed: {type(exc).__name__}: {exc}")
    saved = st.session_state.get("typed_scores")
    if saved and saved[0] == run.name:
        st.html(
            compare_html(
                [(f"{run.method} · {run.name} (final model)", typed_scores_frame(saved[1]))],
                threshold=view.threshold,
                show_spans=False,
            )
        )


def token_tabs(run: RunInfo, view: Controls, *, demo: bool) -> None:
    tab_matrix, tab_align, tab_text = st.tabs(
        ["Overview matrix", "Alignment over training", "Score your own text"]
    )
    with tab_matrix:
        st.plotly_chart(overview_matrix(view.weights_step), key="overview_matrix")
        st.caption("Examples × answer positions at this checkpoint; dots mark fact tokens.")
    with tab_align:
        _alignment(run, view)
    with tab_text:
        _typed_text(run, view, demo)
