"""The one on-disk format for question/answer splits, shared by every benchmark.

Every split (forget, retain, holdout, general, a user's upload) is a JSON Lines file with one
object per line::

    {"id": "a017-3", "question": "Where was Elena Varga born?",
     "answer": "Elena Varga was born in Lima.",
     "spans": [[0, 11, "context"], [24, 28, "shared"]], "author": "a017"}

Keys:

``question``, ``answer``
    Required, non-empty strings.
``id``
    Optional string; when absent the pair's id is its 0-based line number (blank lines count),
    so ids stay stable when a file is edited by hand. Ids must be unique within a file.
``paraphrased_answer`` (string), ``perturbed_answers`` (list of strings)
    Optional; used by the TOFU-style truth ratio.
``paraphrased_question`` (string)
    Optional second wording of the question (generation leakage asks both).
``spans``
    Optional list of ``[start, end, label]``: *character* offsets into ``answer`` (Python string
    indices, i.e. Unicode code points; end exclusive) and a label from :data:`SPAN_LABELS`.
    An absent ``spans`` means the ground truth is unknown (``QAPair.spans is None``); ``[]`` means
    the pair was annotated and holds no facts. The two are kept apart everywhere. A fourth element
    ``{"neighbour": true}`` flags a fact whose value a forget author also has for the same
    attribute (on retain pairs: the facts a careless method erases from other people).
``paraphrased_answer_spans``
    Optional, the same for ``paraphrased_answer`` (offsets into it); needs ``paraphrased_answer``.
``author``
    Optional group id (string), e.g. to split by author.

``null`` for an optional key is read as "absent", because common writers (pandas, ``datasets``)
emit ``null`` for a missing value. Unknown keys are ignored with a :class:`DataFormatWarning` that
suggests the closest known key (a TOFU file's ``perturbed_answer`` → ``perturbed_answers``).
Anything else that is wrong raises :class:`DataFormatError`, whose message is one line naming the
file, the line and the field, and saying how to fix it.

Example::

    from atwu.data.pairs_file import load_pairs, write_pairs
    pairs = load_pairs("forget.jsonl")
    write_pairs("copy.jsonl", pairs)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atwu.errors import InputError

SPAN_LABELS: tuple[str, ...] = ("specific", "shared", "fact", "context")
"""Every span label. ``fact`` is a fact whose kind (specific/shared) is not known, e.g. TOFU's."""


FACT_LABELS: tuple[str, ...] = ("specific", "shared", "fact")
"""Labels whose tokens are ground-truth forget tokens (label 1 in the alignment metrics)."""


KNOWN_KEYS: tuple[str, ...] = (
    "id",
    "question",
    "answer",
    "paraphrased_answer",
    "perturbed_answers",
    "spans",
    "author",
    "paraphrased_question",
    "paraphrased_answer_spans",
)


class DataFormatError(InputError):
    """A split file (or one pair of it) does not follow the format.

    ``str(error)`` is always a single line ``"<where>: field <field>: <what is wrong and how to
    fix it>"``. The parts are also kept as attributes so that a UI can point at the line.

    Attributes:
        where: ``"file.jsonl:12"``, or the file alone for file-level problems.
        field: the field as shown in the message (e.g. ``"'spans'[1]"``), or None.
        message: the explanation without location.
        path: the file, when known.
        line: the 1-based line number, when known.
    """

    def __init__(
        self,
        where: str,
        message: str,
        *,
        field: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.where = where
        self.field = field
        self.message = message
        self.path = path
        self.line = line
        text = f"{where}: field {field}: {message}" if field else f"{where}: {message}"
        # One line, always: a value quoted from the data could carry a newline.
        super().__init__(" ".join(text.split()))


class DataFormatWarning(UserWarning):
    """Something in a split file is suspicious but readable (e.g. an unknown key)."""


@dataclass(frozen=True)
class Span:
    """A labelled character range ``answer[start:end]`` (end exclusive); ``neighbour`` marks a
    fact whose value a forget author shares for the same attribute."""

    start: int
    end: int
    label: str
    neighbour: bool = False

    def to_json(self) -> list[Any]:
        """The on-disk form ``[start, end, label]`` (plus ``{"neighbour": true}`` when flagged)."""
        base: list[Any] = [self.start, self.end, self.label]
        return [*base, {"neighbour": True}] if self.neighbour else base


@dataclass
class QAPair:
    """One question/answer pair of a split; see the module docstring for the meaning of fields."""

    id: str
    question: str
    answer: str
    paraphrased_answer: str | None = None
    perturbed_answers: list[str] | None = None
    spans: list[Span] | None = None
    author: str | None = None
    paraphrased_question: str | None = None
    paraphrased_answer_spans: list[Span] | None = None

    def fact_spans(self) -> list[Span]:
        """The answer's fact spans (labels in :data:`FACT_LABELS`), in listed order."""
        return [s for s in self.spans or [] if s.label in FACT_LABELS]

    def to_json(self) -> dict[str, Any]:
        """The on-disk object: the required keys plus the optional ones that are present.

        ``spans=[]`` is written (annotated, no facts) while ``spans=None`` is left out (unknown).
        """
        obj: dict[str, Any] = {"id": self.id, "question": self.question, "answer": self.answer}
        if self.paraphrased_answer is not None:
            obj["paraphrased_answer"] = self.paraphrased_answer
        if self.perturbed_answers is not None:
            obj["perturbed_answers"] = list(self.perturbed_answers)
        if self.spans is not None:
            obj["spans"] = [span.to_json() for span in self.spans]
        if self.author is not None:
            obj["author"] = self.author
        if self.paraphrased_question is not None:
            obj["paraphrased_question"] = self.paraphrased_question
        if self.paraphrased_answer_spans is not None:
            obj["paraphrased_answer_spans"] = [s.to_json() for s in self.paraphrased_answer_spans]
        return obj
