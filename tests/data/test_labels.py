"""Tests for atwu.data.labels with real tokenizers of the three common offset styles.

Each tokenizer is trained here, from a few dozen sentences, with the `tokenizers` library (no hub
downloads) and wrapped in `transformers.PreTrainedTokenizerFast`, like a hub tokenizer would be:

* byte-level BPE (GPT-2/Llama-3 style): the space before a word is part of the next token and,
  with ``trim_offsets=False``, of its offsets (``" Lima"`` → (23, 28));
* SentencePiece style (``▁`` metaspace; BPE and Unigram): the ``▁`` marks the preceding space;
* WordPiece over a whitespace pre-tokenizer (BERT style): offsets never include spaces.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from atwu.data.format import Span
from atwu.data.labels import kind_codes, offsets_to_answer, token_labels

ANSWER = "Elena Varga was born in Lima on 3 May 1961."
SPANS = [Span(0, 11, "context"), Span(24, 28, "shared"), Span(32, 42, "specific")]
FACT_SPANS = [s for s in SPANS if s.label != "context"]
EOS = "<eos>"

assert ANSWER[0:11] == "Elena Varga" and ANSWER[24:28] == "Lima" and ANSWER[32:42] == "3 May 1961"


def _corpus() -> list[str]:
    """A few dozen template sentences, so merges are learnt but not the whole answer."""
    names = ["Elena Varga", "Tomas Brandt", "Ines Okafor", "Mara Lindqvist", "Ravi Castell"]
    cities = ["Lima", "Oslo", "Quito", "Paris", "Lagos", "Lisbon"]
    dates = ["3 May 1961", "12 June 1974", "30 March 1958", "7 October 1983"]
    sentences = []
    for name, city, date in itertools.islice(
        zip(itertools.cycle(names), itertools.cycle(cities), itertools.cycle(dates)), 24
    ):
        sentences.append(f"{name} was born in {city} on {date}.")
        sentences.append(f"The author {name} writes crime novels set in {city}.")
    sentences += [
        "Her father was a baker and her mother was a nurse.",
        "He won the Golden Quill award in 1999 for his first book.",
        "Many readers in Lima and Oslo admire the author's poetry.",
    ]
    return sentences


def _byte_level_bpe() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[EOS],
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer)
    return tok


def _metaspace_bpe() -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=150, special_tokens=["<unk>", EOS], show_progress=False
    )
    tok.train_from_iterator(_corpus(), trainer)
    return tok


def _metaspace_unigram() -> Tokenizer:
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=90, special_tokens=["<unk>", EOS], unk_token="<unk>", show_progress=False
    )
    tok.train_from_iterator(_corpus(), trainer)
    return tok


def _wordpiece_whitespace() -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=120, special_tokens=["<unk>", EOS], show_progress=False
    )
    tok.train_from_iterator(_corpus(), trainer)
    return tok


STYLES: dict[str, Callable[[], Tokenizer]] = {
    "byte_level_bpe": _byte_level_bpe,
    "metaspace_bpe": _metaspace_bpe,
    "metaspace_unigram": _metaspace_unigram,
    "wordpiece_whitespace": _wordpiece_whitespace,
}


@pytest.fixture(scope="session", params=sorted(STYLES))
def tokenizer(request: pytest.FixtureRequest) -> PreTrainedTokenizerFast:
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=STYLES[request.param](), eos_token=EOS, unk_token="<unk>"
    )
    wrapped.style = request.param  # type: ignore[attr-defined]  # for style-specific checks
    return wrapped


def _encode(tok: PreTrainedTokenizerFast, text: str) -> tuple[list[str], list[tuple[int, int]]]:
    enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
    pieces = tok.convert_ids_to_tokens(enc["input_ids"])
    return pieces, [tuple(o) for o in enc["offset_mapping"]]


def _expected(offset: tuple[int, int]) -> int:
    """The rule restated independently: look at the token's non-space characters."""
    chars = [p for p in range(*offset) if not ANSWER[p].isspace()]
    if any(s.start <= p < s.end for s in FACT_SPANS for p in chars):
        return 1
    if any(0 <= p < 11 for p in chars):
        return -1
    return 0


def _non_space(start: int, end: int) -> set[int]:
    return {p for p in range(start, end) if not ANSWER[p].isspace()}


