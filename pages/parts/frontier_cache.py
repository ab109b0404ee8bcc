"""The frontier analysis for the pages, cached like :mod:`pages.parts.reads`: keyed on every
file it reads (each run's config.json, eval.jsonl, eval_examples.parquet stamps, or the written
frontier.json's), so a redraw recomputes nothing and a re-evaluated run is picked up. A failure
gives ``(None, error text)`` instead of an exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from atwu.analysis import frontier_report
from atwu.analysis.frontier_data import load_frontier_data
from atwu.app.frontier_view import LIVE_RESAMPLES, analyse_live, run_stamps, summary_only
from atwu.app.issues import file_stamp
from atwu.runs.read import RunInfo
from pages.parts.reads import _guard


@st.cache_data(max_entries=8, show_spinner="Computing the frontiers and their intervals…")
def _live(paths: tuple[str, ...], stamps: tuple, n_resamples: int) -> dict[str, Any] | None:
    return analyse_live(load_frontier_data(paths), n_resamples)


@st.cache_data(max_entries=8, show_spinner=False)
def _summary(paths: tuple[str, ...], stamps: tuple) -> dict[str, Any] | None:
    return summary_only(load_frontier_data(paths, samples=False))


@st.cache_data(max_entries=4, show_spinner=False)
def _written(path: str, stamp: tuple | None) -> dict[str, Any]:
    return frontier_report.read(Path(path).parent)


def live(runs: list[RunInfo], *, bootstrap: bool = True) -> tuple[dict | None, str | None]:
    """The analysis of ``runs`` (one forget split); without ``bootstrap``, only the frontiers
    and alignment (no comparisons, no intervals)."""
    paths = tuple(str(r.path) for r in runs)
    if bootstrap:
        return _guard(_live, paths, run_stamps(runs), LIVE_RESAMPLES)
    return _guard(_summary, paths, run_stamps(runs))


def written(path: Path) -> tuple[dict | None, str | None]:
    """What ``python -m atwu frontier`` wrote beside ``path`` (frontier.json and its CSVs)."""
    return _guard(_written, str(path), file_stamp(path))
