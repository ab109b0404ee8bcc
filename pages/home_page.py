"""Home: what the project is, a first run of your own with its references (the prepared benchmark
installed, one ATWU run and uniform, static_p and the oracle launched with one click, their
progress and a card linking to their pages), quick links, the prepared benchmark."""

from __future__ import annotations

import streamlit as st

from atwu.app.benchmarks import benchmark_summary, models_text
from atwu.app.cli_text import ATWU
from atwu.paths import atwu_home, default_benchmark_dir
from pages import common
from pages.parts.home_first_run import first_run_section

ctx = common.context()

st.title("ATWU: token-level unlearning")
st.markdown(
    "**Alternating Token-Weighted Unlearning** (ATWU) makes a language model forget a set of "
    "facts by pushing down only the answer tokens that carry them. A small learned scorer reads "
    "the model's hidden states and decides, token by token, which ones to forget; the model and "
    "the scorer are updated in turn, and a retain loss keeps everything else.\n\n"
    "This project is a reconstruction from the published summary: ATWU, its token-weighting "
    "baselines (WGA, SatImp, TNPO, an auxiliary-model weighting, our reconstructions of the "
    "2026 heuristics ETW and TokenUnlearn, the ground-truth *oracle* and its variants) and "
    "sample-level ones (gradient difference, NPO, ...), on a synthetic TOFU-like benchmark that "
    "runs offline on a CPU in minutes, with TOFU's metrics (forget quality, model utility) and "
    "alignment of the token weights with the ground-truth fact spans."
)

first_run_section(ctx)

st.subheader("Pages")
listed = [spec for spec in common.PAGE_TABLE if spec.blurb]  # every page but Home
for col, spec in zip(st.columns(len(listed)), listed):
    with col:
        st.page_link(spec.file, label=spec.title, icon=spec.icon)
        st.caption(spec.blurb)
if ctx.demo:
    st.info(
        "The sidebar shows the **demo** runs shipped with the app: look around the pages with "
        "them, or launch a run of your own above."
    )
    common.benchmark_note(ctx)

bench_dir = default_benchmark_dir()
summary = benchmark_summary(bench_dir)
if summary is not None:
    st.subheader("The prepared benchmark")
    c1, c2, c3 = st.columns(3)
    c1.metric("authors", summary["authors"] or "–")
    c2.metric("default forget split", summary["default_split"] or "–")
    c3.metric("models", "shipped copy" if summary["installed_from_shipped"] else "prepared here")
    st.caption(f"`{summary['root']}` ({summary['kind']}): {models_text(summary)}.")
    left, right = st.columns([2, 3])
    with left:
        st.markdown("**Splits** (question–answer pairs)")
        st.dataframe(summary["splits"], hide_index=True, width="stretch")
    with right:
        st.markdown(
            "**Models** and how well they memorised their data (exact match: share of "
            "answers reproduced token for token)"
        )
        st.dataframe(summary["models"], hide_index=True, width="stretch")

st.subheader("Where things are")
st.markdown(
    f"- Data home: `{atwu_home()}` (set `ATWU_HOME` to move it): `benchmarks/` and `runs/`.\n"
    f"- Everything the app does is a command you can type: `{ATWU} prepare`, "
    f"`{ATWU} run --method atwu`, `{ATWU} compare RUN...`; "
    f"`{ATWU} --help` lists them.\n"
    f"- Runs shown now: `{ctx.root}`" + (" (**demo**)" if ctx.demo else "") + "."
)
