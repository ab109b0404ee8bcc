"""Marking ground-truth spans on the typed text (Token scores → Score your own text): pick a
label, type the words to mark (and which occurrence), see the marks; each is checked as
``prepare`` checks a benchmark's spans. The marks belong to the text they were made on."""

from __future__ import annotations

import streamlit as st

from atwu.app.typed_spans import add_span, find_span, spans_table
from atwu.data.format import SPAN_LABELS, Span
from atwu.errors import InputError
from atwu.viz.marked_text import marked_text_html

MARKS = "_typed_marks"  # (text the marks belong to, [Span, ...])


def current_marks(text: str) -> list[Span]:
    kept = st.session_state.get(MARKS)
    return list(kept[1]) if kept and kept[0] == text else []


def mark_spans(text: str, question: str, *, disabled: bool) -> list[Span]:
    """Draw the marking controls; return the marks of ``text``."""
    kept = st.session_state.get(MARKS)
    if kept and kept[0] != text and kept[1]:
        st.caption("The text changed, so its earlier marks were dropped.")
        st.session_state[MARKS] = (text, [])
    marks = current_marks(text)
    st.markdown("**Ground truth** (optional): mark the facts in the text, then score it")
    c1, c2, c3, c4 = st.columns([1, 3, 1, 1], vertical_alignment="bottom")
    label = c1.selectbox("Label", SPAN_LABELS, key="mark_label", disabled=disabled)
    words = c2.text_input(
        "Words to mark",
        key="mark_words",
        disabled=disabled,
        help="Copy them from the text exactly; the span covers these characters.",
    )
    occurrence = c3.number_input(
        "Occurrence", min_value=1, max_value=99, value=1, key="mark_occurrence", disabled=disabled
    )
    if c4.button("Mark", key="mark_add", disabled=disabled or not text.strip()):
        try:
            span = find_span(text, words, str(label), int(occurrence))
            marks = add_span(text, marks, span, question)
        except InputError as exc:
            st.error(str(exc))
        else:
            st.session_state[MARKS] = (text, marks)
    if marks:
        st.html(marked_text_html(text, marks))
        left, right = st.columns([4, 1])
        left.dataframe(spans_table(text, marks), hide_index=True)
        if right.button("Clear marks", key="mark_clear"):
            st.session_state[MARKS] = (text, [])
            st.rerun(scope="fragment")
    return current_marks(text)
