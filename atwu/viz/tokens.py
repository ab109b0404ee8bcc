"""Token-level HTML views of unlearning weights: inline text coloured by weight.

These are pure functions returning HTML strings; the Streamlit pages hand them to ``st.html`` (or
``st.markdown(..., unsafe_allow_html=True)``) and offer them as an "export the view" download. No
Streamlit import here, so every builder is unit-testable.

Two visual channels, kept independent so neither hides the other:

* **background** = the method's weight for the token, on a colour-blind-safe sequential scale
  (Cividis; on a light page pale yellow for low weights and dark blue for high ones, on a dark
  page dim blue to bright yellow, picked by the browser from the page's ``color-scheme`` through
  :data:`THEME_CSS`; the overview heatmap in :mod:`atwu.viz.overview` uses the light scale);
* **bottom border** = the ground-truth span the token lies in (``specific`` fact: solid vermillion;
  ``shared`` / ``fact``: dashed blue; ``context``, i.e. left out of the labels: dotted grey). The
  border is drawn outside the coloured background (``background-clip: padding-box``), so its
  colour only has to contrast with the page, not with every weight colour.

A token whose weight is at or above the threshold slider gets a black-and-white ring
(an *inset* ``box-shadow`` inside the token's own padding, so it never covers neighbouring
letters) that stays visible on any background colour. Every token has a little horizontal
padding and margin, so markers of adjacent tokens never touch.

When every weight in view is equal the legend says so ("all weights = …") and the scale becomes
0..max(1, value) (see :func:`scale_range`).

Every piece of text that reaches the HTML (token text, tooltips, names, questions, generations)
goes through :func:`html.escape` with ``quote=True``: tokens come from model vocabularies and
user-uploaded data and may contain ``<``, ``&`` or quotes.

Example::

    from atwu.viz.tokens import compare_html
    snippet = compare_html([("ATWU", df_atwu), ("WGA", df_wga)], threshold=0.5)
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import SupportsInt

import pandas as pd

from atwu.viz.colour_scale import (
    position_on_scale,
    scale_range,
    scale_stops,
    theme_style,
)
from atwu.viz.support_row import has_support, support_legend_html, support_row_html, support_top

#: Ground-truth channel: span kind -> (CSS border-bottom, human description). Okabe–Ito colours
#: (vermillion, blue) are distinguishable under the common colour-vision deficiencies, and the
#: line *style* (solid / dashed / dotted) carries the same information without colour at all.
SPAN_STYLES: dict[str, tuple[str, str]] = {
    "specific": ("3px solid #D55E00", "specific fact"),
    "shared": ("3px dashed #0072B2", "shared fact"),
    "fact": ("3px dashed #0072B2", "fact"),
    "context": ("2px dotted #8c8c8c", "context (left out)"),
}

#: Threshold marker: a black ring with a white ring inside it, drawn *inset* (inside the token's
#: own padded box) so it never spills over neighbouring tokens or covers letters; visible on pale
#: and dark weights alike.
THRESHOLD_SHADOW: str = "inset 0 0 0 2px #000000, inset 0 0 0 3px #ffffff"

#: how tooltips name a token's label under each ground truth: every fact against the template,
#: or (the retain-conflict view, METHOD.md §4.3) specific facts against shared ones
LABEL_NAMES: dict[str, dict[int, str]] = {
    "facts": {1: "fact", 0: "other", -1: "left out"},
    "conflict": {1: "specific fact", 0: "shared fact", -1: "left out"},
}
_LABEL_NAMES = LABEL_NAMES["facts"]

#: the legend's sentence on what counts as positive and negative under each ground truth
GROUND_TRUTH_KEYS: dict[str, str] = {
    "facts": "counted: fact tokens 1, template 0, context left out",
    "conflict": "counted: specific facts 1, shared facts 0, template and context left out",
}

# Shared by every token span; pre-wrap keeps the answer's spaces and newlines as they read.
_TOKEN_BASE_STYLE = (
    "white-space:pre-wrap;background-clip:padding-box;padding:2px 3px;margin:0 1px 2px 1px;"
    "line-height:1.9;border-radius:2px;"
)
_ROW_STYLE = (
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:0.95em;"
    "white-space:pre-wrap;word-break:break-word;"
)


def _esc(text: object) -> str:
    """Escape anything for HTML text or a quoted attribute value.

    Line breaks become character references too: the browser still renders them (pre-wrap text,
    multi-line tooltips), but the fragment stays on one source line, so a Markdown renderer
    (``st.markdown(..., unsafe_allow_html=True)``) cannot end the HTML block at a blank line
    inside an answer and start reading the rest as Markdown.
    """
    return html.escape(str(text), quote=True).replace("\r", "&#13;").replace("\n", "&#10;")


def _fmt(x: float) -> str:
    """Compact number for ticks and tooltips."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    return f"{x:.3g}" if (abs(x) >= 1000 or (0 < abs(x) < 0.001)) else f"{x:.3f}"


