"""The embedded benchmark: a small synthetic TOFU whose forget-specific tokens are known.

Fictitious authors get attribute values (some unique to the author, some drawn from pools that
other authors share); templates from :mod:`atwu.data.templates` turn them into question/answer
pairs, and the generator records the character span of every value it writes, so ground truth is
exact by construction. Everything is a pure function of the seed.

    python -m atwu prepare            # writes it, with its tiny models, under $ATWU_HOME
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from atwu.data.format import QAPair, Span
from atwu.data.templates import (
    ATTRIBUTES,
    AWARD_KINDS,
    CITIES,
    FIRST_NAMES,
    GENERAL_FACTS,
    GENRES,
    JOBS,
    MONTHS,
    SLOT_KIND,
    SYLLABLES,
    TITLE_NOUNS,
    Attribute,
)

N_PERTURBED = 3
FORGET_SHARES = {"forget01": 0.01, "forget05": 0.05, "forget10": 0.10}
RETAIN_OF = {"forget01": "retain99", "forget05": "retain95", "forget10": "retain90"}
RETAIN_EVAL_SIZE = 400
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Author:
    id: str
    values: dict[str, str]


def _coined(rng: random.Random, used: set[str], syllables: int) -> str:
    """A made-up word no other author has (names, titles and awards are author-specific).

    After many collisions it grows a syllable, so any number of authors terminates.
    """
    tries = 0
    while True:
        n = syllables + tries // 50
        word = "".join(rng.choice(SYLLABLES) for _ in range(n)).capitalize()
        tries += 1
        if word not in used:
            used.add(word)
            return word


def make_authors(n: int, seed: int, *, start: int = 0) -> list[Author]:
    rng = random.Random(f"authors:{seed}")
    used: set[str] = set()
    dates: set[str] = set()
    authors = []
    for i in range(start + n):
        values = {
            "name": f"{rng.choice(FIRST_NAMES)} {_coined(rng, used, 3)}",
            "city": rng.choice(CITIES),
            "father_job": rng.choice(JOBS),
            "mother_job": rng.choice(JOBS),
            "genre": rng.choice(GENRES),
            "award": f"{_coined(rng, used, 2)} {rng.choice(AWARD_KINDS)}",
            # Values carry no function words or punctuation ("The", "of", ",", "."): those are
            # structure every author shares, and a span should cover only what must be recalled.
            "title1": f"{_coined(rng, used, 2)} {rng.choice(TITLE_NOUNS)}",
            "title2": f"{_coined(rng, used, 2)} {rng.choice(TITLE_NOUNS)}",
            "pen_name": f"{rng.choice(FIRST_NAMES)} {_coined(rng, used, 2)}",
            "debut_year": str(rng.randint(1965, 2015)),
        }
        while True:  # birth dates are unique: a date is a fact only this author has
            date = f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(1930, 1990)}"
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


def _pool_for(slot: str, rng: random.Random, others: list[Author]) -> str:
    pools = {"city": CITIES, "father_job": JOBS, "mother_job": JOBS, "genre": GENRES}
    if slot in pools:
        return rng.choice(pools[slot])
    if slot == "debut_year":
        return str(rng.randint(1965, 2015))
    return rng.choice(others).values[slot]  # an author-specific value: borrow another author's


def _perturb(
    values: dict[str, str], fact_slots: list[str], rng: random.Random, others: list[Author]
) -> dict[str, str]:
    wrong = dict(values)
    for slot in fact_slots:
        for _ in range(20):
            candidate = _pool_for(slot, rng, others)
            if candidate != values[slot]:
                wrong[slot] = candidate
                break
    return wrong


def author_pairs(
    author: Author, attribute_rng: random.Random, others: list[Author], pairs_per_author: int
) -> list[QAPair]:
    pairs = []
    for k, attribute in enumerate(ATTRIBUTES[:pairs_per_author]):
        pairs.append(_pair(author, k, attribute, attribute_rng, others))
    return pairs


def _pair(
    author: Author, k: int, attribute: Attribute, rng: random.Random, others: list[Author]
) -> QAPair:
    w = rng.randrange(len(attribute.wordings))
    wording = attribute.wordings[w]
    para = attribute.wordings[(w + 1) % len(attribute.wordings)]
    slots = _SLOT.findall(wording.answer)
    kinds = {s: ("context" if s in attribute.context_slots else SLOT_KIND[s]) for s in slots}
    fact_slots = [s for s in slots if kinds[s] != "context"]
    question, _ = render(wording.question, author.values, kinds)
    answer, spans = render(wording.answer, author.values, kinds)
    paraphrased, _ = render(para.answer, author.values, kinds)
    # Perturbed answers keep the *paraphrase's* wording and change the facts (as TOFU's do), so
    # the truth ratio p̄(perturbed)/p̄(paraphrased) compares facts, not wordings.
    perturbed = []
    while len(perturbed) < N_PERTURBED:
        wrong = _perturb(author.values, fact_slots, rng, others)
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
    )


def general_pairs() -> list[QAPair]:
    pairs = []
    for i, (question, template, value, wrong) in enumerate(GENERAL_FACTS):
        answer, spans = render(
            template.replace("{v}", "{value}"), {"value": value}, {"value": "fact"}
        )
        # The paraphrase restates the fact in a second fixed frame; the perturbed answers keep
        # that frame with wrong values (see _pair).
        paraphrased = f"The answer is {value}."
        perturbed = [f"The answer is {w}." for w in wrong]
        pairs.append(
            QAPair(
                id=f"general_{i:03d}",
                question=question,
                answer=answer,
                paraphrased_answer=paraphrased,
                perturbed_answers=perturbed,
                spans=spans,
                author="general",
            )
        )
    return pairs


def generate_splits(
    n_authors: int = 200, seed: int = 0, *, pairs_per_author: int = 10, holdout_share: float = 0.10
) -> dict[str, list[QAPair]]:
    """All splits of the embedded benchmark, deterministic from ``seed``.

    Authors 0..N-1 are the training population (forget splits are the *last* authors, so
    forget01 ⊂ forget05 ⊂ forget10 as in TOFU); holdout authors come after them and are seen
    by no model except ``base``.
    """
    if not 1 <= pairs_per_author <= len(ATTRIBUTES):
        raise ValueError(
            f"pairs_per_author must be between 1 and {len(ATTRIBUTES)}, got {pairs_per_author}"
        )
    if n_authors < 10:
        raise ValueError(
            f"--authors must be at least 10 (forget10 needs one author), got {n_authors}"
        )
    n_holdout = max(1, round(holdout_share * n_authors))
    authors = make_authors(n_authors + n_holdout, seed)
    rng = random.Random(f"pairs:{seed}")
    by_author = {a.id: author_pairs(a, rng, authors, pairs_per_author) for a in authors}
    population, holdout = authors[:n_authors], authors[n_authors:]

    def pairs_of(group: list[Author]) -> list[QAPair]:
        return [p for a in group for p in by_author[a.id]]

    splits: dict[str, list[QAPair]] = {"full": pairs_of(population)}
    for forget, share in FORGET_SHARES.items():
        n_forget = max(1, round(share * n_authors))
        splits[forget] = pairs_of(population[-n_forget:])
        splits[RETAIN_OF[forget]] = pairs_of(population[:-n_forget])
    eval_rng = random.Random(f"retain_eval:{seed}")
    retain90 = splits["retain90"]
    chosen = sorted(eval_rng.sample(range(len(retain90)), min(RETAIN_EVAL_SIZE, len(retain90))))
    splits["retain_eval"] = [retain90[i] for i in chosen]
    splits["holdout"] = pairs_of(holdout)
    splits["general"] = general_pairs()
    return splits
