"""Atomic file writes, and JSON and JSON Lines readers.

Every file the project writes goes through a temporary file in the same directory and an
``os.replace``: a reader (the app polling a run directory) never sees half a file, and a killed
process leaves either the old version or the new one.

Every reader of the project's own files (run directories, benchmarks) raises one error for a
damaged file, :class:`UnreadableFileError` (an :class:`~atwu.errors.InputError`: the CLI prints
it in one line with exit code 2, the app shows it in place), naming the file and what is wrong.
A last line cut by a kill is skipped with a :class:`TornLineWarning` naming the file where a
reader asks for it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from atwu.errors import InputError
from atwu.file_limits import LINE_LIMIT, describe_bytes, file_limit, limit_advice
from atwu.process import owner_alive, owner_tag


class UnreadableFileError(InputError):
    """A file of a run or a benchmark that cannot be read: cut, not JSON, not the expected
    shape. ``str(error)`` is ``"<path>: <reason>"`` on one line."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(" ".join(f"{path}: {reason}".split()))


def check_file_size(path: str | Path, limit: int) -> None:
    """Raise :class:`UnreadableFileError` (naming the file, its size, the limit and the way out)
    when ``path`` holds more than ``limit`` bytes; checked before a file is read. OSError when
    it is missing."""
    size = os.stat(path).st_size
    if size > limit:
        shown = describe_bytes(size)
        if shown == describe_bytes(limit):  # just over: rounding would show the two as equal
            shown = f"{size:,} bytes"
        raise UnreadableFileError(
            path,
            f"{shown} is over the {describe_bytes(limit)} limit for this file; {limit_advice()}",
        )


class TornLineWarning(UserWarning):
    """A JSON Lines file whose last line is cut (a writer was killed mid-line): the lines before
    it were read."""


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays reach us from metric code; JSON has no NaN, so NaN becomes null.
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def clean_for_json(value: Any) -> Any:
    """Replace NaN and infinities by None, recursively, so the output is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean_for_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_for_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        return clean_for_json(value.item())
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(
        clean_for_json(value),
        indent=indent,
        ensure_ascii=False,
        default=_json_default,
        allow_nan=False,
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file; mkstemp's 0600 would not


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """The one atomic writer: a temporary file beside ``path`` (``os.replace`` is atomic only
    within one file system), fsync, rename; the file gets the usual umask permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, value: Any) -> None:
    atomic_write_text(path, dumps(value, indent=2) + "\n")


MAX_JSON_INT_DIGITS = 19
"""Digits an integer in a file of ours may have: a 64-bit integer's (steps, seeds, sizes); a
longer one (a 4,000-digit number) is damage or mischief and would be shown and exported as is."""


def _decode(text: str) -> Any:
    """``json.loads`` that refuses what JSON allows but no file of ours holds: NaN and
    infinities (also as a literal too large for a float, ``1e999``), integers beyond 64 bits,
    and strings that cannot be written back as UTF-8 (a lone surrogate)."""
    value = json.loads(
        text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
    )
    if "\\u" in text and lone_surrogate(value) is not None:
        raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _shown_number(literal: str) -> str:
    return literal if len(literal) <= 24 else f"{literal[:12]}... ({len(literal):,} characters)"


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(
            f"the number {_shown_number(literal)} is too large for a floating-point value (it "
            "would read as infinity)"
        )
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise ValueError(
            f"the integer {_shown_number(literal)} has more than {MAX_JSON_INT_DIGITS} digits, "
            "beyond any count or setting"
        )
    return int(literal)


