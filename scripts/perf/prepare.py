"""Time ``python -m atwu prepare`` end to end, as a user runs it, with the default settings.

    .venv/bin/python scripts/perf/prepare.py                 # into a temporary directory
    .venv/bin/python scripts/perf/prepare.py --keep /tmp/b   # keep the prepared benchmark

What is timed: the wall time of the subprocess ``python -m atwu prepare --out DIR`` (interpreter
start and imports included): data generation, the tokenizer, and the tiny models (``full``,
``retain90``, ``base``) trained in parallel workers. Then prints the seconds and, per model, the
exact-match figures from the benchmark's ``quality.json`` (what the models memorised: 1.0 on their
training splits; the retain model ~0 on the forget split it never saw), plus one JSON line
(``{"bench": "prepare", ...}``). Extra arguments after ``--`` go to ``prepare``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", default=None, help="prepare into this directory and keep it")
    parser.add_argument(
        "prepare_args",
        nargs=argparse.REMAINDER,
        help="extra arguments for `python -m atwu prepare` (after --)",
    )
    args = parser.parse_args(argv)
    extra = [a for a in args.prepare_args if a != "--"]

    scratch = None
    if args.keep:
        out = Path(args.keep)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="atwu-bench-prepare-"))
        out = scratch / "embedded"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "atwu", "prepare", "--out", str(out), *extra]
    print("$ " + " ".join(cmd), file=sys.stderr)
    try:
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout + proc.stderr, file=sys.stderr)
            print(f"prepare failed with exit code {proc.returncode}", file=sys.stderr)
            return proc.returncode
        quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"python -m atwu prepare {' '.join(extra)}".rstrip() + f": {seconds:.1f} s wall "
        f"(prepare itself reports {quality.get('prepare_seconds', float('nan')):.1f} s); "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'model':<10} {'seconds':>8} {'epochs':>6}  exact match")
    em = {}
    for name, entry in quality["models"].items():
        em[name] = entry.get("exact_match", {})
        figures = ", ".join(f"{k} {v:.3f}" for k, v in em[name].items())
        print(
            f"{name:<10} {entry.get('seconds', float('nan')):>8.1f} {entry.get('epochs', '?'):>6}  {figures}"
        )
    print(
        json.dumps(
            {
                "bench": "prepare",
                "wall_seconds": round(seconds, 1),
                "prepare_seconds": round(quality.get("prepare_seconds", float("nan")), 1),
                "args": extra,
                "cpus": os.cpu_count(),
                "exact_match": em,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
