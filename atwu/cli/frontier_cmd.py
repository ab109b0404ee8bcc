"""``python -m atwu frontier``: variants × strengths × seeds through the run executor, then the
frontier analysis of METHOD.md §4.6 (see :mod:`atwu.analysis.frontier_run`)."""

from __future__ import annotations

import sys
from pathlib import Path

from atwu.analysis.frontier_run import analyse_dir, plan_frontier, run_frontier, settings
from atwu.analysis.variants import parse_strengths, parse_variants
from atwu.cli.executor_args import executor_from_args
from atwu.cli.run_args import config_from_args
from atwu.errors import InputError
from atwu.executor.check import check_specs
from atwu.io import read_json


def cmd_frontier(args) -> int:
    out = Path(args.out)
    if args.analyse_only:
        path = analyse_dir(out)
    else:
        if args.seeds < 1:
            raise InputError(f"--seeds must be a positive integer, got {args.seeds}")
        args.method = "atwu"  # a placeholder: every variant sets its own method and parameters
        base = config_from_args(args)
        plan = settings(parse_variants(args.variants), parse_strengths(args.strengths))
        sweep = plan_frontier(
            plan, seeds=args.seeds, out=out, base=base, fresh=bool(args.overwrite)
        )
        check_specs(sweep.specs)
        path, outcomes = run_frontier(sweep, executor_from_args(args), out)
        failed = [o for o in outcomes if not o.finished]
        if failed:
            print(
                f"{len(failed)} of {len(outcomes)} runs did not finish; the analysis uses "
                "what did (run the same command again to resume them)",
                file=sys.stderr,
            )
    summary = read_json(path)
    for axis, verdict in summary["decision"].items():
        print(
            f"{axis}: ATWU {'improves' if verdict['improves'] else 'does not improve'} the "
            f"trade-off (better at {verdict['better_at']}, worse at {verdict['worse_at']})"
        )
    for name, gate in (summary.get("gates") or {}).items():
        print(f"gate {name}: {gate['state'].upper()} ({gate['reason']})")
    print(f"analysis: {path}")
    return 0
