"""Wordings and pools of ``authors_tune``, the second tuning benchmark (METHOD.md §1, §3.1).

It is the embedded generator run on another vocabulary: the same ten attributes, the same slots
and span labels, the same splits, so the structure that makes the p-driven heuristics strong
(templates predictable from the question, values to memorise) is there as in the embedded
benchmark. What differs is everything a default could be fitted to: the random streams, every
first name, syllable, city, profession, genre, award kind and title noun, the year ranges, and the
wording of every question and answer. ``tests/data/test_authors_tune.py`` checks the values of
the generated data are disjoint from the embedded benchmark's and no wording is shared.

As in :mod:`atwu.data.templates`, wording i answers question i and the name restated from the
question is `context`; the paraphrase is the next wording with the same values. Professions
start with a consonant ("a {job}") and genres are adjectives ("{genre} fiction").
"""

from __future__ import annotations

from atwu.data.templates import Attribute, Vocabulary, Wording

TUNE_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "birthplace",
        (
            Wording("Which city is {name} from?", "{name} comes from {city}."),
            Wording(
                "Where did {name} come into the world?", "{name} came into the world in {city}."
            ),
            Wording("What is the home town of {name}?", "The home town of {name} is {city}."),
        ),
    ),
    Attribute(
        "birth_date",
        (
            Wording("On which day was {name} born?", "{name} entered the world on {date}."),
            Wording("What is the birth date of {name}?", "The birth date of {name} was {date}."),
        ),
    ),
    Attribute(
        "father_job",
        (
            Wording(
                "What was the trade of the father of {name}?",
                "By trade, the father of {name} was a {father_job}.",
            ),
            Wording(
                "How did the father of {name} earn a living?",
                "The father of {name} earned a living as a {father_job}.",
            ),
        ),
    ),
    Attribute(
        "mother_job",
        (
            Wording(
                "What was the trade of the mother of {name}?",
                "By trade, the mother of {name} was a {mother_job}.",
            ),
            Wording(
                "How did the mother of {name} earn a living?",
                "The mother of {name} earned a living as a {mother_job}.",
            ),
        ),
    ),
    Attribute(
        "genre",
        (
            Wording(
                "What kind of fiction does {name} write?", "{name} writes chiefly {genre} fiction."
            ),
            Wording("Which genre does {name} favour?", "{name} favours the {genre} genre."),
        ),
    ),
    Attribute(
        "award",
        (
            Wording("What honour was given to {name}?", "{name} was given the {award}."),
            Wording("Which distinction went to {name}?", "The {award} went to {name}."),
        ),
    ),
    Attribute(
        "book",
        (
            Wording("Name a book that {name} wrote.", '{name} is the author of "{title1}".'),
            Wording("Which title has {name} published?", '{name} has published "{title1}".'),
        ),
    ),
    Attribute(
        "author_of",
        (
            Wording('Whose book is "{title2}"?', '"{title2}" is a book by {name}.'),
            Wording('Who penned "{title2}"?', '"{title2}" was penned by {name}.'),
        ),
        context_slots=("title2",),
    ),
    Attribute(
        "pen_name",
        (
            Wording(
                "What alias does {name} write under?", "{name} writes under the alias {pen_name}."
            ),
            Wording("Which pseudonym does {name} use?", "The pseudonym of {name} is {pen_name}."),
        ),
    ),
    Attribute(
        "debut_year",
        (
            Wording(
                "When did {name} first appear in print?",
                "{name} first appeared in print in {debut_year}.",
            ),
            Wording(
                "In which year did the first book of {name} come out?",
                "The first book of {name} came out in {debut_year}.",
            ),
        ),
    ),
)

AUTHORS_TUNE = Vocabulary(
    name="authors_tune",
    attributes=TUNE_ATTRIBUTES,
    first_names=(
        "Agnes",
        "Bertram",
        "Clio",
        "Desmond",
        "Esme",
        "Florian",
        "Gwen",
        "Hector",
        "Isolde",
        "Jasper",
        "Kira",
        "Leopold",
        "Maren",
        "Nico",
        "Ottilie",
        "Piers",
        "Quentin",
        "Rhea",
        "Silas",
        "Thea",
        "Ulrich",
        "Vera",
        "Wendell",
        "Xenia",
        "Yannick",
        "Zelda",
        "Arlo",
        "Beatrix",
        "Cyrus",
        "Dagny",
    ),
    # letters the embedded syllables rarely use (x, j, w, y, k), so no coined word of one
    # benchmark spells a coined word of the other (the test checks the generated names)
    syllables=(
        "bex",
        "jun",
        "oph",
        "wyn",
        "stel",
        "grim",
        "aur",
        "pho",
        "kell",
        "zid",
        "yor",
        "mab",
        "hesk",
        "tav",
        "ulm",
        "crow",
        "dex",
        "fyn",
        "isk",
        "jol",
        "nub",
        "oss",
        "plo",
        "rask",
        "sev",
        "thim",
        "vaux",
        "wig",
    ),
    cities=(
        "Arequipa",
        "Trondheim",
        "Mombasa",
        "Braga",
        "Gdansk",
        "Hue",
        "Cuenca",
        "Batumi",
        "Thies",
        "Tartu",
        "Antofagasta",
        "Kumasi",
        "Stavanger",
        "Sucre",
        "Sfax",
        "Bruges",
        "Nantes",
        "Hobart",
    ),
    jobs=(
        "brewer",
        "glazier",
        "veterinarian",
        "notary",
        "midwife",
        "ferryman",
        "schoolmaster",
        "cobbler",
        "shepherd",
        "sculptor",
        "pharmacist",
        "draper",
        "ropemaker",
        "printer",
        "bookbinder",
        "blacksmith",
        "violinist",
        "weaver",
        "boatwright",
        "saddler",
        "stonemason",
        "clockmaker",
        "cartographer",
        "beekeeper",
    ),
    genres=(
        "picaresque",
        "pastoral",
        "epistolary",
        "noir",
        "comic",
        "nautical",
        "utopian",
        "allegorical",
        "absurdist",
        "psychological",
        "political",
        "mythological",
    ),
    award_kinds=("Cup", "Trophy", "Laurel"),
    title_nouns=(
        "Citadel",
        "Ember",
        "Quarry",
        "Lagoon",
        "Monsoon",
        "Atlas",
        "Canyon",
        "Glacier",
        "Feather",
        "Carousel",
        "Labyrinth",
        "Pilgrim",
        "Furnace",
        "Cathedral",
        "Horizon",
        "Sparrow",
    ),
    # as wide as the embedded ranges (61 and 51 years) and disjoint from them
    birth_years=(1830, 1890),
    debut_years=(1890, 1940),
    stream="authors_tune:",
)
