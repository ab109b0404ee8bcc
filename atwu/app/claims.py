"""Names two browser sessions cannot share (no Streamlit here): a run directory per launch, a
staging folder per upload, one prepare job per output.

Each is claimed with an operation the file system performs for one caller only (``mkdir``,
``O_CREAT | O_EXCL``), so two sessions pressing the same button in the same second get distinct
directories, or the second one follows the first one's job instead of starting another.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from atwu.app.jobs import launch_record_path
from atwu.app.process_identity import is_same_process
from atwu.io import read_json
from atwu.paths import safe_name

CLAIM_GRACE_S = 10.0
"""A claimed job file still without a process id is another session's, writing it now."""


def reserve_run_dir(runs_dir: str | Path, name: str, *, tries: int = 1000) -> Path:
    """Create and return ``runs_dir/<safe name>`` (then ``-2``, ``-3``...): an empty directory
    no other session got, nor an earlier launch recorded. ``run --out`` accepts it empty."""
    root = Path(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    base = safe_name(name)
    for k in range(1, tries + 1):
        candidate = root / (base if k == 1 else f"{base}-{k}")
        if launch_record_path(candidate).exists():
            continue
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{root}: no free run name like {base} after {tries} tries")


def staging_folder(home: str | Path, name: str) -> Path:
    """A new, empty folder ``<home>/uploads/<name>/<random>`` for one upload's files, so that
    a second upload of the same name never overwrites files a prepare is reading."""
    parent = Path(home) / "uploads" / safe_name(name)
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        folder = parent / uuid.uuid4().hex[:12]
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder


def prepare_job_file(home: str | Path, target: str | Path) -> Path:
    """The job file of the prepare writing ``target``: one per output directory, so sessions
    preparing the same benchmark meet at the same job and different ones never share one."""
    return Path(home) / ".app" / f"prepare-{safe_name(Path(target).name)}.json"


def claim_job_file(job_file: str | Path) -> bool:
    """Claim ``job_file`` for a job this session is about to start: True when it was free (or
    named a job whose process is gone), False when another session's job is live (follow that
    one: :func:`atwu.app.jobs.prepare_status`). The caller then writes the job description."""
    job_file = Path(job_file)
    job_file.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(job_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                job = read_json(job_file)
            except (OSError, ValueError):
                job = None
            pid = job.get("pid") if isinstance(job, dict) else None
            if pid is not None and is_same_process(pid, job.get("pid_start")):
                return False
            if pid is None and _age_s(job_file) < CLAIM_GRACE_S:
                return False  # just claimed by another session, its description not written yet
            job_file.unlink(missing_ok=True)  # a finished or dead job: take its place
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("{}\n")
        return True
    return False


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")
