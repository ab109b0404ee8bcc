"""The Run page's "4 · Active runs": launched runs with their progress, cancel and clear, the log
of a failed one, and live curves. It redraws itself every few seconds only while a run is queued
or running (:func:`atwu.app.polling.poll_interval`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from atwu.app import jobs
from atwu.app.active_runs import (
    FAILED_LOG_LINES,
    LOG_LINES,
    ActiveRun,
    active_runs,
    any_live,
    watch_choice,
    watchable,
)
from atwu.app.polling import poll_interval, polling_should_stop
from atwu.viz.training_figures import auroc_over_steps, loss_curves
from pages import common
from pages.parts import reads
from pages.parts.charts import show_chart


def _cancel(run: ActiveRun) -> None:
    if run.is_sweep:  # the sweep and the runs it started: its whole process group
        record = jobs.read_launch(run.path) or {}
        pid = record.get("pid")  # verified with its start time: a pid may have been reused
        sent = bool(pid) and jobs.stop_process(int(pid), record.get("pid_start"))
        (st.toast if sent else st.warning)(
            f"asked the sweep {run.name} to stop" if sent else f"{run.name} is not running"
        )
        return
    result = jobs.cancel_run(run.path)
    (st.toast if result.sent else st.warning)(result.message)


def _sweep_runs(run: ActiveRun) -> None:
    for child in run.runs:
        cols = st.columns([3, 3, 1])
        cols[0].markdown(f"`{child.path.name}` · `{child.state}`")
        if child.progress is not None:
            cols[1].progress(child.progress, text=child.progress_text.split(" · device")[0])
        if child.state == "done":
            cols[2].page_link(
                common.PAGES["tokens"], label="Token scores", query_params={"run": child.name}
            )


def _run_line(run: ActiveRun) -> None:
    with st.container(border=True):
        top = st.columns([4, 1, 1])
        kind = "sweep · " if run.is_sweep else ""
        top[0].markdown(f"**{run.name}** · {kind}{run.method} · `{run.state}`")
        if run.live:
            if top[1].button("Cancel", key=f"cancel_{run.name}"):
                _cancel(run)
        elif top[1].button(
            "Clear",
            key=f"clear_{run.name}",
            help="remove it from this list (the run directory stays)",
        ):
            jobs.forget_launch(run.path)
            st.rerun(scope="fragment")
        if run.state == "done" and not run.is_sweep:
            top[2].page_link(
                common.PAGES["tokens"], label="Token scores", query_params={"run": run.name}
            )
        if run.progress is not None:
            st.progress(run.progress, text=run.progress_text)
        elif run.is_sweep:
            st.caption(run.progress_text)
        _sweep_runs(run)
        if run.state == "failed":
            st.error(f"Failed: {run.failure}. The end of its log:")
            tail = jobs.log_tail(run.log, FAILED_LOG_LINES) if run.log else ""
            st.code(tail or "(no log)", language="text")
        elif run.log is not None:
            with st.expander("Log"):
                st.code(jobs.log_tail(run.log, LOG_LINES) or "(empty)", language="text")


def _live_curves(runs: list[ActiveRun]) -> None:
    watch = watchable(runs)
    if not watch:
        return
    names = [r.name for r in watch]
    launched = st.session_state.get("just_launched", [])
    choice = watch_choice(runs, st.session_state.get("live_run"), launched)
    if choice != st.session_state.get("live_run"):
        st.session_state["live_run"] = choice
    if (
        launched
        and choice is not None
        and any(choice == n or choice.startswith(f"{n}/") for n in launched)
    ):
        st.session_state["just_launched"] = []  # followed: the user's own pick counts again
    pick = st.selectbox("Live curves of", names, key="live_run")
    path = next(r.path for r in watch if r.name == pick)
    log, err = reads.train_log(path)
    evals, err2 = reads.evals(path)
    left, right = st.columns(2)
    if err or err2:
        st.warning(f"Could not read the curves of {pick}: {err or err2}")
        return
    show_chart(loss_curves(log), key="live_loss", where=left)
    if evals is not None and not evals.empty and "auroc" in evals.columns:
        show_chart(auroc_over_steps(evals.assign(run=pick)), key="live_auroc", where=right)
    else:
        right.caption("Alignment AUROC appears after the first checkpoint.")


def active_runs_section(runs_dir: Path) -> None:
    """Draw the list; it polls only while something is live, and redraws the whole page (to
    drop its timer) once nothing is."""
    every = poll_interval(any_live(active_runs(runs_dir)))

    @st.fragment(run_every=every)
    def active_runs_list() -> None:
        runs = active_runs(runs_dir)
        if not runs:
            st.caption(
                "No runs launched from here yet. Launched runs are listed here while they "
                "run and after they end, until you clear them."
            )
        for run in runs:
            _run_line(run)
        _live_curves(runs)
        if polling_should_stop(every, any_live(runs)):
            st.rerun()

    active_runs_list()
