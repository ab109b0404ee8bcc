"""ATWU's overhead per training step against GradDiff, in one process on the same batches.

    .venv/bin/python scripts/perf/step_time.py                      # CPU: 4 layers, width 512
    .venv/bin/python scripts/perf/step_time.py --device cuda --layers 16 --width 2048   # ~1B

What is timed: one full training step as :class:`atwu.train.Trainer` takes it, from the method's
loss to the optimiser step: ``method.compute`` (ATWU: the shared forward pass with hidden states,
the scorer's own step, the model's loss), ``zero_grad``, ``backward``, gradient clipping, AdamW,
and the loop's ``float()`` reads of the loss and the gradient norm (the metrics line). Batch
building is left out (the same for every method).

The model is a Llama-architecture model with random weights (``LlamaConfig``; the embedded
tokenizer's vocabulary), large enough that a step is not dominated by Python overheads. Each method
trains its own copy of the same initial model; their steps are interleaved (ABBA order) on the
same sequence of forget/retain batches (the embedded forget10 / retain90), so drift of the machine
cancels out. ATWU's scorer is not held still (``scorer_warmup_steps=0``): every timed ATWU step
includes the scorer step. Target: ATWU ≤ 1.10 × GradDiff.

Prints a small table and one JSON line (``{"bench": "step_time", ...}``). ``--profile`` adds a
``torch.profiler`` table of each method's most expensive operators.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile
from transformers import LlamaConfig, LlamaForCausalLM

from atwu.benchmark import Benchmark
from atwu.data.batching import collate
from atwu.data.chat import encode_pair
from atwu.methods.base import MethodContext
from atwu.methods.registry import build_params, get_method
from atwu.models import load_tokenizer
from atwu.paths import default_benchmark_dir
from atwu.train.encode import encode_example, forget_batch

METHODS = ("graddiff", "atwu")


def build_model(vocab: int, layers: int, width: int, *, pad_id: int, eos_id: int, seed: int):
    heads = max(1, width // 64)
    intermediate = round(width * 2.75 / 64) * 64  # 512 → 1408, 2048 → 5632 (TinyLlama's ratio)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=width,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=512,
        tie_word_embeddings=False,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def make_batches(bench: Benchmark, tokenizer, n: int, batch: int, seed: int):
    forget = [encode_example(tokenizer, p) for p in bench.pairs("forget10")]
    retain = [
        encode_pair(tokenizer, p.question, p.answer)
        for p in bench.pairs(bench.retain_for("forget10"))
    ]
    rng = random.Random(seed)
    pad = tokenizer.pad_token_id
    return [
        (
            forget_batch(rng.sample(forget, min(batch, len(forget))), pad),
            collate(rng.sample(retain, min(batch, len(retain))), pad),
        )
        for _ in range(n)
    ]


class Runner:
    """One method with its own model copy and optimiser; ``step`` is the Trainer's step."""

    def __init__(self, name: str, model, device, sets: dict[str, str], lr: float):
        cls = get_method(name)
        self.name = name
        self.model = model.to(device).train()
        self.params = build_params(cls, sets)
        ref = (
            copy.deepcopy(self.model).eval().requires_grad_(False)
            if cls.requires_reference(self.params)
            else None
        )
        ctx = MethodContext(
            device=device,
            reference_model=ref,
            hidden_size=self.model.config.hidden_size,
            num_layers=self.model.config.num_hidden_layers,
        )
        self.method = cls(self.params, ctx)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=0.0)
        self.device = device
        self.autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if device.type == "cuda"
            else contextlib.nullcontext()
        )
        self.times: list[float] = []
        self.losses: list[float] = []
        self.k = 0

    def step(self, forget, retain, *, record: bool) -> None:
        sync = torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        sync()
        start = time.perf_counter()
        with self.autocast:
            out = self.method.compute(self.model, forget, retain, self.k)
        self.opt.zero_grad(set_to_none=True)
        out.loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        logged = float(out.loss.detach()), float(grad_norm)  # the Trainer's metrics line
        sync()
        elapsed = time.perf_counter() - start
        self.k += 1
        if record:
            self.times.append(elapsed)
            self.losses.append(logged[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--benchmark",
        default=None,
        help="prepared embedded benchmark (default: $ATWU_HOME/benchmarks/embedded)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=16, help="forget and retain batch size (each)")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per method")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per method first")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's own)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="ATWU parameter (default here: scorer_warmup_steps=0)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a torch.profiler table per method"
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
    atwu_sets = {"scorer_warmup_steps": "0"}
    for item in args.set:
        key, value = item.split("=", 1)
        atwu_sets[key.strip()] = value.strip()
    runners = {
        "graddiff": Runner("graddiff", copy.deepcopy(base), device, {}, args.lr),
        "atwu": Runner("atwu", base, device, atwu_sets, args.lr),
    }

    for i, (forget, retain) in enumerate(batches):
        order = METHODS if i % 2 == 0 else METHODS[::-1]  # ABBA: neither method always goes first
        for name in order:
            runners[name].step(forget, retain, record=i >= args.warmup)

    med = {name: statistics.median(r.times) for name, r in runners.items()}
    q = {name: statistics.quantiles(r.times, n=4) for name, r in runners.items()}
    ratio = med["atwu"] / med["graddiff"]
    # Each ATWU step against the GradDiff step next to it (same batch, same moment): robust to a
    # machine whose load changes during the run.
    paired = statistics.median(
        a / g for a, g in zip(runners["atwu"].times, runners["graddiff"].times)
    )
    tokens = sum(int(f.attention_mask.sum() + r.attention_mask.sum()) for f, r in batches) / len(
        batches
    )

    print(
        f"model: Llama {args.layers} layers × width {args.width}, {n_params / 1e6:.1f}M parameters, "
        f"vocab {len(tokenizer)}; device {device}, torch threads {torch.get_num_threads()}"
    )
    print(
        f"batches: {args.batch} forget + {args.batch} retain, {tokens:.0f} tokens per step on average; "
        f"{args.warmup} warm-up + {args.steps} timed steps per method, interleaved"
    )
    print(f"{'method':<10} {'median ms':>10} {'p25 ms':>8} {'p75 ms':>8} {'last loss':>10}")
    for name in METHODS:
        r = runners[name]
        print(
            f"{name:<10} {med[name] * 1e3:>10.1f} {q[name][0] * 1e3:>8.1f} {q[name][2] * 1e3:>8.1f} "
            f"{r.losses[-1]:>10.4f}"
        )
    verdict = "OK" if ratio <= 1.10 else "OVER TARGET"
    print(
        f"atwu / graddiff = {ratio:.3f}  (target ≤ 1.10: {verdict}); "
        f"median of per-batch ratios {paired:.3f}"
    )

    if args.profile:
        activities = [ProfilerActivity.CPU] + (
            [ProfilerActivity.CUDA] if device.type == "cuda" else []
        )
        sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
        for name in METHODS:
            with profile(activities=activities) as prof:
                for forget, retain in batches[:10]:
                    runners[name].step(forget, retain, record=False)
            print(f"\n== profile: {name}, 10 steps ==")
            print(prof.key_averages().table(sort_by=sort, row_limit=15))

    record = {
        "bench": "step_time",
        "device": str(device),
        "layers": args.layers,
        "width": args.width,
        "parameters": n_params,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "timed_steps": args.steps,
        "median_s": {k: round(v, 6) for k, v in med.items()},
        "ratio_atwu_graddiff": round(ratio, 4),
        "paired_ratio_median": round(paired, 4),
        "target": 1.10,
        "ok": ratio <= 1.10,
        "atwu_params": atwu_sets,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
