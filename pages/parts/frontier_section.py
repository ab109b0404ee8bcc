"""The Trade-offs page's frontiers (METHOD.md §4.6): each variant's damage against fact forget
efficacy with its envelope, the three gates, ATWU against every rival at matched forgetting
and the decision per damage axis."""

from __future__ import annotations

import streamlit as st

from atwu.analysis.frontier import AXES
from atwu.app.frontier_view import (
    DECISION_RULE,
    axis_note,
    decision_lines,
    drawn_points,
    envelope,
    gate_messages,
    levels_table,
    matched_table,
    unmeasured_axes,
)
from atwu.app.labels import metric_label
from atwu.viz.frontier_figures import frontier_figure
from pages.parts import frontier_source, reads
from pages.parts.charts import show_chart
from pages.parts.sidebar import Context
from pages.parts.url_state import keep, seed

INTRO = (
    "A method's default setting is one point; a trade-off is a curve. Each point is one run "
    "(a variant at one strength and seed) at one checkpoint after step 0: how much of the "
    "forget facts' log-probability it removed (FFE: 0 at the start, 1 where the model never "
    "trained on them is) against the damage done on the way: to the answer template of the "
    "forget answers, or to neighbours (other people's facts that share a forgotten value). "
    "A variant's line is its frontier: the least damage among its points reaching each FFE, "
    "averaged over seeds."
)


def _gates(result: dict) -> None:
    for state, text in gate_messages(result):
        {"passed": st.success, "failed": st.error}.get(state, st.warning)(text)


def _unmeasured(frontier: frontier_source.Frontier, axis: str) -> None:
    why = None
    if frontier.runs:
        evals, _ = reads.evals(frontier.runs[0].path)
        why = axis_note(evals, axis)
    st.info(
        f"No run on this split records {metric_label(axis)}"
        + (f" ({frontier.runs[0].name}'s evaluation says: {why})" if why else "")
        + ", so there is no frontier to draw on this axis."
    )


def frontier_section(ctx: Context) -> None:
    st.header("Frontiers at matched forgetting")
    st.caption(INTRO)
    frontier = frontier_source.load(ctx, bootstrap=True)
    if frontier is None:
        return
    result = frontier.result
    frontier_source.describe(frontier)

    seed("frontier_axis", "axis", valid=lambda v: v in AXES, default=AXES[0])
    axis = st.radio(
        "Damage axis",
        list(AXES),
        key="frontier_axis",
        format_func=metric_label,
        horizontal=True,
        help="Template damage: log-probability lost on the forget answers' non-fact tokens. "
        "Neighbour damage: lost on retain facts that share a value with a forgotten one.",
    )
    keep("frontier_axis", "axis", to_url=lambda v: None if v == AXES[0] else v)
    points = result["tables"]["points"]
    if axis in unmeasured_axes(result):
        _unmeasured(frontier, axis)
    else:
        fig = frontier_figure(
            drawn_points(points, axis),
            envelope(points, axis),
            axis_label=metric_label(axis),
            levels=result.get("levels") or (0.5, 0.75, 0.9),
        )
        show_chart(fig, key="frontier_chart")
        st.caption(
            "Colour: variant (a dashed line: an ablation, dotted: a reference such as the oracle); "
            "marker: seed. Dotted verticals: the matched-forgetting levels. Hover a point for "
            "its run, strength and step. A line stops where one of its seeds stops reaching "
            "further."
        )

    st.subheader("ATWU against every rival at matched forgetting")
    _gates(result)
    st.dataframe(matched_table(result), hide_index=True, key="matched_table")
    st.caption(
        "Every baseline (no oracle, reference or ablation) whose every seed reaches the level is "
        "a rival; the interval is a bootstrap that resamples seeds and examples and picks each "
        "seed's frontier point anew in every resample; p-values are Holm-corrected over the "
        "rivals. " + DECISION_RULE
    )
    for line in decision_lines(result):
        st.markdown(line)
    with st.expander("Every variant's frontier at the levels (D at FFE, mean ± std over seeds)"):
        st.dataframe(
            levels_table(result["tables"].get("levels"), skip_axes=unmeasured_axes(result)),
            hide_index=True,
        )
    with st.expander("Every point"):
        st.dataframe(points, hide_index=True)
