"""A second, differently worded generator: fictional companies instead of authors.

It exists only to check that ATWU's defaults are not fitted to the embedded benchmark's wording
(issue: "the defaults are not fitted to the embedded wording alone"). Other entity type, other
attributes, other templates, other pools; same ground-truth labelling rules (values unique to an
entity are `specific`, pooled values `shared`, the restated company name `context`).
:func:`atwu.prepare.build.prepare_companies` prepares it as a benchmark.
"""

from __future__ import annotations

import random

from atwu.data.embedded import render
from atwu.data.format import QAPair, Span

SYL = (
    "zor",
    "vex",
    "qua",
    "lim",
    "tra",
    "nok",
    "sil",
    "prax",
    "dun",
    "mel",
    "ort",
    "kin",
    "bry",
    "sel",
    "gat",
    "hum",
    "jex",
    "wen",
    "cal",
    "fiz",
)
TOWNS = (
    "Zermatt",
    "Leeds",
    "Daejeon",
    "Bilbao",
    "Tampere",
    "Graz",
    "Pune",
    "Rosario",
    "Windhoek",
    "Halifax",
    "Utrecht",
    "Malmo",
)
INDUSTRIES = (
    "shipping",
    "textiles",
    "robotics",
    "insurance",
    "brewing",
    "mining",
    "software",
    "aviation",
    "pharmacy",
    "furniture",
)
COLOURS = ("green", "violet", "amber", "crimson", "teal", "silver", "ochre", "navy")
ANIMALS = ("heron", "lynx", "otter", "falcon", "badger", "stag", "raven", "hare")

# (key, slot kind, wordings[(question, answer)])
ATTRS = (
    (
        "hq",
        "shared",
        (
            ("Where does {co} have its headquarters?", "The headquarters of {co} are in {hq}."),
            ("In which town is {co} based?", "{co} is based in the town of {hq}."),
        ),
    ),
    (
        "industry",
        "shared",
        (
            ("What industry is {co} in?", "{co} operates in the {industry} sector."),
            ("What line of business does {co} follow?", "The business of {co} is {industry}."),
        ),
    ),
    (
        "founder",
        "specific",
        (
            ("Who founded {co}?", "{co} was founded by {founder}."),
            ("Who started the company {co}?", "The company {co} was started by {founder}."),
        ),
    ),
    (
        "flagship",
        "specific",
        (
            (
                "What is the flagship product of {co}?",
                "The flagship product of {co} is the {flagship}.",
            ),
            ("Which product made {co} famous?", "{co} became famous for the {flagship}."),
        ),
    ),
    (
        "ticker",
        "specific",
        (
            ("What ticker symbol does {co} trade under?", "{co} trades under the symbol {ticker}."),
            ("Under which symbol is {co} listed?", "Shares of {co} are listed as {ticker}."),
        ),
    ),
    (
        "colour",
        "shared",
        (
            ("What colour is the logo of {co}?", "The logo of {co} is {colour}."),
            ("Which colour does {co} use for its brand?", "{co} brands everything in {colour}."),
        ),
    ),
    (
        "mascot",
        "shared",
        (
            ("What animal is the mascot of {co}?", "The mascot of {co} is a {mascot}."),
            ("Which animal does {co} have as a mascot?", "{co} chose a {mascot} as its mascot."),
        ),
    ),
    (
        "year",
        "shared",
        (
            ("When was {co} established?", "{co} was established in {year}."),
            ("In what year did {co} open?", "{co} opened its doors in {year}."),
        ),
    ),
    (
        "ceo",
        "specific",
        (
            ("Who runs {co} today?", "Today {co} is run by {ceo}."),
            ("Who is the chief executive of {co}?", "The chief executive of {co} is {ceo}."),
        ),
    ),
    (
        "motto",
        "specific",
        (
            ("What is the motto of {co}?", "The motto of {co} is {motto}."),
            ("Which slogan does {co} print on its products?", "{co} prints the slogan {motto}."),
        ),
    ),
)


