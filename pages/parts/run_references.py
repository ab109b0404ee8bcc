"""The Run page's "5 · References": the runs a comparison with the sidebar's run needs (uniform,
static_p and the oracle at its settings), their states, and one button that launches the missing
ones. It redraws itself while one of them is queued or running, or was just launched."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from atwu.app import jobs
from atwu.app.cli_text import ATWU
from atwu.app.polling import poll_interval, polling_should_stop
from atwu.app.references import (
    is_reference_run,
    launch_missing_references,
    log_for,
    references_of,
)
from atwu.runs.read import RunInfo
from pages.parts.sidebar import Context

STARTING_S = 20.0
"""After a click, the launched process plans the references within seconds; until they appear
the section says so (and polls) instead of offering the button again."""


def _just_launched(run: RunInfo) -> bool:
    launched = st.session_state.get("references_launched", {})
    return time.time() - launched.get(str(run.path), 0.0) < STARTING_S


def _section(run: RunInfo, runs_dir: Path) -> None:
    lines = references_of(run, runs_dir)
    live = any(line.state in ("queued", "running") for line in lines) or _just_launched(run)
    every = poll_interval(live)

    @st.fragment(run_every=every)
    def references_list() -> None:
        lines = references_of(run, runs_dir)
        missing = [line.variant for line in lines if not line.present]
        for line in lines:
            if line.state in ("failed", "cancelled"):
                st.error(line.text, icon=":material/error:")
            elif line.state in ("queued", "running"):
                st.progress(line.progress, text=line.text)
            else:
                st.markdown(f"- {line.text}")
        if missing and _just_launched(run):
            st.info("Starting the references: they appear here in a few seconds.")
        elif missing:
            if st.button(
                f"Run the references ({', '.join(missing)})",
                key="run_references",
                help="Launches the missing ones at this run's settings, one after another "
                f"(`{ATWU} references RUN`); finished, running and queued ones are "
                "not launched again.",
            ):
                launch_missing_references(run.path, runs_dir)
                st.session_state.setdefault("references_launched", {})[str(run.path)] = time.time()
                st.rerun()  # drawn again with its timer: the planned ones appear
        else:
            st.caption("All its references are there: compare them on Token scores.")
        log = log_for(run.path.name, runs_dir)
        if log.is_file():
            with st.expander("Log of the references"):
                st.code(jobs.log_tail(log, 15) or "(empty)", language="text")
        live_now = any(line.state in ("queued", "running") for line in lines)
        if polling_should_stop(every, live_now or _just_launched(run)):
            st.rerun()

    references_list()


def references_section(ctx: Context) -> None:
    """The references of the run picked in the sidebar (nothing for a demo run)."""
    run = ctx.run
    if ctx.demo or run is None or not run.config:
        st.caption("Pick a run of your own in the sidebar to see (or run) its references.")
        return
    st.caption(
        f"For `{run.name}`: what a comparison with it needs, at its settings (benchmark, split, "
        "run length, seed, evaluation)."
    )
    if is_reference_run(run):
        st.caption("It is itself a reference.")
        return
    _section(run, ctx.user_root)
