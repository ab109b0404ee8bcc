"""Splits as ``datasets.Dataset`` and back, with a fixed schema (so "unknown spans" (null) and
"no facts" (``[]``) stay distinct)."""

from __future__ import annotations

from collections.abc import Iterable

import datasets

from atwu.data.format import QAPair, Span
from atwu.data.pairs_file import check_unique, parse_pair

_SPANS = datasets.List(
    {
        "start": datasets.Value("int64"),
        "end": datasets.Value("int64"),
        "label": datasets.Value("string"),
        "neighbour": datasets.Value("bool"),
    }
)
_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answer": datasets.Value("string"),
        "paraphrased_answer": datasets.Value("string"),
        "perturbed_answers": datasets.List(datasets.Value("string")),
        "spans": _SPANS,
        "author": datasets.Value("string"),
        "paraphrased_question": datasets.Value("string"),
        "paraphrased_answer_spans": _SPANS,
    }
)


def _spans(spans: list[Span] | None) -> list[dict] | None:
    if spans is None:
        return None
    return [
        {"start": s.start, "end": s.end, "label": s.label, "neighbour": s.neighbour} for s in spans
    ]


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
                "spans": _spans(pair.spans),
                "author": pair.author,
                "paraphrased_question": pair.paraphrased_question,
                "paraphrased_answer_spans": _spans(pair.paraphrased_answer_spans),
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
        check_unique(pair, first_seen, where)
        pairs.append(pair)
    return pairs
