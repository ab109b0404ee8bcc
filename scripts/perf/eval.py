"""Time one full checkpoint evaluation (CheckpointEvaluator.evaluate) on a prepared benchmark.

    .venv/bin/python scripts/perf/eval.py /tmp/bench200 --threads 2

What is timed: ``evaluate(model, step, weights, full=True)`` for a non-zero step with the model
already loaded: teacher-forced scoring of every answer variant of the forget split, the held-out
retain split and the utility splits, greedy generation of every question (and of the forget
split's paraphrased questions), ROUGE-L, forget quality and its KS interval against the (cached)
retain reference, the fact-level metrics and UQ against the (cached) step-0 evaluation, the
alignment metrics of a weights frame over the forget split, and the two file writes; then the
same without generation (a --quick checkpoint between the ends). A warm-up call first
builds the one-off pieces (encoded pairs, retain reference, step-0 cache); then the median of
``--repeats`` calls is reported. Target: 5 s or less on 2 CPU cores for the 200-author benchmark.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import pandas as pd
import torch

from atwu.benchmark import Benchmark
from atwu.data.chat import encode_pair
from atwu.data.labels import token_labels
from atwu.evaluate.checkpoint import CheckpointEvaluator
from atwu.models import load_model, load_tokenizer


def random_weights(tokenizer, pairs, step: int) -> pd.DataFrame:
    """A weights.parquet-shaped frame over ``pairs`` with random weights (alignment cost only)."""
    rng = np.random.default_rng(step)
    rows = []
    for pair in pairs:
        enc = encode_pair(tokenizer, pair.question, pair.answer)
        labels, kinds = token_labels(pair.answer, enc.answer_offsets, pair.spans)
        for position, (label, kind) in enumerate(zip(labels, kinds)):
            rows.append(
                {
                    "step": step,
                    "example_id": pair.id,
                    "position": position,
                    "weight": float(rng.random()),
                    "label": label,
                    "span_kind": kind,
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("benchmark", nargs="?", default="/tmp/bench200")
    parser.add_argument("--split", default=None, help="forget split (default: the benchmark's)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1: fastest for tiny models, robust to a busy machine)",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    bench = Benchmark.load(args.benchmark)
    split = args.split or bench.default_forget_split
    model, tokenizer = load_model(bench.target_model), load_tokenizer(bench.target_model)
    sizes = {
        s: len(bench.pairs(s))
        for s in dict.fromkeys([split, *bench.utility_splits_for(split)])
        if s in bench.splits
    }
    print(f"benchmark {bench.root} splits {sizes} threads {args.threads} batch {args.batch_size}")

    with tempfile.TemporaryDirectory() as run_dir:
        evaluator = CheckpointEvaluator(
            bench, split, tokenizer, run_dir, device="cpu", batch_size=args.batch_size
        )
        weights = random_weights(tokenizer, bench.pairs(split), 1)
        start = time.perf_counter()
        evaluator.evaluate(model, 1, weights, full=True)
        print(
            f"warm-up (encoding, retain reference, step-0 cache): "
            f"{time.perf_counter() - start:.2f} s"
        )
        times, cpu = [], []
        for i in range(args.repeats):
            weights["step"] = 2 + i
            start, start_cpu = time.perf_counter(), time.process_time()
            record = evaluator.evaluate(model, 2 + i, weights, full=True)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        # CPU seconds are reported too: on a shared machine wall time also measures the others.
        print(
            "runs: "
            + ", ".join(f"{t:.2f}" for t in times)
            + " s wall, "
            + ", ".join(f"{t:.2f}" for t in cpu)
            + " s CPU"
        )
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(
            f"median: {statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s CPU  "
            f"(forget_quality {record['forget_quality']}, model_utility "
            f"{record['model_utility']}, auroc {record['auroc']}, ffe {record['ffe']}, "
            f"template_damage {record['template_damage']})"
        )
        # a --quick checkpoint between the ends: teacher-forced metrics only (the frontiers' case)
        quick = []
        for i in range(args.repeats):
            weights["step"] = 10 + i
            start = time.perf_counter()
            evaluator.evaluate(model, 10 + i, weights, full=False)
            quick.append(time.perf_counter() - start)
        print(
            f"teacher-forced only (--quick between the ends): median "
            f"{statistics.median(quick):.2f} s wall"
        )


if __name__ == "__main__":
    main()