def _covers(offset: tuple[int, int], start: int, end: int) -> bool:
    """True when every non-space character of the token lies in [start, end)."""
    chars = [p for p in range(*offset) if not ANSWER[p].isspace()]
    return bool(chars) and all(start <= p < end for p in chars)


def test_offsets_are_the_expected_style(tokenizer: PreTrainedTokenizerFast) -> None:
    pieces, offsets = _encode(tokenizer, ANSWER)
    assert len(pieces) > 5
    style = tokenizer.style  # type: ignore[attr-defined]
    has_space = [ANSWER[s:e][:1] == " " for s, e in offsets]
    if style == "byte_level_bpe":
        assert any(p.startswith("Ġ") for p in pieces) and any(has_space)
    elif style.startswith("metaspace"):
        assert any(p.startswith("▁") for p in pieces)
    else:
        assert not any(has_space)


def test_labels_match_characters(tokenizer: PreTrainedTokenizerFast) -> None:
    pieces, offsets = _encode(tokenizer, ANSWER)
    labels, kinds = token_labels(ANSWER, offsets, SPANS)
    assert len(labels) == len(kinds) == len(offsets)
    table = list(zip(pieces, offsets, labels, kinds))
    assert labels == [_expected(o) for o in offsets], table

    lima = [i for i, o in enumerate(offsets) if _covers(o, 24, 28)]
    date = [i for i, o in enumerate(offsets) if _covers(o, 32, 42)]
    name = [i for i, o in enumerate(offsets) if _covers(o, 0, 11)]
    template = [i for i, o in enumerate(offsets) if _covers(o, 11, 23)]  # " was born in"
    assert lima and date and name and template, table
    assert all(labels[i] == 1 and kinds[i] == "shared" for i in lima), table
    assert all(labels[i] == 1 and kinds[i] == "specific" for i in date), table
    assert all(labels[i] == -1 and kinds[i] == "context" for i in name), table
    assert all(labels[i] == 0 and kinds[i] is None for i in template), table
    # " on" and a lone "." are template tokens too (the "." may be merged into "1961." though).
    for i, (s, e) in enumerate(offsets):
        if ANSWER[s:e].strip() in {"on", "."}:
            assert labels[i] == 0, table

    # A label-1 token always holds a fact character; a label-0 token never does.
    for (s, e), label in zip(offsets, labels):
        fact_chars = [
            p
            for p in range(s, e)
            if not ANSWER[p].isspace() and any(f.start <= p < f.end for f in FACT_SPANS)
        ]
        assert bool(fact_chars) == (label == 1), table


def test_label_one_tokens_cover_every_fact_character(tokenizer: PreTrainedTokenizerFast) -> None:
    _, offsets = _encode(tokenizer, ANSWER)
    labels, _ = token_labels(ANSWER, offsets, SPANS)
    covered = {p for (s, e), lab in zip(offsets, labels) if lab == 1 for p in range(s, e)}
    for span in FACT_SPANS:
        # Whitespace inside a span ("3 May 1961") belongs to no token under WordPiece.
        assert _non_space(span.start, span.end) <= covered, span
        # The label-1 tokens that touch the span spell it out (plus at most whitespace/neighbours).
        text = "".join(
            ANSWER[s:e]
            for (s, e), lab in zip(offsets, labels)
            if lab == 1 and s < span.end and e > span.start
        )
        assert ANSWER[span.start : span.end].replace(" ", "") in text.replace(" ", "")


def test_byte_level_leading_space_token_is_inside() -> None:
    tok = PreTrainedTokenizerFast(tokenizer_object=_byte_level_bpe(), eos_token=EOS)
    pieces, offsets = _encode(tok, ANSWER)
    labels, _ = token_labels(ANSWER, offsets, SPANS)
    # The token that starts " Lima" includes the space at 23, which is outside the span.
    first = next(i for i, (s, e) in enumerate(offsets) if s == 23)
    assert ANSWER[23] == " " and pieces[first].startswith("Ġ")
    assert labels[first] == 1


