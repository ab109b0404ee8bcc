"""The embedded benchmark: a small synthetic TOFU whose forget-specific tokens are known.

Fictitious authors get attribute values (some unique to the author, some drawn from pools that
other authors share); templates from :mod:`atwu.data.templates` turn them into question/answer
pairs, and the generator records the character span of every value it writes, so ground truth is
exact by construction. Everything is a pure function of the seed and the :class:`Vocabulary`
(wordings, name parts, value pools, random streams): :data:`AUTHORS` makes the embedded benchmark,
``authors_tune`` (:mod:`atwu.data.templates_tune`) the tuning benchmark of the same structure.

    python -m atwu prepare            # writes it, with its tiny models, under $ATWU_HOME
    python -m atwu prepare --benchmark authors_tune
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass

from atwu.data.format import QAPair, Span
from atwu.data.templates import AUTHORS, SLOT_KIND, Attribute, Vocabulary
from atwu.data.templates_tune import AUTHORS_TUNE

N_PERTURBED = 3
FORGET_SHARES = {"forget01": 0.01, "forget05": 0.05, "forget10": 0.10}
RETAIN_OF = {"forget01": "retain99", "forget05": "retain95", "forget10": "retain90"}
HELDOUT_SHARE = 0.10  # of the retain authors, per retain split
_SLOT = re.compile(r"\{(\w+)\}")
#: the data sets this generator makes, by benchmark name (``prepare --benchmark NAME``)
VOCABULARIES: dict[str, Vocabulary] = {v.name: v for v in (AUTHORS, AUTHORS_TUNE)}


@dataclass(frozen=True)
class Author:
    id: str
    values: dict[str, str]


def _coined(rng: random.Random, used: set[str], syllables: int, parts: tuple[str, ...]) -> str:
    """A made-up word no other author has (names, titles and awards are author-specific).

    After many collisions it grows a syllable, so any number of authors terminates.
    """
    tries = 0
    while True:
        n = syllables + tries // 50
        word = "".join(rng.choice(parts) for _ in range(n)).capitalize()
        tries += 1
        if word not in used:
            used.add(word)
            return word


def make_authors(n: int, seed: int, *, start: int = 0, vocab: Vocabulary = AUTHORS) -> list[Author]:
    rng = random.Random(f"{vocab.stream}authors:{seed}")
    used: set[str] = set()
    dates: set[str] = set()
    authors = []

    def coined(syllables: int) -> str:
        return _coined(rng, used, syllables, vocab.syllables)

    for i in range(start + n):
        values = {
            "name": f"{rng.choice(vocab.first_names)} {coined(3)}",
            "city": rng.choice(vocab.cities),
            "father_job": rng.choice(vocab.jobs),
            "mother_job": rng.choice(vocab.jobs),
            "genre": rng.choice(vocab.genres),
            "award": f"{coined(2)} {rng.choice(vocab.award_kinds)}",
            # Values carry no function words or punctuation ("The", "of", ",", "."): those are
            # structure every author shares, and a span should cover only what must be recalled.
            "title1": f"{coined(2)} {rng.choice(vocab.title_nouns)}",
            "title2": f"{coined(2)} {rng.choice(vocab.title_nouns)}",
            "pen_name": f"{rng.choice(vocab.first_names)} {coined(2)}",
            "debut_year": str(rng.randint(*vocab.debut_years)),
        }
        while True:  # birth dates are unique: a date is a fact only this author has
            date = (
                f"{rng.randint(1, 28)} {rng.choice(vocab.months)} {rng.randint(*vocab.birth_years)}"
            )
            if date not in dates:
                dates.add(date)
                break
        values["date"] = date
        if i >= start:
            authors.append(Author(id=f"a{i:04d}", values=values))
    return authors


def render(template: str, values: dict[str, str], kinds: dict[str, str]) -> tuple[str, list[Span]]:
    """Fill ``template`` and return the text with the span of every filled slot."""
    out, spans, pos = [], [], 0
    for match in _SLOT.finditer(template):
        out.append(template[pos : match.start()])
        start = sum(len(p) for p in out)
        value = values[match.group(1)]
        out.append(value)
        spans.append(Span(start, start + len(value), kinds[match.group(1)]))
        pos = match.end()
    out.append(template[pos:])
    return "".join(out), spans


def _pool_for(slot: str, rng: random.Random, others: list[Author], vocab: Vocabulary) -> str:
    pools = {
        "city": vocab.cities,
        "father_job": vocab.jobs,
        "mother_job": vocab.jobs,
        "genre": vocab.genres,
    }
    if slot in pools:
        return rng.choice(pools[slot])
    if slot == "debut_year":
        return str(rng.randint(*vocab.debut_years))
    return rng.choice(others).values[slot]  # an author-specific value: borrow another author's


def _perturb(
    values: dict[str, str],
    fact_slots: list[str],
    rng: random.Random,
    others: list[Author],
    vocab: Vocabulary,
) -> dict[str, str]:
    wrong = dict(values)
    for slot in fact_slots:
        for _ in range(20):
            candidate = _pool_for(slot, rng, others, vocab)
            if candidate != values[slot]:
                wrong[slot] = candidate
                break
    return wrong


def author_pairs(
    author: Author,
    attribute_rng: random.Random,
    others: list[Author],
    pairs_per_author: int,
    vocab: Vocabulary = AUTHORS,
) -> list[QAPair]:
    pairs = []
    for attribute in vocab.attributes[:pairs_per_author]:
        pairs.append(_pair(author, attribute, attribute_rng, others, vocab))
    return pairs


def _pair(
    author: Author,
    attribute: Attribute,
    rng: random.Random,
    others: list[Author],
    vocab: Vocabulary,
) -> QAPair:
    w = rng.randrange(len(attribute.wordings))
    wording = attribute.wordings[w]
    para = attribute.wordings[(w + 1) % len(attribute.wordings)]
    slots = answer_slots(attribute)
    texts = (wording.question, wording.answer, para.question, para.answer)
    kinds = {
        s: ("context" if s in attribute.context_slots else SLOT_KIND[s])
        for text in texts
        for s in _SLOT.findall(text)
    }
    fact_slots = [s for s in slots if kinds[s] != "context"]
    question, _ = render(wording.question, author.values, kinds)
    answer, spans = render(wording.answer, author.values, kinds)
    paraphrased, para_spans = render(para.answer, author.values, kinds)
    para_question, _ = render(para.question, author.values, kinds)
    # Perturbed answers keep the *paraphrase's* wording and change the facts (as TOFU's do), so
    # the truth ratio p̄(perturbed)/p̄(paraphrased) compares facts, not wordings.
    perturbed: list[str] = []
    while len(perturbed) < N_PERTURBED:
        wrong = _perturb(author.values, fact_slots, rng, others, vocab)
        text, _ = render(para.answer, wrong, kinds)
        if text != paraphrased and text not in perturbed:
            perturbed.append(text)
    return QAPair(
        id=f"{author.id}_{attribute.key}",
        question=question,
        answer=answer,
        paraphrased_answer=paraphrased,
        perturbed_answers=perturbed,
        spans=spans,
        author=author.id,
        paraphrased_question=para_question,
        paraphrased_answer_spans=para_spans,
    )


def answer_slots(attribute: Attribute) -> list[str]:
    """The slots an attribute's answers fill (every wording of an attribute fills the same)."""
    return list(dict.fromkeys(_SLOT.findall(attribute.wordings[0].answer)))


