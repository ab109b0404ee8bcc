"""Typed text with its marked ground-truth spans, as HTML: each span underlined in the token
view's style for its label (solid specific, dashed shared, dotted context) and tinted, with its
label on hover. Every piece of text is escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

from atwu.data.format import Span
from atwu.viz.tokens import SPAN_STYLES

_TINT = "background:rgba(128,128,128,0.18);border-radius:2px;padding:1px 0;"


def _esc(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br>")


def marked_text_html(text: str, spans: Sequence[Span]) -> str:
    """``text`` with ``spans`` marked (overlapping spans: the first listed wins where they
    meet; the spans come checked, so only a fact and a context can overlap)."""
    owner: list[Span | None] = [None] * len(text)
    for mark in spans:
        for i in range(max(0, mark.start), min(len(text), mark.end)):
            if owner[i] is None:
                owner[i] = mark
    parts, i = [], 0
    while i < len(text):
        span = owner[i]
        j = i
        while j < len(text) and owner[j] is span:
            j += 1
        piece = _esc(text[i:j])
        if span is None:
            parts.append(piece)
        else:
            border = SPAN_STYLES.get(span.label, SPAN_STYLES["fact"])[0]
            style = html.escape(f"{_TINT}border-bottom:{border};", quote=True)
            title = html.escape(f"{span.label}: {text[span.start : span.end]}", quote=True)
            parts.append(
                f'<mark class="atwu-mark" style="{style}color:inherit" title="{title}">{piece}</mark>'
            )
        i = j
    return f'<div class="atwu-marked" style="line-height:2;white-space:pre-wrap;">{"".join(parts)}</div>'
