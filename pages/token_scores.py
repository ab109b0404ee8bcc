"""Token scores: which answer tokens a method decides to forget, checkpoint by checkpoint, against
the ground-truth fact spans; compare methods on one colour scale; score your own text."""

from __future__ import annotations

import html
import math

import pandas as pd
import streamlit as st

from atwu.app.issues import run_issues, weights_issue
from atwu.app.run_list import forget_split_of
from atwu.app.token_view import (
    example_tokens,
    generations,
    nearest_step,
    scores_csv,
    threshold_range,
    threshold_stats,
    weight_bounds,
)
from atwu.viz.colour_scale import scale_range
from atwu.viz.overview import overview_matrix
from atwu.viz.tokens import compare_html, example_page_html, normalised_by_max
from atwu.viz.training_figures import auroc_over_steps
from pages import common

ctx = common.context()
st.title("Token scores")
st.caption(
    "Background = the method's weight for each answer token (darker = forgotten harder); "
    "underline = ground-truth fact span (solid: specific to this author, dashed: shared "
    "value, dotted: context restated from the question). Hover a token for its details."
)

run = ctx.run
if run is None:
    common.no_run_message()
    st.stop()

issues = run_issues(run)
common.show_issues(issues)
if common.blocking([i for i in issues if "config.json" in i.what]):
    st.stop()
steps, err = common.weights_steps(run.path)
problem = weights_issue(run, steps, err)
if problem is not None:
    common.show_issues([problem])
    st.stop()

split = forget_split_of(run.config)

# ---------------------------------------------------------------------------------------------
# Controls: checkpoint, compare mode, threshold
# ---------------------------------------------------------------------------------------------
common.seed("step", "step", valid=lambda v: v in steps, default=steps[-1], parse=int)
step = st.select_slider(
    "Checkpoint (training step)",
    options=steps,
    key="step",
    help="Token weights are recorded at step 0 and every checkpoint: slide to watch them evolve.",
)
common.keep("step", "step")

others = [
    r
    for r in ctx.runs
    if r.name != run.name
    and forget_split_of(r.config) == split
    and (r.path / "weights.parquet").is_file()
]
other_names = [r.name for r in others]


PREFERRED = ("atwu", "wga", "satimp", "tnpo", "oracle", "aux", "uniform")


def _default_compare() -> list[str]:
    """One run per other method (seed 0 first), token-weighting methods first: the rows a
    researcher wants to see under ATWU's."""
    seen, out = {run.method}, []
    rank = {m: i for i, m in enumerate(PREFERRED)}
    for r in sorted(
        others, key=lambda r: (rank.get(r.method, len(rank)), r.config.get("seed", 0) or 0, r.name)
    ):
        if r.method not in seen:
            seen.add(r.method)
            out.append(r.name)
    return out[:4]


c1, c2, c3 = st.columns([1, 3, 1])
with c1:
    common.seed(
        "compare_mode",
        None,
        valid=lambda v: isinstance(v, bool),
        default=bool(common.qp_all("compare")),
    )
    compare_mode = st.toggle(
        "Compare runs",
        key="compare_mode",
        disabled=not others,
        help="Stack other runs' weights for the same example as rows on one colour scale.",
    )
with c2:
    compare_names: list[str] = []
    if compare_mode and others:
        common.seed(
            "compare_runs",
            "compare",
            multi=True,
            default=_default_compare(),
            valid=lambda v: isinstance(v, list) and set(v) <= set(other_names),
        )
        compare_names = st.multiselect(
            "Compared with", other_names, key="compare_runs", format_func=ctx.label
        )
        common.keep("compare_runs", "compare")
    else:
        common.qp_set("compare", None)
        if not others:
            st.caption("No other run with token weights on this forget split to compare with.")
with c3:
    common.seed(
        "normalise",
        "normalise",
        valid=lambda v: isinstance(v, bool),
        default=False,
        parse=lambda v: v == "1",
    )
    normalise = st.toggle(
        "Shape only",
        key="normalise",
        help="Divide each row by its own maximum: compares where methods put weight, not how much.",
    )
    common.keep("normalise", "normalise", to_url=lambda v: "1" if v else None)

weights_step, err = common.weights_at(run.path, step)
if err:
    st.error(f"Could not read the weights of {run.name} at step {step}: {err}")
    st.stop()

