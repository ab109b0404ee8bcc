"""Where two runs weight the same answer tokens differently: the difference view of the Token
scores page (run A against run B, one checkpoint of each).

* :func:`paired_tokens`: the tokens both runs recorded, side by side, with Δw = w_A − w_B.
* :func:`example_disagreement`: one row per example, ranked by the mean of |Δw| over its tokens
  (the 1 − Spearman ρ of the two runs' weights is given beside it: it says whether the *order* of
  the tokens differs, which a uniform baseline, whose ρ is undefined, cannot answer).
* :func:`token_disagreement`: per span group (:mod:`atwu.analysis.span_groups`), the token texts
  whose weights differ most across the split, each with the example where it differs most.

Weights of two methods may sit on different scales (a probability against an unbounded score);
Δw is taken as recorded, so the page says so, and the ranking by mean |Δw| measures both a shift
of scale and a change of shape."""

from __future__ import annotations

import numpy as np
import pandas as pd

from atwu.analysis.span_groups import SPAN_GROUPS, span_groups

_KEYS = ["example_id", "position"]
_CARRIED = ["token", "char_start", "char_end", "label", "span_kind"]

DISAGREEMENT_COLUMNS = [
    "example_id",
    "mean |Δw|",
    "max |Δw|",
    "mean Δw",
    "1 − ρ",
    "tokens",
]
TOKEN_COLUMNS = [
    "group",
    "token",
    "occurrences",
    "mean Δw",
    "mean |Δw|",
    "example_id",
    "position",
    "Δw there",
]


