"""Ground-truth spans marked on typed text in the browser: found from the words a user marks,
checked exactly as ``prepare`` and an own-data upload check them
(:func:`atwu.data.pairs_file.parse_pair`), laid onto the scored tokens, and the AUROC of a
scorer's weights against them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from atwu.data.format import SPAN_LABELS, Span
from atwu.data.labels import token_labels
from atwu.data.pairs_file import parse_pair
from atwu.errors import InputError
from atwu.evaluate.alignment_metrics import alignment_metrics

WHERE = "the marked text"


def find_span(text: str, words: str, label: str, occurrence: int = 1) -> Span:
    """The span of the ``occurrence``-th appearance (1 = first) of ``words`` in ``text``;
    :class:`InputError` saying what to change when there is none."""
    if label not in SPAN_LABELS:
        raise InputError(f"unknown span label {label!r}; use one of {', '.join(SPAN_LABELS)}")
    if not words:
        raise InputError("type the words to mark, exactly as they appear in the text")
    start = -1
    for _ in range(max(1, int(occurrence))):
        start = text.find(words, start + 1)
        if start < 0:
            break
    if start < 0:
        count = text.count(words)
        where = f"appears {count} time(s)" if count else "does not appear"
        raise InputError(
            f"{words!r} {where} in the text (occurrence {occurrence} asked); copy the words "
            "exactly, with their capitals and spaces"
        )
    return Span(start, start + len(words), label)


def check_spans(text: str, spans: Sequence[Span], question: str = "") -> list[Span]:
    """The spans as ``prepare`` accepts them (bounds, labels, no specific/shared overlap), sorted
    by start; the same :class:`~atwu.data.format.DataFormatError` one-line message otherwise."""
    record = {
        "question": question.strip() or "(typed text)",
        "answer": text,
        "spans": [s.to_json() for s in spans],
    }
    pair = parse_pair(record, where=WHERE, default_id="typed")
    return sorted(pair.spans or [], key=lambda s: (s.start, s.end))


def add_span(text: str, spans: Sequence[Span], new: Span, question: str = "") -> list[Span]:
    """``spans`` with ``new`` added, checked; an exact duplicate is refused."""
    if any((s.start, s.end, s.label) == (new.start, new.end, new.label) for s in spans):
        raise InputError(f"{text[new.start : new.end]!r} is already marked {new.label}")
    return check_spans(text, [*spans, new], question)


def token_offsets(text: str, tokens: Sequence[str]) -> list[tuple[int, int] | None]:
    """Each scored token's character range in ``text``, found in order (the scorer's tokens are
    pieces of the text; special tokens such as the closing EOS are not, and get None)."""
    out: list[tuple[int, int] | None] = []
    cursor = 0
    for token in tokens:
        at = text.find(token, cursor) if token else -1
        # a piece of the text follows the previous one, at most past skipped whitespace
        if at >= 0 and not text[cursor:at].strip():
            out.append((at, at + len(token)))
            cursor = at + len(token)
        else:
            out.append(None)
    return out


@dataclass(frozen=True)
class MarkedScore:
    tokens: pd.DataFrame
    """Token rows (position, token, weight, label, span_kind) for the token view."""
    auroc: float
    note: str
    """Why AUROC is undefined (NaN), else empty."""


def score_against_marks(
    text: str, scored: Sequence[tuple[str, float]], spans: Sequence[Span]
) -> MarkedScore:
    """A scorer's ``(token, weight)`` list for ``text`` labelled by the marked spans (fact 1,
    other 0, context left out, as the evaluation labels a benchmark's answers) and its AUROC."""
    tokens = [t for t, _ in scored]
    labels, kinds = token_labels(text, token_offsets(text, tokens), list(spans))
    frame = pd.DataFrame(
        {
            "position": range(len(tokens)),
            "token": tokens,
            "weight": [float(w) for _, w in scored],
            "label": labels,
            "span_kind": kinds,
        }
    )
    result = alignment_metrics(frame["weight"].to_numpy(), frame["label"].to_numpy())
    auroc = float(result.auroc)
    notes = [n for n in result.notes if n.startswith("auroc")] if math.isnan(auroc) else []
    return MarkedScore(frame, auroc, notes[0] if notes else "")


def spans_table(text: str, spans: Sequence[Span]) -> pd.DataFrame:
    """The marks as a table: label, the marked words, their offsets."""
    return pd.DataFrame(
        [
            {"label": s.label, "marked": text[s.start : s.end], "start": s.start, "end": s.end}
            for s in spans
        ],
        columns=["label", "marked", "start", "end"],
    )
