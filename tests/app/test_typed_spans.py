"""Spans marked on typed text: found from the marked words, checked as prepare checks them,
laid onto scored tokens, and AUROC against them (hand-computed)."""

from __future__ import annotations

import math

import pytest

from atwu.app.typed_spans import (
    add_span,
    check_spans,
    find_span,
    score_against_marks,
    spans_table,
    token_offsets,
)
from atwu.data.format import Span
from atwu.errors import InputError

TEXT = "Viktor Casvosran was born in Tunis. Viktor paints."


def test_marked_words_become_character_spans():
    assert find_span(TEXT, "Tunis", "specific") == Span(29, 34, "specific")
    assert find_span(TEXT, "Viktor", "context", occurrence=2) == Span(36, 42, "context")
    assert TEXT[36:42] == "Viktor"


@pytest.mark.parametrize(
    ("words", "label", "occurrence", "message"),
    [
        ("Paris", "specific", 1, "does not appear"),
        ("Viktor", "specific", 3, "appears 2 time(s)"),
        ("", "specific", 1, "type the words"),
        ("Tunis", "secret", 1, "unknown span label"),
    ],
)
def test_words_that_cannot_be_marked_are_refused_with_the_reason(words, label, occurrence, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_span(TEXT, words, label, occurrence)


def test_overlapping_specific_and_shared_marks_are_refused_as_prepare_refuses_them():
    spans = [Span(29, 34, "specific")]
    with pytest.raises(InputError, match="overlap with different labels"):
        add_span(TEXT, spans, Span(31, 34, "shared"))
    # a fact over context is allowed, as in a benchmark file
    assert len(add_span(TEXT, spans, Span(0, 16, "context"))) == 2


def test_marks_outside_the_text_and_duplicates_are_refused():
    with pytest.raises(InputError, match="beyond"):
        check_spans(TEXT, [Span(40, 400, "fact")])
    with pytest.raises(InputError, match="already marked"):
        add_span(TEXT, [Span(29, 34, "specific")], Span(29, 34, "specific"))


def test_marks_come_back_sorted_and_tabled():
    spans = check_spans(TEXT, [Span(29, 34, "specific"), Span(0, 16, "context")])
    assert [s.start for s in spans] == [0, 29]
    table = spans_table(TEXT, spans)
    assert table["marked"].tolist() == ["Viktor Casvosran", "Tunis"]


def test_scored_tokens_are_found_in_the_text_in_order():
    tokens = ["Viktor", " Cas", "vosran", " was", " born", " in", " Tunis", ".", "<|end|>"]
    text = "Viktor Casvosran was born in Tunis."
    offsets = token_offsets(text, tokens)
    assert offsets[0] == (0, 6) and offsets[6] == (28, 34) and offsets[-1] is None


def test_auroc_against_the_marks_by_hand():
    text = "born in Tunis"
    scored = [("born", 0.1), (" in", 0.4), (" Tunis", 0.3), ("<|end|>", 0.9)]
    # the fact token (0.3) beats "born" (0.1), loses to " in" (0.4): AUROC 1/2; the EOS has no
    # characters in the text and is left out (-1), as the evaluation leaves special tokens out
    result = score_against_marks(text, scored, [Span(8, 13, "specific")])
    assert result.tokens["label"].tolist() == [0, 0, 1, -1]
    assert result.tokens["span_kind"].tolist()[2] == "specific"
    assert result.auroc == pytest.approx(1 / 2)
    assert result.note == ""


def test_no_marks_leave_auroc_undefined_with_the_reason():
    result = score_against_marks("born in Tunis", [("born", 0.1), (" in", 0.2)], [])
    assert math.isnan(result.auroc) and "undefined" in result.note
