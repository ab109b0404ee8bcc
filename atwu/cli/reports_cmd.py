"""Commands that make many runs and a report: ``demo`` (the app's bundle) and ``reproduce``."""

from __future__ import annotations

from pathlib import Path


def cmd_demo(args) -> int:
    from atwu.demo import build_demo

    build_demo(Path(args.out), authors=args.authors, work=args.work)
    return 0


def cmd_reproduce(args) -> int:
    from atwu.analysis.reproduce import reproduce

    reproduce(Path(args.out), quick=args.quick, seeds=args.seeds)
    return 0
