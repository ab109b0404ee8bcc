"""Every GPU measurement of issue 25 in one go, within about 5 minutes on one H100.

    python scripts/perf/gpu_check.py --out gpu_check.jsonl          # on the GPU machine
    python scripts/perf/gpu_check.py --cpu-smoke --out /tmp/g.jsonl  # tiny shapes on CPU (< 60 s)

Needs Python, torch and transformers and this checkout's pure-Python code, nothing downloaded;
peft is optional (its stage says "skipped: peft not installed" without it). Stages, each written
as one JSON line to ``--out`` the moment it ends (a stage that fails writes its error and the
next one runs), then a table:

- ``step_time_1b``: ATWU against GradDiff on a ~1B Llama-architecture model with random weights
  (``LlamaConfig``: 16 layers × 2048, vocabulary 32000), bf16 autocast, forget and retain batches of
  16 × 256 tokens; the Trainer's step (``scripts/perf/step_time.py``'s Runner), ABBA order:
  median step time, the ratio, tokens/s and MFU = 6 · non-embedding parameters · tokens/s /
  989 TFLOP/s (H100 dense bf16).
- ``lora_8b``: an 8B-shape Llama (32 layers × 4096, GQA 8, vocabulary 128256) in bf16 with
  LoRA (r 16 on the attention and MLP projections) and gradient checkpointing, ATWU steps:
  peak GPU memory and step time.
- ``embedded_pipeline``: ``prepare`` of the embedded benchmark, a default ATWU run on CUDA and its
  evaluation, in a fresh ``ATWU_HOME``: wall seconds of each.
- ``wide_embedded``: the same benchmark with wider models (8 layers × 512) memorised on the GPU
  (the full and the retain90 model), then unlearnt with ATWU and with uniform weights: FFE,
  template damage and AUROC of the final checkpoint.

``--budget`` (seconds, default 290) skips the stages that would start after it has passed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import gc
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

H100_BF16_FLOPS = 989e12


@dataclass(frozen=True)
class Shapes:
    """Every size the stages use: the H100 run's, or the CPU smoke test's tiny ones."""

    device: str
    vocab_1b: int = 32000
    layers_1b: int = 16
    width_1b: int = 2048
    batch: int = 16
    seq: int = 256
    warmup_steps: int = 3
    timed_steps: int = 10
    vocab_8b: int = 128256
    layers_8b: int = 32
    width_8b: int = 4096
    ffn_8b: int = 14336
    heads_8b: int = 32
    kv_heads_8b: int = 8
    lora_steps: int = 3
    authors: int = 200
    prepare_epochs: int | None = None
    prepare_workers: int = 3
    run_steps: int | None = None  # None: the default run length (12 passes over forget10)
    wide_layers: int = 8
    wide_width: int = 512
    wide_epochs: int = 30


GPU = Shapes(device="cuda")
SMOKE = Shapes(
    device="cpu",
    vocab_1b=256,
    layers_1b=2,
    width_1b=64,
    batch=2,
    seq=16,
    warmup_steps=1,
    timed_steps=2,
    vocab_8b=256,
    layers_8b=2,
    width_8b=64,
    ffn_8b=128,
    heads_8b=4,
    kv_heads_8b=2,
    lora_steps=1,
    authors=10,
    prepare_epochs=1,
    prepare_workers=1,
    run_steps=2,
    wide_layers=2,
    wide_width=64,
    wide_epochs=1,
)


class Recorder:
    """One JSON line per stage, appended and flushed as soon as the stage ends."""

    def __init__(self, out: Path):
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("")
        self.rows: list[dict] = []

    def write(self, row: dict) -> None:
        self.rows.append(row)
        with self.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def random_batches(vocab: int, batch: int, seq: int, n: int, device: torch.device, seed: int):
    """(forget, retain) pairs of ``batch`` sequences of ``seq`` random tokens, the second half of
    each an answer (what the losses average over)."""
    from atwu.data.batching import collate
    from atwu.data.chat import EncodedPair
    from atwu.methods.base import ForgetBatch

    gen = random.Random(seed)

    def one() -> tuple:
        pairs = [
            EncodedPair([gen.randrange(3, vocab) for _ in range(seq)], seq // 2, [])
            for _ in range(batch)
        ]
        base = collate(pairs, 0)
        return base

    out = []
    for _ in range(n):
        f, r = one(), one()
        forget = ForgetBatch(f.input_ids, f.attention_mask, f.labels)
        out.append((forget.to(device), r.to(device)))
    return out


def non_embedding_parameters(model) -> int:
    """Parameters outside the token embedding and the output head (the 6·N·D convention)."""
    skip = {id(model.get_input_embeddings().weight), id(model.get_output_embeddings().weight)}
    return sum(p.numel() for p in model.parameters() if id(p) not in skip)


def stage_step_time(shapes: Shapes) -> dict:
    from step_time import Runner, build_model

    device = torch.device(shapes.device)
    base = build_model(
        shapes.vocab_1b, shapes.layers_1b, shapes.width_1b, pad_id=0, eos_id=1, seed=0
    )
    n_params = sum(p.numel() for p in base.parameters())
    n_body = non_embedding_parameters(base)
    runners = {
        "graddiff": Runner("graddiff", copy.deepcopy(base), device, {}, 1e-5),
        "atwu": Runner("atwu", base, device, {"scorer_warmup_steps": "0"}, 1e-5),
    }
    n = shapes.warmup_steps + shapes.timed_steps
    batches = random_batches(shapes.vocab_1b, shapes.batch, shapes.seq, n, device, seed=0)
    for i, (forget, retain) in enumerate(batches):
        order = ("graddiff", "atwu") if i % 2 == 0 else ("atwu", "graddiff")
        for name in order:
            runners[name].step(forget, retain, record=i >= shapes.warmup_steps)
    tokens = 2 * shapes.batch * shapes.seq  # forget + retain tokens per step, every position
    row: dict = {
        "parameters": n_params,
        "non_embedding_parameters": n_body,
        "tokens_per_step": tokens,
    }
    for name, r in runners.items():
        median = statistics.median(r.times)
        per_s = tokens / median
        row[f"{name}_step_s"] = round(median, 5)
        row[f"{name}_tokens_per_s"] = round(per_s, 1)
        row[f"{name}_mfu"] = round(6 * n_body * per_s / H100_BF16_FLOPS, 4)
    row["atwu_over_graddiff"] = round(row["atwu_step_s"] / row["graddiff_step_s"], 4)
    del runners, base, batches
    return row


def stage_lora_8b(shapes: Shapes) -> dict:
    try:
        import peft  # noqa: F401
    except ImportError:
        return {"status": "skipped: peft not installed"}
    from step_time import Runner
    from transformers import LlamaConfig, LlamaForCausalLM

    from atwu.models import apply_lora, enable_gradient_checkpointing

    device = torch.device(shapes.device)
    config = LlamaConfig(
        vocab_size=shapes.vocab_8b,
        hidden_size=shapes.width_8b,
        intermediate_size=shapes.ffn_8b,
        num_hidden_layers=shapes.layers_8b,
        num_attention_heads=shapes.heads_8b,
        num_key_value_heads=shapes.kv_heads_8b,
        max_position_embeddings=max(shapes.seq, 128),
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=None,
    )
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with device:  # weights made in place, in bf16: no float32 copy of 8B parameters
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    n_params = sum(p.numel() for p in model.parameters())
    enable_gradient_checkpointing(model)
    targets = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
    model = apply_lora(model, {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": targets})
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    runner = Runner("atwu", model, device, {"scorer_warmup_steps": "0"}, 1e-4)
    batches = random_batches(
        shapes.vocab_8b, shapes.batch, shapes.seq, 1 + shapes.lora_steps, device, seed=1
    )
    for i, (forget, retain) in enumerate(batches):
        runner.step(forget, retain, record=i >= 1)
    row = {
        "parameters": n_params,
        "trainable": trainable,
        "atwu_step_s": round(statistics.median(runner.times), 4),
        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
        if device.type == "cuda"
        else None,
        "batch": f"{shapes.batch}+{shapes.batch}x{shapes.seq}",
    }
    if device.type == "cuda":
        row["fits_80gb"] = row["peak_gib"] < 80 * 1e9 / 2**30
    del runner, model, batches
    return row


@contextlib.contextmanager
def atwu_home(path: Path):
    before = os.environ.get("ATWU_HOME")
    os.environ["ATWU_HOME"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("ATWU_HOME", None)
        else:
            os.environ["ATWU_HOME"] = before


def unlearn(method: str, shapes: Shapes, out: Path) -> tuple[float, dict]:
    """One run with evaluation through the Trainer (as ``python -m atwu run``): its wall seconds
    and the final checkpoint's eval record."""
    from atwu.config import RunConfig, TrainSettings
    from atwu.train.execute import evaluator_for
    from atwu.train.loop import Trainer

    cfg = RunConfig(
        method=method, device=shapes.device, quick=True, train=TrainSettings(steps=shapes.run_steps)
    )
    start = time.perf_counter()
    Trainer(cfg, out, evaluator_factory=evaluator_for, progress=False).run()
    seconds = time.perf_counter() - start
    records = [json.loads(line) for line in (out / "eval.jsonl").read_text().splitlines()]
    return seconds, records[-1]


