"""Own data that no benchmark needs (a million pairs, a file of gigabytes, two kinds of fact on
the same characters) is refused in one line naming the file, the line where it matters, and what
to do, before it costs memory or time."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from atwu.data.format import DataFormatError
from atwu.data.pairs_file import MAX_PAIRS_PER_FILE, load_pairs, write_pairs
from atwu.data.spans_rules import load_span_file
from atwu.file_limits import LIMIT_ENV, LIMITS


def pair_line(i: int, spans: list | None = None) -> str:
    obj: dict = {"question": f"Q{i}?", "answer": "Alice Smith was born in Paris."}
    if spans is not None:
        obj["spans"] = spans
    return json.dumps(obj) + "\n"


def test_a_file_with_more_pairs_than_the_limit_is_refused_at_the_first_pair_beyond(tmp_path):
    path = tmp_path / "forget.jsonl"
    path.write_text("".join(pair_line(i) for i in range(MAX_PAIRS_PER_FILE + 5)))
    with pytest.raises(DataFormatError) as caught:
        load_pairs(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{MAX_PAIRS_PER_FILE + 1}:")
    assert "more than 100,000 pairs" in message and "split it" in message
    assert "\n" not in message


def test_a_split_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "forget.jsonl"
    with open(path, "wb") as handle:
        handle.truncate(3 * LIMITS["pairs"])  # 192 MB of NUL bytes, sparse
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with pytest.raises(DataFormatError, match="192 MB is over the 64 MB limit for a split file"):
        load_pairs(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before < 100
    with pytest.raises(DataFormatError, match=LIMIT_ENV):
        load_pairs(path)


def test_a_specific_and_a_shared_fact_on_the_same_characters_are_refused_with_both_spans(tmp_path):
    path = tmp_path / "forget.jsonl"
    path.write_text(pair_line(0, []) + pair_line(1, [[0, 5, "specific"], [2, 8, "shared"]]))
    with pytest.raises(DataFormatError) as caught:
        load_pairs(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: field 'spans'")
    assert '[0, 5, "specific"]' in message and '[2, 8, "shared"]' in message
    assert "characters 2-5" in message


@pytest.mark.parametrize(
    "spans",
    [
        [[0, 11, "context"], [0, 5, "specific"]],  # a fact inside context: the fact wins
        [[0, 5, "shared"], [3, 11, "shared"]],  # one kind of fact, twice
        [[0, 5, "specific"], [5, 11, "shared"]],  # touching, not overlapping (end exclusive)
    ],
)
def test_overlaps_that_token_labelling_decides_are_still_accepted(tmp_path, spans):
    path = tmp_path / "forget.jsonl"
    path.write_text(pair_line(0, spans))
    [pair] = load_pairs(path)
    assert [s.label for s in pair.spans] == [s[2] for s in spans]


def test_writing_conflicting_facts_is_refused_as_reading_them_is(tmp_path):
    path = tmp_path / "good.jsonl"
    path.write_text(pair_line(0, [[0, 5, "specific"]]))
    [pair] = load_pairs(path)
    pair.spans = [*pair.spans, type(pair.spans[0])(3, 9, "shared")]
    with pytest.raises(DataFormatError, match="overlap with different labels"):
        write_pairs(tmp_path / "out.jsonl", [pair])
    assert not (tmp_path / "out.jsonl").exists()


def test_a_span_file_with_conflicting_facts_names_its_line(tmp_path):
    from atwu.data.spans_rules import apply_span_overrides

    pairs_path = tmp_path / "forget.jsonl"
    pairs_path.write_text(json.dumps({"id": "p0", **json.loads(pair_line(0))}) + "\n")
    span_path = tmp_path / "spans.jsonl"
    span_path.write_text(
        json.dumps({"id": "p0", "spans": [[0, 5, "specific"], [2, 8, "shared"]]}) + "\n"
    )
    load_span_file(span_path)  # the form is fine; the overlap is found where spans are applied
    with pytest.raises(DataFormatError, match=r"spans\.jsonl:1.*overlap with different labels"):
        apply_span_overrides({"forget": load_pairs(pairs_path)}, Path(span_path))
