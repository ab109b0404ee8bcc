"""Uploaded question–answer files made into a benchmark: where they are staged and the prepare
job that turns them into one (the Run page's "your own files").

Uploaded file names never reach a path: the files are stored as ``forget.jsonl`` and
``retain.jsonl`` under ``$ATWU_HOME/uploads/<benchmark name>``, and the benchmark name is made
safe (:func:`atwu.paths.safe_name`) before it names anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atwu.app import jobs
from atwu.app.limits import check_upload
from atwu.errors import InputError
from atwu.io import atomic_write_bytes
from atwu.paths import safe_name

FALLBACK_NAME = "my-benchmark"


def upload_job_file(home: Path) -> Path:
    """The job description of the (one) prepare job of uploaded files."""
    return home / ".app" / "prepare-upload.json"


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
    """Save the two files as ``<home>/uploads/<name>/{forget,retain}.jsonl``. Raises
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
    folder = home / "uploads" / name
    staged = StagedUpload(
        name=name, target=target, forget=folder / "forget.jsonl", retain=folder / "retain.jsonl"
    )
    atomic_write_bytes(staged.forget, forget)
    atomic_write_bytes(staged.retain, retain)
    return staged


def start_upload_prepare(staged: StagedUpload, job_file: Path) -> int:
    """Launch the prepare job of staged files; :func:`atwu.app.jobs.prepare_status` follows it."""
    job_file.parent.mkdir(parents=True, exist_ok=True)
    return jobs.start_prepare(staged.prepare_args(), job_file, staged.target)