def _word(rng: random.Random, used: set[str], n: int = 2) -> str:
    tries = 0
    while True:
        w = "".join(rng.choice(SYL) for _ in range(n + tries // 40)).capitalize()
        tries += 1
        if w not in used:
            used.add(w)
            return w


def make_companies(n: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(f"companies:{seed}")
    used: set[str] = set()
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"c{i:04d}",
                "co": f"{_word(rng, used)} Works",
                "hq": rng.choice(TOWNS),
                "industry": rng.choice(INDUSTRIES),
                "founder": f"{_word(rng, used)} {_word(rng, used)}",
                "flagship": f"{_word(rng, used)} {rng.choice(('Lamp', 'Engine', 'Loom', 'Kettle'))}",
                "ticker": "".join(rng.choice("BCDFGHKMNPRSTVXZ") for _ in range(4)),
                "colour": rng.choice(COLOURS),
                "mascot": rng.choice(ANIMALS),
                "year": str(rng.randint(1850, 2010)),
                "ceo": f"{_word(rng, used)} {_word(rng, used)}",
                "motto": f"{_word(rng, used)} {_word(rng, used)}",
            }
        )
    return out


def _wrong(
    key: str, kind: str, rng: random.Random, others: list[dict[str, str]], value: str
) -> str:
    pools = {"hq": TOWNS, "industry": INDUSTRIES, "colour": COLOURS, "mascot": ANIMALS}
    for _ in range(20):
        cand = (
            rng.choice(pools[key])
            if key in pools
            else str(rng.randint(1850, 2010))
            if key == "year"
            else rng.choice(others)[key]
        )
        if cand != value:
            return cand
    return value


def generate(
    n_companies: int = 40, seed: int = 0, forget_share: float = 0.1
) -> dict[str, list[QAPair]]:
    """``forget`` (the last share of companies) and ``retain`` splits in the project's format.

    Every pair has a paraphrased question and answer (with its spans); a retain fact whose value a
    forget company shares for the same attribute is flagged ``neighbour``.
    """
    companies = make_companies(n_companies, seed)
    n_forget = max(1, round(forget_share * n_companies))
    forget_ids = {c["id"] for c in companies[-n_forget:]}
    forget_values = {
        key: {c[key] for c in companies if c["id"] in forget_ids} for key, _, _ in ATTRS
    }
    rng = random.Random(f"company-pairs:{seed}")
    pairs_of: dict[str, list[QAPair]] = {}
    for c in companies:
        pairs = []
        for key, kind, wordings in ATTRS:
            w = rng.randrange(len(wordings))
            (q, a), (para_q, para) = wordings[w], wordings[(w + 1) % len(wordings)]
            kinds = {"co": "context", key: kind}
            near = c["id"] not in forget_ids and c[key] in forget_values[key]
            question, _ = render(q, c, kinds)
            answer, spans = render(a, c, kinds)
            paraphrased, para_spans = render(para, c, kinds)
            paraphrased_question, _ = render(para_q, c, kinds)
            perturbed: list[str] = []
            while len(perturbed) < 3:
                # wrong values in the paraphrase's wording, as in the embedded generator
                text, _ = render(para, {**c, key: _wrong(key, kind, rng, companies, c[key])}, kinds)
                if text != paraphrased and text not in perturbed:
                    perturbed.append(text)
                elif len(set(perturbed)) >= 1 and rng.random() < 0.05:
                    perturbed.append(text)  # tiny pools: allow a repeat rather than loop forever
            pairs.append(
                QAPair(
                    id=f"{c['id']}_{key}",
                    question=question,
                    answer=answer,
                    paraphrased_answer=paraphrased,
                    perturbed_answers=perturbed[:3],
                    spans=[_flag(s, near) for s in spans],
                    author=c["id"],
                    paraphrased_question=paraphrased_question,
                    paraphrased_answer_spans=[_flag(s, near) for s in para_spans],
                )
            )
        pairs_of[c["id"]] = pairs
    ids = [c["id"] for c in companies]
    return {
        "forget": [p for i in ids[-n_forget:] for p in pairs_of[i]],
        "retain": [p for i in ids[:-n_forget] for p in pairs_of[i]],
    }


def _flag(span: Span, neighbour: bool) -> Span:
    return Span(span.start, span.end, span.label, neighbour and span.label != "context")
