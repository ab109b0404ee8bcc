"""Commands that make many runs and a report: ``demo`` (the app's bundle) and ``reproduce``."""

from __future__ import annotations

from pathlib import Path

from atwu.analysis.reproduce import reproduce
from atwu.demo import build_demo


def cmd_demo(args) -> int:
    build_demo(Path(args.out), authors=args.authors, work=args.work)
    return 0


def cmd_reproduce(args) -> int:
    reproduce(Path(args.out), quick=args.quick, seeds=args.seeds)
    return 0