compared: list[tuple[str, object, int]] = []  # (name, RunInfo, step used)
for name in compare_names:
    other = ctx.by_name(name)
    o_steps, o_err = common.weights_steps(other.path)
    if o_err or not o_steps:
        st.warning(f"{name}: no readable token weights ({o_err or 'none recorded'}); left out.")
        continue
    compared.append((name, other, nearest_step(o_steps, step)))

frames_for_scale = [weights_step]
for _name, other, o_step in compared:
    w, o_err = common.weights_at(other.path, o_step)
    if w is not None:
        frames_for_scale.append(w)
lo, hi = (0.0, 1.0) if normalise else scale_range(*weight_bounds(frames_for_scale))
t_min, t_max, t_default = threshold_range(lo, hi)
common.seed(
    "threshold",
    "threshold",
    valid=lambda v: isinstance(v, float) and t_min <= v <= t_max,
    default=t_default,
    parse=float,
)
threshold = st.slider(
    'Threshold: a token counts as "forgotten" when its weight ≥',
    t_min,
    t_max,
    key="threshold",
    step=0.01,
    help="Precision/recall/F1 below compare this decision with the fact "
    "labels (context tokens left out).",
)
common.keep("threshold", "threshold", to_url=lambda v: f"{v:g}")

# ---------------------------------------------------------------------------------------------
# Example table and the example
# ---------------------------------------------------------------------------------------------
table, err = common.example_table(run.path, step, split)
if err or table is None or table.empty:
    st.error(
        f"Could not build the example table of {run.name} at step {step}: {err or 'no examples'}"
    )
    st.stop()
ids = table["example_id"].tolist()
common.seed("example", "example", valid=lambda v: v in ids, default=ids[0])


