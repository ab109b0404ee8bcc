"""Commands that make many runs and a report: ``demo`` (the app's bundle) and ``reproduce``."""

from __future__ import annotations

from pathlib import Path

from atwu.analysis.reproduce import reproduce
from atwu.analysis.variants import VARIANTS
from atwu.cli.executor_args import executor_from_args
from atwu.demo import build_demo
from atwu.errors import InputError


def cmd_demo(args) -> int:
    build_demo(Path(args.out), authors=args.authors, work=args.work, executor_kind=args.executor)
    return 0


def cmd_reproduce(args) -> int:
    if args.seeds < 1:
        raise InputError(f"--seeds must be a positive integer, got {args.seeds}")
    variants = None
    if args.variants:
        variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise InputError(
                f"--variants: unknown {', '.join(unknown)}; known: {', '.join(VARIANTS)}"
            )
    reproduce(
        Path(args.out),
        quick=args.quick,
        seeds=args.seeds,
        variants=variants,
        executor=executor_from_args(args),
    )
    return 0
