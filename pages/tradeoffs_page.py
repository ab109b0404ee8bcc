"""Trade-offs: each variant's frontier at matched forgetting (METHOD.md §4.6) with the validity
gate and ATWU against the comparator; then single runs: forget quality vs model utility through
their checkpoints, the best checkpoint by a stated rule, and forget quality explained by its two
truth-ratio histograms."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atwu.analysis.tradeoff import (
    BEST_RULE,
    DEFAULT_MIN_FORGET_QUALITY,
    best_checkpoint,
    pareto_front,
    tradeoff_points,
)
from atwu.app.cli_text import ATWU
from atwu.app.run_list import run_styles
from atwu.app.tradeoff_view import (
    best_text,
    evaluated_runs,
    meets_rule,
    no_best_text,
    sweep_ids,
    sweep_runs,
)
from atwu.app.tradeoff_view import default_runs as default_runs_of
from atwu.viz.tradeoff_figures import tradeoff_figure
from pages import common
from pages.parts import reads
from pages.parts.charts import show_chart
from pages.parts.frontier_section import frontier_section
from pages.parts.tradeoff_explained import truth_ratio_section
from pages.parts.url_state import keep, seed

ctx = common.context()
st.title("Trade-offs")
common.benchmark_note(ctx)
frontier_section(ctx)

st.header("Single runs: forget quality against model utility")
st.caption(
    "Forget quality (log scale) is the p-value of a KS test between the unlearned model's "
    "truth ratios on the forget questions and those of a model never trained on them: "
    "higher means harder to tell apart. Model utility is the harmonic mean of probability, "
    "ROUGE-L and truth ratio on the data to keep. Each line is one run through its "
    "checkpoints."
)

if not ctx.runs:
    common.no_run_message()
    st.stop()

candidates = evaluated_runs(ctx.runs)
if not candidates:
    st.info(
        "No run has evaluation records (eval.jsonl) yet: runs launched with --no-eval have "
        f"none, and a new run writes its first one at step 0. `{ATWU} eval RUN` "
        "evaluates a finished run."
    )
    st.stop()
names = [r.name for r in candidates]
sweeps = sweep_ids(candidates)


def _pick_sweep() -> None:
    sweep = st.session_state.get("sweep")
    if sweep and sweep != "(none)":
        st.session_state["tradeoff_runs"] = sweep_runs(candidates, sweep)


if sweeps:
    st.selectbox(
        "Sweep (selects all its runs)", ["(none)", *sweeps], key="sweep", on_change=_pick_sweep
    )
default_runs = default_runs_of(candidates, ctx.run)
seed(
    "tradeoff_runs",
    "runs",
    multi=True,
    default=default_runs,
    valid=lambda v: isinstance(v, list) and bool(v) and set(v) <= set(names),
)
chosen = st.multiselect("Runs", names, key="tradeoff_runs", format_func=ctx.label)
keep("tradeoff_runs", "runs", to_url=lambda v: None if v == default_runs else v)
if not chosen:
    st.info("Pick at least one run.")
    st.stop()

evals: dict[str, pd.DataFrame] = {}
for name in chosen:
    frame, err = reads.evals(ctx.get(name).path)
    if err:
        st.error(
            f"{name}: eval.jsonl is unreadable ({err}); left out. "
            f"`{ATWU} eval {ctx.get(name).path}` rewrites it."
        )
        continue
    evals[name] = frame
points = tradeoff_points(evals)
if points.empty:
    st.warning(
        "None of these runs has a checkpoint with both forget quality and model utility "
        "(quick evaluation computes them only at step 0 and the final step; a run that "
        "has just started has step 0 only once it is evaluated)."
    )
    st.stop()

c1, c2 = st.columns([1, 3])
with c1:
    min_fq = st.number_input(
        'Forget quality needed for "best"',
        min_value=0.0,
        max_value=1.0,
        value=DEFAULT_MIN_FORGET_QUALITY,
        step=0.01,
        format="%.3f",
        key="min_fq",
    )
best = best_checkpoint(points, min_forget_quality=min_fq)
rule = BEST_RULE.format(min_fq=min_fq)
met = meets_rule(best, min_fq)
with c2:
    if met:
        st.markdown(best_text(best))
    elif not best.empty:
        st.warning(no_best_text(best, min_fq))
    st.caption(f"Rule: {rule}.")

show_front = st.toggle("Show the Pareto front", value=True, key="show_front")
styles = run_styles([ctx.get(n) for n in evals])
fig = tradeoff_figure(points, best=best, show_front=show_front, styles=styles)
if not met:  # the star marks the rule's fallback, not a checkpoint that meets it
    fig.update_traces(name="highest forget quality", selector=dict(name="best checkpoint"))
show_chart(fig, key="tradeoff")
st.caption(
    "Colour: method (variant); marker: seed; an open ring marks where each run starts (its "
    "first evaluated checkpoint)."
)
front = pareto_front(points)
with st.expander(f"Pareto front ({len(front)} checkpoints no other one beats on both axes)"):
    st.dataframe(
        front.rename(
            columns={"forget_quality": "forget quality", "model_utility": "model utility"}
        ),
        hide_index=True,
    )
with st.expander("All evaluated checkpoints"):
    st.dataframe(points, hide_index=True)

truth_ratio_section(ctx, chosen, best, evals)
