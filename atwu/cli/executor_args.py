"""The options of every command that carries out many runs (``sweep``, ``frontier``,
``reproduce``): which executor, how many runs at once, which Ray cluster."""

from __future__ import annotations

import argparse


def add_executor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=("ray", "local"),
        default=None,
        help="ray: parallel Ray tasks (the default when ray is installed); local: one after "
        "another in this process",
    )
    p.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        metavar="N",
        help="runs at once (default: the CPUs, or GPUs, Ray has)",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="HOST:PORT",
        help="join the Ray cluster of `ray start --head` (default: $RAY_ADDRESS, else Ray "
        "started in this process); its nodes must share $ATWU_HOME or --out",
    )


def executor_from_args(args: argparse.Namespace):
    """The executor the options ask for (checked before anything is written)."""
    from atwu.executor.base import make_executor

    return make_executor(
        args.executor, max_concurrent=args.max_concurrent, ray_address=args.ray_address
    )
