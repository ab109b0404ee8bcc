"""The Token scores page's difference view: run A (the picked run) against a run B of the same
benchmark and split, token by token (Δw = w_A − w_B on a diverging scale, spans drawn), the
examples where they disagree most and the tokens, by span label, where they differ most across
the split; a row of either table picks the example shown, its link reopens the page there."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from atwu.analysis.label_weights import MATCHED_LEVEL, matched_step
from atwu.analysis.weight_diff import SCALE_QUANTILE, delta_limit
from atwu.app.run_list import short_name
from atwu.app.token_compare import comparable_runs, example_header_html
from atwu.app.token_view import nearest_step
from atwu.app.weight_diff_view import (
    DIFF_TAB,
    default_b,
    link_to,
    not_matched_note,
    steps_caption,
)
from atwu.runs.read import RunInfo
from atwu.viz.delta_tokens import delta_html
from pages.parts import reads
from pages.parts.sidebar import Context
from pages.parts.token_figure_downloads import figure_downloads
from pages.parts.url_state import keep, seed

_NUMBER = {"format": "%.3f", "width": "small"}


def _steps(run: RunInfo, b: RunInfo, step: int, matched: bool) -> tuple[int, int] | None:
    a_steps = reads.weights_steps(run.path)[0] or []
    b_steps = reads.weights_steps(b.path)[0] or []
    if not matched:
        b_step = nearest_step(b_steps, step)
        return None if b_step is None else (step, b_step)
    picks = {
        info.name: matched_step(reads.evals(info.path)[0], recorded)
        for info, recorded in ((run, a_steps), (b, b_steps))
    }
    missing = [name for name, s in picks.items() if s is None]
    if missing:
        st.warning(not_matched_note(missing, MATCHED_LEVEL))
        return None
    return picks[run.name] or 0, picks[b.name] or 0


def _link_column(frame: pd.DataFrame, b_name: str) -> pd.DataFrame:
    params = {k: st.query_params.get_all(k) for k in st.query_params}  # compare= repeats
    links = [
        link_to(params, example=str(ex), tab=DIFF_TAB, vs=b_name) for ex in frame["example_id"]
    ]
    return frame.assign(link=links)


def _picker(table_key: str, ids: list[str], marker: str) -> Callable[[], None]:
    """The table's selection callback: a clicked row becomes the example shown (set before the
    rerun draws the example's select box; once per click, so the box can change it again)."""

    def picked() -> None:
        event = st.session_state.get(table_key)
        rows = event["selection"]["rows"] if event else []
        if rows and rows[0] < len(ids) and st.session_state.get(marker) != ids[rows[0]]:
            st.session_state[marker] = st.session_state["diff_example"] = ids[rows[0]]

    return picked


def _open_above(example: str) -> None:
    st.session_state["example"] = example


def _tables(ranked: pd.DataFrame, tokens: pd.DataFrame, b_name: str) -> None:
    link = st.column_config.LinkColumn("open", display_text="open ↗", width="small")
    # one above the other: side by side, half a page cannot show either table's columns
    left = right = st.container()
    left.markdown("**Examples where A and B disagree most** (ranked by mean |Δw|; click a row)")
    left.dataframe(
        _link_column(ranked, b_name),
        key="diff_ranked",
        on_select=_picker("diff_ranked", ranked["example_id"].astype(str).tolist(), "_rank_pick"),
        selection_mode="single-row",
        hide_index=True,
        height=300,
        column_config={
            "example_id": st.column_config.TextColumn("example", width="medium"),
            **{
                c: st.column_config.NumberColumn(c, **_NUMBER)
                for c in ("mean |Δw|", "max |Δw|", "mean Δw")
            },
            "1 − ρ": st.column_config.NumberColumn(
                "1 − ρ",
                help="1 − Spearman's ρ of A's and B's weights over the example's tokens: 0 = "
                "same order, 2 = reversed; empty when a row's weights are all equal",
                **_NUMBER,
            ),
            "link": link,
        },
    )
    right.markdown(
        "**Tokens where A and B differ most across the split**, by span label (mean Δw over "
        "the token's occurrences; the example is where it differs most; click a row)"
    )
    right.dataframe(
        _link_column(tokens, b_name),
        key="diff_tokens",
        on_select=_picker("diff_tokens", tokens["example_id"].astype(str).tolist(), "_tok_pick"),
        selection_mode="single-row",
        hide_index=True,
        height=300,
        column_order=TOKEN_SHOWN,
        column_config={
            "example_id": st.column_config.TextColumn("example", width="medium"),
            **{c: st.column_config.NumberColumn(c, **_NUMBER) for c in TOKEN_NUMBERS},
            "link": link,
        },
    )


