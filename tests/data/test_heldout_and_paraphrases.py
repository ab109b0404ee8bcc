"""METHOD.md §3.1 in the data: held-out retain authors, neighbour flags, paraphrased questions and
answer spans in both generators, the general set's options, and old benchmarks told how to upgrade."""

from __future__ import annotations

import json

import pytest

from atwu.benchmark import Benchmark, BenchmarkError, split_heldout
from atwu.data import companies
from atwu.data.embedded import answer_slots, generate_splits, make_authors
from atwu.data.templates import ATTRIBUTES


@pytest.fixture(scope="module")
def splits():
    return generate_splits(40, seed=3)


def test_heldout_is_a_tenth_of_the_retain_authors_and_disjoint_from_train(splits):
    for retain in ("retain90", "retain95", "retain99"):
        train, held = splits[f"{retain}_train"], splits[f"{retain}_heldout"]
        train_authors, held_authors = {p.author for p in train}, {p.author for p in held}
        assert not train_authors & held_authors
        assert train_authors | held_authors == {p.author for p in splits[retain]}
        assert len(held_authors) == round(0.1 * len(train_authors | held_authors))
        assert len(train) + len(held) == len(splits[retain])
    assert splits["retain90_heldout"] != splits["retain95_heldout"]  # drawn per retain split


def test_neighbour_flags_mark_values_a_forget_author_has_for_the_same_attribute(splits):
    authors = {a.id: a for a in make_authors(44, 3)}  # 40 + 4 holdout, as generate_splits
    forget = [authors[a] for a in {p.author for p in splits["forget10"]}]
    attributes = {a.key: a for a in ATTRIBUTES}
    flags = []
    for pair in splits["retain90_heldout"]:
        attribute = attributes[pair.id.split("_", 1)[1]]
        slots = [s for s in answer_slots(attribute) if s not in attribute.context_slots]
        author = authors[pair.author]
        for span in pair.fact_spans():
            value = pair.answer[span.start : span.end]
            slot = next(s for s in slots if author.values[s] == value)
            expected = any(f.values[slot] == value for f in forget)
            assert span.neighbour == expected, (pair.id, value)
            flags.append(expected)
    assert any(flags) and not all(flags)  # both kinds occur on 40 authors
    assert not any(s.neighbour for p in splits["forget10"] for s in p.spans or [])


def test_every_author_pair_has_a_paraphrased_question_and_answer_spans(splits):
    for pair in splits["full"]:
        assert pair.paraphrased_question and pair.paraphrased_question != pair.question
        assert pair.paraphrased_answer_spans is not None
        facts = [pair.answer[s.start : s.end] for s in pair.fact_spans()]
        para = [
            pair.paraphrased_answer[s.start : s.end]
            for s in pair.paraphrased_answer_spans
            if s.label != "context"
        ]
        assert sorted(facts) == sorted(para)  # the same values, in the other wording


def test_general_options_use_the_answers_wording(splits):
    for pair in splits["general"]:
        fact = pair.fact_spans()[0]
        frame = pair.answer[: fact.start], pair.answer[fact.end :]
        for option in pair.perturbed_answers or []:
            assert option.startswith(frame[0]) and option.endswith(frame[1]), option
        assert pair.paraphrased_answer == pair.answer


def test_companies_flag_neighbours_and_have_paraphrases():
    data = companies.generate(30, seed=1)
    forget_values = {}
    for pair in data["forget"]:
        key = pair.id.split("_", 1)[1]
        forget_values.setdefault(key, set()).update(
            pair.answer[s.start : s.end] for s in pair.fact_spans()
        )
    flags = []
    for pair in data["retain"]:
        key = pair.id.split("_", 1)[1]
        for span in pair.fact_spans():
            near = pair.answer[span.start : span.end] in forget_values[key]
            assert span.neighbour == near, pair.id
            flags.append(near)
        assert pair.paraphrased_question and pair.paraphrased_answer_spans
    assert any(flags) and not all(flags)


def test_split_heldout_holds_out_whole_groups_deterministically(splits):
    retain = splits["retain90"]
    train, held = split_heldout(retain, 0.1, "heldout:0")
    assert (train, held) == split_heldout(retain, 0.1, "heldout:0")
    assert not {p.author for p in train} & {p.author for p in held}
    no_groups = [p.__class__(**{**p.__dict__, "author": None}) for p in retain[:20]]
    train, held = split_heldout(no_groups, 0.1, "x")
    assert len(held) == 2 and len(train) == 18


def test_a_benchmark_from_before_the_heldout_split_gets_one_line_saying_how_to_upgrade(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 1, "splits": {}}))
    with pytest.raises(BenchmarkError) as err:
        Benchmark.load(tmp_path)
    message = str(err.value)
    assert "\n" not in message and "format 1" in message and "--overwrite" in message
