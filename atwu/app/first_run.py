"""A fresh install's first steps, started from the Home page: prepare the embedded benchmark in
the background, then launch one default ATWU run, once, so the other pages have a run of the
user's own to show."""

from __future__ import annotations

import os
from pathlib import Path

from atwu.app import jobs


def prepare_job_file(home: Path) -> Path:
    """The job description of the embedded benchmark's prepare job."""
    return home / ".app" / "prepare-embedded.json"


def _marker(job_file: Path) -> Path:
    return job_file.with_name("default-run-launched")


def start_embedded_prepare(job_file: Path, bench_dir: Path) -> int:
    """Start ``python -m atwu prepare`` into ``bench_dir``; a default run follows it once more."""
    job_file.parent.mkdir(parents=True, exist_ok=True)
    _marker(job_file).unlink(missing_ok=True)
    return jobs.start_prepare(["prepare"], job_file, bench_dir)


def launch_default_run_once(job_file: Path, runs_dir: Path) -> Path | None:
    """Start one default ATWU run into ``runs_dir``, unless one was started since the prepare
    job began (an exclusively created marker file guards against double launches from several
    browser sessions); its directory, or None."""
    try:
        os.close(os.open(_marker(job_file), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return None
    out = jobs.fresh_run_dir(runs_dir, "atwu-default-s0")
    jobs.launch_run(jobs.build_run_args("atwu"), out, jobs.log_path_for(runs_dir, out.name))
    return out