TOKEN_NUMBERS = ("mean Δw", "mean |Δw|", "Δw there")
TOKEN_SHOWN = ("group", "token", "occurrences", "mean |Δw|", "mean Δw", "example_id", "link")


def difference_section(ctx: Context, run: RunInfo, step: int, *, normalise: bool) -> None:
    """The tab; ``normalise``: the page's "Shape only" (each example divided by its maximum in
    each run before subtracting)."""
    others = comparable_runs(ctx.runs, run)
    if not others:
        st.info("No other run with token weights on this benchmark and split to subtract.")
        return
    names = [r.name for r in others]
    seed("diff_b", "vs", valid=lambda v: v in names, default=default_b(run, others))
    c1, c2 = st.columns([3, 2])
    b_name = c1.selectbox(
        "B: the run subtracted from this one (A)",
        names,
        key="diff_b",
        format_func=short_name,
        help="Runs on the same benchmark and forget split. Δw = weight in A − weight in B.",
    )
    keep("diff_b", "vs")
    matched = c2.toggle(
        f"At matched forgetting (FFE ≥ {MATCHED_LEVEL:g})",
        key="diff_matched",
        help="Read each run at its first checkpoint whose fact forget efficacy reaches "
        f"{MATCHED_LEVEL:g} (the frontier's rule), instead of at the step picked above.",
    )
    b = ctx.get(str(b_name))
    steps = _steps(run, b, step, bool(matched))
    if steps is None:
        return
    result, err = reads.difference(run.path, steps[0], b.path, steps[1], shape=normalise)
    if result is None:
        st.error(f"Could not compare the token weights of {run.name} and {b.name}: {err}")
        return
    paired, left_out, ranked, tokens = result
    st.caption(
        steps_caption(
            run.name,
            steps[0],
            b.name,
            steps[1],
            matched=bool(matched),
            level=MATCHED_LEVEL,
            shape=normalise,
        )
    )
    if left_out:
        st.caption(f"{left_out} of A's tokens have no partner in B (left out).")
    if paired.empty:
        st.warning("A and B have no token in common at these checkpoints.")
        return
    ids = ranked["example_id"].tolist()
    seed(
        "diff_example",
        "example",
        valid=lambda v: v in ids,
        default=st.session_state.get("example")
        if st.session_state.get("example") in ids
        else ids[0],
    )
    example = st.selectbox("Example", ids, key="diff_example")
    meta = (reads.examples(run.path)[0] or {}).get(example, {})
    st.html(example_header_html(example, meta.get("question", ""), meta.get("answer", "")))
    mine = paired[paired["example_id"] == example]
    limit = delta_limit(paired)
    st.html(delta_html(mine, limit=limit, name_a=run.name, name_b=b.name))
    st.caption(
        f"One scale for the split: ±{limit:.3g} is the {SCALE_QUANTILE * 100:.0f}th percentile "
        "of |Δw| over every token at these checkpoints (larger differences take the end "
        "colours). Hover a token for both weights."
    )
    c = st.columns([1, 2])
    if c[0].button(
        "Show this example in the view above",
        key="diff_open",
        on_click=_open_above,
        args=(example,),
    ):
        st.rerun()
    with c[1]:
        figure_downloads(
            [(f"A − B: {run.name} − {b.name}", mine.assign(weight=mine["delta"]))],
            name=f"diff-{run.name}-vs-{b.name}-{example}",
            key="diff_fig",
            diverging_limit=limit,
            title=f"{example}: Δ weight (A − B)",
            legend_names=(f"B higher: {b.name}", f"A higher: {run.name}"),
        )
    _tables(ranked, tokens, str(b_name))
