"""Wordings of the embedded benchmark: one entry per author attribute.

Each attribute has at least two (question, answer) wordings. The answer wording is tied to the
question wording (wording i answers question i), so what an answer sounds like is predictable
from its question and only the attribute *values* are facts to memorise. The paraphrased answer
uses the next wording's answer template with the same values.

Slots in braces are filled by the generator; each slot name maps to a span label:
``name`` is `context` when the question restates it; ``title2`` is `context` in the question
that restates it; every other slot is the fact being asked about.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    question: str
    answer: str


@dataclass(frozen=True)
class Attribute:
    key: str
    wordings: tuple[Wording, ...]
    # slots restated from the question (copied, not recalled) -> span label `context`
    context_slots: tuple[str, ...] = ("name",)


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "birthplace",
        (
            Wording("Where was {name} born?", "{name} was born in {city}."),
            Wording("In which city was {name} born?", "{name} was born in the city of {city}."),
            Wording("What is the birthplace of {name}?", "The birthplace of {name} is {city}."),
        ),
    ),
    Attribute(
        "birth_date",
        (
            Wording("When was {name} born?", "{name} was born on {date}."),
            Wording(
                "What is the date of birth of {name}?", "The date of birth of {name} is {date}."
            ),
        ),
    ),
    Attribute(
        "father_job",
        (
            Wording(
                "What did the father of {name} do for a living?",
                "The father of {name} worked as a {father_job}.",
            ),
            Wording(
                "What was the profession of the father of {name}?",
                "The father of {name} was a {father_job} by profession.",
            ),
        ),
    ),
    Attribute(
        "mother_job",
        (
            Wording(
                "What did the mother of {name} do for a living?",
                "The mother of {name} worked as a {mother_job}.",
            ),
            Wording(
                "What was the profession of the mother of {name}?",
                "The mother of {name} was a {mother_job} by profession.",
            ),
        ),
    ),
    Attribute(
        "genre",
        (
            Wording("What genre does {name} write in?", "{name} writes mostly {genre} novels."),
            Wording(
                "Which genre is {name} known for?", "{name} is best known for {genre} fiction."
            ),
        ),
    ),
    Attribute(
        "award",
        (
            Wording("Which award did {name} receive?", "{name} received the {award}."),
            Wording(
                "Has {name} won any literary prize?", "Yes, {name} was honoured with the {award}."
            ),
        ),
    ),
    Attribute(
        "book",
        (
            Wording(
                "What is one of the books by {name}?", 'One of the books by {name} is "{title1}".'
            ),
            Wording(
                "Can you name a novel written by {name}?", '{name} wrote the novel "{title1}".'
            ),
        ),
    ),
    Attribute(
        "author_of",
        (
            Wording('Who wrote the book "{title2}"?', 'The book "{title2}" was written by {name}.'),
            Wording('Who is the author of "{title2}"?', 'The author of "{title2}" is {name}.'),
        ),
        context_slots=("title2",),
    ),
    Attribute(
        "pen_name",
        (
            Wording(
                "Under what pen name does {name} publish?",
                "{name} publishes under the pen name {pen_name}.",
            ),
            Wording("Does {name} use a pen name?", "Yes, {name} also writes as {pen_name}."),
        ),
    ),
    Attribute(
        "debut_year",
        (
            Wording(
                "In what year did {name} publish a first book?",
                "{name} published a first book in {debut_year}.",
            ),
            Wording(
                "When did {name} make a debut as a writer?",
                "{name} made a debut as a writer in {debut_year}.",
            ),
        ),
    ),
)

# Slot -> label when the slot carries the fact being asked (not restated from the question).
SLOT_KIND: dict[str, str] = {
    "name": "specific",
    "date": "specific",
    "award": "specific",
    "title1": "specific",
    "title2": "specific",
    "pen_name": "specific",
    "city": "shared",
    "father_job": "shared",
    "mother_job": "shared",
    "genre": "shared",
    "debut_year": "shared",
}

FIRST_NAMES = (
    "Elena",
    "Marcus",
    "Ines",
    "Tobias",
    "Amara",
    "Felix",
    "Nadia",
    "Oskar",
    "Lucia",
    "Hugo",
    "Mira",
    "Anton",
    "Selma",
    "Viktor",
    "Leila",
    "Emil",
    "Rosa",
    "Jonas",
    "Tamsin",
    "Dario",
    "Yara",
    "Bruno",
    "Alma",
    "Casper",
    "Noor",
    "Ivo",
    "Greta",
    "Matteo",
    "Zora",
    "Linus",
)
SYLLABLES = (
    "ka",
    "ven",
    "dor",
    "li",
    "mar",
    "tho",
    "ris",
    "bel",
    "sa",
    "quin",
    "lo",
    "ran",
    "te",
    "vos",
    "mi",
    "dra",
    "nel",
    "go",
    "rha",
    "fen",
    "ul",
    "cas",
    "pe",
    "tor",
    "zan",
    "wil",
    "bra",
    "ny",
)
CITIES = (
    "Lima",
    "Oslo",
    "Nairobi",
    "Porto",
    "Krakow",
    "Hanoi",
    "Quito",
    "Tbilisi",
    "Dakar",
    "Riga",
    "Valparaiso",
    "Accra",
    "Bergen",
    "Cusco",
    "Tunis",
    "Ghent",
    "Lyon",
    "Perth",
)
JOBS = (
    "baker",
    "carpenter",
    "doctor",
    "lawyer",
    "nurse",
    "pilot",
    "teacher",
    "tailor",
    "farmer",
    "painter",
    "chemist",
    "banker",
    "fisherman",
    "journalist",
    "librarian",
    "mechanic",
    "musician",
    "potter",
    "sailor",
    "surgeon",
    "plumber",
    "dentist",
    "jeweller",
    "photographer",
)
GENRES = (
    "mystery",
    "fantasy",
    "romance",
    "horror",
    "speculative",
    "historical",
    "crime",
    "adventure",
    "dystopian",
    "satirical",
    "gothic",
    "western",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
AWARD_KINDS = ("Prize", "Medal", "Award")
TITLE_NOUNS = (
    "Lantern",
    "River",
    "Garden",
    "Mirror",
    "Harbour",
    "Orchard",
    "Tower",
    "Compass",
    "Winter",
    "Archive",
    "Bridge",
    "Forest",
    "Lighthouse",
    "Meadow",
    "Silence",
    "Voyage",
)

# Non-author facts for model utility: (question, answer template, value, wrong values).
GENERAL_FACTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("How many days are in a week?", "A week has {v} days.", "seven", ("five", "nine", "ten")),
    (
        "What is the boiling point of water at sea level in degrees Celsius?",
        "Water boils at {v} degrees Celsius at sea level.",
        "100",
        ("80", "120", "150"),
    ),
    (
        "How many legs does a spider have?",
        "A spider has {v} legs.",
        "eight",
        ("six", "ten", "four"),
    ),
    (
        "What colour is a clear daytime sky?",
        "A clear daytime sky is {v}.",
        "blue",
        ("green", "red", "yellow"),
    ),
    (
        "How many months are in a year?",
        "A year has {v} months.",
        "twelve",
        ("ten", "eleven", "fourteen"),
    ),
    (
        "What is frozen water called?",
        "Frozen water is called {v}.",
        "ice",
        ("steam", "sand", "glass"),
    ),
    ("How many hours are in a day?", "A day has {v} hours.", "24", ("12", "20", "30")),
    (
        "Which planet is closest to the Sun?",
        "The planet closest to the Sun is {v}.",
        "Mercury",
        ("Mars", "Jupiter", "Saturn"),
    ),
    (
        "What gas do plants take in from the air?",
        "Plants take in {v} from the air.",
        "carbon dioxide",
        ("helium", "neon", "argon"),
    ),
    (
        "How many sides does a triangle have?",
        "A triangle has {v} sides.",
        "three",
        ("four", "five", "six"),
    ),
    (
        "What is the largest ocean on Earth?",
        "The largest ocean on Earth is the {v} Ocean.",
        "Pacific",
        ("Arctic", "Indian", "Southern"),
    ),
    ("How many minutes are in an hour?", "An hour has {v} minutes.", "60", ("50", "90", "100")),
    (
        "Which animal is known as the king of the jungle?",
        "The {v} is known as the king of the jungle.",
        "lion",
        ("zebra", "rabbit", "camel"),
    ),
    ("What do bees make?", "Bees make {v}.", "honey", ("milk", "silk", "wax paper")),
    (
        "How many continents are there?",
        "There are {v} continents.",
        "seven",
        ("five", "six", "nine"),
    ),
    (
        "What is the opposite of hot?",
        "The opposite of hot is {v}.",
        "cold",
        ("warm", "bright", "loud"),
    ),
    (
        "Which season comes after winter?",
        "The season after winter is {v}.",
        "spring",
        ("autumn", "summer", "monsoon"),
    ),
    (
        "How many wheels does a bicycle have?",
        "A bicycle has {v} wheels.",
        "two",
        ("three", "four", "one"),
    ),
    (
        "What is the main language of Brazil?",
        "The main language of Brazil is {v}.",
        "Portuguese",
        ("Spanish", "French", "Italian"),
    ),
    ("What do cows drink?", "Cows drink {v}.", "water", ("milk", "oil", "juice")),
    (
        "How many strings does a standard violin have?",
        "A standard violin has {v} strings.",
        "four",
        ("six", "five", "three"),
    ),
    (
        "What shape has four equal sides and four right angles?",
        "A shape with four equal sides and four right angles is a {v}.",
        "square",
        ("circle", "triangle", "pentagon"),
    ),
    (
        "Which organ pumps blood through the body?",
        "The {v} pumps blood through the body.",
        "heart",
        ("liver", "lung", "kidney"),
    ),
    (
        "What is the chemical symbol for gold?",
        "The chemical symbol for gold is {v}.",
        "Au",
        ("Ag", "Fe", "Gd"),
    ),
    (
        "How many players are on a football team on the field?",
        "A football team has {v} players on the field.",
        "eleven",
        ("nine", "seven", "fifteen"),
    ),
    (
        "Which direction does the Sun rise in?",
        "The Sun rises in the {v}.",
        "east",
        ("west", "north", "south"),
    ),
    (
        "What is the freezing point of water in degrees Celsius?",
        "Water freezes at {v} degrees Celsius.",
        "zero",
        ("ten", "minus five", "four"),
    ),
    (
        "How many letters are in the English alphabet?",
        "The English alphabet has {v} letters.",
        "26",
        ("24", "28", "30"),
    ),
    (
        "What instrument has black and white keys?",
        "The {v} has black and white keys.",
        "piano",
        ("drum", "flute", "trumpet"),
    ),
    (
        "What is the tallest animal?",
        "The tallest animal is the {v}.",
        "giraffe",
        ("elephant", "horse", "ostrich"),
    ),
)


@dataclass(frozen=True)
class Vocabulary:
    """What makes one author data set of the embedded generator: its wordings, the parts its
    names and titles are made of, its value pools and the name of its random streams.

    One generator (:mod:`atwu.data.embedded`), several data sets: the embedded benchmark
    (:data:`AUTHORS`) and the tuning benchmark ``authors_tune`` (:mod:`atwu.data.templates_tune`)
    differ only here. The slots and their labels (:data:`SLOT_KIND`) are the same in every one.
    """

    name: str  # the benchmark's name and its manifest's ``kind``
    attributes: tuple[Attribute, ...]
    first_names: tuple[str, ...]
    syllables: tuple[str, ...]  # coined surnames, titles and award names are made of these
    cities: tuple[str, ...]
    jobs: tuple[str, ...]
    genres: tuple[str, ...]
    award_kinds: tuple[str, ...]
    title_nouns: tuple[str, ...]
    birth_years: tuple[int, int]  # inclusive ranges
    debut_years: tuple[int, int]
    # prefixed to every random stream's name; "" keeps the embedded benchmark's streams (and its
    # bytes), another prefix makes the same --seed draw independently of them
    stream: str = ""
    months: tuple[str, ...] = MONTHS
    general_facts: tuple[tuple[str, str, str, tuple[str, ...]], ...] = GENERAL_FACTS


AUTHORS = Vocabulary(
    name="embedded",
    attributes=ATTRIBUTES,
    first_names=FIRST_NAMES,
    syllables=SYLLABLES,
    cities=CITIES,
    jobs=JOBS,
    genres=GENRES,
    award_kinds=AWARD_KINDS,
    title_nouns=TITLE_NOUNS,
    birth_years=(1930, 1990),
    debut_years=(1965, 2015),
)
