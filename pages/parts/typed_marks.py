"""Marking ground-truth spans on a text: pick a label, type the words to mark (and which
occurrence), see the marks, remove one or all; each is checked as ``prepare`` checks a
benchmark's spans. Used on typed text (Token scores → Score your own text, where the marks
belong to the text they were made on) and on a benchmark's pair (Run → edit its spans)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from atwu.app.typed_spans import add_span, check_spans, find_span, spans_table
from atwu.data.format import SPAN_LABELS, Span
from atwu.errors import InputError
from atwu.viz.marked_text import marked_text_html

MARKS = "_typed_marks"  # (text the marks belong to, [Span, ...])


def current_marks(text: str) -> list[Span]:
    kept = st.session_state.get(MARKS)
    return list(kept[1]) if kept and kept[0] == text else []


def _shown(text: str, span: Span) -> str:
    return f"{span.label}: {text[span.start : span.end]!r} ({span.start}-{span.end})"


def mark_controls(
    text: str,
    question: str,
    marks: list[Span],
    save: Callable[[list[Span]], None],
    *,
    prefix: str = "mark",
    disabled: bool = False,
) -> None:
    """The marking controls over ``marks``; every change goes through ``save``."""
    c1, c2, c3, c4 = st.columns([1, 3, 1, 1], vertical_alignment="bottom")
    label = c1.selectbox("Label", SPAN_LABELS, key=f"{prefix}_label", disabled=disabled)
    words = c2.text_input(
        "Words to mark",
        key=f"{prefix}_words",
        disabled=disabled,
        help="Copy them from the text exactly; the span covers these characters.",
    )
    occurrence = c3.number_input(
        "Occurrence",
        min_value=1,
        max_value=99,
        value=1,
        key=f"{prefix}_occurrence",
        disabled=disabled,
    )
    if c4.button("Mark", key=f"{prefix}_add", disabled=disabled or not text.strip()):
        try:
            span = find_span(text, words, str(label), int(occurrence))
            marks = add_span(text, marks, span, question)
        except InputError as exc:
            st.error(str(exc))
        else:
            save(marks)
    if not marks:
        return
    st.html(marked_text_html(text, marks))
    left, right = st.columns([4, 1])
    left.dataframe(spans_table(text, marks), hide_index=True)
    with right:
        gone = st.selectbox(
            "Mark to remove",
            range(len(marks)),
            format_func=lambda i: _shown(text, marks[i]),
            key=f"{prefix}_gone",
        )
        r1, r2 = st.columns(2)
        if r1.button("Remove", key=f"{prefix}_remove") and gone is not None and gone < len(marks):
            save(check_spans(text, [m for i, m in enumerate(marks) if i != gone], question))
            st.rerun(scope="fragment")
        if r2.button("Clear", key=f"{prefix}_clear"):
            save([])
            st.rerun(scope="fragment")


def mark_spans(text: str, question: str, *, disabled: bool) -> list[Span]:
    """Marks on typed text: draw the controls; return the marks of ``text``."""
    kept = st.session_state.get(MARKS)
    if kept and kept[0] != text and kept[1]:
        st.caption("The text changed, so its earlier marks were dropped.")
        st.session_state[MARKS] = (text, [])
    st.markdown("**Ground truth** (optional): mark the facts in the text, then score it")

    def save(marks: list[Span]) -> None:
        st.session_state[MARKS] = (text, marks)

    mark_controls(text, question, current_marks(text), save, disabled=disabled)
    return current_marks(text)
