"""Home's first run: the button that installs the prepared benchmark (or prepares it) and
launches one ATWU run, the progress of whatever is being prepared, and a status card of the
latest run launched from the app, linking to Run and Token scores. Each part redraws itself on a
timer only while something it watches is live; the page is redrawn as a whole when the first run
of your own appears, so the sidebar switches from the demo runs to it without a reload."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from atwu.app import jobs as L
from atwu.app.active_runs import active_runs
from atwu.app.first_run import FIRST_RUN_TIME, launch_default_run_once, start_first_run
from atwu.app.polling import poll_interval, polling_should_stop
from atwu.app.references import launched_for
from atwu.app.run_list import list_all_runs
from atwu.paths import atwu_home, default_benchmark_dir
from atwu.prepare.shipped import shipped_problem
from pages import common
from pages.parts.sidebar import Context


def _prepare_progress(job_file: Path, runs_dir: Path) -> None:
    job = L.prepare_status(job_file)
    every = poll_interval(job is not None and job["state"] == "running")

    @st.fragment(run_every=every)
    def prepare_progress() -> None:
        job = L.prepare_status(job_file)
        if job is None:
            return
        if job["state"] == "done":
            out = launch_default_run_once(job_file, runs_dir)
            st.success("The benchmark is ready." + (f" Launched `{out.name}`." if out else ""))
            st.rerun()  # redraw the whole page with the benchmark summary and the run's card
        elif job["state"] == "cancelled":
            st.info("Preparing the benchmark was cancelled; press the button to start again.")
        elif job["state"] == "failed":
            st.error(
                "Preparing the benchmark stopped before it finished; the end of its log is "
                "below. Fix the cause and press the button again."
            )
            st.code(L.log_tail(job["log"], 20) or "(empty log)", language="text")
        else:
            st.progress(min(1.0, job["fraction"]), text=f"Preparing: {job['message']}")
            if st.button("Cancel", key="prepare_cancel", help="Stop preparing the benchmark."):
                result = L.cancel_prepare(job_file)  # verified by pid and start time
                (st.toast if result.sent else st.warning)(result.message)
            with st.expander("Log"):
                st.code(L.log_tail(job["log"], 12) or "(starting)", language="text")
        if polling_should_stop(every, job["state"] == "running"):
            st.rerun()  # the job ended: redraw the page, without the timer

    prepare_progress()


def _button(label: str, runs_dir: Path, bench_dir: Path, job_file: Path, busy: bool) -> None:
    if st.button(label, key="prepare", type="primary", disabled=busy):
        start = start_first_run(job_file, bench_dir, runs_dir)
        if start.preparing and start.why_prepare:
            st.session_state["first_run_note"] = (
                f"The prepared benchmark shipped with the app was not used ({start.why_prepare}); "
                "preparing it from scratch instead (it trains the models: minutes on a CPU)."
            )
        st.rerun()


def _status_card(ctx: Context, runs_dir: Path) -> None:
    """The latest run launched from the app: state, progress, time left, links."""
    if not L.list_launches(runs_dir):
        return
    latest = active_runs(runs_dir)[0]
    every = poll_interval(latest.live or _references_live(latest.name, runs_dir))

    @st.fragment(run_every=every)
    def first_run_card() -> None:
        run = active_runs(runs_dir)[0]  # the newest launch first (a run or a sweep)
        shown = run.runs[0] if run.is_sweep and run.runs else run  # a sweep: its first run
        refs_live = _references_live(run.name, runs_dir)
        with st.container(border=True):
            top = st.columns([3, 1, 1])
            top[0].markdown(f"**Your latest run**: `{run.name}` · {run.method} · `{run.state}`")
            top[1].page_link(common.PAGES["run"], label="Run page", icon=":material/play_arrow:")
            top[2].page_link(
                common.PAGES["tokens"],
                label="Token scores",
                icon=":material/format_color_text:",
                query_params={"run": shown.name},
                disabled=not shown.has_dir,
            )
            if run.progress is not None:
                st.progress(run.progress, text=run.progress_text)
            elif run.live:
                st.progress(0.0, text="starting: loading Python, torch and the model")
            if run.state == "failed":
                st.error(f"It failed: {run.failure}. The end of its log:")
                st.code(L.log_tail(run.log, 12) if run.log else "(no log)", language="text")
            _references_line(run.name, runs_dir)
        if (ctx.demo_in_place or not ctx.runs) and list_all_runs(runs_dir):
            st.rerun()  # your first run exists: redraw the page so the sidebar lists it
        if polling_should_stop(every, run.live or refs_live):
            st.rerun()

    first_run_card()


def _references_live(run_name: str, runs_dir: Path) -> bool:
    return any(line.state in ("queued", "running") for line in launched_for(run_name, runs_dir))


def _references_line(run_name: str, runs_dir: Path) -> None:
    """The references launched with the run (uniform, static_p, the oracle): one line of their
    states, an error for a failed one, and where to compare once they are done."""
    lines = launched_for(run_name, runs_dir)
    if all(line.run is None for line in lines):
        return  # launched without references (from the Run page): its section there has them
    st.caption("References for comparison: " + " · ".join(line.text for line in lines))
    for line in lines:
        if line.state in ("failed", "cancelled"):
            st.error(
                f"The {line.variant} reference {line.state}: "
                f"{line.run.status.get('message') if line.run else ''}. The Run page's "
                "References section launches it again."
            )
    if all(line.state == "done" for line in lines):
        st.page_link(
            common.PAGES["tokens"],
            label="Compare its token weights with the references",
            icon=":material/compare:",
            query_params={"run": run_name},
        )


def first_run_section(ctx: Context) -> None:
    """The button (when there is no benchmark, or no run of your own yet), prepare progress,
    and the latest run's card."""
    runs_dir, bench_dir = ctx.user_root, default_benchmark_dir()
    job_file = L.prepare_job_file(atwu_home(), bench_dir)  # one job per output, all sessions
    job = L.prepare_status(job_file)
    preparing = job is not None and job["state"] == "running"
    prepared = (bench_dir / "manifest.json").is_file()
    has_own = bool(list_all_runs(runs_dir)) or bool(L.list_launches(runs_dir))
    if st.session_state.get("first_run_note"):
        st.info(st.session_state["first_run_note"])
    if not prepared:
        shipped = shipped_problem() is None
        st.warning(
            f"The embedded benchmark is not prepared yet (nothing at `{bench_dir}`). "
            + (
                "The app ships it prepared (200 fictitious authors with their tiny target, "
                "retain and base models): one click installs it and launches a first ATWU run "
                "with the default settings (quick evaluation) and the references to compare it "
                f"with (uniform, static_p, the oracle). {FIRST_RUN_TIME}"
                if shipped
                else "Preparing it generates 200 fictitious authors and trains the tiny target, "
                "retain and base models (minutes on a CPU, no network); then one default ATWU "
                "run is launched with its references."
            )
        )
        label = (
            "Install the benchmark and launch a first ATWU run"
            if shipped
            else "Prepare the benchmark and launch a default ATWU run"
        )
        _button(label, runs_dir, bench_dir, job_file, preparing)
        _prepare_progress(job_file, runs_dir)
    elif not has_own:
        st.info(
            "The benchmark is prepared and you have no run of your own yet: launch ATWU with "
            "its default settings (quick evaluation) and its references (uniform, static_p, the "
            f"oracle), or choose methods and settings on the Run page. {FIRST_RUN_TIME}"
        )
        _button("Launch a first ATWU run", runs_dir, bench_dir, job_file, preparing)
    _status_card(ctx, runs_dir)
