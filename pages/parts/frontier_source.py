"""Which frontier analysis the Trade-offs and Method comparison pages show: the forget split (a
select box when the runs are on several), then the written ``frontier.json`` when it describes
these runs, else the analysis computed from the run directories."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from atwu.app.cli_text import ATWU
from atwu.app.duplicates import without_duplicates
from atwu.app.frontier_view import (
    file_mismatch,
    frontier_file,
    one_benchmark,
    points_runs,
    runs_on_split,
    source_text,
    split_choices,
    stale_runs,
    untagged,
)
from atwu.runs.read import RunInfo
from pages.parts import frontier_cache
from pages.parts.sidebar import Context
from pages.parts.url_state import keep, seed


@dataclass
class Frontier:
    result: dict[str, Any]
    split: str | None
    runs: list[RunInfo] = field(default_factory=list)
    path: Path | None = None  # the frontier.json read (None: computed here)


def _pick_split(ctx: Context) -> str | None:
    splits = split_choices(ctx.runs)
    if len(splits) <= 1:
        return splits[0] if splits else None
    seed("frontier_split", "split", valid=lambda v: v in splits, default=splits[0])
    split = st.selectbox(
        "Forget split",
        splits,
        key="frontier_split",
        help="Frontiers compare methods on one forget split; the most common one comes first.",
    )
    keep("frontier_split", "split", to_url=lambda v: None if v == splits[0] else v)
    return str(split)


def load(ctx: Context, *, bootstrap: bool) -> Frontier | None:
    """The analysis to show (None, with a message drawn, when there is none)."""
    split = _pick_split(ctx)
    runs, elsewhere = one_benchmark(runs_on_split(ctx.runs, split), ctx.run)
    if elsewhere:
        st.caption(
            f"{len(elsewhere)} run(s) on another benchmark left out (a frontier compares runs "
            "on the same questions): " + ", ".join(elsewhere)
        )
    runs, repeats = without_duplicates(runs)
    if repeats:
        st.caption(
            f"{len(repeats)} duplicate run(s) left out (counted once): " + "; ".join(repeats)
        )
    path = frontier_file(*dict.fromkeys([ctx.root, ctx.user_root]))
    if path is not None:
        result, err = frontier_cache.written(path)
        why = err or (file_mismatch(result, split, runs) if result is not None else None)
        if result is not None and why is None:
            return Frontier(result, split, runs, path)
        st.caption(f"`{path}` is not used: {why}.")
    if not runs:
        if ctx.runs:  # with no run at all the page says so itself
            _none_message()
        return None
    result, err = frontier_cache.live(runs, bootstrap=bootstrap)
    if err:
        st.error(
            f"The frontier analysis failed ({err}). A run directory may be damaged or "
            f"half-written; `{ATWU} eval RUN` rewrites a run's evaluation."
        )
        return None
    if result is None:
        _none_message()
        return None
    return Frontier(result, split, runs)


def _none_message() -> None:
    st.info(
        "No run here has fact-level metrics (fact forget efficacy, template and neighbour "
        f"damage), so there are no frontiers to draw. `{ATWU} frontier --variants "
        "atwu,uniform,oracle,wga_b5 --strengths 0.25,1,4 --seeds 2 --out OUT` runs a sweep; "
        "point the runs directory at OUT/runs."
    )


def describe(frontier: Frontier) -> None:
    """Where the numbers come from, which runs count as what, and what was left out."""
    result = frontier.result
    st.caption(source_text(frontier.path, result, len(points_runs(result))))
    plain = untagged(frontier.runs, points_runs(result))
    if plain:
        st.caption(
            f"{len(plain)} run(s) carry no variant tag (a plain `{ATWU} run`): each "
            f"counts as its method at strength multiplier 1 ({', '.join(plain[:8])}"
            f"{', …' if len(plain) > 8 else ''})."
        )
    if frontier.path is not None:
        stale = stale_runs(frontier.path, frontier.runs)
        if stale:
            st.warning(
                f"{len(stale)} run(s) were evaluated after `{frontier.path.name}` was written "
                f"({', '.join(stale[:5])}{', …' if len(stale) > 5 else ''}); `{ATWU} "
                f"frontier --analyse-only --out {frontier.path.parent}` brings it up to date."
            )
    notes = result.get("notes") or []
    if notes:
        with st.expander(f"{len(notes)} run(s) left out of the frontiers"):
            for note in notes:
                st.markdown(f"- {note}")
