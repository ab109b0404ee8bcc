"""The references of a run in the app: which exist (finished, running, queued, failed), which are
missing, and the launch of the missing ones (``python -m atwu references`` in the background:
one process runs them one after another through the run executor, beside the run it serves,
so with a training run two processes share the CPU).

    refs = references_of(run, runs_dir)              # [ReferenceLine(variant, run, state...)]
    launch_missing_references(run.path, runs_dir)    # the Run page's "Run the references"
    launch_references_for(first_run_args(), out.name, runs_dir)   # Home's first run
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atwu.analysis.references import (
    LIVE_OR_DONE,
    REFERENCE_TAG,
    missing_references,
    reference_runs,
    runs_under,
)
from atwu.analysis.variants import COMPARISON_REFERENCES
from atwu.app import jobs
from atwu.app.run_list import progress_of
from atwu.runs.read import RunInfo

EXECUTOR = ("--executor", "local", "--lanes", "2")
"""One after another in one process while the run they serve trains (two processes on two
cores), in two once it has finished; Ray would start its own workers on a machine that has no
core to spare."""


@dataclass(frozen=True)
class ReferenceLine:
    """One reference of a run as the pages show it."""

    variant: str
    run: RunInfo | None  # None: missing

    @property
    def state(self) -> str:
        return self.run.state if self.run is not None else "missing"

    @property
    def present(self) -> bool:
        """Finished, running or queued: nothing to launch for it."""
        return self.state in LIVE_OR_DONE

    @property
    def progress(self) -> float:
        return progress_of(self.run) if self.run is not None and self.run.status else 0.0

    @property
    def text(self) -> str:
        """``uniform: running (step 40/156)`` or ``oracle: failed (why)``."""
        if self.run is None:
            return f"{self.variant}: not run yet"
        step, total = self.run.status.get("step"), self.run.status.get("total_steps")
        detail = f"step {step}/{total}" if self.state == "running" and total else ""
        if self.state in ("failed", "cancelled"):
            detail = str(self.run.status.get("message") or "")
        return f"{self.variant}: {self.state}" + (f" ({detail})" if detail else "")


def is_reference_run(run: RunInfo) -> bool:
    """A run that is itself a reference: it needs none."""
    return run.method in COMPARISON_REFERENCES or REFERENCE_TAG in (run.config.get("tags") or {})


def references_of(run: RunInfo, runs_dir: Path) -> list[ReferenceLine]:
    """The run's references among the runs under ``runs_dir`` (loads torch to compare a
    finished run's recorded parameters with the defaults; the Run page has it loaded)."""
    found = reference_runs(run.config, runs_under(runs_dir))
    return [ReferenceLine(v, r) for v, r in found.items()]


def missing_for(run: RunInfo, runs_dir: Path) -> list[str]:
    return missing_references(run.config, runs_under(runs_dir))


def launched_for(run_name: str, runs_dir: Path) -> list[ReferenceLine]:
    """The references launched for ``run_name`` (by their tag, without loading torch): what
    Home's card shows for the first run."""
    runs = [r for r in runs_under(runs_dir) if (r.config.get("tags") or {}).get(REFERENCE_TAG)]
    mine = {r.method: r for r in runs if r.config["tags"][REFERENCE_TAG] == run_name}
    return [ReferenceLine(v, mine.get(v)) for v in COMPARISON_REFERENCES]


def log_for(run_name: str, runs_dir: Path) -> Path:
    return jobs.log_path_for(runs_dir, f"references-{run_name}")


def launch_missing_references(run_dir: Path, runs_dir: Path) -> int:
    """Start ``python -m atwu references RUN`` (it plans the missing ones under a lock, so two
    clicks never launch one twice); its pid."""
    args = ["references", str(run_dir), "--runs-dir", str(runs_dir), *EXECUTOR]
    return jobs.launch_command(args, log_for(run_dir.name, runs_dir))


def launch_references_for(run_args: list[str], run_name: str, runs_dir: Path) -> int:
    """Start the references of a run being launched with ``run_args`` (``run --method ...``:
    its settings; the run's directory has no config.json yet); its pid."""
    settings = list(run_args[1:])  # without the command name
    args = [
        "references",
        *settings,
        "--runs-dir",
        str(runs_dir),
        "--for-run",
        run_name,
        *EXECUTOR,
    ]
    return jobs.launch_command(args, log_for(run_name, runs_dir))