def lone_surrogate(value: Any) -> str | None:
    """The first lone surrogate in a decoded JSON value (strings, keys, nested), or None: JSON
    can escape half of a UTF-16 pair alone (``"\\ud800"``), which is no text and fails only
    later, when written as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return item[exc.start]
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


class JSONTextError(ValueError):
    """Text that is not one JSON document. ``syntax``: the JSON itself is broken (as a line cut
    by a kill is), rather than well-formed but unacceptable (too deep, NaN, a lone surrogate)."""

    def __init__(self, reason: str, *, syntax: bool):
        super().__init__(reason)
        self.syntax = syntax


def parse_json_text(text: str) -> Any:
    """Decode one JSON document; :class:`JSONTextError` with a readable reason when it is not
    one, also for nesting too deep for the parser, NaN or infinities, and lone surrogates."""
    try:
        return _decode(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        reason = f"not valid JSON ({exc.msg} at {where})"
        raise JSONTextError(reason, syntax=True) from None
    except RecursionError:
        raise JSONTextError("nested too deeply to be read as JSON", syntax=False) from None
    except ValueError as exc:
        raise JSONTextError(str(exc), syntax=False) from None


def _read_text(path: Path, limit: int) -> str:
    check_file_size(path, limit)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            path, f"byte {exc.start + 1} is not UTF-8 text; the file is damaged"
        ) from None


def read_json(path: str | Path) -> Any:
    """A JSON file; :class:`UnreadableFileError` when it is damaged or over
    :data:`~atwu.file_limits.LIMITS`, OSError when missing."""
    path = Path(path)
    try:
        return parse_json_text(_read_text(path, file_limit("json")))
    except UnreadableFileError:
        raise
    except JSONTextError as exc:
        cause = "the file is damaged or was cut" if exc.syntax else "fix or remove that value"
        raise UnreadableFileError(path, f"{exc}; {cause}") from None


def read_json_object(path: str | Path) -> dict[str, Any]:
    """A JSON file that must hold one object (every config, status and manifest)."""
    value = read_json(path)
    if not isinstance(value, dict):
        raise UnreadableFileError(path, f"holds {json_type_name(value)}, not a JSON object")
    return value


def json_type_name(value: Any) -> str:
    """The JSON name of a value's type (what a user editing the file sees)."""
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