def stage_pipeline(shapes: Shapes, home: Path) -> dict:
    from atwu.paths import default_benchmark_dir
    from atwu.prepare.build import PrepareOptions, prepare_embedded

    with atwu_home(home):
        start = time.perf_counter()
        prepare_embedded(
            default_benchmark_dir(),
            PrepareOptions(
                authors=shapes.authors,
                epochs=shapes.prepare_epochs,
                workers=shapes.prepare_workers,
            ),
        )
        prepare_s = time.perf_counter() - start
        run_s, final = unlearn("atwu", shapes, home / "runs" / "atwu-default")
        evals = [
            json.loads(x)
            for x in (home / "runs" / "atwu-default" / "eval.jsonl").read_text().splitlines()
        ]
        eval_s = sum(float(r.get("seconds") or 0.0) for r in evals)
    return {
        "prepare_s": round(prepare_s, 2),
        "run_with_eval_s": round(run_s, 2),
        "evaluation_s": round(eval_s, 2),
        "checkpoints_evaluated": len(evals),
        "final_ffe": final.get("ffe"),
    }


def memorise_wide(bench: Path, name: str, splits: tuple[str, ...], shapes: Shapes) -> float:
    """Train ``models/<name>`` anew as a wider model on the device; returns its last epoch's loss."""
    from transformers import AutoTokenizer, get_cosine_schedule_with_warmup

    from atwu.data.batching import collate, shifted_targets, token_logprobs
    from atwu.data.chat import encode_pair
    from atwu.data.pairs_file import load_pairs
    from atwu.models import TinyModelSpec, build_tiny_model

    device = torch.device(shapes.device)
    tok = AutoTokenizer.from_pretrained(bench / "tokenizer")
    pairs = [p for s in splits for p in load_pairs(bench / "data" / f"{s}.jsonl")]
    encoded = [encode_pair(tok, p.question, p.answer) for p in pairs]
    spec = TinyModelSpec(
        hidden_size=shapes.wide_width,
        intermediate_size=3 * shapes.wide_width,
        num_hidden_layers=shapes.wide_layers,
        num_attention_heads=max(1, shapes.wide_width // 64),
    )
    model = build_tiny_model(
        len(tok), spec, pad_id=tok.pad_token_id, eos_id=tok.eos_token_id, seed=0
    )
    model.to(device).train()
    batch_size = 32
    per_epoch = math.ceil(len(encoded) / batch_size)
    total = per_epoch * shapes.wide_epochs
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = get_cosine_schedule_with_warmup(opt, max(1, total // 30), total)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else contextlib.nullcontext()
    )
    rng = random.Random(0)
    last = math.nan
    for _ in range(shapes.wide_epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        losses = []
        for lo in range(0, len(order), batch_size):
            batch = collate([encoded[i] for i in order[lo : lo + batch_size]], tok.pad_token_id).to(
                device
            )
            with autocast:
                logits = model(
                    input_ids=batch.input_ids, attention_mask=batch.attention_mask
                ).logits
            targets, mask = shifted_targets(batch)
            logp = token_logprobs(logits[:, :-1].float(), targets)
            loss = -(logp * mask).sum() / mask.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.detach())
        last = float(torch.stack(losses).mean())
    target = bench / "models" / name
    shutil.rmtree(target, ignore_errors=True)
    model.cpu().save_pretrained(target)
    tok.save_pretrained(target)
    return last


def stage_wide(shapes: Shapes, home: Path, wide_home: Path) -> dict:
    from atwu.paths import default_benchmark_dir

    with atwu_home(home):
        source = default_benchmark_dir()
    if not (source / "manifest.json").is_file():
        return {"status": "skipped: the embedded_pipeline stage prepared no benchmark"}
    with atwu_home(wide_home):
        bench = default_benchmark_dir()
        shutil.copytree(source, bench, ignore=shutil.ignore_patterns("models"))
        start = time.perf_counter()
        full_loss = memorise_wide(bench, "full", ("full", "general"), shapes)
        retain_loss = memorise_wide(bench, "retain90", ("retain90", "general"), shapes)
        shutil.copytree(source / "models" / "base", bench / "models" / "base")
        row: dict = {
            "shape": f"{shapes.wide_layers}x{shapes.wide_width}",
            "memorise_s": round(time.perf_counter() - start, 2),
            "full_final_loss": round(full_loss, 4),
            "retain90_final_loss": round(retain_loss, 4),
        }
        for method in ("atwu", "uniform"):
            seconds, final = unlearn(method, shapes, wide_home / "runs" / method)
            row[f"{method}_s"] = round(seconds, 2)
            for key in ("ffe", "template_damage", "auroc"):
                row[f"{method}_{key}"] = final.get(key)
    return row


def table(rows: list[dict]) -> str:
    lines = ["stage                | status  | figures", "-" * 100]
    for row in rows:
        status = str(row.get("status", "ok"))
        figures = ", ".join(
            f"{k}={v}" for k, v in row.items() if k not in ("stage", "status", "seconds")
        )
        lines.append(f"{row['stage']:<20} | {status[:7]:<7} | {figures} ({row.get('seconds')} s)")
        if not status.startswith("ok") and len(status) > 7:
            lines.append(f"{'':<20} | {status}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cpu-smoke", action="store_true", help="tiny shapes on the CPU (the test)"
    )
    parser.add_argument("--out", default="gpu_check.jsonl", help="JSON lines, one per stage")
    parser.add_argument("--budget", type=float, default=290.0, help="seconds; later stages skipped")
    parser.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--stages", default="step_time_1b,lora_8b,embedded_pipeline,wide_embedded")
    parser.add_argument("--authors", type=int, default=None, help="embedded authors (default 200)")
    parser.add_argument("--wide-epochs", type=int, default=None, help="memorising epochs (30)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    shapes = SMOKE if args.cpu_smoke else GPU
    if args.authors is not None:
        shapes = dataclasses.replace(shapes, authors=args.authors)
    if args.wide_epochs is not None:
        shapes = dataclasses.replace(shapes, wide_epochs=args.wide_epochs)
    if args.cpu_smoke:
        torch.set_num_threads(1)  # tiny shapes: threads only contend with each other
    if shapes.device == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA device; use --cpu-smoke for the CPU dry run", file=sys.stderr)
        return 2
    recorder = Recorder(Path(args.out))
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="gpu_check-"))
    home, wide_home = work / "home", work / "wide_home"
    stages: dict[str, Callable[[], dict]] = {
        "step_time_1b": lambda: stage_step_time(shapes),
        "lora_8b": lambda: stage_lora_8b(shapes),
        "embedded_pipeline": lambda: stage_pipeline(shapes, home),
        "wide_embedded": lambda: stage_wide(shapes, home, wide_home),
    }
    started = time.perf_counter()
    device_name = torch.cuda.get_device_name(0) if shapes.device == "cuda" else "cpu"
    recorder.write(
        {
            "stage": "environment",
            "status": "ok",
            "device": device_name,
            "torch": torch.__version__,
            "smoke": args.cpu_smoke,
            "seconds": 0.0,
        }
    )
    for name in args.stages.split(","):
        if name not in stages:
            print(f"error: unknown stage {name!r} (known: {', '.join(stages)})", file=sys.stderr)
            return 2
        stage_start = time.perf_counter()
        if stage_start - started > args.budget:
            row = {"status": f"skipped: the {args.budget:g} s budget was spent"}
        else:
            try:
                row = {"status": "ok", **stages[name]()}
            except Exception as exc:  # one stage's failure must not cost the others
                row = {"status": f"error: {type(exc).__name__}: {str(exc)[:300]}"}
                traceback.print_exc()
        free_memory()
        recorder.write(
            {"stage": name, **row, "seconds": round(time.perf_counter() - stage_start, 2)}
        )
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(recorder.rows[1:]))
    print(f"total {time.perf_counter() - started:.1f} s on {device_name}; lines in {recorder.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