def _is_special(token: str, char_start: SupportsInt | str | None) -> bool:
    """Special tokens (EOS, chat markers) have no character offsets in the answer."""
    try:
        if char_start is not None and not pd.isna(char_start) and int(char_start) < 0:
            return True
    except (TypeError, ValueError):
        pass
    return token.startswith("<|") and token.endswith("|>")


def _span_kind(row: pd.Series) -> str | None:
    """The ground-truth span kind for a token, or None for tokens outside every span."""
    kind = row.get("span_kind")
    if isinstance(kind, str) and kind:
        return kind
    # A labelled fact token without a kind (e.g. from a custom benchmark) still deserves a mark.
    label = row.get("label")
    if label is not None and not pd.isna(label) and int(label) == 1:
        return "fact"
    return None


def _prepare(tokens: pd.DataFrame) -> pd.DataFrame:
    """Check one example at one step and sort it by position."""
    missing = {"position", "token", "weight"} - set(tokens.columns)
    if missing:
        raise ValueError(f"token table lacks column(s) {sorted(missing)}")
    # Mixing examples or checkpoints would interleave two answers into one unreadable line.
    for col in ("example_id", "step"):
        if col in tokens.columns and tokens[col].nunique(dropna=False) > 1:
            raise ValueError(
                f"token_row_html expects one example at one step; got several values of {col!r}"
            )
    return tokens.sort_values("position", kind="stable")


def _tooltip(
    token: str,
    row: pd.Series,
    weight: float,
    kind: str | None,
    names: dict[int, str] = _LABEL_NAMES,
) -> str:
    label = row.get("label")
    if label is None or pd.isna(label):
        label_text = "n/a"
    else:
        label_text = f"{int(label)} ({names.get(int(label), '?')})"
    lines = [
        f"token: {token!r}",
        f"position: {int(row['position'])}",
        f"weight: {weight:.3f}" if not math.isnan(weight) else "weight: nan",
        f"label: {label_text}",
        f"span: {kind or 'none'}",
    ]
    return "\n".join(lines)


def _token_span(
    row: pd.Series,
    *,
    vmin: float,
    vmax: float,
    show_spans: bool,
    threshold: float | None,
    ground_truth: str = "facts",
) -> str:
    token = "" if row["token"] is None or pd.isna(row["token"]) else str(row["token"])
    raw_weight = row["weight"]
    weight = float("nan") if raw_weight is None or pd.isna(raw_weight) else float(raw_weight)
    style = [_TOKEN_BASE_STYLE, theme_style(weight, vmin, vmax)]

    kind = _span_kind(row)
    if show_spans and kind is not None:
        border = SPAN_STYLES.get(kind, SPAN_STYLES["fact"])[0]
        style.append(f"border-bottom:{border};")
    else:
        # A transparent border keeps every line the same height whether or not it holds spans.
        style.append("border-bottom:3px solid transparent;")

    above = threshold is not None and not math.isnan(weight) and weight >= threshold
    if above:
        style.append(f"box-shadow:{THRESHOLD_SHADOW};")

    special = _is_special(token, row.get("char_start"))
    if special or token == "":
        # Special / empty tokens get small italic text so they are hoverable but do not read as
        # part of the answer; an empty token would otherwise be an invisible zero-width span.
        style.append("font-size:0.75em;font-style:italic;padding:2px 3px;margin-left:2px;")
        shown = token if token else "∅"
    else:
        shown = token

    attrs = [
        f'class="atwu-token{" atwu-special" if special else ""}"',
        f'style="{_esc("".join(style))}"',
        f'title="{_esc(_tooltip(token, row, weight, kind, LABEL_NAMES[ground_truth]))}"',
        f'data-position="{int(row["position"])}"',
        f'data-above-threshold="{"1" if above else "0"}"',
    ]
    return f"<span {' '.join(attrs)}>{_esc(shown)}</span>"


