"""Tuning harness for a method's defaults: one line of JSON per run with the alignment AUROC at
every checkpoint and, with ``--eval``, the final checkpoint's UQ, model utility and forget quality.

    .venv/bin/python scripts/tuning/tune_atwu.py --seeds 0 1 2 --eval
    .venv/bin/python scripts/tuning/tune_atwu.py --benchmark /tmp/co/bench --split forget \\
        --set normalise=mean1 --train steps=150 --train checkpoint_every=10

The tables of docs/TUNING.md were produced with it. Each run trains in this process with one
thread (the fastest setting for the tiny models); start two processes for two cores. Runs are
written under ``--out`` (default /tmp/atwu-tune) and replaced on the next call with the same tag.
The second generator's benchmark is built with ``--companies N`` (60 in the tests: 6 forget
companies, 60 forget pairs); ``--benchmark authors_tune`` (the embedded generator's tuning data
set, METHOD.md §1) is prepared on first use under $ATWU_HOME/benchmarks.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch

from atwu.cli.common import parse_sets
from atwu.config import RunConfig, TrainSettings
from atwu.evaluate.alignment_metrics import alignment_metrics
from atwu.evaluate.checkpoint import CheckpointEvaluator
from atwu.prepare.build import ensure_authors_tune, prepare_companies
from atwu.train.loop import Trainer

FINAL_KEYS = (
    "uq",
    "model_utility",
    "forget_quality",
    "forget_efficacy",
    "retain_preservation",
    "forget_prob",
    "retain_prob",
)


def build_companies(n: int, out: Path) -> Path:
    """The second generator's benchmark (atwu.data.companies), prepared once under ``out``."""
    bench = out / f"companies{n}"
    if not (bench / "manifest.json").is_file():
        prepare_companies(bench, n, seed=0)
    return bench


def train_settings(items: list[str]) -> TrainSettings:
    values: dict = {}
    for key, text in parse_sets(items).items():
        values[key] = None if text.lower() == "none" else text
        for kind in (int, float):  # steps=150, lr=2e-4; anything else (schedule=linear) as text
            try:
                values[key] = kind(text)
                break
            except ValueError:
                continue
    return TrainSettings(**values)


def run_one(args, seed: int) -> dict:
    params = parse_sets(args.set)
    out = Path(args.out) / f"{args.tag}-s{seed}"
    cfg = RunConfig(
        method=args.method,
        params=params,
        seed=seed,
        benchmark=args.benchmark,
        split=args.split,
        evaluate=args.eval,
        quick=True,
        save_model=False,
        train=train_settings(args.train),
    )
    factory = None
    if args.eval:

        def factory(trainer, tokenizer, device):
            return CheckpointEvaluator(
                trainer.bench,
                trainer.split,
                tokenizer,
                trainer.out,
                quick=True,
                device=device,
                starting_model_path=trainer.model_path,
            )

    start = time.time()
    Trainer(cfg, out, overwrite=True, evaluator_factory=factory).run()
    weights = pd.read_parquet(out / "weights.parquet")
    row = {
        "tag": args.tag,
        "method": args.method,
        "params": params,
        "train": args.train,
        "seed": seed,
        "steps": sorted(int(s) for s in weights.step.unique()),
        "auroc": [
            round(alignment_metrics(g.weight.to_numpy(), g.label.to_numpy()).auroc, 3)
            for _, g in weights.groupby("step")
        ],
    }
    if args.eval:
        final = json.loads((out / "eval.jsonl").read_text().strip().splitlines()[-1])
        row.update({k: final.get(k) for k in FINAL_KEYS})
    row["seconds"] = round(time.time() - start, 1)
    return row


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--method", default="atwu")
    p.add_argument(
        "--benchmark",
        default="embedded",
        help="'embedded', 'authors_tune' (prepared on first use) or a prepared benchmark directory",
    )
    p.add_argument(
        "--companies",
        type=int,
        default=None,
        help="build (once) and use the second generator's benchmark with N companies",
    )
    p.add_argument("--split", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="method parameter"
    )
    p.add_argument(
        "--train",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="TrainSettings field (steps=150, epochs=12, lr=2e-4, checkpoint_every=10 ...)",
    )
    p.add_argument("--eval", action="store_true", help="evaluate step 0 and the final checkpoint")
    p.add_argument("--tag", default="run")
    p.add_argument("--out", default="/tmp/atwu-tune")
    args = p.parse_args()
    if args.companies:
        args.benchmark = str(build_companies(args.companies, Path(args.out)))
        args.split = args.split or "forget"
    elif args.benchmark == "authors_tune":
        ensure_authors_tune()
    torch.set_num_threads(1)
    for seed in args.seeds:
        print(json.dumps(run_one(args, seed)), flush=True)


if __name__ == "__main__":
    main()
