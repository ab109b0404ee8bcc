"""Token scores: which answer tokens a method decides to forget, checkpoint by checkpoint, against
the ground-truth fact spans; compare methods on one colour scale; score your own text."""

from __future__ import annotations

import streamlit as st

from atwu.app.issues import run_issues, weights_issue
from atwu.app.run_list import forget_split_of
from pages import common
from pages.parts import reads
from pages.parts.token_controls import controls
from pages.parts.token_example import example_section
from pages.parts.token_tabs import token_tabs
from pages.parts.url_state import keep, seed

ctx = common.context()
st.title("Token scores")
st.caption(
    "Background = the method's weight for each answer token (toward the scale's right end = "
    "pushed down harder); underline = ground-truth fact span (solid: specific to this author, dashed: shared "
    "value, dotted: context restated from the question). Hover a token for its details. "
    "The ground truth choice sets what the numbers count as positive: every fact against the "
    "template, or specific facts against shared ones (the retain-conflict view)."
)

run = ctx.run
if run is None:
    common.no_run_message()
    st.stop()
common.benchmark_note(ctx)

issues = run_issues(run)
common.show_issues(issues)
if common.blocking([i for i in issues if "config.json" in i.what]):
    st.stop()
steps, err = reads.weights_steps(run.path)
problem = weights_issue(run, steps, err)
if problem is not None or not steps:
    common.show_issues([problem] if problem else [])
    st.stop()
recorded: list[int] = steps  # checked above: a non-empty list

split = forget_split_of(run.config)

seed("step", "step", valid=lambda v: v in recorded, default=recorded[-1], parse=int)
step = st.select_slider(
    "Checkpoint (training step)",
    options=recorded,
    key="step",
    help="Token weights are recorded at step 0 and every checkpoint: slide to watch them evolve.",
)
keep("step", "step")

view = controls(ctx, run, step)

table, err = reads.example_table(run.path, step, split, view.ground_truth)
if err or table is None or table.empty:
    st.error(
        f"Could not build the example table of {run.name} at step {step}: {err or 'no examples'}"
    )
    st.stop()

example_section(run, step, split, view, table)
token_tabs(ctx, run, step, view, table, demo=ctx.demo)
