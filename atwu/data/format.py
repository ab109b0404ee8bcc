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
``spans``
    Optional list of ``[start, end, label]``: *character* offsets into ``answer`` (Python string
    indices, i.e. Unicode code points; end exclusive) and a label from :data:`SPAN_LABELS`.
    An absent ``spans`` means the ground truth is unknown (``QAPair.spans is None``); ``[]`` means
    the pair was annotated and holds no facts. The two are kept apart everywhere.
``author``
    Optional group id (string), e.g. to split by author.

``null`` for an optional key is read as "absent", because common writers (pandas, ``datasets``)
emit ``null`` for a missing value. Unknown keys are ignored with a :class:`DataFormatWarning` that
suggests the closest known key (a TOFU file's ``perturbed_answer`` → ``perturbed_answers``).
Anything else that is wrong raises :class:`DataFormatError`, whose message is one line naming the
file, the line and the field, and saying how to fix it.

Example::

    from atwu.data.format import load_pairs, write_pairs
    pairs = load_pairs("forget.jsonl")
    write_pairs("copy.jsonl", pairs)
"""

from __future__ import annotations

import difflib
import json
import os
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

__all__ = [
    "SPAN_LABELS",
    "FACT_LABELS",
    "KNOWN_KEYS",
    "DataFormatError",
    "DataFormatWarning",
    "Span",
    "QAPair",
    "parse_pair",
    "load_pairs",
    "write_pairs",
    "pairs_to_dataset",
    "dataset_to_pairs",
]

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
)

# Long values are cut in messages so that an error stays one readable line.
_MAX_SHOWN = 60


class DataFormatError(ValueError):
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
    """A labelled character range ``answer[start:end]`` (end exclusive)."""

    start: int
    end: int
    label: str

    @property
    def is_fact(self) -> bool:
        """True for labels that count as ground-truth forget tokens (see :data:`FACT_LABELS`)."""
        return self.label in FACT_LABELS

    def to_json(self) -> list[int | str]:
        """The on-disk form ``[start, end, label]``."""
        return [self.start, self.end, self.label]


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
        return obj


# --------------------------------------------------------------------------------------------
# Validation of one pair
# --------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A short, one-line rendering of a value for an error message."""
    text = json.dumps(value, ensure_ascii=False) if _is_json_scalar(value) else type(value).__name__
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _is_json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _type_name(value: Any) -> str:
    """The JSON name of a value's type, which is what a user editing the file sees."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python, but `true` is never a sensible offset.
    return isinstance(value, int) and not isinstance(value, bool)


def _required_text(obj: dict[str, Any], key: str, where: str) -> str:
    if key not in obj or obj[key] is None:
        raise DataFormatError(
            where, f"is missing; every pair needs a non-empty string '{key}'", field=f"'{key}'"
        )
    value = obj[key]
    if not isinstance(value, str):
        raise DataFormatError(
            where,
            f"must be a string, got {_type_name(value)} ({_shown(value)})",
            field=f"'{key}'",
        )
    if not value.strip():
        raise DataFormatError(
            where, "is empty; give the text (a pair without it cannot be trained on)",
            field=f"'{key}'",
        )
    return value


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataFormatError(
            where,
            f"must be a string, got {_type_name(value)} ({_shown(value)})",
            field=f"'{key}'",
        )
    return value


def _parse_id(obj: dict[str, Any], where: str, default_id: str) -> str:
    value = obj.get("id")
    if value is None:
        return default_id
    if not isinstance(value, str):
        # An int id is refused rather than converted: 7 and "7" and "07" would silently merge
        # or differ depending on who wrote the file.
        hint = f' (write it as "{value}")' if _is_int(value) else ""
        raise DataFormatError(
            where, f"must be a string, got {_type_name(value)}{hint}", field="'id'"
        )
    if not value:
        raise DataFormatError(
            where, "is an empty string; give a non-empty id or leave the key out", field="'id'"
        )
    return value


def _parse_perturbed(obj: dict[str, Any], where: str) -> list[str] | None:
    value = obj.get("perturbed_answers")
    if value is None:
        return None
    if not isinstance(value, list):
        raise DataFormatError(
            where,
            f"must be a list of strings, got {_type_name(value)} ({_shown(value)})",
            field="'perturbed_answers'",
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise DataFormatError(
                where,
                f"must be a string, got {_type_name(item)} ({_shown(item)})",
                field=f"'perturbed_answers'[{i}]",
            )
    return list(value)


def _parse_span(item: Any, index: int, answer: str, where: str) -> Span:
    field = f"'spans'[{index}]"
    fix = "write each span as [start, end, label]"
    if isinstance(item, dict):
        # The `datasets` form {start, end, label}; accepted so that datasets round-trip through
        # the same validation.
        if set(item) != {"start", "end", "label"}:
            raise DataFormatError(
                where,
                f"an object span needs exactly the keys start, end, label, got {sorted(item)}; "
                f"{fix}",
                field=field,
            )
        start, end, label = item["start"], item["end"], item["label"]
    elif isinstance(item, (list, tuple)):
        if len(item) != 3:
            raise DataFormatError(
                where, f"has {len(item)} elements, expected 3; {fix}", field=field
            )
        start, end, label = item
    else:
        raise DataFormatError(
            where, f"is {_type_name(item)} ({_shown(item)}), expected a list; {fix}", field=field
        )

    for name, value in (("start", start), ("end", end)):
        if not _is_int(value):
            raise DataFormatError(
                where,
                f"{name} must be an integer character offset, got {_type_name(value)} "
                f"({_shown(value)})",
                field=field,
            )
    if not isinstance(label, str):
        raise DataFormatError(
            where,
            f"label must be a string (one of {', '.join(SPAN_LABELS)}), got {_type_name(label)}",
            field=field,
        )
    if label not in SPAN_LABELS:
        close = difflib.get_close_matches(label.lower(), SPAN_LABELS, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise DataFormatError(
            where,
            f"unknown label {_shown(label)} (use one of {', '.join(SPAN_LABELS)}){hint}",
            field=field,
        )
    offsets_note = "(offsets are characters into 'answer', end exclusive)"
    if start < 0:
        raise DataFormatError(where, f"start {start} is negative {offsets_note}", field=field)
    if end > len(answer):
        raise DataFormatError(
            where,
            f"end {end} is beyond the answer's {len(answer)} characters {offsets_note}",
            field=field,
        )
    if start >= end:
        raise DataFormatError(
            where,
            f"start {start} is not before end {end}; a span covers at least one character "
            f"{offsets_note}",
            field=field,
        )
    return Span(start, end, label)


def _parse_spans(obj: dict[str, Any], answer: str, where: str) -> list[Span] | None:
    value = obj.get("spans")
    if value is None:
        return None
    if not isinstance(value, list):
        raise DataFormatError(
            where,
            f"must be a list of [start, end, label], got {_type_name(value)} ({_shown(value)}); "
            "use [] for an annotated answer without facts, or leave the key out if unknown",
            field="'spans'",
        )
    # Overlapping spans are allowed: token labelling decides between them (a fact beats context).
    return [_parse_span(item, i, answer, where) for i, item in enumerate(value)]


def _warn_unknown_keys(obj: dict[str, Any], where: str, seen: set[str] | None) -> None:
    for key in obj:
        if key in KNOWN_KEYS or (seen is not None and key in seen):
            continue
        if seen is not None:
            seen.add(key)
        close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(KNOWN_KEYS)}"
        warnings.warn(
            f"{where}: ignoring unknown key {key}: {hint}",
            DataFormatWarning,
            # Points at parse_pair's caller; the message itself names the file and line.
            stacklevel=3,
        )


def parse_pair(
    obj: Any,
    *,
    where: str,
    default_id: str,
    seen_unknown_keys: set[str] | None = None,
) -> QAPair:
    """Validate one decoded JSON object and turn it into a :class:`QAPair`.

    Args:
        obj: the decoded line.
        where: location used in messages, e.g. ``"forget.jsonl:12"``.
        default_id: the id to use when the object has none (the loader passes the line index).
        seen_unknown_keys: unknown keys already warned about; when given, each unknown key is
            warned about once and added to it (the loader passes one set per file). When None,
            every unknown key of this object is warned about.

    Raises:
        DataFormatError: naming ``where`` and the offending field.
    """
    if not isinstance(obj, dict):
        raise DataFormatError(
            where,
            f"is {_type_name(obj)}, not a JSON object; each line must be one object like "
            '{"question": "...", "answer": "..."}',
        )
    _warn_unknown_keys(obj, where, seen_unknown_keys)
    question = _required_text(obj, "question", where)
    answer = _required_text(obj, "answer", where)
    return QAPair(
        id=_parse_id(obj, where, default_id),
        question=question,
        answer=answer,
        paraphrased_answer=_optional_text(obj, "paraphrased_answer", where),
        perturbed_answers=_parse_perturbed(obj, where),
        spans=_parse_spans(obj, answer, where),
        author=_optional_text(obj, "author", where),
    )


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _check_unique(pair: QAPair, first_seen: dict[str, str], where: str) -> None:
    if pair.id in first_seen:
        raise DataFormatError(
            where,
            f"duplicate id {_shown(pair.id)} (first used at {first_seen[pair.id]}); ids must be "
            "unique within a file (a pair without 'id' takes its 0-based line number as id)",
            field="'id'",
        )
    first_seen[pair.id] = where


def load_pairs(path: str | Path) -> list[QAPair]:
    """Read and validate a JSON Lines split.

    Blank lines are skipped but still counted, so line numbers in messages match an editor's and
    default ids (0-based line numbers) do not shift when a blank line is removed elsewhere.

    Raises:
        DataFormatError: for a missing file, an empty file, bytes that are not UTF-8, a line that
            is not a JSON object, or an invalid pair, with a one-line message naming the file,
            the 1-based line and the field.
    """
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(
            name, "file not found; check the path (splits are .jsonl files)", path=name
        ) from None
    except IsADirectoryError:
        raise DataFormatError(
            name, "is a directory; give the path of a .jsonl file", path=name
        ) from None

    # Split on bytes, not text: JSON strings cannot hold a raw newline, and decoding line by line
    # is what lets a non-UTF-8 byte be reported with its line.
    lines = raw.split(b"\n")
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]  # a UTF-8 byte-order mark, as some Windows editors write
    pairs: list[QAPair] = []
    first_seen: dict[str, str] = {}
    seen_unknown: set[str] = set()
    for index, line_bytes in enumerate(lines):
        lineno = index + 1
        where = f"{name}:{lineno}"
        try:
            text = line_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataFormatError(
                where,
                f"byte 0x{line_bytes[exc.start]:02x} at byte {exc.start + 1} of the line is not "
                "valid UTF-8; save the file as UTF-8",
                path=name,
                line=lineno,
            ) from None
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                where,
                f"not valid JSON ({exc.msg} at column {exc.colno}); each line must be one "
                "complete JSON object",
                path=name,
                line=lineno,
            ) from None
        try:
            pair = parse_pair(
                obj, where=where, default_id=str(index), seen_unknown_keys=seen_unknown
            )
            _check_unique(pair, first_seen, where)
        except DataFormatError as exc:
            exc.path, exc.line = name, lineno
            raise
        pairs.append(pair)
    if not pairs:
        raise DataFormatError(
            name,
            "holds no question/answer pairs (the file is empty or only blank lines); "
            'write one JSON object per line, like {"question": "...", "answer": "..."}',
            path=name,
        )
    return pairs


def write_pairs(path: str | Path, pairs: Iterable[QAPair]) -> None:
    """Write a split atomically: a reader sees the old file or the new one, never half of one.

    Every pair is validated first (the same checks as :func:`load_pairs`, ids included), so a file
    this writes always loads.

    Raises:
        DataFormatError: an invalid pair (``where`` is ``"<path>: pair <i>"``), duplicate ids, or
            no pairs at all (such a file could not be loaded back).
    """
    path = Path(path)
    name = str(path)
    lines: list[str] = []
    first_seen: dict[str, str] = {}
    for i, pair in enumerate(pairs):
        obj = pair.to_json()
        where = f"{name}: pair {i}"
        # Round through the parser so writing and reading can never disagree about validity.
        parse_pair(obj, where=where, default_id=str(i), seen_unknown_keys=set())
        _check_unique(pair, first_seen, where)
        lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
    if not lines:
        raise DataFormatError(name, "no pairs to write; a split needs at least one pair", path=name)

    # The temp file lives in the target's directory because os.replace is only atomic within one
    # file system; open(..., "x") (not tempfile) so the file gets the usual umask permissions.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as fh:
            fh.writelines(lines)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# `datasets` interop
# --------------------------------------------------------------------------------------------

_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answer": datasets.Value("string"),
        "paraphrased_answer": datasets.Value("string"),
        "perturbed_answers": datasets.List(datasets.Value("string")),
        "spans": datasets.List(
            {
                "start": datasets.Value("int64"),
                "end": datasets.Value("int64"),
                "label": datasets.Value("string"),
            }
        ),
        "author": datasets.Value("string"),
    }
)


def pairs_to_dataset(pairs: Iterable[QAPair]) -> datasets.Dataset:
    """A ``datasets.Dataset`` with one row per pair and every column of :data:`KNOWN_KEYS`.

    Absent optional fields are nulls; ``spans`` is a list of ``{start, end, label}`` or null, so
    "unknown" (null) and "no facts" (``[]``) stay distinct (Arrow keeps null and empty lists
    apart). The schema is fixed, so even a split where every ``spans`` is null has a typed column.
    """
    rows = []
    for pair in pairs:
        rows.append(
            {
                "id": pair.id,
                "question": pair.question,
                "answer": pair.answer,
                "paraphrased_answer": pair.paraphrased_answer,
                "perturbed_answers": pair.perturbed_answers,
                "spans": None
                if pair.spans is None
                else [{"start": s.start, "end": s.end, "label": s.label} for s in pair.spans],
                "author": pair.author,
            }
        )
    return datasets.Dataset.from_list(rows, features=_FEATURES)


def dataset_to_pairs(ds: datasets.Dataset) -> list[QAPair]:
    """The inverse of :func:`pairs_to_dataset`, validating every row like a file line.

    Missing optional columns read as absent; a dataset without an ``id`` column gets the 0-based
    row index as id. Extra columns are warned about once each (:class:`DataFormatWarning`).

    Raises:
        DataFormatError: ``where`` is ``"dataset row <i>"``.
    """
    pairs: list[QAPair] = []
    first_seen: dict[str, str] = {}
    seen_unknown: set[str] = set()
    for i, row in enumerate(ds):
        where = f"dataset row {i}"
        pair = parse_pair(row, where=where, default_id=str(i), seen_unknown_keys=seen_unknown)
        _check_unique(pair, first_seen, where)
        pairs.append(pair)
    return pairs
