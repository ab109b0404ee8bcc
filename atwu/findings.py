"""Findings: pinned views of the Token scores page, each with a note, kept under
``$ATWU_HOME/findings/pins`` and exported as a Markdown write-up.

A pin records what reopens the view (the run, checkpoint, example, compared runs and the link's
query string) and a snapshot of what it showed (the token rows: text, weight, span kind), so the
write-up's figures still draw after the runs are deleted or moved.

One JSON file per pin, written atomically (:func:`atwu.io.atomic_write_json`): editing or deleting
one pin never rewrites another, and a damaged file is reported by name and left where it is. File
names are generated ids (:func:`new_pin_id`), never user text.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atwu.errors import InputError
from atwu.io import UnreadableFileError, atomic_write_json, json_type_name, read_json_object
from atwu.paths import atwu_home

PIN_ID = re.compile(r"pin-\d{8}-\d{6}-[0-9a-f]{6}")
"""What a pin id looks like (and so its file name, ``<id>.json``)."""

NOTE_LIMIT = 20_000
"""Characters a note may hold (a paragraph or two; a pasted file is refused)."""

FORMAT = 1
"""The pin file's format version, written into every pin."""


def findings_dir() -> Path:
    """Where pins are kept: ``$ATWU_HOME/findings/pins``."""
    return atwu_home() / "findings" / "pins"


def new_pin_id(now: datetime | None = None) -> str:
    """``pin-YYYYMMDD-HHMMSS-xxxxxx``: sortable by creation time, unique by its random tail."""
    now = now or datetime.now(UTC)
    return f"pin-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def utc_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PinnedRow:
    """One row of the pinned token view: a run at a checkpoint, token by token."""

    label: str
    tokens: list[str]
    weights: list[float | None]
    """None where the weight was missing (drawn grey)."""
    spans: list[str | None]
    """The ground-truth span kind of each token (``specific``, ``shared``, ``fact``,
    ``context``), None outside every span."""


@dataclass(frozen=True)
class Pin:
    id: str
    note: str
    run: str
    step: int
    example: str
    compared: list[str] = field(default_factory=list)
    """The other runs stacked under it (names in the same runs directory)."""
    link: str = ""
    """The query string that reopens the view on the Token scores page (``run=…&step=…``)."""
    question: str = ""
    answer: str = ""
    rows: list[PinnedRow] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    view: dict[str, Any] = field(default_factory=dict)
    """How it was drawn: ``ground_truth``, ``normalise``, ``threshold``, ``vmin``, ``vmax``."""


def check_note(note: str) -> str:
    """The note as kept (ends trimmed); :class:`InputError` when it is too long."""
    if not isinstance(note, str):
        raise InputError(f"a note must be text, not {json_type_name(note)}")
    if len(note) > NOTE_LIMIT:
        raise InputError(
            f"The note has {len(note):,} characters; a note may hold {NOTE_LIMIT:,}. "
            "Shorten it, or keep the long text elsewhere and link to it."
        )
    return note.strip()


def check_pin_id(pin_id: str) -> str:
    """``pin_id`` when it is one :func:`new_pin_id` makes; InputError otherwise (a path, a
    name typed by hand), so no other file is ever read, written or deleted."""
    if not isinstance(pin_id, str) or not PIN_ID.fullmatch(pin_id):
        raise InputError(f"{pin_id!r} is not a pin id (expected pin-YYYYMMDD-HHMMSS-xxxxxx)")
    return pin_id


def pin_path(directory: Path, pin_id: str) -> Path:
    return Path(directory) / f"{check_pin_id(pin_id)}.json"