def token_row_html(
    tokens: pd.DataFrame,
    *,
    vmin: float = 0.0,
    vmax: float = 1.0,
    label: str | None = None,
    show_spans: bool = True,
    threshold: float | None = None,
    ground_truth: str = "facts",
) -> str:
    """One example's answer tokens as inline ``<span>``s coloured by weight.

    Args:
        tokens: rows of ``weights.parquet`` for ONE example at ONE step (columns ``position``,
            ``token``, ``weight``; optionally ``label``, ``span_kind``, ``char_start``); sorted
            here by ``position``.
        vmin, vmax: the colour scale's ends (weights outside are clipped).
        label: optional row caption (a method or run name), escaped.
        show_spans: draw the ground-truth span channel (bottom borders).
        threshold: tokens with weight ``>= threshold`` get the ring marker; None for no marker.
        ground_truth: how the tooltips name the ``label`` values (a key of
            :data:`LABEL_NAMES`; the labels themselves come relabelled from the caller).

    Returns:
        An HTML fragment (a ``<div class="atwu-row">``).
    """
    body = "".join(
        _token_span(
            row,
            vmin=vmin,
            vmax=vmax,
            show_spans=show_spans,
            threshold=threshold,
            ground_truth=ground_truth,
        )
        for _, row in _prepare(tokens).iterrows()
    )
    caption = ""
    if label is not None:
        caption = (
            '<div class="atwu-row-label" style="font-weight:600;font-size:0.85em;'
            f'margin:6px 0 2px 0;">{_esc(label)}</div>'
        )
    return (
        f'<div class="atwu-row" style="margin-bottom:6px;">{caption}'
        f'<div class="atwu-tokens" style="{_ROW_STYLE}">{body}</div></div>'
    )


def legend_html(
    vmin: float,
    vmax: float,
    *,
    title: str = "token weight",
    threshold: float | None = None,
    show_spans: bool = True,
    uniform: float | None = None,
    ground_truth: str | None = None,
) -> str:
    """A legend: the weight gradient with min/max ticks, and the ground-truth span key.

    Args:
        vmin, vmax: the scale's ends, printed under the bar.
        title: the bar's caption (escaped).
        threshold: when given, its place on the bar and the ring marker's meaning are shown.
        show_spans: include the span-channel key.
        uniform: when every weight in view equals this value, the legend says so
            ("all weights = …") under the bar instead of leaving two equal-looking ticks.
        ground_truth: with the span key, say what the numbers count as positive and negative
            (a key of :data:`GROUND_TRUTH_KEYS`); None says nothing.
    """
    gradient = _gradient(scale_stops("light"))
    tick_marker = ""
    if threshold is not None and vmax > vmin:
        left = position_on_scale(threshold, vmin, vmax) * 100
        tick_marker = (
            f'<div style="position:absolute;left:{left:.1f}%;top:-3px;bottom:-3px;'
            'border-left:2px solid #000;box-shadow:0 0 0 1px #fff;"></div>'
        )
    bar = (
        '<div style="display:inline-block;vertical-align:middle;">'
        f'<div style="font-size:0.8em;">{_esc(title)}</div>'
        f'<div class="atwu-scale-bar" style="position:relative;width:220px;height:12px;'
        f'border:1px solid #888;background:{gradient};">{tick_marker}</div>'
        '<div style="display:flex;justify-content:space-between;width:222px;font-size:0.75em;">'
        f"<span>{_esc(_fmt(vmin))}</span><span>{_esc(_fmt(vmax))}</span></div>"
    )
    if uniform is not None:
        bar += (
            '<div class="atwu-uniform" style="font-size:0.75em;font-style:italic;">'
            f"all weights = {_esc(_fmt(uniform))}</div>"
        )
    bar += "</div>"
    items = [bar]
    if threshold is not None:
        items.append(
            '<span style="font-size:0.8em;">'
            f'<span style="display:inline-block;width:14px;height:12px;'
            f'box-shadow:{THRESHOLD_SHADOW};margin:0 6px;vertical-align:middle;"></span>'
            f"weight ≥ {_esc(_fmt(threshold))}</span>"
        )
    if show_spans:
        seen: set[str] = set()
        for kind, (border, desc) in SPAN_STYLES.items():
            # "shared" and "fact" share one style; one key entry is enough.
            if border in seen:
                continue
            seen.add(border)
            text = "shared / fact" if kind == "shared" else desc
            items.append(
                '<span style="font-size:0.8em;">'
                f'<span style="display:inline-block;width:24px;height:8px;'
                f'border-bottom:{border};margin:0 6px;vertical-align:middle;"></span>'
                f"{_esc(text)}</span>"
            )
        if ground_truth is not None:
            items.append(
                '<span class="atwu-ground-truth" style="font-size:0.8em;font-style:italic;">'
                f"{_esc(GROUND_TRUTH_KEYS[ground_truth])}</span>"
            )
    return (
        '<div class="atwu-legend" style="display:flex;flex-wrap:wrap;align-items:center;'
        f'gap:10px;margin:6px 0;">{"".join(items)}</div>'
    )