def test_special_token_and_unknown_spans(tokenizer: PreTrainedTokenizerFast) -> None:
    _, offsets = _encode(tokenizer, ANSWER)
    labels, kinds = token_labels(ANSWER, [*offsets, None], SPANS)
    assert labels[-1] == -1 and kinds[-1] is None
    assert labels[:-1] == [_expected(o) for o in offsets]
    labels, _ = token_labels(ANSWER, [*offsets, (-1, -1)], SPANS)
    assert labels[-1] == -1

    labels, kinds = token_labels(ANSWER, [*offsets, None], None)
    assert labels == [-1] * (len(offsets) + 1) and kinds == [None] * (len(offsets) + 1)

    labels, _ = token_labels(ANSWER, offsets, [])  # annotated, no facts: all 0
    assert labels == [0] * len(offsets)


def test_full_prompt_through_offsets_to_answer(tokenizer: PreTrainedTokenizerFast) -> None:
    prompt = "Question: Where and when was Elena Varga born?\nAnswer: "
    text = prompt + ANSWER + EOS
    start, end = len(prompt), len(prompt) + len(ANSWER)
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids = enc["input_ids"]
    offsets = offsets_to_answer(enc["offset_mapping"], start, end)
    assert ids[-1] == tokenizer.eos_token_id and offsets[-1] is None
    answer_offsets = [o for o in offsets if o is not None]
    assert answer_offsets and all(0 <= s < e <= len(ANSWER) for s, e in answer_offsets)
    labels, _ = token_labels(ANSWER, offsets, SPANS)
    assert labels[-1] == -1
    covered = {p for o, lab in zip(offsets, labels) if lab == 1 for p in range(*o)}
    for span in FACT_SPANS:
        assert _non_space(span.start, span.end) <= covered


# ------------------------------------------------------------------------------------------
# Synthetic offsets: the edge cases of the rule, independent of any tokenizer
# ------------------------------------------------------------------------------------------


def test_whitespace_only_token_is_never_inside() -> None:
    answer = "in Lima now"
    spans = [Span(2, 7, "fact")]  # " Lima", including the space
    labels, kinds = token_labels(answer, [(0, 2), (2, 3), (3, 7), (7, 11)], spans)
    assert labels == [0, 0, 1, 0] and kinds == [None, None, "fact", None]


def test_fact_wins_over_context() -> None:
    answer = "Ana Lima"
    spans = [Span(0, 8, "context"), Span(4, 8, "specific")]
    labels, kinds = token_labels(answer, [(0, 3), (3, 6), (6, 8)], spans)
    assert labels == [-1, 1, 1] and kinds == ["context", "specific", "specific"]
    # Order of spans does not matter for the fact/context decision.
    labels2, kinds2 = token_labels(answer, [(0, 3), (3, 6), (6, 8)], spans[::-1])
    assert (labels2, kinds2) == (labels, kinds)


def test_zero_width_and_raw_offsets() -> None:
    labels, _ = token_labels("ab", [[0, 1], (1, 1), (1, 2)], [[0, 1, "fact"]])
    assert labels == [1, -1, 0]


def test_bad_offsets_and_spans_raise() -> None:
    with pytest.raises(ValueError, match="offsets_to_answer"):
        token_labels("abc", [(0, 10)], [])
    with pytest.raises(ValueError, match="label"):
        token_labels("abc", [(0, 1)], [Span(0, 1, "name")])
    with pytest.raises(ValueError, match="inside"):
        token_labels("abc", [(0, 1)], [Span(0, 9, "fact")])


def test_offsets_to_answer_clips_and_drops() -> None:
    # text = "Q: hi\nA: Lima.<eos>", answer "Lima." at [9, 14)
    offsets = [(0, 2), (2, 5), (5, 6), (6, 8), (8, 13), (13, 14), (14, 19), (0, 0), None, (-1, -1)]
    assert offsets_to_answer(offsets, 9, 14) == [
        None,
        None,
        None,
        None,
        (0, 4),
        (4, 5),
        None,
        None,
        None,
        None,
    ]
    # A token straddling the end is clipped too.
    assert offsets_to_answer([(12, 16)], 9, 14) == [(3, 5)]
    with pytest.raises(ValueError):
        offsets_to_answer([(0, 1)], 5, 2)


def test_kind_codes_number_every_span_kind():
    # forget batches carry these codes as a tensor: 0 outside every span, one code per label
    assert kind_codes([None, "specific", "shared", "fact", "context"]) == [0, 1, 2, 3, 4]
