"""Reading and writing split files (JSON Lines in the format of :mod:`atwu.data.format`), every
pair validated on the way in and on the way out, with one-line errors naming file, line and field.

Limits: a question, answer, paraphrase or perturbed answer holds at most :data:`MAX_TEXT_CHARS`
characters and an id at most :data:`MAX_ID_CHARS`; a longer one is refused as the file is read
(a passage of a real benchmark such as RWKU is a few thousand characters; a megabyte-long answer
would spend minutes in tokenizer training and make a sequence no model of ours holds). Strings
must be text: an escaped lone surrogate (``"\\ud800"``), which JSON allows but UTF-8 cannot
write, is refused with its line. A file holds at most :data:`MAX_PAIRS_PER_FILE` pairs and
``atwu.file_limits.LIMITS["pairs"]`` bytes (checked before it is read). Two overlapping fact
spans with different labels are refused with both spans named.
"""

from __future__ import annotations

import difflib
import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from atwu.data.format import (
    FACT_LABELS,
    KNOWN_KEYS,
    SPAN_LABELS,
    DataFormatError,
    DataFormatWarning,
    QAPair,
    Span,
)
from atwu.errors import InputError
from atwu.file_limits import LIMIT_ENV, describe_bytes, file_limit
from atwu.io import atomic_write_text, json_type_name, lone_surrogate

# Long values are cut in messages so that an error stays one readable line.
_MAX_SHOWN = 60

MAX_TEXT_CHARS = 20_000
"""The longest question, answer, paraphrase or perturbed answer a split file may hold."""
MAX_ID_CHARS = 200
"""The longest id."""
MAX_PAIRS_PER_FILE = 100_000
"""The most pairs a split file may hold (TOFU's largest split has 4,000; a million pairs would
take gigabytes of memory before any training starts). The file's size is limited too:
``atwu.file_limits.LIMITS["pairs"]``."""


def check_text_length(text: str, what: str, *, limit: int = MAX_TEXT_CHARS) -> None:
    """Refuse a text longer than ``limit`` characters (InputError naming ``what``): the one
    length rule for pairs, the text scored by ``atwu score`` and the app's typed text."""
    if len(text) > limit:
        raise InputError(
            f"{what} is {len(text):,} characters long; the limit is {limit:,} (split a long "
            "text into several shorter ones)"
        )


def _too_long(value: str, where: str, field: str, limit: int = MAX_TEXT_CHARS) -> None:
    if len(value) > limit:
        raise DataFormatError(
            where,
            f"is {len(value):,} characters long; the limit is {limit:,} characters (split a "
            "long text into several pairs)",
            field=field,
        )


def _check_surrogates(obj: Any, where: str) -> None:
    """JSON can escape half of a UTF-16 pair alone (``"\\ud800"``); such a string is no text
    and fails only later, when written. Refuse it here, with its field."""
    items = obj.items() if isinstance(obj, dict) else [(None, obj)]
    for key, value in items:
        bad = lone_surrogate(value) or (lone_surrogate(key) if key is not None else None)
        if bad is not None:
            raise DataFormatError(
                where,
                f"holds a lone surrogate \\u{ord(bad):04x} (half of an escaped character "
                "pair), which is not text; fix the \\u escape or save the file as UTF-8 text",
                field=f"'{key}'" if key is not None and lone_surrogate(key) is None else None,
            )


def _shown(value: Any) -> str:
    """A short, one-line rendering of a value for an error message."""
    text = json.dumps(value, ensure_ascii=False) if _is_json_scalar(value) else type(value).__name__
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _is_json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


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
            f"must be a string, got {json_type_name(value)} ({_shown(value)})",
            field=f"'{key}'",
        )
    if not value.strip():
        raise DataFormatError(
            where,
            "is empty; give the text (a pair without it cannot be trained on)",
            field=f"'{key}'",
        )
    _too_long(value, where, f"'{key}'")
    return value


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataFormatError(
            where,
            f"must be a string, got {json_type_name(value)} ({_shown(value)})",
            field=f"'{key}'",
        )
    _too_long(value, where, f"'{key}'")
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
            where, f"must be a string, got {json_type_name(value)}{hint}", field="'id'"
        )
    if not value:
        raise DataFormatError(
            where, "is an empty string; give a non-empty id or leave the key out", field="'id'"
        )
    _too_long(value, where, "'id'", MAX_ID_CHARS)
    return value