def flag_neighbours(
    pair: QAPair, author: Author, forget: list[Author], vocab: Vocabulary = AUTHORS
) -> QAPair:
    """``pair`` with each fact span flagged ``neighbour`` when a forget author has the same value
    for the same attribute (METHOD.md §3.1): the facts a careless method erases from others."""
    attribute = next(a for a in vocab.attributes if pair.id == f"{author.id}_{a.key}")
    slots = [s for s in answer_slots(attribute) if s not in attribute.context_slots]

    def flagged(span: Span, text: str) -> Span:
        if span.label == "context":
            return span
        value = text[span.start : span.end]
        slot = next((s for s in slots if author.values[s] == value), None)
        near = slot is not None and any(f.values[slot] == value for f in forget)
        return Span(span.start, span.end, span.label, near)

    return dataclasses.replace(
        pair,
        spans=[flagged(s, pair.answer) for s in pair.spans or []],
        paraphrased_answer_spans=[
            flagged(s, pair.paraphrased_answer or "") for s in pair.paraphrased_answer_spans or []
        ],
    )


def general_pairs(vocab: Vocabulary = AUTHORS) -> list[QAPair]:
    pairs = []
    for i, (question, template, value, wrong) in enumerate(vocab.general_facts):
        answer, spans = render(
            template.replace("{v}", "{value}"), {"value": value}, {"value": "fact"}
        )
        # The options are the answer's own wording with wrong values, so the option probability
        # p(answer) / (p(answer) + Σ p(option)) compares facts, not wordings (with a fixed second
        # frame it saturated at 0.996). As in TOFU's general sets, the paraphrase is the answer.
        template_v = template.replace("{v}", "{value}")
        perturbed = [render(template_v, {"value": w}, {"value": "fact"})[0] for w in wrong]
        pairs.append(
            QAPair(
                id=f"general_{i:03d}",
                question=question,
                answer=answer,
                paraphrased_answer=answer,
                perturbed_answers=perturbed,
                spans=spans,
                author="general",
                paraphrased_answer_spans=spans,
            )
        )
    return pairs