def _weight(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def pin_to_dict(pin: Pin) -> dict[str, Any]:
    return {"format": FORMAT, **asdict(pin)}


def _text(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{where}{key!r} is {json_type_name(value)}, not a string")
    return value


def _row_from_dict(raw: Any, number: int) -> PinnedRow:
    where = f"rows[{number}]: "
    if not isinstance(raw, dict):
        raise ValueError(f"{where}holds {json_type_name(raw)}, not an object")
    tokens, weights, spans = (raw.get(k) for k in ("tokens", "weights", "spans"))
    if not all(isinstance(v, list) for v in (tokens, weights, spans)):
        raise ValueError(f"{where}tokens, weights and spans must be lists")
    assert isinstance(tokens, list) and isinstance(weights, list) and isinstance(spans, list)
    if not len(tokens) == len(weights) == len(spans):
        raise ValueError(f"{where}tokens, weights and spans differ in length")
    return PinnedRow(
        label=_text(raw, "label", where),
        tokens=[str(t) for t in tokens],
        weights=[_weight(w) for w in weights],
        spans=[s if isinstance(s, str) and s else None for s in spans],
    )


def pin_from_dict(record: dict[str, Any]) -> Pin:
    """A pin from its file's object; ValueError naming the first field that is wrong."""
    pin_id = record.get("id")
    if not isinstance(pin_id, str) or not PIN_ID.fullmatch(pin_id):
        raise ValueError(f"'id' is {pin_id!r}, not a pin id")
    step = record.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ValueError(f"'step' is {step!r}, not a checkpoint number")
    compared = record.get("compared", [])
    if not isinstance(compared, list) or not all(isinstance(c, str) for c in compared):
        raise ValueError("'compared' must be a list of run names")
    rows = record.get("rows", [])
    if not isinstance(rows, list):
        raise ValueError(f"'rows' is {json_type_name(rows)}, not a list")
    view = record.get("view", {})
    if not isinstance(view, dict):
        raise ValueError(f"'view' is {json_type_name(view)}, not an object")
    return Pin(
        id=pin_id,
        note=_text(record, "note", ""),
        run=_text(record, "run", ""),
        step=step,
        example=_text(record, "example", ""),
        compared=list(compared),
        link=_text(record, "link", ""),
        question=_text(record, "question", ""),
        answer=_text(record, "answer", ""),
        rows=[_row_from_dict(r, i) for i, r in enumerate(rows)],
        created_at=_text(record, "created_at", ""),
        updated_at=_text(record, "updated_at", ""),
        view=dict(view),
    )


def save_pin(directory: Path, pin: Pin) -> Path:
    """Write ``pin`` (atomically) as ``<directory>/<id>.json``; its note is checked first."""
    pin = replace(pin, note=check_note(pin.note))
    path = pin_path(directory, pin.id)
    atomic_write_json(path, pin_to_dict(pin))
    return path


def load_pin(directory: Path, pin_id: str) -> Pin:
    """One pin; :class:`UnreadableFileError` naming the file when it is damaged."""
    path = pin_path(directory, pin_id)
    record = read_json_object(path)
    try:
        pin = pin_from_dict(record)
    except ValueError as exc:
        raise UnreadableFileError(path, f"{exc}; fix the file or delete it") from None
    if pin.id != pin_id:
        raise UnreadableFileError(path, f"holds pin {pin.id}, not {pin_id}; rename or delete it")
    return pin


def load_pins(directory: Path) -> tuple[list[Pin], list[str]]:
    """Every pin under ``directory``, newest first, and one message per file that could not be
    read (the file is left as it is: nothing is lost, and the other pins still load). A missing
    directory holds no pins."""
    directory = Path(directory)
    if not directory.is_dir():
        return [], []
    pins, problems = [], []
    for path in sorted(directory.glob("pin-*.json")):
        if not PIN_ID.fullmatch(path.stem):
            continue
        try:
            pins.append(load_pin(directory, path.stem))
        except (UnreadableFileError, OSError) as exc:
            problems.append(
                f"{exc} (the pin is not shown; its file is kept)"
                if isinstance(exc, UnreadableFileError)
                else f"{path}: cannot be read ({exc.strerror or exc}); its file is kept"
            )
    pins.sort(key=lambda p: (p.created_at, p.id), reverse=True)
    return pins, problems


def update_note(directory: Path, pin_id: str, note: str) -> Pin:
    """Change one pin's note (and its ``updated_at``); the other fields stay as pinned."""
    pin = replace(load_pin(directory, pin_id), note=check_note(note), updated_at=utc_text())
    save_pin(directory, pin)
    return pin


def delete_pin(directory: Path, pin_id: str) -> bool:
    """Remove one pin's file; False when there was none."""
    path = pin_path(directory, pin_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
