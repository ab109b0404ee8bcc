"""Home: what the project is, the prepared benchmark, quick links; prepares the benchmark when
it is missing (and then launches a default ATWU run)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from atwu.app import jobs as L
from atwu.app.benchmarks import benchmark_summary
from atwu.paths import atwu_home, default_benchmark_dir
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

JOB = atwu_home() / ".app" / "prepare-embedded.json"


def _launch_default_run() -> Path | None:
    """Start one default ATWU run, once (an exclusive marker file guards double launches)."""
    from atwu.paths import runs_dir

    marker = JOB.with_name("default-run-launched")
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return None
    out = L.fresh_run_dir(runs_dir(), "atwu-default-s0")
    L.launch_run(L.build_run_args("atwu"), out, L.log_path_for(runs_dir(), out.name))
    return out


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
        JOB.parent.mkdir(parents=True, exist_ok=True)
        JOB.with_name("default-run-launched").unlink(missing_ok=True)
        L.start_prepare(["prepare"], JOB, bench_dir)
        st.rerun()

    @st.fragment(run_every=2)
    def prepare_progress() -> None:
        job = L.prepare_status(JOB)
        if job is None:
            return
        if job["state"] == "done":
            out = _launch_default_run()
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

    prepare_progress()

st.subheader("Where things are")
st.markdown(
    f"- Data home: `{atwu_home()}` (set `ATWU_HOME` to move it): `benchmarks/` and `runs/`.\n"
    "- Everything the app does is a command you can type: `python -m atwu prepare`, "
    "`python -m atwu run --method atwu`, `python -m atwu compare RUN...`; "
    "`python -m atwu --help` lists them.\n"
    f"- Runs shown now: `{ctx.root}`" + (" (**demo**)" if ctx.demo else "") + "."
)
