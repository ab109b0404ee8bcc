"""Run: choose a benchmark, a model, methods and their hyperparameters; launch them in the
background (``python -m atwu run``, or one ``python -m atwu sweep`` through the run executor for a
method with several runs) and watch the active runs (progress, live curves, status, cancel)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from atwu.app.run_commands import (
    launch_label,
    launch_plan,
    launches_caption,
    plan_runs,
    preview,
    run_length_text,
)
from pages import common
from pages.parts import reads
from pages.parts.run_active import active_runs_section
from pages.parts.run_benchmark import benchmark_section
from pages.parts.run_methods import methods_section, model_section
from pages.parts.run_references import references_section
from pages.parts.run_training import run_options_section, training_section

ctx = common.context()
out_root = ctx.user_root  # new runs never go into the (read-only) demo bundle

st.title("Run")
st.caption(
    f"This machine trains on: **{reads.device_text()}** · new runs are written to `{out_root}`"
)

st.subheader("1 · Benchmark")
bench = benchmark_section()

st.subheader("2 · Model")
model = model_section()

st.subheader("3 · Methods and settings")
methods, values = methods_section()
training = training_section()
if bench.summary is not None and bench.split is not None and bench.hub is None:
    st.caption(run_length_text(bench.summary, bench.split, training.epochs, training.steps))
training = run_options_section(training)

# Say what is wrong before anything starts: `missing` are choices still to make, `errors` are
# values that would not run.
stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
plan = plan_runs(bench, model, methods, values, training, stamp=stamp)
for e in plan.errors:
    st.error(e)
if plan.missing:
    st.info("To launch: " + "; ".join(plan.missing) + ".")
if plan.ready:
    st.code(preview([(n, a) for n, a, _ in plan.launches], out_root), language="bash")
    if caption := launches_caption(plan):
        st.caption(caption)

# A launch reruns the script (so the sidebar picks up the new runs directory); its messages are
# carried over the rerun in session state and shown once here.
for level, text in st.session_state.pop("launch_messages", []):
    (st.success if level == "success" else st.error)(text)

if st.button(
    launch_label(len(plan.commands)), key="launch", type="primary", disabled=not plan.ready
):
    result = launch_plan(plan, out_root)
    if result.launched:
        st.session_state["launch_messages"] = result.messages
        st.session_state["just_launched"] = result.launched  # the live curves follow them
        st.rerun()
    for _level, text in result.messages:
        st.error(text)

st.subheader("4 · Active runs")
active_runs_section(out_root)

st.subheader("5 · References")
references_section(ctx)
