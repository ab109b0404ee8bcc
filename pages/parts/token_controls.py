"""The Token scores page's controls above the example: compare mode (other runs stacked on one
colour scale), "shape only" and the ground truth the numbers count against; and the threshold of
"forgotten" (drawn beside the example, inside its fragment: moving it redraws only that)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from atwu.app.run_list import short_name
from atwu.app.token_compare import GROUND_TRUTHS, colour_range, comparable_runs, default_compare
from atwu.app.token_view import nearest_step, threshold_range
from atwu.runs.read import RunInfo
from pages.parts import reads
from pages.parts.sidebar import Context
from pages.parts.url_state import keep, qp_all, qp_set, seed


@dataclass(frozen=True)
class Controls:
    weights_step: pd.DataFrame
    """The picked run's weights at the step shown."""
    compared: list[tuple[RunInfo, int]]
    """Runs stacked under it, each with the step shown (its nearest recorded one)."""
    normalise: bool
    lo: float
    hi: float
    threshold: float
    """Set by :func:`threshold_slider` inside the example's fragment (its last value before)."""
    ground_truth: str = "facts"
    """What precision/recall/F1 and AUROC count as positive: a key of GROUND_TRUTHS."""


def _compare_names(ctx: Context, run: RunInfo, c1: DeltaGenerator, c2: DeltaGenerator) -> list[str]:
    others = comparable_runs(ctx.runs, run)
    other_names = [r.name for r in others]
    with c1:
        seed(
            "compare_mode",
            None,
            valid=lambda v: isinstance(v, bool),
            default=bool(qp_all("compare")),
        )
        compare_mode = st.toggle(
            "Compare runs",
            key="compare_mode",
            disabled=not others,
            help="Stack other runs' weights for the same example as rows on one colour scale.",
        )
    with c2:
        if not (compare_mode and others):
            qp_set("compare", None)
            if not others:
                st.caption(
                    "No other run with token weights on this forget split to compare with: the "
                    "Run page's References section launches uniform, static_p and the oracle "
                    "at this run's settings."
                )
            return []
        seed(
            "compare_runs",
            "compare",
            multi=True,
            default=default_compare(run, others),
            valid=lambda v: isinstance(v, list) and set(v) <= set(other_names),
        )
        names = st.multiselect(
            "Compared with",
            other_names,
            key="compare_runs",
            format_func=lambda n: short_name(n),
            help="Runs on the same benchmark and forget split; their rows are drawn under "
            "this run's, on one colour scale.",
        )
        keep("compare_runs", "compare")
        return list(names)


def _normalise() -> bool:
    seed(
        "normalise",
        "normalise",
        valid=lambda v: isinstance(v, bool),
        default=False,
        parse=lambda v: v == "1",
    )
    on = st.toggle(
        "Shape only",
        key="normalise",
        help="Divide each row by its own maximum: compares where methods put weight, not how much.",
    )
    keep("normalise", "normalise", to_url=lambda v: "1" if v else None)
    return bool(on)


def threshold_slider(lo: float, hi: float) -> float:
    t_min, t_max, t_default = threshold_range(lo, hi)
    seed(
        "threshold",
        "threshold",
        valid=lambda v: isinstance(v, float) and t_min <= v <= t_max,
        default=t_default,
        parse=float,
    )
    value = st.slider(
        'Threshold: a token counts as "forgotten" when its weight ≥',
        t_min,
        t_max,
        key="threshold",
        step=0.01,
        help="Precision/recall/F1 below compare this decision with the ground truth chosen "
        "beside it (tokens it leaves out do not count).",
    )
    keep("threshold", "threshold", to_url=lambda v: f"{v:g}")
    return float(value)


def _ground_truth() -> str:
    keys = list(GROUND_TRUTHS)
    seed("ground_truth", "truth", valid=lambda v: v in keys, default=keys[0])
    value = st.radio(
        "Ground truth",
        keys,
        key="ground_truth",
        format_func=GROUND_TRUTHS.get,
        horizontal=True,
        help="What the threshold's precision/recall/F1 and the per-example AUROC count as "
        "positive and negative. Specific vs shared facts (the retain-conflict view): within "
        "fact tokens only, the author's own facts (1) against values a retain author shares "
        "(0); template and context tokens are left out.",
    )
    keep("ground_truth", "truth", to_url=lambda v: None if v == keys[0] else v)
    return str(value)


def controls(ctx: Context, run: RunInfo, step: int) -> Controls:
    """Draw the controls; stop the page when the run's weights at ``step`` are unreadable."""
    c1, c2, c3 = st.columns([1, 3, 1])
    names = _compare_names(ctx, run, c1, c2)
    with c3:
        normalise = _normalise()
    weights_step, err = reads.weights_at(run.path, step)
    if err or weights_step is None:
        st.error(f"Could not read the weights of {run.name} at step {step}: {err}")
        st.stop()
    compared: list[tuple[RunInfo, int]] = []
    frames = [weights_step]
    for name in names:
        other = ctx.by_name(name)
        if other is None:
            continue
        o_steps, o_err = reads.weights_steps(other.path)
        o_step = nearest_step(o_steps or [], step)
        if o_err or o_step is None:
            st.warning(f"{name}: no readable token weights ({o_err or 'none recorded'}); left out.")
            continue
        compared.append((other, o_step))
        w, _ = reads.weights_at(other.path, o_step)
        if w is not None:
            frames.append(w)
    lo, hi = colour_range(frames, normalise=normalise)
    truth = _ground_truth()
    last = st.session_state.get("threshold")
    threshold = float(last) if isinstance(last, float) else threshold_range(lo, hi)[2]
    return Controls(weights_step, compared, normalise, lo, hi, threshold, truth)
