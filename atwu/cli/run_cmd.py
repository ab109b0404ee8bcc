"""``python -m atwu run`` and ``sweep``: one run, or a grid of runs with one sweep id."""

from __future__ import annotations

import itertools
import sys
import uuid
from pathlib import Path

from atwu.cli.common import fail
from atwu.cli.run_args import config_from_args, default_out
from atwu.config import RunConfig
from atwu.io import read_json
from atwu.paths import runs_dir, safe_name
from atwu.train.execute import execute_run


def cmd_run(args) -> int:

    base = None
    if args.config:
        base = RunConfig.from_json(read_json(args.config))
    elif args.resume and args.out and (Path(args.out) / "config.json").is_file():
        base = RunConfig.from_json(read_json(Path(args.out) / "config.json"))
    cfg = config_from_args(args, base)
    out = Path(args.out) if args.out else default_out(cfg)
    return execute_run(cfg, out, resume=args.resume, overwrite=args.overwrite)


def cmd_sweep(args) -> int:

    grids = []
    for g in args.grid:
        if "=" not in g:
            return fail(f"--grid expects key=v1,v2,..., got {g!r}")
        key, values = g.split("=", 1)
        grids.append([(key.strip(), v.strip()) for v in values.split(",") if v.strip()])
    sweep_id = args.sweep_id or uuid.uuid4().hex[:8]
    code = 0
    base_seed = args.seed or 0
    for combo in itertools.product(*grids) if grids else [()]:
        for k in range(args.seeds):
            cfg = config_from_args(args)
            cfg.seed = base_seed + k
            cfg.params = {**cfg.params, **dict(combo)}
            cfg.sweep_id = sweep_id
            cfg.tags = {"grid": dict(combo)}
            label = "-".join(f"{key}{v}" for key, v in combo) or "default"
            root = Path(args.out) if args.out else runs_dir()
            out = root / safe_name(f"sweep-{sweep_id}-{cfg.method}-{label}-s{cfg.seed}")
            print(f"[sweep {sweep_id}] {out.name}", file=sys.stderr)
            code = max(code, execute_run(cfg, out, overwrite=args.overwrite))
    return code