def paired_tokens(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The tokens both runs recorded at their checkpoint, and how many were left out.

    Args:
        a, b: ``weights.parquet`` rows of run A and run B, each at one step (any examples).

    Returns:
        ``(paired, left_out)``: ``paired`` has ``example_id, position``, A's ``token`` (and its
        ``char_start, char_end, label, span_kind`` where recorded), ``weight_a, weight_b,
        delta`` (= weight_a − weight_b) and ``group`` (the span group), sorted by example and
        position; ``left_out`` counts A's tokens without a partner in B (an example B did not
        record, or a different token text at that position: another tokenizer).
    """
    cols = _KEYS + [c for c in _CARRIED if c in a.columns]
    left = a[[*cols, "weight"]].assign(example_id=a["example_id"].astype(str))
    right = b[[*_KEYS, "token", "weight"]].assign(example_id=b["example_id"].astype(str))
    right = right.rename(columns={"token": "_token_b", "weight": "weight_b"})
    joined = left.rename(columns={"weight": "weight_a"}).merge(right, on=_KEYS, how="inner")
    same = joined["token"].astype(str) == joined["_token_b"].astype(str)
    paired = joined[same].drop(columns="_token_b")
    paired = paired.assign(
        weight_a=pd.to_numeric(paired["weight_a"], errors="coerce"),
        weight_b=pd.to_numeric(paired["weight_b"], errors="coerce"),
    )
    paired = paired.assign(delta=paired["weight_a"] - paired["weight_b"])
    paired = paired.assign(group=span_groups(paired))
    paired = paired.sort_values(_KEYS, kind="stable").reset_index(drop=True)
    return paired, int(len(a) - len(paired))


def example_disagreement(paired: pd.DataFrame) -> pd.DataFrame:
    """One row per example of ``paired`` (from :func:`paired_tokens`), the examples where A and B
    disagree most first: ``mean |Δw|`` (the ranking), ``max |Δw|``, ``mean Δw`` (positive: A
    weights this example's tokens more), ``1 − ρ`` (Spearman's ρ of the two runs' weights over the
    example's tokens, ties at their average rank; 0 = the same order, 2 = reversed, NaN = a
    constant row or a single token) and ``tokens``. Tokens with a missing weight on either side
    are left out; ties keep example order."""
    finite = paired.dropna(subset=["weight_a", "weight_b"])
    if finite.empty:
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    ex = finite["example_id"].astype(str)
    d = finite["delta"].astype(float)
    by = d.groupby(ex, sort=True)
    # Spearman's ρ = Pearson's r of the ranks within each example, all examples at once
    rx = finite["weight_a"].groupby(ex).rank()
    ry = finite["weight_b"].groupby(ex).rank()
    cx = rx - rx.groupby(ex).transform("mean")
    cy = ry - ry.groupby(ex).transform("mean")
    sxy = (cx * cy).groupby(ex).sum()
    sxx = (cx * cx).groupby(ex).sum()
    syy = (cy * cy).groupby(ex).sum()
    defined = (sxx > 0) & (syy > 0)
    rho = (sxy / np.sqrt(sxx * syy)).where(defined)
    table = pd.DataFrame(
        {
            "mean |Δw|": d.abs().groupby(ex, sort=True).mean(),
            "max |Δw|": d.abs().groupby(ex, sort=True).max(),
            "mean Δw": by.mean(),
            "1 − ρ": 1.0 - rho,
            "tokens": by.size(),
        }
    )
    table = table.rename_axis("example_id").reset_index()[DISAGREEMENT_COLUMNS]
    return table.sort_values("mean |Δw|", ascending=False, kind="stable").reset_index(drop=True)


def token_disagreement(paired: pd.DataFrame, *, per_group: int = 8) -> pd.DataFrame:
    """Per span group, the ``per_group`` token texts whose weights differ most between A and B
    over the whole split (ranked by the mean |Δw| over their occurrences), each with the example
    and position where its |Δw| is largest (the row's link to that example).

    Token texts are compared with surrounding whitespace stripped (``" Lima"`` and ``"Lima"``
    are one text); special tokens (no group) are left out. Columns: :data:`TOKEN_COLUMNS`,
    groups in :data:`SPAN_GROUPS` order."""
    rows = paired.dropna(subset=["delta", "group"])
    rows = rows.assign(_text=rows["token"].astype(str).str.strip(), _abs=rows["delta"].abs())
    rows = rows[rows["_text"] != ""]
    out = []
    for group in SPAN_GROUPS:
        mine = rows[rows["group"] == group]
        if mine.empty:
            continue
        by_text = mine.groupby("_text", sort=True)
        summary = pd.DataFrame(
            {
                "occurrences": by_text.size(),
                "mean Δw": by_text["delta"].mean(),
                "mean |Δw|": by_text["_abs"].mean(),
            }
        )
        worst = mine.loc[by_text["_abs"].idxmax()].set_index("_text")
        summary["example_id"] = worst["example_id"].astype(str)
        summary["position"] = worst["position"].astype(int)
        summary["Δw there"] = worst["delta"].astype(float)
        summary = summary.sort_values("mean |Δw|", ascending=False, kind="stable")
        summary = summary.head(per_group).reset_index(names="token").assign(group=group)
        out.append(summary)
    if not out:
        return pd.DataFrame(columns=TOKEN_COLUMNS)
    return pd.concat(out, ignore_index=True)[TOKEN_COLUMNS]


SCALE_QUANTILE = 0.98
"""The diverging scale ends at this quantile of |Δw| over the split: a few outlying tokens (an
unbounded weight) would otherwise push every other difference into the neutral middle."""


def delta_limit(paired: pd.DataFrame, quantile: float = SCALE_QUANTILE) -> float:
    """The diverging scale's half-width: the ``quantile`` of |Δw| over ``paired`` (larger
    differences take the end colours); 1 when there is none or it is 0, so a no-difference view
    is drawn all in the scale's middle colour."""
    d = pd.to_numeric(paired["delta"], errors="coerce").abs().dropna() if len(paired) else None
    top = float(d.quantile(quantile)) if d is not None and len(d) else 0.0
    return top if top > 0 else 1.0


def shape_only(weights: pd.DataFrame) -> pd.DataFrame:
    """``weights`` with each example's weights divided by that example's largest one at its step
    (the page's "Shape only": where a method puts weight, not how much; an example whose largest
    weight is not > 0 is left as it is)."""
    if weights is None or weights.empty:
        return weights
    w = pd.to_numeric(weights["weight"], errors="coerce")
    top = w.groupby([weights["step"], weights["example_id"]]).transform("max")
    scaled = w.where(~(top > 0), w / top)
    return weights.assign(weight=scaled)
