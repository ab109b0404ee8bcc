"""Character spans → per-token ground-truth labels, for any tokenizer.

Spans are stored as character offsets into the answer (see :mod:`atwu.data.format`), so they do
not depend on a tokenizer. A tokenizer's offset mapping then says which characters each answer
token covers, and this module decides each token's label:

* ``1``  the token holds a character of a fact span (``specific``, ``shared`` or ``fact``);
* ``0``  the token holds no character of any span (template words, punctuation, whitespace);
* ``-1`` left out of the alignment metrics: the token lies in a ``context`` span (restated from
  the question, so copied rather than recalled), it is a special token (EOS, end of turn), or the
  pair's ground truth is unknown (``spans is None``).

"Holds a character" looks only at non-whitespace characters. Tokenizers disagree about where the
space between words goes: GPT-2's byte-level BPE glues it to the next token (``" Lima"``),
SentencePiece marks it with ``▁`` and its offsets may or may not cover it, WordPiece drops it.
Ignoring whitespace gives the same answer for all three: ``" Lima"`` belongs to the span of
``Lima`` and the token before it does not. A token that is only whitespace is never in a span.

Typical use::

    enc = tok(text, return_offsets_mapping=True)
    offsets = offsets_to_answer(enc["offset_mapping"], answer_start, answer_end)
    labels, kinds = token_labels(pair.answer, offsets, pair.spans)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atwu.data.format import FACT_LABELS, SPAN_LABELS, Span

__all__ = ["KIND_CODES", "fact_span_index", "kind_codes", "offsets_to_answer", "token_labels"]

FACT = 1
OUTSIDE = 0
IGNORE = -1

#: a token's span kind as a small integer, for tensors (a forget batch's ``token_kinds``): 0 for
#: a token in no span, then one code per label of :data:`SPAN_LABELS` (specific 1, shared 2,
#: fact 3, context 4)
KIND_CODES: dict[str | None, int] = {None: 0, **{k: i + 1 for i, k in enumerate(SPAN_LABELS)}}


def _as_offset(offset: Any) -> tuple[int, int] | None:
    """``(start, end)`` as ints, or None for a token without characters.

    Accepts tuples, lists, numpy rows or tensor rows (a ``.tolist()`` of a ``(n, 2)`` tensor), so
    callers can pass a tokenizer's output straight through.
    """
    if offset is None:
        return None
    if hasattr(offset, "tolist"):
        offset = offset.tolist()
    start, end = (int(x) for x in offset)
    # (-1, -1) is how some pipelines pad offsets of special tokens; a zero-width token covers no
    # character at all (Hugging Face gives added special tokens (0, 0)), so neither has a label.
    if (start, end) == (-1, -1) or start == end:
        return None
    return start, end


def _as_span(span: Any) -> Span:
    if isinstance(span, Span):
        return span
    start, end, label = span  # a raw [start, end, label] from a JSON file
    return Span(int(start), int(end), str(label))


def token_labels(
    answer: str,
    offsets: Sequence[tuple[int, int] | None],
    spans: Sequence[Span] | None,
) -> tuple[list[int], list[str | None]]:
    """Per-token labels of an answer from its character spans.

    Args:
        answer: the answer text the spans and offsets refer to.
        offsets: per answer token, its ``(start, end)`` character offsets into ``answer`` (end
            exclusive), or None / ``(-1, -1)`` for a special token. Offsets over a longer
            rendered text must first go through :func:`offsets_to_answer`.
        spans: the pair's spans; None when the ground truth is unknown. ``[start, end, label]``
            lists are accepted as well as :class:`~atwu.data.format.Span`.

    Returns:
        ``(labels, kinds)``, one entry per token. ``labels[i]`` is 1 / 0 / -1 as described in the
        module docstring. ``kinds[i]`` is the label string of the span the token falls in
        (``"specific"``, ``"shared"``, ``"fact"`` or ``"context"``), else None; it lets the
        metrics report ``specific`` facts alone.

    A token touching both a fact span and a context span is labelled 1 (kind = the fact's): a
    token that carries even one character of a recalled fact cannot be produced without recalling
    it, so leaving it out would hide fact tokens from the metrics; context only means "copied from
    the question" where nothing else is going on. When fact spans overlap, the kind comes from the
    one listed first that holds the token's first fact character.

    Raises:
        ValueError: a span or an offset outside ``answer`` (usually offsets over the whole prompt
            passed without :func:`offsets_to_answer`), or an unknown span label.
    """
    labels, kinds, _ = _classify(answer, offsets, spans)
    return labels, kinds


def fact_span_index(
    answer: str,
    offsets: Sequence[tuple[int, int] | None],
    spans: Sequence[Span] | None,
) -> list[int]:
    """Per token, the index of the fact span it belongs to among the pair's fact spans (the spans
    with a label in FACT_LABELS, in listed order), or −1. The token↔span rule is the one of
    :func:`token_labels`, so a token with label 1 always has an index here."""
    return _classify(answer, offsets, spans)[2]


def _classify(
    answer: str,
    offsets: Sequence[tuple[int, int] | None],
    spans: Sequence[Span] | None,
) -> tuple[list[int], list[str | None], list[int]]:
    n = len(answer)
    token_offsets = [_as_offset(offset) for offset in offsets]
    for i, offset in enumerate(token_offsets):
        if offset is not None and not 0 <= offset[0] < offset[1] <= n:
            raise ValueError(
                f"token {i}: offsets {offset} are outside the answer's {n} characters; offsets "
                "must be relative to the answer (convert with offsets_to_answer)"
            )
    if spans is None:
        none = len(token_offsets)
        return [IGNORE] * none, [None] * none, [-1] * none

    # Per-character tables, so each token costs only its own length.
    fact_at: list[int] = [-1] * n  # index among the fact spans of the span owning the character
    fact_kinds: list[str] = []
    in_context = [False] * n
    for j, raw in enumerate(spans):
        span = _as_span(raw)
        if span.label not in SPAN_LABELS:
            raise ValueError(f"span {j}: unknown label {span.label!r} (use one of {SPAN_LABELS})")
        if not 0 <= span.start < span.end <= n:
            raise ValueError(
                f"span {j}: [{span.start}, {span.end}) is not a non-empty range inside the "
                f"answer's {n} characters"
            )
        if span.label in FACT_LABELS:
            fact_kinds.append(span.label)
        for pos in range(span.start, span.end):
            if span.label in FACT_LABELS:
                if fact_at[pos] < 0:  # the first listed fact span keeps the character
                    fact_at[pos] = len(fact_kinds) - 1
            else:
                in_context[pos] = True

    labels: list[int] = []
    kinds: list[str | None] = []
    index: list[int] = []
    for offset in token_offsets:
        if offset is None:
            labels.append(IGNORE)
            kinds.append(None)
            index.append(-1)
            continue
        fact = -1
        context = False
        for pos in range(*offset):
            if answer[pos].isspace():
                continue
            if fact_at[pos] >= 0:
                fact = fact_at[pos]
                break
            context = context or in_context[pos]
        if fact >= 0:
            labels.append(FACT)
            kinds.append(fact_kinds[fact])
        elif context:
            labels.append(IGNORE)
            kinds.append("context")
        else:
            labels.append(OUTSIDE)
            kinds.append(None)
        index.append(fact)
    return labels, kinds, index


def kind_codes(kinds: Sequence[str | None]) -> list[int]:
    """The :data:`KIND_CODES` of the ``kinds`` that :func:`token_labels` returns."""
    return [KIND_CODES[kind] for kind in kinds]


def offsets_to_answer(
    offsets_in_text: Sequence[Any],
    answer_start: int,
    answer_end: int,
) -> list[tuple[int, int] | None]:
    """Re-base a tokenizer's offset mapping over a rendered text onto the answer inside it.

    Args:
        offsets_in_text: per token, ``(start, end)`` character offsets into the full text
            (prompt + answer + end-of-turn ...), or None / ``(-1, -1)`` for tokens without them.
            A ``(n, 2)`` tensor or array works too.
        answer_start, answer_end: where the answer lies in that text (``text[answer_start:
            answer_end] == answer``).

    Returns:
        Per token, its offsets relative to the answer, or None when the token covers no
        character of the answer (prompt tokens, special tokens, zero-width tokens). A token that
        straddles a boundary (byte-level BPE often glues the space before the answer to its first
        word) is clipped to the answer's part.
    """
    if not 0 <= answer_start <= answer_end:
        raise ValueError(
            f"answer range [{answer_start}, {answer_end}) must satisfy 0 <= start <= end"
        )
    if hasattr(offsets_in_text, "tolist"):
        offsets_in_text = offsets_in_text.tolist()
    result: list[tuple[int, int] | None] = []
    for raw in offsets_in_text:
        offset = _as_offset(raw)
        if offset is None or offset[1] <= answer_start or offset[0] >= answer_end:
            result.append(None)
            continue
        start, end = offset
        clipped = (max(start, answer_start), min(end, answer_end))
        result.append((clipped[0] - answer_start, clipped[1] - answer_start))
    return result