def _parse_perturbed(obj: dict[str, Any], where: str) -> list[str] | None:
    value = obj.get("perturbed_answers")
    if value is None:
        return None
    if not isinstance(value, list):
        raise DataFormatError(
            where,
            f"must be a list of strings, got {json_type_name(value)} ({_shown(value)})",
            field="'perturbed_answers'",
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise DataFormatError(
                where,
                f"must be a string, got {json_type_name(item)} ({_shown(item)})",
                field=f"'perturbed_answers'[{i}]",
            )
        _too_long(item, where, f"'perturbed_answers'[{i}]")
    return list(value)


def _parse_flags(flags: Any, where: str, field: str) -> bool:
    """The optional fourth element of a span: ``{"neighbour": true|false}``."""
    if not isinstance(flags, dict) or not set(flags) <= {"neighbour"}:
        raise DataFormatError(
            where,
            f'the fourth element must be {{"neighbour": true}} or {{"neighbour": false}}, got '
            f"{_shown(flags) if not isinstance(flags, dict) else sorted(flags)}",
            field=field,
        )
    value = flags.get("neighbour", False)
    if not isinstance(value, bool):
        raise DataFormatError(
            where, f"neighbour must be true or false, got {json_type_name(value)}", field=field
        )
    return value


def _parse_span(item: Any, index: int, answer: str, where: str, key: str = "spans") -> Span:
    field = f"'{key}'[{index}]"
    fix = 'write each span as [start, end, label] (optionally + {"neighbour": true})'
    neighbour = False
    if isinstance(item, dict):
        # The `datasets` form {start, end, label[, neighbour]}; accepted so that datasets
        # round-trip through the same validation.
        if not {"start", "end", "label"} <= set(item) <= {"start", "end", "label", "neighbour"}:
            raise DataFormatError(
                where,
                f"an object span needs the keys start, end, label (and optionally neighbour), "
                f"got {sorted(item)}; {fix}",
                field=field,
            )
        start, end, label = item["start"], item["end"], item["label"]
        if item.get("neighbour") is not None:
            neighbour = _parse_flags({"neighbour": item["neighbour"]}, where, field)
    elif isinstance(item, (list, tuple)):
        if len(item) not in (3, 4):
            raise DataFormatError(
                where, f"has {len(item)} elements, expected 3 (or 4); {fix}", field=field
            )
        start, end, label = item[:3]
        if len(item) == 4:
            neighbour = _parse_flags(item[3], where, field)
    else:
        raise DataFormatError(
            where,
            f"is {json_type_name(item)} ({_shown(item)}), expected a list; {fix}",
            field=field,
        )

    for name, value in (("start", start), ("end", end)):
        if not _is_int(value):
            raise DataFormatError(
                where,
                f"{name} must be an integer character offset, got {json_type_name(value)} "
                f"({_shown(value)})",
                field=field,
            )
    if not isinstance(label, str):
        raise DataFormatError(
            where,
            f"label must be a string (one of {', '.join(SPAN_LABELS)}), got {json_type_name(label)}",
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
    offsets_note = f"(offsets are characters into '{_TEXT_OF[key]}', end exclusive)"
    if start < 0:
        raise DataFormatError(where, f"start {start} is negative {offsets_note}", field=field)
    if end > len(answer):
        raise DataFormatError(
            where,
            f"end {end} is beyond the {_TEXT_OF[key]}'s {len(answer)} characters {offsets_note}",
            field=field,
        )
    if start >= end:
        raise DataFormatError(
            where,
            f"start {start} is not before end {end}; a span covers at least one character "
            f"{offsets_note}",
            field=field,
        )
    return Span(start, end, label, neighbour)


_TEXT_OF = {"spans": "answer", "paraphrased_answer_spans": "paraphrased_answer"}


def _parse_spans(
    obj: dict[str, Any], text: str | None, where: str, key: str = "spans"
) -> list[Span] | None:
    value = obj.get(key)
    if value is None:
        return None
    if text is None:
        raise DataFormatError(
            where, f"needs '{_TEXT_OF[key]}', the text its offsets point into", field=f"'{key}'"
        )
    if not isinstance(value, list):
        raise DataFormatError(
            where,
            f"must be a list of [start, end, label], got {json_type_name(value)} ({_shown(value)}); "
            "use [] for an annotated answer without facts, or leave the key out if unknown",
            field=f"'{key}'",
        )
    spans = [_parse_span(item, i, text, where, key) for i, item in enumerate(value)]
    _refuse_conflicting_facts(spans, where, key)
    return spans


def _refuse_conflicting_facts(spans: list[Span], where: str, key: str) -> None:
    """Two overlapping fact spans with different labels (``specific`` and ``shared``) would make
    their common characters two kinds of fact at once: refused, naming both. A fact overlapping
    a ``context`` span, or facts of one label overlapping, stay allowed: token labelling decides
    those (a fact beats context; see :func:`atwu.data.labels.token_labels`)."""
    facts = [(i, span) for i, span in enumerate(spans) if span.label in FACT_LABELS]
    for a, (i, first) in enumerate(facts):
        for j, second in facts[a + 1 :]:
            if (
                first.label != second.label
                and first.start < second.end
                and second.start < first.end
            ):
                raise DataFormatError(
                    where,
                    f"{key}[{i}] {_shown_span(first)} and {key}[{j}] {_shown_span(second)} "
                    f"overlap with different labels, so characters {max(first.start, second.start)}"
                    f"-{min(first.end, second.end)} would be both; make them disjoint or give "
                    "them one label",
                    field=f"'{key}'",
                )


def _shown_span(span: Span) -> str:
    return json.dumps([span.start, span.end, span.label])


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
            f"is {json_type_name(obj)}, not a JSON object; each line must be one object like "
            '{"question": "...", "answer": "..."}',
        )
    _check_surrogates(obj, where)
    _warn_unknown_keys(obj, where, seen_unknown_keys)
    question = _required_text(obj, "question", where)
    answer = _required_text(obj, "answer", where)
    paraphrase = _optional_text(obj, "paraphrased_answer", where)
    return QAPair(
        id=_parse_id(obj, where, default_id),
        question=question,
        answer=answer,
        paraphrased_answer=paraphrase,
        perturbed_answers=_parse_perturbed(obj, where),
        spans=_parse_spans(obj, answer, where),
        author=_optional_text(obj, "author", where),
        paraphrased_question=_optional_text(obj, "paraphrased_question", where),
        paraphrased_answer_spans=_parse_spans(obj, paraphrase, where, "paraphrased_answer_spans"),
    )


def check_unique(pair: QAPair, first_seen: dict[str, str], where: str) -> None:
    if pair.id in first_seen:
        raise DataFormatError(
            where,
            f"duplicate id {_shown(pair.id)} (first used at {first_seen[pair.id]}); ids must be "
            "unique within a file (a pair without 'id' takes its 0-based line number as id, "
            "after the file's prefix where files are combined, e.g. 'retain-3')",
            field="'id'",
        )
    first_seen[pair.id] = where


def load_pairs(path: str | Path, *, implicit_id_prefix: str = "") -> list[QAPair]:
    """Read and validate a JSON Lines split.

    Blank lines are skipped but still counted, so line numbers in messages match an editor's and
    default ids (0-based line numbers) do not shift when a blank line is removed elsewhere.
    ``implicit_id_prefix`` goes before those line numbers: files combined into one benchmark
    (forget and retain) pass their own (``"forget-"``, ``"retain-"``), so that the implicit ids
    of different files cannot collide.

    Raises:
        DataFormatError: for a missing file, an empty file, bytes that are not UTF-8, a line that
            is not a JSON object, or an invalid pair, with a one-line message naming the file,
            the 1-based line and the field.
    """
    path = Path(path)
    name = str(path)
    try:
        _check_pairs_file_size(path)
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
        except RecursionError:
            raise DataFormatError(
                where,
                "is nested too deeply to be read; each line must be one flat object like "
                '{"question": "...", "answer": "..."}',
                path=name,
                line=lineno,
            ) from None
        try:
            pair = parse_pair(
                obj,
                where=where,
                default_id=f"{implicit_id_prefix}{index}",
                seen_unknown_keys=seen_unknown,
            )
            check_unique(pair, first_seen, where)
        except DataFormatError as exc:
            exc.path, exc.line = name, lineno
            raise
        pairs.append(pair)
        if len(pairs) > MAX_PAIRS_PER_FILE:
            raise DataFormatError(
                where,
                f"the file holds more than {MAX_PAIRS_PER_FILE:,} pairs, the limit for one "
                "split file; split it into several files, or sample the pairs you need",
                path=name,
                line=lineno,
            )
    if not pairs:
        raise DataFormatError(
            name,
            "holds no question/answer pairs (the file is empty or only blank lines); "
            'write one JSON object per line, like {"question": "...", "answer": "..."}',
            path=name,
        )
    return pairs


def _check_pairs_file_size(path: Path) -> None:
    limit = file_limit("pairs")
    size = path.stat().st_size
    if size > limit and path.is_file():
        raise DataFormatError(
            str(path),
            f"{describe_bytes(size)} is over the {describe_bytes(limit)} limit for a split file; "
            f"split it into several files (if it is genuine, {LIMIT_ENV}=<megabytes> raises "
            "the limit)",
            path=str(path),
        )


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
        check_unique(pair, first_seen, where)
        lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
    if not lines:
        raise DataFormatError(name, "no pairs to write; a split needs at least one pair", path=name)

    atomic_write_text(path, "".join(lines))
