"""The Run page's "your own files": upload two JSON Lines files, prepare them into a benchmark
in the background, follow that job (this session's: its job file is kept in the session), stop
it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from atwu.app import jobs
from atwu.app.polling import poll_interval, polling_should_stop
from atwu.app.uploads import benchmark_name, stage_upload, start_upload_prepare
from atwu.errors import InputError
from atwu.paths import atwu_home, benchmarks_dir

JOB = "up_job"
"""Session key: the job file of the prepare this session started or joined."""


def _job() -> dict | None:
    job_file = st.session_state.get(JOB)
    return jobs.prepare_status(job_file) if job_file else None


def _progress(every: float | None) -> None:
    """The prepare job's progress, redrawn on a timer only while it runs."""

    @st.fragment(run_every=every)
    def upload_progress() -> None:
        job = _job()
        if job is None:
            return
        name = Path(job["out"]).name
        if job["state"] == "done":
            st.success(f"Benchmark `{name}` is ready: pick it in the Benchmark list above.")
            if st.button("Refresh the list", key="up_refresh"):
                st.rerun()
        elif job["state"] == "cancelled":
            st.info(f"Preparing `{name}` was cancelled; nothing was added to the list.")
        elif job["state"] == "failed":
            st.error(
                f"Preparing `{name}` failed. The end of its log (the first lines name the "
                "file and line at fault):"
            )
            st.code(jobs.log_tail(job["log"], 15) or "(empty log)", language="text")
        else:
            st.progress(min(1.0, job["fraction"]), text=f"Preparing `{name}`: {job['message']}")
            if st.button("Cancel", key="up_cancel", help="Stop this prepare job."):
                result = jobs.cancel_prepare(st.session_state[JOB])
                (st.toast if result.sent else st.warning)(result.message)
        if polling_should_stop(every, job["state"] == "running"):
            st.rerun()  # the job ended: redraw the page, without the timer

    upload_progress()


def upload_section() -> None:
    st.markdown(
        "Two JSON Lines files of question–answer pairs (one object per line: "
        '`{"id", "question", "answer"}`, optional `"spans": [[start, end, label], '
        "...]`). They are turned into a benchmark with its own tiny models (a few "
        "minutes), then it appears in the list above."
    )
    c1, c2 = st.columns(2)
    forget_file = c1.file_uploader("Forget pairs", type=["jsonl", "json"], key="up_forget")
    retain_file = c2.file_uploader("Retain pairs", type=["jsonl", "json"], key="up_retain")
    typed = st.text_input(
        "Benchmark name",
        key="up_name",
        help="Letters, digits, '.', '-', '_' (anything else becomes '-').",
    )
    if (
        st.button(
            "Prepare this benchmark", key="up_prepare", disabled=not (forget_file and retain_file)
        )
        and forget_file
        and retain_file
    ):
        try:
            staged = stage_upload(
                forget_file.getvalue(),
                retain_file.getvalue(),
                name=benchmark_name(typed, forget_file.name),
                home=atwu_home(),
                benchmarks=benchmarks_dir(),
            )
        except InputError as exc:
            st.error(str(exc))
        else:
            job_file = jobs.prepare_job_file(atwu_home(), staged.target)
            st.session_state[JOB] = str(job_file)
            if start_upload_prepare(staged, job_file) is None:
                st.info(f"`{staged.name}` is being prepared in another session: following it.")
    job = _job()
    _progress(poll_interval(job is not None and job["state"] == "running"))
