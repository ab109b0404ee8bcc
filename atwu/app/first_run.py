"""A fresh install's first run, started from the Home page: the embedded benchmark (the prepared
copy shipped in ``assets/prepared``, installed in a second; or ``prepare`` in the background
when that copy cannot be used), then one ATWU run with the default settings and a quick
evaluation, once, together with the references a comparison needs (uniform, static_p and the
oracle at the same settings, :mod:`atwu.app.references`), so the other pages have a run of the
user's own to show, and something to compare it with, within minutes.

    job_file = jobs.prepare_job_file(home, bench_dir)
    start = start_first_run(job_file, bench_dir, runs_dir)   # the Home page's button
    launch_default_run_once(job_file, runs_dir)                # after a prepare job has finished
    first_run_dir(job_file)                                    # the run, once launched
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from atwu.app import jobs
from atwu.app.references import launch_references_for
from atwu.config import RunConfig
from atwu.prepare.shipped import install_shipped, shipped_problem
from atwu.run_flags import run_argv

FIRST_RUN_NAME = "atwu-default-s0"
FIRST_RUN_TIME = (
    "The README gives the time `scripts/perf/first_run.py` measured for the four on 2 CPU cores."
)
"""What the app says about the first run's time: it refers to the one figure the README quotes
(measured by the script), so that no second number can disagree with it."""


def first_run_args() -> list[str]:
    """ATWU with its default settings on the default benchmark; the model is evaluated at step 0
    and at the end only (``--quick``: token weights are still recorded at every checkpoint)."""
    return run_argv(RunConfig(method="atwu", quick=True))


def _marker(job_file: Path) -> Path:
    """Created exclusively when the first run is launched; it holds the run's directory."""
    return job_file.with_name("default-run-launched")


@dataclass(frozen=True)
class FirstRunStart:
    """What the button did: ``installed`` the shipped benchmark and launched ``run``, or started
    a prepare job (``preparing``; the run follows it) because ``why_prepare``."""

    installed: bool = False
    preparing: bool = False
    run: Path | None = None
    why_prepare: str = ""


def start_embedded_prepare(job_file: Path, bench_dir: Path) -> int | None:
    """Start ``python -m atwu prepare`` into ``bench_dir`` (``job_file``:
    :func:`atwu.app.jobs.prepare_job_file`); a default run follows it once more. None when
    another session's prepare of it is live: both follow that one job."""
    pid = jobs.start_prepare(["prepare"], job_file, bench_dir)
    if pid is not None:
        _marker(job_file).unlink(missing_ok=True)
    return pid


def start_first_run(job_file: Path, bench_dir: Path, runs_dir: Path) -> FirstRunStart:
    """Launch the first run at once when ``bench_dir`` is prepared; else install the shipped
    benchmark there and launch it; where the shipped copy cannot be used, start ``prepare``
    instead (the run follows it: :func:`launch_default_run_once`)."""
    if (bench_dir / "manifest.json").is_file():
        _marker(job_file).unlink(missing_ok=True)
        return FirstRunStart(run=launch_default_run_once(job_file, runs_dir))
    problem = shipped_problem()
    if problem is None and not bench_dir.exists():
        try:
            install_shipped(bench_dir)
        except (OSError, ValueError) as exc:
            problem = f"installing it failed ({exc})"
        else:
            _marker(job_file).unlink(missing_ok=True)
            return FirstRunStart(installed=True, run=launch_default_run_once(job_file, runs_dir))
    start_embedded_prepare(job_file, bench_dir)
    return FirstRunStart(preparing=True, why_prepare=problem or f"{bench_dir} exists")


def launch_default_run_once(job_file: Path, runs_dir: Path) -> Path | None:
    """Start the first run into ``runs_dir`` and its references beside it, unless they were
    started since the benchmark was (an exclusively created marker file guards against double
    launches from several browser sessions); the run's directory, or None."""
    job_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(_marker(job_file), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return None
    out = jobs.fresh_run_dir(runs_dir, FIRST_RUN_NAME)
    with os.fdopen(fd, "w", encoding="utf-8") as marker:
        marker.write(str(out))
    jobs.launch_run(first_run_args(), out, jobs.log_path_for(runs_dir, out.name))
    launch_references_for(first_run_args(), out.name, runs_dir)
    return out


def first_run_dir(job_file: Path) -> Path | None:
    """The first run's directory once it was launched (None before, or for a marker written
    by an older version, which holds no path)."""
    try:
        text = _marker(job_file).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None