def _gradient(colours: list[str]) -> str:
    n = len(colours) - 1
    stops = ", ".join(f"{c} {round(100 * i / n)}%" for i, c in enumerate(colours))
    return f"linear-gradient(to right, {stops})"


def _theme_css() -> str:
    """The stylesheet that gives tokens and the legend bar their dark-theme colours: each token
    carries both themes' colours as custom properties (:func:`theme_style`), and
    ``light-dark()`` picks by the ``color-scheme`` Streamlit sets for its theme. Browsers without
    ``light-dark()`` keep the light colours of the inline style."""
    pairs = zip(scale_stops("light"), scale_stops("dark"), strict=True)
    bar = _gradient([f"light-dark({light}, {dark})" for light, dark in pairs])
    return (
        "@supports (color: light-dark(#000, #fff)) {"
        ".atwu-compare .atwu-token{background-color:light-dark(var(--atwu-bg), "
        "var(--atwu-dark-bg)) !important;color:light-dark(var(--atwu-fg), var(--atwu-dark-fg))"
        f" !important;}}.atwu-compare .atwu-scale-bar{{background:{bar} !important;}}}}"
    )


#: See :func:`_theme_css`; one line, so the fragment stays on one source line.
THEME_CSS: str = _theme_css()


def _weights_range(frames: Sequence[pd.DataFrame]) -> tuple[float, float]:
    """Min and max finite weight over all frames (0..1 when there are none)."""
    columns = [f["weight"] for f in frames if "weight" in f.columns]
    if not columns:
        return 0.0, 1.0
    values = pd.to_numeric(pd.concat(columns, ignore_index=True), errors="coerce").dropna()
    if values.empty:
        return 0.0, 1.0
    return float(values.min()), float(values.max())


def _has_weights(frames: Sequence[pd.DataFrame]) -> bool:
    """True when some frame holds at least one finite weight."""
    return any(
        "weight" in f.columns and pd.to_numeric(f["weight"], errors="coerce").notna().any()
        for f in frames
    )


