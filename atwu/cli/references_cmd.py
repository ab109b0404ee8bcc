"""``python -m atwu references``: the runs a comparison with a run needs (uniform, static_p and
the oracle at its settings; :data:`atwu.analysis.variants.COMPARISON_REFERENCES`), the missing
ones only, carried out one after another through the run executor.

    python -m atwu references RUN_DIR                     # RUN_DIR's settings, beside it
    python -m atwu references --method atwu --quick --runs-dir DIR --for-run atwu-default-s0
"""

from __future__ import annotations

import sys
from pathlib import Path

from atwu.analysis.references import end_waiting, queue_references
from atwu.cli.executor_args import executor_from_args
from atwu.cli.run_args import config_from_args
from atwu.cli.run_cmd import config_file
from atwu.errors import InputError
from atwu.model_source import check_config_models
from atwu.paths import runs_dir


def cmd_references(args) -> int:
    """Plan the missing references (their directories appear at once, waiting), then run them
    one by one; 0 when all finished (or none was missing)."""
    executor = executor_from_args(args)
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
    check_config_models(base)
    specs = queue_references(base, root, for_run=for_run)
    if not specs:
        print(f"{for_run} has its references already (finished, running or queued) in {root}")
        return 0
    print(
        f"references of {for_run}: {', '.join(s.out.name for s in specs)} in {root} "
        f"({executor.kind} executor, one after another)",
        file=sys.stderr,
    )
    failed = 0
    with executor:
        for i, spec in enumerate(specs):
            try:
                (outcome,) = executor.run([spec])
            except BaseException:
                for later in specs[i + 1 :]:
                    end_waiting(later.out, "cancelled", "cancelled before it started")
                raise
            failed += not outcome.finished
            print(f"{outcome.state}: {spec.out.name} ({outcome.seconds:.0f} s) {outcome.message}")
    return 1 if failed else 0