def append_jsonl(path: str | Path, record: dict) -> None:
    """Append one line. A line is written with a single ``write`` call, so a reader sees whole
    lines only (a torn last line after a kill is skipped by :func:`read_jsonl`)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(dumps(record) + "\n")
        handle.flush()


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(dumps(r) + "\n" for r in records))


def read_jsonl(
    path: str | Path, *, skip_torn_tail: bool = True, warn_torn: bool = False
) -> list[dict]:
    """Read a JSON Lines file written by this project, one object per line.

    The file's size is checked first and its lines are read one at a time, each up to
    :data:`~atwu.file_limits.LINE_LIMIT` bytes: a file over its limit, or padded with a long run
    of bytes without a line break, raises :class:`UnreadableFileError` before it is read into
    memory. A last line cut by a kill is dropped (with a :class:`TornLineWarning` naming the file
    when ``warn_torn``: where the last record matters, e.g. the final checkpoint of
    ``eval.jsonl``); any other line that is not a JSON object raises
    :class:`UnreadableFileError` with its number.
    """
    path = Path(path)
    check_file_size(path, file_limit("jsonl"))
    out = []
    lines = _jsonl_lines(path)
    number, line = 0, next(lines, None)
    while line is not None:
        number += 1
        following = next(lines, None)
        if line.strip():
            try:
                record = parse_json_text(line)
            except JSONTextError as exc:
                if skip_torn_tail and exc.syntax and following is None:
                    if warn_torn:
                        warnings.warn(
                            TornLineWarning(
                                f"{path}: its last line (line {number}) is cut off, as a killed "
                                f"write leaves it; read up to line {number - 1}"
                            ),
                            stacklevel=2,
                        )
                    break
                raise UnreadableFileError(path, f"line {number}: {exc}") from None
            if not isinstance(record, dict):
                raise UnreadableFileError(
                    path, f"line {number} holds {json_type_name(record)}, not a JSON object"
                )
            out.append(record)
        line = following
    return out


def _jsonl_lines(path: Path) -> Iterator[str]:
    """The lines of ``path`` as text, without their line breaks, each read with a bounded
    ``readline`` so that a line over :data:`~atwu.file_limits.LINE_LIMIT` is refused unread."""
    limit = LINE_LIMIT
    offset = 0
    with open(path, "rb") as handle:
        while raw := handle.readline(limit + 1):
            number_of_bytes = len(raw)
            if number_of_bytes > limit and not raw.endswith(b"\n"):
                raise UnreadableFileError(
                    path,
                    f"a line starting at byte {offset + 1} is longer than the "
                    f"{describe_bytes(limit)} a line may have; the file is damaged (this project "
                    "writes short lines): restore or remove it",
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(
                    path, f"byte {offset + exc.start + 1} is not UTF-8 text; the file is damaged"
                ) from None
            offset += number_of_bytes
            yield text.rstrip("\r\n")


PARTIAL_SUFFIX = ".partial"
TRASH_SUFFIX = ".old"
LEGACY_PARTIAL_AGE_S = 24 * 3600.0
"""A half-built folder named without its owner (older versions) is removed once this old."""


_OWNED = re.compile(r"([A-Za-z0-9-]+_\d+_\d+)\.[A-Za-z0-9_]+")
_LEGACY = re.compile(r"[A-Za-z0-9_]{8}|")  # mkdtemp's 8 random characters, or none (".old")


def _leftovers(final: Path, suffix: str) -> list[tuple[Path, bool | None, bool]]:
    """Folders ``.<final name>.<owner>.<random><suffix>`` beside ``final``, each with whether
    its owner is alive (None: unknown, on another host) and whether it is of the older, unnamed
    kind. Names that only start like them (a sibling called ``<final name>.x``) are not."""
    prefix = f".{final.name}."
    found = []
    with contextlib.suppress(OSError):
        for child in final.parent.iterdir():
            name = child.name
            if not (name.startswith(prefix) and name.endswith(suffix)) or not child.is_dir():
                continue
            middle = name[len(prefix) : len(name) - len(suffix)]
            if (owned := _OWNED.fullmatch(middle)) is not None:
                found.append((child, owner_alive(owned.group(1)), False))
            elif _LEGACY.fullmatch(middle):
                found.append((child, None, True))
    return found


def live_partials(final: str | Path) -> list[Path]:
    """Folders another live process of this host is building for ``final`` right now."""
    return [path for path, alive, _ in _leftovers(Path(final), PARTIAL_SUFFIX) if alive]


def clean_leftovers(final: str | Path) -> list[Path]:
    """Remove what killed builders of ``final`` left beside it; returns what was removed.

    A half-built folder goes when its owner is gone (a live builder's, or another host's,
    stays; an unnamed one from older versions goes once a day old). A replaced copy set aside by
    a builder killed between its two renames is put back when ``final`` is missing (nothing is
    lost), and removed otherwise.
    """
    final = Path(final)
    removed = []
    for path, alive, legacy in _leftovers(final, PARTIAL_SUFFIX):
        if alive is False or (legacy and _age_s(path) > LEGACY_PARTIAL_AGE_S):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    trash = sorted(_leftovers(final, TRASH_SUFFIX), key=lambda item: _age_s(item[0]))
    for path, alive, _ in trash:  # the youngest first: the latest replaced copy
        if alive:
            continue
        if not final.exists():
            with contextlib.suppress(OSError):
                os.rename(path, final)
                continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _is_empty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and not any(path.iterdir())
    except OSError:
        return False


@contextlib.contextmanager
def atomic_directory(final: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name beside ``final`` and rename it at the end.

    Nothing half-built ever sits at ``final``: on an exception the temporary directory is
    removed and ``final`` is left as it was. With ``overwrite`` an existing ``final`` is moved
    aside, the new one renamed in, and only then the old one removed. The temporary folder is
    named after its owner (host, pid and the pid's start time), so that what a killed builder
    left is removed by the next one (:func:`clean_leftovers`) while a live builder's is kept.
    An empty directory at ``final`` counts as absent.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(final)
    tag = f".{final.name}.{owner_tag()}."
    tmp = Path(tempfile.mkdtemp(prefix=tag, suffix=PARTIAL_SUFFIX, dir=final.parent))
    try:
        yield tmp
        if _is_empty_dir(final):
            final.rmdir()
        if final.exists():
            if not overwrite:
                raise FileExistsError(f"{final} already exists")
            trash = final.with_name(f"{tag}{uuid.uuid4().hex[:8]}{TRASH_SUFFIX}")
            os.replace(final, trash)
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_writable_dir(out: str | Path) -> None:
    """``out`` is a directory or can become one: InputError for a file there, a file on the way
    to it, or a place this user may not write (the check every ``--out`` gets first)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a directory; choose another --out")
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise InputError(f"{existing} is a file, so {out} cannot be created; choose another --out")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {existing} (permission denied); choose another --out")
