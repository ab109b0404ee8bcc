"""Method comparison: methods at matched forgetting first (damage and alignment where they forget
equally much), then at default settings: final metrics per method (mean ± std over seeds),
charts, token alignment, the UQ ranking; CSV and LaTeX export."""

from __future__ import annotations

import streamlit as st

from atwu.app.cli_text import ATWU
from atwu.app.comparison_view import comparable_runs, comparison_table, default_selection
from atwu.app.duplicates import without_duplicates
from pages import common
from pages.parts.default_tables import default_tables
from pages.parts.matched_tables import matched_section
from pages.parts.url_state import keep, seed

ctx = common.context()
st.title("Method comparison")

if not ctx.runs:
    common.no_run_message()
    st.stop()
common.benchmark_note(ctx)

matched_section(ctx)

st.header("At default settings")
st.caption(
    "Each run contributes its last evaluated checkpoint; runs of one method with the same "
    "hyperparameters are pooled over seeds (mean ± standard deviation; one seed: no ±). The "
    "runs offered first are the finished ones at each variant's default strength."
)
usable, notes = comparable_runs(ctx.runs)
names = [r.name for r in usable]
if notes:
    with st.expander(f"{len(notes)} run(s) left out"):
        for note in notes:
            st.markdown(f"- {note}")
if not usable:
    st.info(
        "No run has an evaluation yet. Launch runs on the Run page (evaluation is on by "
        f"default), or evaluate finished ones with `{ATWU} eval RUN`."
    )
    st.stop()

default = default_selection(usable)
seed(
    "cmp_runs",
    "cmp",
    multi=True,
    default=default,
    valid=lambda v: isinstance(v, list) and bool(v) and set(v) <= set(names),
)
chosen = st.multiselect("Runs", names, key="cmp_runs", format_func=ctx.label)
keep("cmp_runs", "cmp", to_url=lambda v: None if v == default else v)
if not chosen:
    st.info("Pick at least one run.")
    st.stop()

distinct, repeats = without_duplicates([ctx.get(n) for n in chosen])
if repeats:
    st.warning(
        f"{len(repeats)} run(s) repeat another chosen run's configuration and seed; each "
        "configuration is counted once (n counts distinct seeds):\n"
        + "\n".join(f"- {note}" for note in repeats)
    )
try:
    table, warns = comparison_table([r.path for r in distinct])
except Exception as exc:
    st.error(
        f"Could not compare these runs: {type(exc).__name__}: {exc}. A run directory may "
        "be damaged; leave it out of the selection."
    )
    st.stop()
for w in warns:
    st.warning(w)
if table.empty:
    st.info("None of the chosen runs has an evaluation record.")
    st.stop()

default_tables(table)
