"""``python -m atwu references``: the runs a comparison with a run needs (uniform, static_p and
the oracle at its settings; :data:`atwu.analysis.variants.COMPARISON_REFERENCES`), the missing
ones only, carried out through the run executor.

    python -m atwu references RUN_DIR                     # RUN_DIR's settings, beside it
    python -m atwu references --method atwu --quick --runs-dir DIR --for-run atwu-default-s0

The planned references appear at once as waiting directories; this process runs them one after
another. With ``--lanes 2`` a second queue (a child process) takes the rest as soon as the run
they serve (RUN, or ``--for-run`` in ``--runs-dir``) no longer trains: while it does, it has
the second core.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from atwu.analysis.references import (
    claim_next,
    end_waiting,
    queue_references,
    served_run_live,
    unclaimed,
)
from atwu.cli.executor_args import executor_from_args
from atwu.cli.run_args import config_from_args
from atwu.cli.run_cmd import config_file
from atwu.config import RunConfig
from atwu.errors import InputError
from atwu.executor.spec import RunSpec
from atwu.model_source import check_config_models
from atwu.paths import runs_dir

WATCH_EVERY_S = 2.0


def cmd_references(args) -> int:
    """Plan the missing references, then run them; 0 when all finished (or none was
    missing)."""
    executor = executor_from_args(args)
    if args.lane:
        return _run_lane(executor, [Path(p) for p in args.lane])
    if args.run:
        run = Path(args.run)
        if not (run / "config.json").is_file():
            raise InputError(f"{run} holds no run (no config.json); pass a run directory")
        base, for_run = config_file(run / "config.json"), args.for_run or run.name
        root = Path(args.runs_dir) if args.runs_dir else run.parent
    else:
        if not args.method:
            args.method = "atwu"  # only its settings matter: the references replace the method
        base = config_from_args(args)
        for_run, root = args.for_run or base.method, Path(args.runs_dir or runs_dir())
        _wait_until_listed(root / for_run)
    if args.lanes < 1:
        raise InputError(f"--lanes must be a positive integer, got {args.lanes}")
    check_config_models(base)
    specs = queue_references(base, root, for_run=for_run)
    if not specs:
        print(f"{for_run} has its references already (finished, running or queued) in {root}")
        return 0
    outs = [s.out for s in specs]
    print(
        f"references of {for_run}: {', '.join(o.name for o in outs)} in {root} "
        f"({executor.kind} executor, {args.lanes} lane(s))",
        file=sys.stderr,
    )
    helpers = _Helpers(root / for_run, outs, args.lanes - 1, args.executor)
    helpers.start()
    try:
        failed = _run_lane(executor, outs)
    finally:
        helpers.stop()
    return 1 if failed or helpers.failed() else 0


def _wait_until_listed(served: Path, timeout_s: float = 180.0) -> None:
    """A run launched with its references (Home's first run) is listed before them: the app
    picks the newest run of your own that is not a reference, and a list holding only the
    references would pick one of them. Waits while its directory exists without config.json."""
    start = time.monotonic()
    while (
        served.is_dir()
        and not (served / "config.json").is_file()
        and time.monotonic() - start < timeout_s
    ):
        time.sleep(0.5)


def _run_lane(executor, outs: list[Path]) -> int:
    """Take the planned references one by one (those no other lane has taken) and run each
    through ``executor``; the number that did not finish."""
    failed = 0
    with executor:
        while (out := claim_next(out_root(outs), outs)) is not None:
            spec = RunSpec(RunConfig.from_json(_planned_config(out)), out)
            try:
                (outcome,) = executor.run([spec])
            except BaseException:
                for later in outs:
                    end_waiting(later, "cancelled", "cancelled before it started")
                raise
            failed += not outcome.finished
            print(f"{outcome.state}: {out.name} ({outcome.seconds:.0f} s) {outcome.message}")
    return failed


def out_root(outs: list[Path]) -> Path:
    return outs[0].parent


def _planned_config(out: Path) -> dict:
    from atwu.io import read_json_object

    return read_json_object(out / "config.json")


class _Helpers:
    """Starts ``n`` more lanes (``references --lane``) once the served run no longer trains and
    planned references are still untaken; waits for them at the end."""

    def __init__(self, served: Path, outs: list[Path], n: int, executor: str | None):
        self.served, self.outs, self.n, self.executor = served, outs, n, executor
        self.procs: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="atwu-lanes", daemon=True)

    def start(self) -> None:
        if self.n > 0:
            self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set() and len(self.procs) < self.n:
            if not served_run_live(self.served) and unclaimed(self.outs):
                argv = [sys.executable, "-m", "atwu", "references", "--lane"]
                argv += [str(o) for o in self.outs]
                argv += ["--executor", self.executor or "local"]
                self.procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL))
                continue
            self._stop.wait(WATCH_EVERY_S)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for proc in self.procs:
            try:
                proc.wait()
            except BaseException:
                proc.terminate()  # Ctrl-C or SIGTERM here: the lane is cancelled too
                proc.wait(timeout=30)
                raise

    def failed(self) -> bool:
        return any(proc.returncode not in (0, None) for proc in self.procs)
