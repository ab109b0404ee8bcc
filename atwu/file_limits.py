"""How large a file of a run or a benchmark may be before it is read: one table for every reader.

A run's own files are small (a status is a few hundred bytes, a training log a few hundred bytes
per step), so a file far over these sizes is damaged (padded, overwritten by something else) or
not the project's. Each reader checks the size before reading (:func:`atwu.io.check_file_size`),
and JSON Lines files are read line by line with a limit per line, so that a bad file costs an
error line, not the machine's memory. ``ATWU_FILE_LIMIT_MB`` raises every file-size limit at once,
for a genuine file that outgrew them.
"""

from __future__ import annotations

import os

from atwu.errors import InputError

MIB = 1024 * 1024

LIMITS: dict[str, int] = {
    "json": 64 * MIB,  # config.json, status.json, manifests, sweep.json, leases
    "jsonl": 256 * MIB,  # train_log.jsonl, eval.jsonl, examples.jsonl
    "parquet": 1024 * MIB,  # weights.parquet, eval_examples.parquet, benchmark splits
    "pairs": 64 * MIB,  # an own-data pairs file (see atwu.data.pairs_file for pairs per file)
}
"""Bytes a file of each kind may hold."""

LINE_LIMIT = 8 * MIB
"""Bytes one line of a JSON Lines file may hold (a record of a run is a few kilobytes)."""

LIMIT_ENV = "ATWU_FILE_LIMIT_MB"


def file_limit(kind: str) -> int:
    """The size limit of a file of ``kind`` (a key of :data:`LIMITS`), or ``$ATWU_FILE_LIMIT_MB``
    megabytes where that is set."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return LIMITS[kind]
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes < 1e9:
        raise InputError(f"{LIMIT_ENV}={raw!r}: expected a positive number of megabytes")
    return int(megabytes * MIB)


def describe_bytes(size: int) -> str:
    """``"2.0 GB"``, ``"64 MB"``, ``"512 bytes"``: a size as a user reads it (MB = 2**20 bytes)."""
    if size >= 1024 * MIB:
        return f"{size / (1024 * MIB):.1f} GB"
    if size >= MIB:
        return f"{size / MIB:.0f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def limit_advice() -> str:
    """The way out that every over-limit message ends with."""
    return (
        "the file is damaged or not this project's (restore or remove it); if it is genuine, "
        f"raise the limit with {LIMIT_ENV}=<megabytes>"
    )
