"""``authors_tune``, the second tuning benchmark (issue 22, METHOD.md §1 and §3.1): the embedded
generator on another vocabulary. Its data must share no name, title or value and no answer
wording with the embedded benchmark (or a default tuned on it is still fitted to the reported
data), keep the embedded benchmark's structure (labels, splits), and leave the embedded
benchmark's own data unchanged byte for byte."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

import pytest

from atwu.data.embedded import _SLOT, VOCABULARIES, generate_splits, make_authors
from atwu.data.format import QAPair
from atwu.data.templates import AUTHORS, SLOT_KIND
from atwu.data.templates_tune import AUTHORS_TUNE

# _digest(generate_splits(200, 0)) of the embedded benchmark (every split in sorted order, each
# pair as json.dumps([split, pair.to_json()], sort_keys=True), through one sha256), computed with
# main's code at 2992ea3, before the generator took a Vocabulary, by the same loop as _digest.
EMBEDDED_200_SEED0_SHA256 = "cd1b4f096e35ad0e9b3c9c075c1cc18fdf2dc8f763e1ab4ffd6e90e4ab6a59df"


def _digest(splits: dict[str, list[QAPair]]) -> str:
    h = hashlib.sha256()
    for name in sorted(splits):
        for pair in splits[name]:
            h.update(json.dumps([name, pair.to_json()], sort_keys=True).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def embedded():
    return generate_splits(200, 0)


@pytest.fixture(scope="module")
def tune():
    return generate_splits(200, 0, vocab=AUTHORS_TUNE)


def test_the_embedded_benchmark_is_what_it_was_before_the_vocabulary(embedded):
    assert _digest(embedded) == EMBEDDED_200_SEED0_SHA256
    assert _digest(generate_splits(200, 0, vocab=AUTHORS)) == EMBEDDED_200_SEED0_SHA256


def test_both_data_sets_are_offered_by_name():
    assert VOCABULARIES == {"embedded": AUTHORS, "authors_tune": AUTHORS_TUNE}


def _values_by_slot(n: int, seed: int, vocab) -> dict[str, set[str]]:
    """Every value the generated authors have, by slot, with the name's and pen name's first and
    last words and the titles' and awards' words as their own pools."""
    out: dict[str, set[str]] = defaultdict(set)
    for author in make_authors(n, seed, vocab=vocab):
        for slot, value in author.values.items():
            out[slot].add(value)
        for slot in ("name", "pen_name"):
            first, last = author.values[slot].split(" ")
            out["first_name"].add(first)
            out["surname"].add(last)
        for slot in ("award", "title1", "title2"):
            coined, noun = author.values[slot].split(" ")
            out["coined"].add(coined)
            out[f"{slot.rstrip('12')}_word"].add(noun)
    return out


def test_names_titles_and_every_value_pool_are_disjoint_from_the_embedded_ones():
    mine = _values_by_slot(220, 0, AUTHORS_TUNE)  # 200 authors + 20 holdout, as generate_splits
    theirs = _values_by_slot(220, 0, AUTHORS)
    assert mine.keys() == theirs.keys()
    for pool, values in mine.items():
        assert len(values) > 1, pool
        assert not values & theirs[pool], (pool, sorted(values & theirs[pool])[:5])
    # across pools too: no value of one benchmark is any value of the other
    every = set().union(*theirs.values())
    assert not set().union(*mine.values()) & every
    # and every surname and coined word is new (made of other syllables), also across slots
    assert not (mine["surname"] | mine["coined"]) & (theirs["surname"] | theirs["coined"])


def _fact_texts(splits: dict[str, list[QAPair]]) -> set[str]:
    return {
        text[s.start : s.end]
        for p in splits["full"] + splits["holdout"]
        for text, spans in ((p.answer, p.spans), (p.paraphrased_answer, p.paraphrased_answer_spans))
        for s in spans or []
    }


def test_no_span_of_one_benchmark_is_a_span_of_the_other(embedded, tune):
    # the values as the answers carry them (facts and restated names alike)
    assert not _fact_texts(tune) & _fact_texts(embedded)


def _frames(vocab) -> tuple[set[str], set[str]]:
    answers = {w.answer for a in vocab.attributes for w in a.wordings}
    questions = {w.question for a in vocab.attributes for w in a.wordings}
    return answers, questions


def test_no_answer_or_question_template_is_shared_verbatim():
    answers, questions = _frames(AUTHORS_TUNE)
    their_answers, their_questions = _frames(AUTHORS)
    assert not answers & their_answers
    assert not questions & their_questions
    # the same attributes, each with its own wordings (and a paraphrase: two or more each)
    assert [a.key for a in AUTHORS_TUNE.attributes] == [a.key for a in AUTHORS.attributes]
    assert all(len(a.wordings) >= 2 for a in AUTHORS_TUNE.attributes)


def _answer_frame(pair: QAPair) -> str:
    """The answer with every span replaced by its label: the wording the generator used."""
    out, pos = [], 0
    for span in sorted(pair.spans or [], key=lambda s: s.start):
        out += [pair.answer[pos : span.start], f"<{span.label}>"]
        pos = span.end
    return "".join([*out, pair.answer[pos:]])


def test_the_generated_answers_share_no_wording_with_the_embedded_ones(embedded, tune):
    assert not {_answer_frame(p) for p in tune["full"]} & {
        _answer_frame(p) for p in embedded["full"]
    }


def test_spans_lie_in_their_answers_with_the_embedded_labels(tune):
    for pair in tune["full"] + tune["holdout"]:
        for text, spans in (
            (pair.answer, pair.spans),
            (pair.paraphrased_answer, pair.paraphrased_answer_spans),
        ):
            assert spans, pair.id
            for span in spans:
                value = text[span.start : span.end]
                assert value and value == value.strip(), (pair.id, value)
            labels = {s.label for s in spans}
            assert labels <= {"specific", "shared", "context"}
            assert labels & {"specific", "shared"}, pair.id
        assert len(pair.perturbed_answers or []) == 3
        assert pair.paraphrased_answer not in (pair.perturbed_answers or [])


def test_each_attribute_labels_its_values_as_the_embedded_benchmark_does(embedded, tune):
    """The same attribute gives the same span labels in both:
    `context` for the restated name (the title for author_of), SLOT_KIND for the fact."""

    def kinds(splits):
        out = defaultdict(set)
        for pair in splits["full"]:
            out[pair.id.split("_", 1)[1]].add(tuple(sorted(s.label for s in pair.spans or [])))
        return dict(out)

    assert kinds(tune) == kinds(embedded)
    slots = {
        s for a in AUTHORS_TUNE.attributes for w in a.wordings for s in _SLOT.findall(w.answer)
    }
    assert slots <= SLOT_KIND.keys()


def test_the_splits_have_the_embedded_sizes_and_flag_neighbours(embedded, tune):
    assert {k: len(v) for k, v in tune.items()} == {k: len(v) for k, v in embedded.items()}
    assert [p.id for p in tune["forget10"]] == [p.id for p in embedded["forget10"]]
    flags = [s.neighbour for p in tune["retain90_heldout"] for s in p.fact_spans()]
    assert any(flags) and not all(flags)
    assert not {p.author for p in tune["retain90_train"]} & {
        p.author for p in tune["retain90_heldout"]
    }


def test_another_stream_draws_other_authors_for_the_same_seed():
    """The vocabulary's own random streams: the same --seed does not replay the embedded draws
    (e.g. the same author getting the same city index in both)."""
    mine = make_authors(50, 0, vocab=AUTHORS_TUNE)
    theirs = make_authors(50, 0)
    index = {name: i for i, name in enumerate(AUTHORS_TUNE.cities)}
    their_index = {name: i for i, name in enumerate(AUTHORS.cities)}
    same = sum(
        index[m.values["city"]] == their_index[t.values["city"]] for m, t in zip(mine, theirs)
    )
    assert same < 25  # replayed draws would give 50
