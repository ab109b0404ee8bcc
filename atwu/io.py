"""Atomic file writes and JSON Lines helpers.

Every file the project writes goes through a temporary file in the same directory and an
``os.replace``: a reader (the app polling a run directory) never sees half a file, and a killed
process leaves either the old version or the new one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


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


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def append_jsonl(path: str | Path, record: dict) -> None:
    """Append one line. A line is written with a single ``write`` call, so a reader sees whole
    lines only (a torn last line after a kill is skipped by :func:`read_jsonl`)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(dumps(record) + "\n")
        handle.flush()


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(dumps(r) + "\n" for r in records))


def read_jsonl(path: str | Path, *, skip_torn_tail: bool = True) -> list[dict]:
    """Read a JSON Lines file written by this project; a last line cut by a kill is dropped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if skip_torn_tail and i == len(lines) - 1:
                break
            raise
    return out


@contextlib.contextmanager
def atomic_directory(final: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name beside ``final`` and rename it at the end.

    Nothing half-built ever sits at ``final``: on an exception the temporary directory is
    removed and ``final`` is left as it was.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            if not overwrite:
                raise FileExistsError(f"{final} already exists")
            trash = final.with_name(f".{final.name}.old")
            shutil.rmtree(trash, ignore_errors=True)
            os.replace(final, trash)
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