left, right = st.columns([2, 3])
with left:
    st.markdown(f"**Examples at step {step}** ({len(ids)}; click a row, or sort by a column)")
    event = st.dataframe(
        table,
        key="example_table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        height=420,
        column_config={
            "AUROC": st.column_config.NumberColumn(
                "AUROC",
                format="%.3f",
                help="within-example AUROC of the weights vs the fact labels",
            ),
            "forget loss": st.column_config.NumberColumn(
                "forget loss",
                format="%.3f",
                help="the model's answer NLL at this step (needs a full evaluation)",
            ),
            "mean weight (facts)": st.column_config.NumberColumn(format="%.3f"),
            "mean weight (other)": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    # A row picked in the table (positions refer to `table` whatever the on-screen sort) becomes
    # the example, once: afterwards the select box below can change it again.
    picked = event.selection.rows if event is not None else []
    if picked and picked[0] < len(ids) and ids[picked[0]] != st.session_state.get("_table_pick"):
        st.session_state["_table_pick"] = st.session_state["example"] = ids[picked[0]]
    example = st.selectbox("Example", ids, key="example")
    common.keep("example", "example")

ex_info = common.examples(run.path)[0] or {}
meta = ex_info.get(example, {})
tokens = example_tokens(weights_step, example)
rows: list[tuple[str, pd.DataFrame]] = [(f"{run.method} · {run.name} (step {step})", tokens)]
for _name, other, o_step in compared:
    w, o_err = common.weights_at(other.path, o_step)
    o_tokens = example_tokens(w, example) if w is not None else pd.DataFrame()
    if o_tokens.empty:
        st.caption(f"{name} did not record example {example}.")
        continue
    rows.append((f"{other.method} · {name} (step {o_step})", o_tokens))
view_html = compare_html(
    rows,
    threshold=threshold,
    normalise=normalise,
    vmin=None if normalise else lo,
    vmax=None if normalise else hi,
)

with right:
    st.html(
        '<div style="font-size:0.95em;line-height:1.5;">'
        f"<div><b>Question</b> ({html.escape(example)}): {html.escape(meta.get('question', ''))}"
        f"</div><div><b>Reference answer</b>: {html.escape(meta.get('answer', ''))}</div></div>"
    )
    st.html(view_html)
    ex_stats = threshold_stats(tokens, threshold)
    all_stats = threshold_stats(weights_step, threshold)

    def fmt(x: float) -> str:
        return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"

    m = st.columns(4)
    m[0].metric("precision (example)", fmt(ex_stats["precision"]))
    m[1].metric("recall (example)", fmt(ex_stats["recall"]))
    m[2].metric("F1 (example)", fmt(ex_stats["f1"]))
    m[3].metric(
        "F1 (all examples)",
        fmt(all_stats["f1"]),
        help=f"precision {fmt(all_stats['precision'])}, recall "
        f"{fmt(all_stats['recall'])} over {all_stats['tokens']} scored tokens of "
        f"{len(ids)} examples",
    )
    if len(rows) > 1:
        prf = []
        for label, frame in rows:
            s = threshold_stats(normalised_by_max(frame) if normalise else frame, threshold)
            prf.append(
                {
                    "run": label,
                    "precision": fmt(s["precision"]),
                    "recall": fmt(s["recall"]),
                    "F1": fmt(s["f1"]),
                    "tokens ≥ threshold": s["above"],
                }
            )
        st.dataframe(pd.DataFrame(prf), hide_index=True)

    ev, ev_err = common.eval_examples(run.path)
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
    d[0].download_button(
        "Scores of this example (CSV)",
        lambda: (
            pd.concat([f.assign(run=label) for label, f in rows], ignore_index=True)
            .to_csv(index=False)
            .encode("utf-8")
        ),
        file_name=f"{run.name}-step{step}-{example}.csv",
        mime="text/csv",
        key="dl_example_csv",
    )
    d[1].download_button(
        "All examples at this step (CSV)",
        lambda: scores_csv(weights_step),
        file_name=f"{run.name}-step{step}-weights.csv",
        mime="text/csv",
        key="dl_step_csv",
    )
    d[2].download_button(
        "This view (HTML)",
        lambda: example_page_html(
            meta.get("question", ""),
            meta.get("answer", ""),
            rows,
            generated_before=gen["before"],
            generated_after=gen["after"],
            title=f"Token weights: {run.name}, step {step}",
            example_id=example,
            threshold=threshold,
            normalise=normalise,
            vmin=None if normalise else lo,
            vmax=None if normalise else hi,
        ).encode("utf-8"),
        file_name=f"{run.name}-step{step}-{example}.html",
        mime="text/html",
        key="dl_html",
    )

# ---------------------------------------------------------------------------------------------
# Overview, alignment over training, your own text
# ---------------------------------------------------------------------------------------------
tab_matrix, tab_align, tab_text = st.tabs(
    ["Overview matrix", "Alignment over training", "Score your own text"]
)
with tab_matrix:
    st.plotly_chart(overview_matrix(weights_step), key="overview_matrix")
    st.caption("Examples × answer positions at this checkpoint; dots mark fact tokens.")
with tab_align:
    curves = []
    for label, info in [(run.name, run)] + [(n, o) for n, o, _ in compared]:
        e, e_err = common.evals(info.path)
        if e_err:
            st.warning(f"{label}: eval.jsonl is unreadable ({e_err}).")
        elif e is not None and not e.empty and "auroc" in e.columns:
            curves.append(e[["step", "auroc", "auprc"]].assign(run=label))
    if curves:
        frame = pd.concat(curves, ignore_index=True)
        a1, a2 = st.columns(2)
        a1.plotly_chart(auroc_over_steps(frame), key="auroc_curve")
        a2.plotly_chart(auroc_over_steps(frame, metric="auprc"), key="auprc_curve")
    else:
        st.info(
            "No evaluation records (eval.jsonl) for these runs: the run was launched with "
            "--no-eval, or it has not reached its first checkpoint."
        )
with tab_text:
    has_model = (run.path / "model").is_dir()
    if run.method == "oracle":
        st.info("The oracle's weights are the ground-truth spans: typed text has none to score.")
    elif not has_model:
        st.info(
            f"{run.name} has no saved model, so its scorer cannot be applied to new text"
            + (
                " (demo runs ship without models to stay small; launch a run of your own on "
                "the Run page)."
                if ctx.demo
                else ". Runs save their final model by default when it is small (under 100M "
                "parameters); otherwise launch with --save-model."
            )
        )
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
        from atwu.text_weights import TextWeightsError, weights_for_text

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
        frame = pd.DataFrame(
            [{"position": i, "token": t, "weight": w} for i, (t, w) in enumerate(saved[1])]
        )
        st.html(
            compare_html(
                [(f"{run.method} · {run.name} (final model)", frame)],
                threshold=threshold,
                show_spans=False,
            )
        )
