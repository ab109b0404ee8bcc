"""The Trade-offs page's "Forget quality, explained": the two truth-ratio samples behind forget
quality at one checkpoint (the unlearned model's and the retain model's) and their KS test."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atwu.analysis.tradeoff import truth_ratio_comparison, truth_ratio_steps
from atwu.app.benchmarks import retain_reference_path
from atwu.app.cli_text import ATWU
from atwu.app.run_list import forget_split_of
from atwu.app.tradeoff_view import (
    best_run,
    default_step,
    ks_caption,
    recorded_forget_quality,
    recorded_ks_interval,
)
from atwu.viz.tradeoff_figures import truth_ratio_histograms
from pages.parts import reads
from pages.parts.charts import show_chart
from pages.parts.sidebar import Context
from pages.parts.url_state import seed


def truth_ratio_section(
    ctx: Context, chosen: list[str], best: pd.DataFrame, evals: dict[str, pd.DataFrame]
) -> None:
    st.subheader("Forget quality, explained")
    st.caption(
        "Per forget question, the truth ratio R compares the model's probability of wrong "
        "(perturbed) answers with the correct (paraphrased) one. Forget quality is the KS "
        "test between the unlearned model's R values and the retain model's: the KS "
        "statistic is the largest gap between their cumulative distributions."
    )
    seed("tr_run", None, valid=lambda v: v in chosen, default=best_run(best, chosen))
    tr_name = st.selectbox("Run", chosen, key="tr_run", format_func=ctx.label)
    tr_run = ctx.get(tr_name)
    split = forget_split_of(tr_run.config)
    ev, err = reads.eval_examples(tr_run.path)
    if err:
        st.error(
            f"{tr_name}: eval_examples.parquet is unreadable ({err}). "
            f"`{ATWU} eval {tr_run.path}` rebuilds it."
        )
        return
    tr_steps = truth_ratio_steps(ev, split)
    ref_path = retain_reference_path(tr_run.path, tr_run.config)
    if not tr_steps:
        st.info(
            f"{tr_name} has no per-question truth ratios on {split} (it was not evaluated with "
            "the model, or its benchmark has no perturbed answers)."
        )
        return
    if ref_path is None:
        st.warning(
            f"The retain model's truth ratios for {split} were not found (the benchmark's "
            f"eval_cache/retain_reference_{split}.json). They are computed when a run on "
            "this benchmark is evaluated; the benchmark directory may have moved."
        )
        return
    seed(
        "tr_step",
        None,
        valid=lambda v: v in tr_steps,
        default=default_step(best, tr_name, tr_steps),
    )
    tr_step = st.select_slider("Checkpoint", options=tr_steps, key="tr_step")
    reference, err = reads.json_file(ref_path)
    if err:
        st.error(
            f"{ref_path} is unreadable ({err}); delete it and evaluate a run again to rebuild it."
        )
        return
    cmp = truth_ratio_comparison(ev, split, tr_step, reference)
    fig = truth_ratio_histograms(cmp["unlearned"], cmp["retain"], cmp["ks"], cmp["p_value"])
    fig.update_xaxes(title="log10 truth ratio R (the KS test is unchanged by the log)")
    show_chart(fig, key="truth_ratios")
    run_evals = evals.get(tr_name)
    st.caption(
        ks_caption(
            cmp,
            recorded_forget_quality(run_evals, tr_step),
            recorded_ks_interval(run_evals, tr_step),
        )
    )
