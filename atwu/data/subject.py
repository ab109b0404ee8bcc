"""Which prompt tokens name the question's subject: what ``tokenunlearn`` masks for its knowledge
signal (METHOD.md §2: how much an answer token depends on the question's subject).

The subject is the text the answer restates from the question, its ``context`` spans (the
author's name in "Where was Tamsin Goulnel born?" → "Tamsin Goulnel was born in Porto."), found
in the question. A pair without such a span (spans unknown, or an answer that restates nothing)
falls back to the whole question text. The chat template's own tokens are never the subject.

A token is part of the subject when it holds a non-whitespace character of it, as for answer
spans (:mod:`atwu.data.labels`).
"""

from __future__ import annotations

from atwu.data.chat import prompt_text
from atwu.data.format import QAPair


def subject_chars(pair: QAPair) -> list[tuple[int, int]]:
    """Character ranges of the subject in ``pair.question`` (end exclusive)."""
    found: list[tuple[int, int]] = []
    for span in pair.spans or []:
        if span.label != "context":
            continue
        text = pair.answer[span.start : span.end].strip()
        start = pair.question.find(text) if text else -1
        while start >= 0:
            found.append((start, start + len(text)))
            start = pair.question.find(text, start + 1)
    return sorted(set(found)) or ([(0, len(pair.question))] if pair.question else [])


def subject_positions(tokenizer, pair: QAPair, prompt_ids: list[int]) -> list[int]:
    """Indices into ``prompt_ids`` (the pair's prompt as :func:`atwu.data.chat.encode_pair`
    tokenises it) of the tokens that hold the subject; every prompt token when the prompt cannot
    be re-tokenised with offsets to the same ids."""
    prompt = prompt_text(tokenizer, pair.question)
    everything = list(range(len(prompt_ids)))
    base = prompt.find(pair.question)
    if base < 0:
        return everything
    enc = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
    if list(enc["input_ids"]) != list(prompt_ids):
        return everything
    inside = [False] * len(prompt)
    for start, end in subject_chars(pair):
        for pos in range(base + start, base + end):
            inside[pos] = not prompt[pos].isspace()
    return [
        i
        for i, (start, end) in enumerate(enc["offset_mapping"])
        if any(inside[pos] for pos in range(start, min(end, len(prompt))))
    ]
