"""Home: what the project is, the prepared benchmark, quick links; prepares the benchmark when
it is missing (and then launches a default ATWU run)."""

from __future__ import annotations

import streamlit as st

from atwu.app import jobs as L
from atwu.app.benchmarks import benchmark_summary
from atwu.app.first_run import launch_default_run_once, prepare_job_file, start_embedded_prepare
from atwu.app.polling import poll_interval, polling_should_stop
from atwu.paths import atwu_home, default_benchmark_dir, runs_dir
from pages import common

ctx = common.context()

st.title("ATWU: token-level unlearning")
st.markdown(
    "**Alternating Token-Weighted Unlearning** (ATWU) makes a language model forget a set of "
    "facts by pushing down only the answer tokens that carry them. A small learned scorer reads "
    "the model's hidden states and decides, token by token, which ones to forget; the model and "
    "the scorer are updated in turn, and a retain loss keeps everything else.\n\n"
    "This project is a reconstruction from the published summary: ATWU, its token-weighting "
    "baselines (WGA, SatImp, TNPO, an auxiliary-model weighting, the ground-truth *oracle*) and "
    "sample-level ones (gradient difference, NPO, ...), on a synthetic TOFU-like benchmark that "
    "runs offline on a CPU in minutes, with TOFU's metrics (forget quality, model utility) and "
    "alignment of the token weights with the ground-truth fact spans."
)

st.subheader("Pages")
cols = st.columns(4)
links = [
    ("run", "Run", ":material/play_arrow:", "launch methods, watch them train"),
    (
        "tokens",
        "Token scores",
        ":material/format_color_text:",
        "which tokens each method forgets, against the facts",
    ),
    (
        "tradeoffs",
        "Trade-offs",
        ":material/scatter_plot:",
        "forget quality vs model utility over training",
    ),
    (
        "comparison",
        "Method comparison",
        ":material/leaderboard:",
        "final metrics per method, mean ± std over seeds",
    ),
]
for col, (key, label, icon, what) in zip(cols, links):
    with col:
        st.page_link(common.PAGES[key], label=label, icon=icon)
        st.caption(what)
if ctx.demo:
    st.info(
        "The sidebar shows the **demo** runs shipped with the app: look around the pages "
        "with them, then prepare the benchmark below and launch your own runs."
    )

st.subheader("The prepared benchmark")
bench_dir = default_benchmark_dir()
summary = benchmark_summary(bench_dir)

JOB = prepare_job_file(atwu_home())


if summary is not None:
    c1, c2, c3 = st.columns(3)
    c1.metric("authors", summary["authors"] or "–")
    c2.metric("default forget split", summary["default_split"] or "–")
    c3.metric(
        "prepared in", f"{summary['prepare_seconds']:.0f} s" if summary["prepare_seconds"] else "–"
    )
    st.caption(f"`{summary['root']}` ({summary['kind']})")
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
else:
    st.warning(
        f"The embedded benchmark is not prepared yet (nothing at `{bench_dir}`). Preparing "
        "it generates 200 fictitious authors and trains the tiny target, retain and base "
        "models: a few minutes on a CPU, no network needed. Then one default ATWU run is "
        "launched so the other pages have something of your own to show."
    )
    job = L.prepare_status(JOB)
    running = job is not None and job["state"] == "running"
    if st.button(
        "Prepare the benchmark and launch a default ATWU run",
        key="prepare",
        type="primary",
        disabled=running,
    ):
        start_embedded_prepare(JOB, bench_dir)
        st.rerun()

    every = poll_interval(running)  # a timer only while the job runs

    @st.fragment(run_every=every)
    def prepare_progress() -> None:
        job = L.prepare_status(JOB)
        if job is None:
            return
        if job["state"] == "done":
            out = launch_default_run_once(JOB, runs_dir())
            st.success("The benchmark is ready." + (f" Launched `{out.name}`." if out else ""))
            st.rerun()  # redraw the whole page with the benchmark summary
        elif job["state"] == "failed":
            st.error(
                "Preparing the benchmark stopped before it finished; the end of its log is "
                "below. Fix the cause and press the button again."
            )
            st.code(L.log_tail(job["log"], 20) or "(empty log)", language="text")
        else:
            st.progress(min(1.0, job["fraction"]), text=f"Preparing: {job['message']}")
            with st.expander("Log"):
                st.code(L.log_tail(job["log"], 12) or "(starting)", language="text")
        if polling_should_stop(every, job["state"] == "running"):
            st.rerun()  # the job ended: redraw the page, without the timer

    prepare_progress()

st.subheader("Where things are")
st.markdown(
    f"- Data home: `{atwu_home()}` (set `ATWU_HOME` to move it): `benchmarks/` and `runs/`.\n"
    "- Everything the app does is a command you can type: `python -m atwu prepare`, "
    "`python -m atwu run --method atwu`, `python -m atwu compare RUN...`; "
    "`python -m atwu --help` lists them.\n"
    f"- Runs shown now: `{ctx.root}`" + (" (**demo**)" if ctx.demo else "") + "."
)
