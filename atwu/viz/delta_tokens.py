"""One example's answer tokens coloured by the weight difference Δw = w_A − w_B of two runs, on
the diverging scale of :mod:`atwu.viz.diverging_scale` (0 in the middle), with the ground-truth
spans drawn as in the normal token view (the same bottom borders, :data:`SPAN_STYLES`) and a
legend that says which end is which run. Pure HTML builders, every text escaped."""

from __future__ import annotations

import math

import pandas as pd

from atwu.viz.diverging_scale import diverging_stops, diverging_style

# the token view's own styles and escaping, so both views' tokens look and escape alike
from atwu.viz.tokens import _ROW_STYLE, SPAN_STYLES, THEME_CSS, _esc
from atwu.viz.tokens import _TOKEN_BASE_STYLE as _TOKEN_STYLE


def _num(x: object) -> str:
    """A signed number with three decimals ("nan" for a missing one)."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "nan"
    return "nan" if math.isnan(v) else f"{v:+.3f}"


def _gradient(colours: list[str]) -> str:
    n = len(colours) - 1
    return (
        "linear-gradient(to right, "
        + ", ".join(f"{c} {round(100 * i / n)}%" for i, c in enumerate(colours))
        + ")"
    )


def delta_legend_html(limit: float, name_a: str, name_b: str, *, show_spans: bool = True) -> str:
    """The diverging bar from −limit (B weights more) to +limit (A weights more) and the span
    key."""
    pairs = zip(diverging_stops("light"), diverging_stops("dark"), strict=True)
    dark_bar = _gradient([f"light-dark({a}, {b})" for a, b in pairs])
    style = (
        "<style>@supports (color: light-dark(#000, #fff)) {.atwu-delta .atwu-delta-bar"
        f"{{background:{dark_bar} !important;}}}}</style>"
    )
    bar = (
        '<div style="display:inline-block;vertical-align:middle;">'
        '<div style="font-size:0.8em;">Δ weight = A − B</div>'
        '<div class="atwu-delta-bar" style="width:240px;height:12px;border:1px solid #888;'
        f'background:{_gradient(diverging_stops("light"))};"></div>'
        '<div style="display:flex;justify-content:space-between;width:242px;font-size:0.75em;">'
        f"<span>{_esc(f'{-limit:.3g}')}</span><span>0</span><span>{_esc(f'+{limit:.3g}')}</span>"
        "</div>"
        '<div style="display:flex;justify-content:space-between;width:242px;font-size:0.75em;">'
        f"<span>B higher: {_esc(name_b)}</span><span>A higher: {_esc(name_a)}</span></div></div>"
    )
    items = [bar]
    if show_spans:
        seen: set[str] = set()
        for kind, (border, desc) in SPAN_STYLES.items():
            if border in seen:
                continue
            seen.add(border)
            text = "shared / fact" if kind == "shared" else desc
            items.append(
                '<span style="font-size:0.8em;"><span style="display:inline-block;width:24px;'
                f'height:8px;border-bottom:{border};margin:0 6px;vertical-align:middle;"></span>'
                f"{_esc(text)}</span>"
            )
    return (
        f'{style}<div class="atwu-legend" style="display:flex;flex-wrap:wrap;align-items:center;'
        f'gap:10px;margin:6px 0;">{"".join(items)}</div>'
    )


def _token(row: pd.Series, limit: float, show_spans: bool) -> str:
    token = "" if row["token"] is None or pd.isna(row["token"]) else str(row["token"])
    delta = row["delta"]
    delta = float("nan") if delta is None or pd.isna(delta) else float(delta)
    style = [_TOKEN_STYLE, diverging_style(delta, limit)]
    kind = row.get("span_kind")
    kind = kind if isinstance(kind, str) and kind else ("fact" if row.get("label") == 1 else None)
    if show_spans and kind is not None:
        style.append(f"border-bottom:{SPAN_STYLES.get(kind, SPAN_STYLES['fact'])[0]};")
    else:
        style.append("border-bottom:3px solid transparent;")
    tip = "\n".join(
        [
            f"token: {token!r}",
            f"position: {int(row['position'])}",
            f"A: {_num(row.get('weight_a')).lstrip('+')}",
            f"B: {_num(row.get('weight_b')).lstrip('+')}",
            f"Δ (A − B): {_num(delta)}",
            f"span: {row.get('group') or 'none'}",
        ]
    )
    shown = token if token else "∅"
    return (
        f'<span class="atwu-token" style="{_esc("".join(style))}" title="{_esc(tip)}" '
        f'data-position="{int(row["position"])}" data-delta="{_num(delta)}">{_esc(shown)}</span>'
    )


def delta_html(
    paired: pd.DataFrame,
    *,
    limit: float,
    name_a: str,
    name_b: str,
    show_spans: bool = True,
) -> str:
    """One example's paired tokens (rows of :func:`atwu.analysis.weight_diff.paired_tokens` for
    one example) as inline spans coloured by ``delta`` on [−limit, +limit], under the legend."""
    body = "".join(
        _token(row, limit, show_spans)
        for _, row in paired.sort_values("position", kind="stable").iterrows()
    )
    if not body:
        body = '<span class="atwu-empty" style="font-style:italic;">no token in common</span>'
    return (
        f'<div class="atwu-compare atwu-delta"><style>{THEME_CSS}</style>'
        f"{delta_legend_html(limit, name_a, name_b, show_spans=show_spans)}"
        f'<div class="atwu-tokens" style="{_ROW_STYLE}">{body}</div></div>'
    )
