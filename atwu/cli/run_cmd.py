"""``python -m atwu run`` and ``sweep``: one run, or a grid of runs carried out by the run executor
(one after another here, or as Ray tasks on this machine or a cluster)."""

from __future__ import annotations

import sys
from pathlib import Path

from atwu.cli.executor_args import executor_from_args
from atwu.cli.run_args import config_from_args, default_out
from atwu.config import RunConfig
from atwu.executor.check import check_specs
from atwu.executor.sweep import check_sweep_dir, parse_grid, plan_sweep, run_sweep
from atwu.io import read_json
from atwu.model_source import check_config_models


def cmd_run(args) -> int:
    base = None
    if args.config:
        base = config_file(Path(args.config))
    elif args.resume and args.out and (Path(args.out) / "config.json").is_file():
        base = config_file(Path(args.out) / "config.json")
    cfg = config_from_args(args, base)
    check_config_models(cfg)  # offline by default: refused before torch is even loaded
    out = Path(args.out) if args.out else default_out(cfg)
    from atwu.train.execute import execute_run  # torch: not before the checks above

    return execute_run(cfg, out, resume=args.resume, overwrite=args.overwrite)


def config_file(path: Path) -> RunConfig:
    """A configuration read from a file (``--config``, or the run's own config.json for
    ``--resume``), without ``trust_remote_code``: running code from a model folder is allowed
    by the command line only (--trust-remote-code), never by a file that may come from anyone."""
    cfg = RunConfig.from_json(read_json(path))
    if cfg.trust_remote_code:
        cfg.trust_remote_code = False
        print(
            f"note: {path} sets trust_remote_code, which is taken from the command line only; "
            "pass --trust-remote-code if you trust the model's code",
            file=sys.stderr,
        )
    return cfg


def cmd_sweep(args) -> int:
    """Plan and check every run, then carry them out through the executor; ``sweep.json`` follows
    their states. Running the same command again skips finished runs and resumes the others."""
    # first, so that an unreachable --ray-address is reported within seconds
    executor = executor_from_args(args)
    check_config_models(config_from_args(args))  # before torch loads for the other checks
    plan = plan_sweep(
        config_from_args(args),
        parse_grid(args.grid),
        seeds=args.seeds,
        first_seed=args.seed or 0,
        name=args.sweep_id,
        out=args.out,
        fresh=args.overwrite,
    )
    check_specs(plan.specs)  # bad input ends here, before anything is written
    check_sweep_dir(plan)
    record, outcomes = run_sweep(plan, executor)
    counts = record.counts()
    skipped = sum(o.state == "skipped" for o in outcomes)
    print(
        f"sweep {plan.sweep_id}: {counts['done']} of {counts['total']} done "
        f"({skipped} finished earlier), {counts['failed']} failed: {plan.root}"
    )
    return 0 if counts["done"] == counts["total"] else 1
