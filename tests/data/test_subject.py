"""The question's subject, which tokenunlearn masks: the text the answer restates from the
question (its context spans), else the whole question."""

from __future__ import annotations

from atwu.data.format import QAPair, Span
from atwu.data.subject import subject_chars

QUESTION = "Where was Tamsin Goulnel born?"
ANSWER = "Tamsin Goulnel was born in Porto."


def pair(spans, question: str = QUESTION) -> QAPair:
    return QAPair(id="p", question=question, answer=ANSWER, spans=spans)


def test_the_subject_is_the_restated_name_found_in_the_question():
    spans = [Span(0, 14, "context"), Span(27, 32, "shared")]
    assert subject_chars(pair(spans)) == [(10, 24)]
    assert QUESTION[10:24] == "Tamsin Goulnel"


def test_every_occurrence_counts_and_facts_are_never_the_subject():
    twice = "Is Tamsin Goulnel the Tamsin Goulnel born in Porto?"
    spans = [Span(0, 14, "context"), Span(27, 32, "shared")]
    assert subject_chars(pair(spans, twice)) == [(3, 17), (22, 36)]  # "Porto" is a fact: not it


def test_without_a_restated_name_the_whole_question_is_the_subject():
    whole = [(0, len(QUESTION))]
    assert subject_chars(pair(None)) == whole  # spans unknown
    assert subject_chars(pair([Span(27, 32, "shared")])) == whole  # no context span
    she = "Where was she born?"  # the restated name is not in this wording
    assert subject_chars(pair([Span(0, 14, "context")], she)) == [(0, len(she))]
