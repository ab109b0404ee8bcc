"""Trade-offs: forget quality vs model utility through each run's checkpoints, the Pareto front,
the best checkpoint by a stated rule, and forget quality explained by its two truth-ratio
histograms."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from atwu.analysis.tradeoff import (
    BEST_RULE,
    DEFAULT_MIN_FORGET_QUALITY,
    best_checkpoint,
    pareto_front,
    tradeoff_points,
    truth_ratio_comparison,
    truth_ratio_steps,
)
from atwu.app.benchmarks import retain_reference_path
from atwu.app.run_list import forget_split_of
from atwu.viz.tradeoff_figures import tradeoff_figure, truth_ratio_histograms
from pages import common

ctx = common.context()
st.title("Trade-offs")
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

candidates = [r for r in ctx.runs if (r.path / "eval.jsonl").is_file()]
if not candidates:
    st.info(
        "No run has evaluation records (eval.jsonl) yet: runs launched with --no-eval have "
        "none, and a new run writes its first one at step 0. `python -m atwu eval RUN` "
        "evaluates a finished run."
    )
    st.stop()
names = [r.name for r in candidates]
sweeps = sorted({r.config.get("sweep_id") for r in candidates if r.config.get("sweep_id")})


def _default_runs() -> list[str]:
    primary = ctx.run.name if ctx.run and ctx.run.name in names else None
    split = forget_split_of(ctx.run.config) if ctx.run else None
    same = [n for n in names if forget_split_of(ctx.by_name(n).config) == split]
    out = ([primary] if primary else []) + [n for n in same if n != primary]
    return out[:12] or names[:12]


def _pick_sweep() -> None:
    sweep = st.session_state.get("sweep")
    if sweep and sweep != "(none)":
        st.session_state["tradeoff_runs"] = [
            r.name for r in candidates if r.config.get("sweep_id") == sweep
        ]


if sweeps:
    st.selectbox(
        "Sweep (selects all its runs)", ["(none)", *sweeps], key="sweep", on_change=_pick_sweep
    )
default_runs = _default_runs()
common.seed(
    "tradeoff_runs",
    "runs",
    multi=True,
    default=default_runs,
    valid=lambda v: isinstance(v, list) and bool(v) and set(v) <= set(names),
)
chosen = st.multiselect("Runs", names, key="tradeoff_runs", format_func=ctx.label)
common.keep("tradeoff_runs", "runs", to_url=lambda v: None if v == default_runs else v)
if not chosen:
    st.info("Pick at least one run.")
    st.stop()

evals: dict[str, pd.DataFrame] = {}
for name in chosen:
    frame, err = common.evals(ctx.by_name(name).path)
    if err:
        st.error(
            f"{name}: eval.jsonl is unreadable ({err}); left out. "
            f"`python -m atwu eval {ctx.by_name(name).path}` rewrites it."
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
with c2:
    if not best.empty:
        b = best.iloc[0]
        st.markdown(
            f"**Best checkpoint**: `{b['run']}` at step **{int(b['step'])}** — forget "
            f"quality {b['forget_quality']:.3g}, model utility {b['model_utility']:.3f}."
        )
        st.caption(f"Rule: {rule}.")

show_front = st.toggle("Show the Pareto front", value=True, key="show_front")
fig = tradeoff_figure(points, best=best, show_front=show_front)
if len(chosen) > 3:  # many runs: a legend column on the right instead of rows over the title
    fig.update_layout(legend=dict(orientation="v", x=1.02, y=1, xanchor="left", yanchor="top"))
st.plotly_chart(fig, key="tradeoff")
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

# ---------------------------------------------------------------------------------------------
# Why this forget quality: the two truth-ratio samples
# ---------------------------------------------------------------------------------------------
st.subheader("Forget quality, explained")
st.caption(
    "Per forget question, the truth ratio R compares the model's probability of wrong "
    "(perturbed) answers with the correct (paraphrased) one. Forget quality is the KS "
    "test between the unlearned model's R values and the retain model's: the KS "
    "statistic is the largest gap between their cumulative distributions."
)
default_run = best.iloc[0]["run"] if not best.empty and best.iloc[0]["run"] in chosen else chosen[0]
common.seed("tr_run", None, valid=lambda v: v in chosen, default=default_run)
tr_name = st.selectbox("Run", chosen, key="tr_run", format_func=ctx.label)
tr_run = ctx.by_name(tr_name)
split = forget_split_of(tr_run.config)
ev, err = common.eval_examples(tr_run.path)
if err:
    st.error(
        f"{tr_name}: eval_examples.parquet is unreadable ({err}). "
        f"`python -m atwu eval {tr_run.path}` rebuilds it."
    )
    st.stop()
tr_steps = truth_ratio_steps(ev, split)
ref_path = retain_reference_path(tr_run.path, tr_run.config)
if not tr_steps:
    st.info(
        f"{tr_name} has no per-question truth ratios on {split} (it was not evaluated with "
        "the model, or its benchmark has no perturbed answers)."
    )
    st.stop()
if ref_path is None:
    st.warning(
        f"The retain model's truth ratios for {split} were not found (the benchmark's "
        f"eval_cache/retain_reference_{split}.json). They are computed when a run on "
        "this benchmark is evaluated; the benchmark directory may have moved."
    )
    st.stop()
best_step = int(best.iloc[0]["step"]) if not best.empty and best.iloc[0]["run"] == tr_name else None
common.seed(
    "tr_step",
    None,
    valid=lambda v: v in tr_steps,
    default=best_step if best_step in tr_steps else tr_steps[-1],
)
tr_step = st.select_slider("Checkpoint", options=tr_steps, key="tr_step")
reference, err = common.json_file(ref_path)
if err:
    st.error(f"{ref_path} is unreadable ({err}); delete it and evaluate a run again to rebuild it.")
    st.stop()
cmp = truth_ratio_comparison(ev, split, tr_step, reference)
fig = truth_ratio_histograms(cmp["unlearned"], cmp["retain"], cmp["ks"], cmp["p_value"])
fig.update_xaxes(title="log10 truth ratio R (the KS test is unchanged by the log)")
st.plotly_chart(fig, key="truth_ratios")
recorded = evals.get(tr_name)
row = recorded[recorded["step"] == tr_step] if recorded is not None and not recorded.empty else None
fq = row["forget_quality"].iloc[0] if row is not None and len(row) else math.nan
st.caption(
    f"{cmp['n_unlearned']} unlearned vs {cmp['n_retain']} retain-model questions: KS "
    f"statistic {cmp['ks']:.3f}, p-value {cmp['p_value']:.3g}"
    + (
        f" (eval.jsonl records forget quality {fq:.3g} at this step)."
        if fq is not None and not (isinstance(fq, float) and math.isnan(fq))
        else "."
    )
)
