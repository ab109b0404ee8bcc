"""What ``prepare`` checks before it trains anything: its options and its output directory.

A benchmark takes minutes to build; a refusal must come before that, not after. The output is
built under a temporary name beside it (:func:`atwu.io.atomic_directory`), which is also how a
prepare still running is told apart from one that was killed: the temporary folder is named
after its owner process, a killed one's is removed here, a live one's makes a second prepare of
the same directory wait its turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atwu.errors import InputError
from atwu.io import check_writable_dir, clean_leftovers, live_partials

MANIFEST = "manifest.json"
MAX_AUTHORS = 100_000
MAX_EPOCHS = 10_000
MAX_WORKERS = 64


def is_benchmark_dir(path: str | Path) -> bool:
    """Whether ``path`` is a benchmark directory (it has a manifest, even a damaged one: a
    damaged benchmark is what ``--overwrite`` is for)."""
    return (Path(path) / MANIFEST).is_file()


def check_prepare_options(options: Any) -> None:
    """Every number of :class:`~atwu.prepare.build.PrepareOptions` an integer in its range."""
    _int(options.authors, "--authors", 10, MAX_AUTHORS)
    if options.epochs is not None:
        _int(options.epochs, "--epochs", 1, MAX_EPOCHS)
    _int(options.workers, "--workers", 1, MAX_WORKERS)
    _int(options.seed, "--seed", 0, 2**32 - 1)
    _int(options.vocab_size, "vocab_size", 64, 1_000_000)


def _int(value: Any, option: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"{option} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"{option} must be between {low:,} and {high:,}, got {value:,}")


def check_prepare_output(out: str | Path, *, overwrite: bool) -> None:
    """Refuse an output ``prepare`` may not write, before anything is built: a file, a place
    that cannot be written, a directory of other files (never replaced, even with
    ``--overwrite``), a benchmark without ``--overwrite``, or one another prepare is building
    right now. What killed prepares left beside ``out`` is removed first."""
    out = Path(out)
    check_writable_dir(out)
    check_writable_dir(out.parent)  # the new benchmark is built beside it, then renamed
    clean_leftovers(out)
    live = live_partials(out)
    if live:
        raise InputError(
            f"another prepare is building {out} right now ({live[0].name}); wait for it to "
            "finish, or choose another --out"
        )
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not is_benchmark_dir(out):
        entries = sorted(child.name for child in out.iterdir())
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise InputError(
            f"{out} holds files that are not a benchmark ({shown}); choose another --out "
            "(nothing there was changed)"
        )
    if not overwrite:
        raise InputError(
            f"{out} already holds a benchmark; pass --overwrite to replace it (the old one "
            "stays until the new one is complete) or choose another --out"
        )