def normalised_by_max(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with weights divided by the row's own max (unchanged when the max is not > 0)."""
    out = frame.copy()
    top = pd.to_numeric(out["weight"], errors="coerce").max()
    if pd.notna(top) and top > 0:
        out["weight"] = out["weight"] / top
    return out


def compare_html(
    rows: list[tuple[str, pd.DataFrame]],
    *,
    vmin: float | None = None,
    vmax: float | None = None,
    threshold: float | None = None,
    normalise: bool = False,
    show_spans: bool = True,
    ground_truth: str | None = None,
) -> str:
    """Several methods' weights for the SAME example stacked as rows on ONE colour scale.

    One scale for all rows is the point: the same weight gets the same colour in every row, so
    rows can be compared by eye. Methods on different scales (ATWU's weights normalised to mean 1
    next to an oracle's 0/1) therefore differ in overall darkness as well as in shape; pass
    ``normalise=True`` to divide each row by its own maximum first (the scale is then 0..1 unless
    given, and ``threshold`` applies to the normalised values), which compares shapes only.

    Args:
        rows: ``(method or run name, token table)`` pairs; each table as for
            :func:`token_row_html`. Names are escaped.
        vmin, vmax: the shared scale; each defaults to the min / max weight over all rows.
        threshold: ring marker for tokens at or above it (see :func:`token_row_html`).
        normalise: rescale each row by its own max (see above).
        show_spans: draw the ground-truth channel.
        ground_truth: what the rows' labels mean (``"facts"`` or ``"conflict"``, the
            retain-conflict view, whose rows come relabelled): the tooltips name labels
            accordingly and the legend says what counts. None: the default names, no sentence.

    Returns:
        An HTML fragment: a legend then one labelled row per method.
    """
    frames = [normalised_by_max(df) if normalise else df for _, df in rows]
    data_lo, data_hi = _weights_range(frames)
    uniform = data_lo if (rows and data_lo == data_hi and _has_weights(frames)) else None
    if normalise:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = scale_range(data_lo, data_hi)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    if not (hi > lo):
        # A degenerate explicit range (all weights equal): widen it so the colour is meaningful.
        uniform = lo if uniform is None else uniform
        lo, hi = scale_range(lo, hi)
    title = "token weight ÷ row max" if normalise else "token weight"
    parts = [
        legend_html(
            lo,
            hi,
            title=title,
            threshold=threshold,
            show_spans=show_spans,
            uniform=uniform,
            ground_truth=ground_truth,
        )
    ]
    top = support_top(frames)
    if top > 0:
        parts.append(support_legend_html(top))
    for (name, _), frame in zip(rows, frames, strict=True):
        parts.append(
            token_row_html(
                frame,
                vmin=lo,
                vmax=hi,
                label=name,
                show_spans=show_spans,
                threshold=threshold,
                ground_truth=ground_truth or "facts",
            )
        )
        if has_support(frame):  # the retain-support channel under the weights it gated
            parts.append(support_row_html(frame, top=top, label=f"{name}: retain support"))
    if not rows:
        parts.append('<div class="atwu-empty" style="font-style:italic;">no data</div>')
    return f'<div class="atwu-compare"><style>{THEME_CSS}</style>{"".join(parts)}</div>'


def example_page_html(
    question: str,
    reference: str,
    rows: list[tuple[str, pd.DataFrame]],
    generated_before: str | None = None,
    generated_after: str | None = None,
    *,
    title: str = "ATWU token weights",
    example_id: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    threshold: float | None = None,
    normalise: bool = False,
    ground_truth: str | None = None,
) -> str:
    """A standalone HTML document for "export the view" of one example.

    Contains the question, the reference answer, the compared weight rows with their legend
    (see :func:`compare_html`), and the generations before / after unlearning when given. All
    styles are inline so the file renders the same when opened on its own or mailed around.

    Args:
        question: the prompt (escaped).
        reference: the reference answer (escaped).
        rows: ``(name, token table)`` pairs as for :func:`compare_html`.
        generated_before, generated_after: greedy generations of the model before / after
            unlearning; omitted from the page when None.
        title: the document title (escaped).
        example_id: shown in the header when given (escaped).
        vmin, vmax, threshold, normalise, ground_truth: passed to :func:`compare_html`.
    """

    def block(heading: str, text: str) -> str:
        return (
            f"<h2>{_esc(heading)}</h2>"
            f'<div class="atwu-text" style="white-space:pre-wrap;">{_esc(text)}</div>'
        )

    sections = [f"<h1>{_esc(title)}</h1>"]
    if example_id is not None:
        sections.append(f'<p class="atwu-meta">example: {_esc(example_id)}</p>')
    sections.append(block("Question", question))
    sections.append(block("Reference answer", reference))
    sections.append("<h2>Token weights</h2>")
    sections.append(
        compare_html(
            rows,
            vmin=vmin,
            vmax=vmax,
            threshold=threshold,
            normalise=normalise,
            ground_truth=ground_truth,
        )
    )
    if generated_before is not None:
        sections.append(block("Generation before unlearning", generated_before))
    if generated_after is not None:
        sections.append(block("Generation after unlearning", generated_after))
    css = (
        "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:960px;"
        "margin:2em auto;padding:0 1em;color:#111;background:#fff;}"
        "h1{font-size:1.4em;}h2{font-size:1.05em;margin-top:1.4em;}"
        ".atwu-text{background:#f6f6f6;padding:8px;border-radius:4px;}"
        ".atwu-meta{color:#555;font-size:0.9em;}"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{css}</style>\n</head>\n"
        f"<body>\n{''.join(sections)}\n</body>\n</html>\n"
    )
