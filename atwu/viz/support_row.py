"""The retain-support channel under a run's weight row (METHOD.md §1).

Methods that keep a retain-support bank (ATWU with ``conflict_gate`` or a retain-aware scorer
design, ``static_support``) record S_t beside each token's weight: how much the retain data needs
the same token in a similar state. Drawn as its own thin row under the weights, in another hue
than the weight scale (Okabe–Ito bluish green, more opaque = more support, on a log(1 + S) scale
shared by every row in view), it shows why a token was deselected: a template word or a shared
value the retain data needs is green here and pale in the weights.

Pure functions returning HTML; every text is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

#: the column a run records the support in (:data:`atwu.runs.layout.CHANNEL_COLUMNS`)
SUPPORT = "support"
_HUE = (0, 158, 115)  # Okabe–Ito bluish green: apart from the weights' Cividis on both themes


def has_support(frame: pd.DataFrame) -> bool:
    """Whether a token table carries a recorded support value."""
    return SUPPORT in frame.columns and pd.to_numeric(frame[SUPPORT], errors="coerce").notna().any()


def support_top(frames: Sequence[pd.DataFrame]) -> float:
    """log(1 + max S) over every frame with support: the scale's right end (0 when none)."""
    values = [pd.to_numeric(f[SUPPORT], errors="coerce").max() for f in frames if has_support(f)]
    finite = [float(v) for v in values if pd.notna(v) and math.isfinite(v)]
    return math.log1p(max(finite)) if finite else 0.0


def _alpha(support: float, top: float) -> float:
    if not math.isfinite(support) or top <= 0:
        return 0.0
    return min(1.0, max(0.0, math.log1p(max(support, 0.0)) / top))


def support_row_html(tokens: pd.DataFrame, *, top: float, label: str | None = None) -> str:
    """One example's tokens again, shaded by their retain support (``top`` from
    :func:`support_top`); a token without a value (NaN) is left unshaded."""
    r, g, b = _HUE
    parts = []
    for _, row in tokens.sort_values("position", kind="stable").iterrows():
        text = "" if pd.isna(row["token"]) else str(row["token"])
        value = pd.to_numeric(row.get(SUPPORT), errors="coerce")
        s = float(value) if pd.notna(value) else math.nan
        a = _alpha(s, top)
        tip = f"retain support S = {s:.3g}" if math.isfinite(s) else "retain support: n/a"
        style = (
            f"background:rgba({r},{g},{b},{a:.3f});white-space:pre-wrap;padding:0 3px;"
            "margin:0 1px;border-radius:2px;font-size:0.8em;line-height:1.6;"
        )
        parts.append(
            f'<span class="atwu-support" style="{html.escape(style, quote=True)}" '
            f'title="{html.escape(tip, quote=True)}">{html.escape(text or "∅")}</span>'
        )
    caption = ""
    if label is not None:
        caption = (
            '<div style="font-size:0.75em;font-style:italic;margin:0 0 1px 0;">'
            f"{html.escape(label, quote=True)}</div>"
        )
    return (
        f'<div class="atwu-support-row" style="margin:-2px 0 8px 0;">{caption}'
        '<div style="font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;'
        f'white-space:pre-wrap;word-break:break-word;">{"".join(parts)}</div></div>'
    )


def support_legend_html(top: float) -> str:
    """The channel's key: the hue from no support to the largest in view."""
    r, g, b = _HUE
    most = math.expm1(top)
    tip = "what the retain data needs of this token in this state; the gate lowers the weight of well-supported tokens"
    return (
        f'<span class="atwu-support-key" style="font-size:0.8em;" title="{html.escape(tip)}">'
        '<span style="display:inline-block;width:60px;height:10px;margin:0 6px;'
        f"vertical-align:middle;border:1px solid #888;background:linear-gradient(to right, "
        f'rgba({r},{g},{b},0), rgba({r},{g},{b},1));"></span>'
        f"retain support S (0 … {html.escape(f'{most:.3g}')}, log scale)</span>"
    )