def generate_splits(
    n_authors: int = 200,
    seed: int = 0,
    *,
    pairs_per_author: int = 10,
    holdout_share: float = 0.10,
    vocab: Vocabulary = AUTHORS,
) -> dict[str, list[QAPair]]:
    """All splits of the embedded benchmark (or of another :class:`Vocabulary`'s data set, such as
    ``authors_tune``), deterministic from ``seed``.

    Authors 0..N-1 are the training population (forget splits are the *last* authors, so
    forget01 ⊂ forget05 ⊂ forget10 as in TOFU); holdout authors come after them and are seen
    by no model except ``base``.
    """
    if not 1 <= pairs_per_author <= len(vocab.attributes):
        raise ValueError(
            f"pairs_per_author must be between 1 and {len(vocab.attributes)}, "
            f"got {pairs_per_author}"
        )
    if n_authors < 10:
        raise ValueError(
            f"--authors must be at least 10 (forget10 needs one author), got {n_authors}"
        )
    n_holdout = max(1, round(holdout_share * n_authors))
    authors = make_authors(n_authors + n_holdout, seed, vocab=vocab)
    rng = random.Random(f"{vocab.stream}pairs:{seed}")
    by_author = {a.id: author_pairs(a, rng, authors, pairs_per_author, vocab) for a in authors}
    population, holdout = authors[:n_authors], authors[n_authors:]

    def pairs_of(group: list[Author]) -> list[QAPair]:
        return [p for a in group for p in by_author[a.id]]

    splits: dict[str, list[QAPair]] = {"full": pairs_of(population)}
    for forget, share in FORGET_SHARES.items():
        n_forget = max(1, round(share * n_authors))
        retain_name = RETAIN_OF[forget]
        forget_authors, retain_authors = population[-n_forget:], population[:-n_forget]
        splits[forget] = pairs_of(forget_authors)
        splits[retain_name] = pairs_of(retain_authors)
        # 10% of the retain authors, drawn by the seed, that unlearning never trains on
        held = set(
            random.Random(f"{vocab.stream}heldout:{seed}:{retain_name}").sample(
                [a.id for a in retain_authors], max(1, round(HELDOUT_SHARE * len(retain_authors)))
            )
        )
        splits[f"{retain_name}_train"] = pairs_of([a for a in retain_authors if a.id not in held])
        splits[f"{retain_name}_heldout"] = [
            flag_neighbours(p, a, forget_authors, vocab)
            for a in retain_authors
            if a.id in held
            for p in by_author[a.id]
        ]
    splits["holdout"] = pairs_of(holdout)
    splits["general"] = general_pairs(vocab)
    return splits
