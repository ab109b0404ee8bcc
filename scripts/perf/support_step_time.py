"""The retain-support bank's overhead per training step: ATWU with a full bank against GradDiff, in
one process on the same batches (issue 23: target ≤ 1.15 × GradDiff).

    .venv/bin/python scripts/perf/support_step_time.py                 # CPU: 4 layers, width 512
    .venv/bin/python scripts/perf/support_step_time.py --device cuda --layers 16 --width 2048

The harness is :mod:`step_time`'s (same random Llama model, same embedded forget10/retain90
batches, the Trainer's step from the method's loss to the optimiser step, ABBA-interleaved so the
machine's drift cancels out). Three methods are timed: GradDiff, plain ATWU and ATWU with
``conflict_gate`` (the bank kept, S_t computed and the weights gated every step; ``--set`` adds
options, e.g. ``scorer_design=contrast_head``). Before timing, the bank is filled to capacity
from the retain batches, so every timed step pays the steady-state cost: the bank update and one
(forget tokens × bank) matrix product. ATWU's scorer is not held still (``scorer_warmup_steps=0``).

Prints a small table and one JSON line (``{"bench": "support_step_time", ...}``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
from pathlib import Path

import torch
from step_time import Runner, build_model, make_batches

from atwu.benchmark import Benchmark
from atwu.models import load_tokenizer
from atwu.paths import default_benchmark_dir

TARGET = 1.15


def prefill(runner: Runner, batches) -> int:
    """Fill the method's bank to capacity from the retain batches (cycled), outside the timing."""
    method = runner.method
    bank = method.bank
    assert bank is not None, "the support bank is off: pass conflict_gate > 0 or a scorer_design"
    with torch.no_grad():
        while bank.size < bank.capacity:
            for _, retain in batches:
                method.fill_bank(method._forward(runner.model, retain), retain)
                if bank.size >= bank.capacity:
                    break
    return bank.size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmark", default=None, help="default: $ATWU_HOME/benchmarks/embedded")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=16, help="forget and retain batch size (each)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per method")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per method first")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option of the banked ATWU (default here: conflict_gate=1, support_bank=8192)",
    )
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    bench = Benchmark.load(Path(args.benchmark) if args.benchmark else default_benchmark_dir())
    tokenizer = load_tokenizer(bench.target_model)
    batches = make_batches(bench, tokenizer, args.warmup + args.steps, args.batch, args.seed)
    batches = [(f.to(device), r.to(device)) for f, r in batches]
    base = build_model(
        len(tokenizer),
        args.layers,
        args.width,
        pad_id=tokenizer.pad_token_id,
        eos_id=tokenizer.eos_token_id,
        seed=args.seed,
    )
    n_params = sum(p.numel() for p in base.parameters())
    plain_sets = {"scorer_warmup_steps": "0"}
    bank_sets = {**plain_sets, "conflict_gate": "1", "support_bank": "8192"}
    for item in args.set:
        key, value = item.split("=", 1)
        bank_sets[key.strip()] = value.strip()
    runners = {
        "graddiff": Runner("graddiff", copy.deepcopy(base), device, {}, args.lr),
        "atwu": Runner("atwu", copy.deepcopy(base), device, plain_sets, args.lr),
        "atwu_bank": Runner("atwu", base, device, bank_sets, args.lr),
    }
    filled = prefill(runners["atwu_bank"], batches)
    names = list(runners)
    for i, (forget, retain) in enumerate(batches):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            runners[name].step(forget, retain, record=i >= args.warmup)

    med = {name: statistics.median(r.times) for name, r in runners.items()}
    paired = {
        name: statistics.median(
            a / g for a, g in zip(runners[name].times, runners["graddiff"].times)
        )
        for name in ("atwu", "atwu_bank")
    }
    ratio = med["atwu_bank"] / med["graddiff"]
    print(
        f"model: Llama {args.layers} layers × width {args.width}, {n_params / 1e6:.1f}M parameters; "
        f"device {device}, torch threads {torch.get_num_threads()}; {args.batch} forget + "
        f"{args.batch} retain per step; bank {filled} entries (full before timing); "
        f"{args.steps} timed steps per method, interleaved"
    )
    print(f"{'method':<10} {'median ms':>10} {'× graddiff':>11} {'paired ×':>9}")
    for name in names:
        rel = med[name] / med["graddiff"]
        pair = paired.get(name, 1.0)
        print(f"{name:<10} {med[name] * 1e3:>10.1f} {rel:>11.3f} {pair:>9.3f}")
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"atwu_bank / graddiff = {ratio:.3f} (target ≤ {TARGET}: {verdict})")
    record = {
        "bench": "support_step_time",
        "device": str(device),
        "layers": args.layers,
        "width": args.width,
        "parameters": n_params,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "timed_steps": args.steps,
        "bank_entries": filled,
        "median_s": {k: round(v, 6) for k, v in med.items()},
        "ratio_atwu_bank_graddiff": round(ratio, 4),
        "ratio_atwu_graddiff": round(med["atwu"] / med["graddiff"], 4),
        "paired_ratio_median": {k: round(v, 4) for k, v in paired.items()},
        "target": TARGET,
        "ok": ratio <= TARGET,
        "atwu_bank_params": bank_sets,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
