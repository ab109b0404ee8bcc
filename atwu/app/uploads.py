"""Uploaded question–answer files made into a benchmark: where they are staged and the prepare
job that turns them into one (the Run page's "your own files").

Uploaded file names never reach a path: the files are stored as ``forget.jsonl`` and
``retain.jsonl`` under ``$ATWU_HOME/uploads/<benchmark name>/<random>`` (a fresh folder per
upload, so a second upload of the same name never overwrites files a prepare is reading), and
the benchmark name is made safe (:func:`atwu.paths.safe_name`) before it names anything. One
prepare job per benchmark (:func:`atwu.app.jobs.prepare_job_file`), claimed atomically.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from atwu.app import jobs
from atwu.app.limits import check_upload
from atwu.errors import InputError
from atwu.io import atomic_write_bytes
from atwu.paths import safe_name

FALLBACK_NAME = "my-benchmark"


@dataclass(frozen=True)
class StagedUpload:
    """Uploaded files saved under fixed names, and the benchmark directory they will become."""

    name: str
    target: Path
    forget: Path
    retain: Path

    def prepare_args(self) -> list[str]:
        """``python -m atwu prepare`` arguments (the output directory is given separately)."""
        return ["prepare", "--forget", str(self.forget), "--retain", str(self.retain)]


def benchmark_name(typed: str, forget_filename: str) -> str:
    """The name the user typed, else the forget file's stem, made safe for a path."""
    return safe_name(typed or Path(forget_filename).stem, fallback=FALLBACK_NAME)


def stage_upload(
    forget: bytes,
    retain: bytes,
    *,
    name: str,
    home: Path,
    benchmarks: Path,
) -> StagedUpload:
    """Save the two files as ``<home>/uploads/<name>/<random>/{forget,retain}.jsonl``. Raises
    :class:`~atwu.errors.InputError` when a benchmark of that name already exists (nothing is
    written then), and for a file over the size limit. ``name`` must already be safe (:func:`benchmark_name`)."""
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"benchmark name {name!r} is not safe for a path")
    check_upload(forget, "The forget file")
    check_upload(retain, "The retain file")
    target = benchmarks / name
    if target.exists():
        raise InputError(
            f"A benchmark named `{name}` already exists at `{target}`; choose another name."
        )
    folder = staging_folder(home, name)
    staged = StagedUpload(
        name=name, target=target, forget=folder / "forget.jsonl", retain=folder / "retain.jsonl"
    )
    atomic_write_bytes(staged.forget, forget)
    atomic_write_bytes(staged.retain, retain)
    return staged


def staging_folder(home: Path, name: str) -> Path:
    """A new, empty folder ``<home>/uploads/<name>/<random>`` for one upload's files (``mkdir``
    succeeds for one caller only, so two uploads never share one)."""
    parent = home / "uploads" / safe_name(name)
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        folder = parent / uuid.uuid4().hex[:12]
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder


def start_upload_prepare(staged: StagedUpload, job_file: Path) -> int | None:
    """Launch the prepare job of staged files (:func:`atwu.app.jobs.prepare_status` follows
    it); None when another session is already preparing this benchmark (its staged files are
    then removed: that session's job is the one to follow)."""
    pid = jobs.start_prepare(staged.prepare_args(), job_file, staged.target)
    if pid is None:
        shutil.rmtree(staged.forget.parent, ignore_errors=True)
    return pid
