"""``python -m atwu``: prepare benchmarks, run and evaluate unlearning, compare, score text.

    python -m atwu prepare                      # embedded benchmark + tiny models (~3 min, CPU)
    python -m atwu methods                      # every method with its parameters
    python -m atwu run --method atwu            # one run on embedded forget10
    python -m atwu sweep --method atwu --grid scorer_lr=0.05,0.2 --seeds 3
    python -m atwu eval RUN                     # (re-)evaluate a run
    python -m atwu compare RUN... --csv out.csv --latex out.tex
    python -m atwu score RUN --text "..."       # the run's learned scorer on any text
    python -m atwu list                         # runs and their states
    python -m atwu demo --out assets/demo       # the demo runs the app ships

Bad input ends with one clear line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

EXIT_BAD_INPUT = 2


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


# ---------------------------------------------------------------------------------------------
def cmd_prepare(args) -> int:
    from atwu.paths import benchmarks_dir, default_benchmark_dir
    from atwu.prepare import PrepareOptions, prepare_custom, prepare_embedded

    retain = tuple(s.strip() for s in args.retain_splits.split(",") if s.strip())
    options = PrepareOptions(authors=args.authors, retain_splits=retain, seed=args.seed,
                             epochs=args.epochs, workers=args.workers)
    progress_file = Path(args.progress_file) if args.progress_file else None

    def progress(message: str, fraction: float) -> None:
        print(f"[prepare] {message}", file=sys.stderr, flush=True)
        if progress_file:
            from atwu.io import atomic_write_json
            atomic_write_json(progress_file, {"message": message, "fraction": fraction})

    if args.forget or args.retain:
        if not (args.forget and args.retain):
            return _fail("your own data needs both --forget F.jsonl and --retain R.jsonl")
        out = Path(args.out) if args.out else benchmarks_dir() / Path(args.forget).stem
        quality = prepare_custom(out, Path(args.forget), Path(args.retain),
                                 Path(args.holdout) if args.holdout else None, options,
                                 overwrite=args.overwrite, progress=progress)
    else:
        out = Path(args.out) if args.out else default_benchmark_dir()
        quality = prepare_embedded(out, options, overwrite=args.overwrite, progress=progress)
    print(f"prepared {out} in {quality['prepare_seconds']:.0f} s")
    for name, entry in quality["models"].items():
        em = ", ".join(f"{k} {v:.3f}" for k, v in entry["exact_match"].items())
        print(f"  {name}: exact match {em}")
    return 0


def cmd_methods(args) -> int:
    from atwu.methods.registry import all_methods, describe

    for name, cls in sorted(all_methods().items()):
        print(f"{name}: {cls.summary}")
        for row in describe(cls):
            print(f"    {row['name']} = {row['default']!r}  ({row['type']}) {row['help']}")
    return 0


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", help="unlearning method (see `python -m atwu methods`)")
    p.add_argument("--benchmark", default=None, help="'embedded' (default), a prepared benchmark "
                   "directory, 'tofu' or 'rwku' (converted from the hub or --data-dir)")
    p.add_argument("--split", default=None, help="forget split (default: forget10; 'forget' on your own files)")
    p.add_argument("--model", default=None, help="starting model: local path or hub id (default: the benchmark's full model)")
    p.add_argument("--aux-model", default=None, help="auxiliary model for method aux (default: the benchmark's base model)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=float, default=None,
                        help="passes over the forget split (default: 12)")
    length.add_argument("--steps", type=int, default=None, help="optimiser steps instead of --epochs")
    p.add_argument("--checkpoint-every", type=int, default=None,
                   help="steps between checkpoints (default: 6 checkpoints per run)")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:1 ...")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="method hyperparameter")
    p.add_argument("--quick", action="store_true", help="fully evaluate only step 0 and the final checkpoint")
    p.add_argument("--no-eval", action="store_true", help="skip evaluation (weights are still recorded)")
    p.add_argument("--save-model", dest="save_model", action="store_true", default=None)
    p.add_argument("--no-save-model", dest="save_model", action="store_false")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--overwrite", action="store_true")
    g = p.add_argument_group("real benchmarks (--benchmark tofu | rwku; docs/REAL_BENCHMARKS.md)")
    g.add_argument("--data-dir", default=None, help="local copy of the hub dataset's files "
                   "(default: download locuslab/TOFU or jinzhuoran/RWKU)")
    g.add_argument("--spans", default=None, metavar="F.jsonl",
                   help="ground-truth spans ({id, spans} per line) replacing the derived ones")
    g.add_argument("--retain-model", default=None, help="TOFU: retain model (path or hub id) "
                   "for forget quality")
    g.add_argument("--retain-logs", default=None, metavar="TOFU_EVAL.json",
                   help="TOFU: open-unlearning eval logs of the retain model, for forget quality")
    g.add_argument("--targets", default=None, help="RWKU: target numbers, e.g. 1-10 (default 1)")
    g.add_argument("--rwku-retain", choices=("neighbor", "none"), default=None,
                   help="RWKU retain data: the neighbour probes (default) or none (alpha=0)")
    g.add_argument("--rwku-corpus", choices=("llama3", "phi3"), default=None,
                   help="RWKU forget corpus: train_positive_llama3 (default) or _phi3")
    g = p.add_argument_group("model")
    g.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default=None,
                   help="weights' dtype (default float32)")
    g.add_argument("--lora", action="store_true", help="train LoRA adapters only (peft); the run "
                   "saves the adapter")
    g.add_argument("--lora-r", type=int, default=None, help="LoRA rank (default 8)")
    g.add_argument("--lora-alpha", type=int, default=None, help="LoRA alpha (default 16)")
    g.add_argument("--lora-dropout", type=float, default=None, help="LoRA dropout (default 0)")
    g.add_argument("--lora-targets", default=None, help="modules to adapt: all-linear (default) "
                   "or a comma-separated list like q_proj,v_proj")
    g.add_argument("--gradient-checkpointing", action="store_true",
                   help="recompute activations in the backward pass (less memory)")


def _config_from_args(args, base=None):
    from atwu.config import EMBEDDED, RunConfig

    cfg = base or RunConfig(method=args.method or "")
    if args.method:
        cfg.method = args.method
    if not cfg.method:
        raise ValueError("--method is required (see `python -m atwu methods`)")
    if args.benchmark:
        cfg.benchmark = args.benchmark
    elif base is None:
        cfg.benchmark = EMBEDDED
    for attr in ("split", "model", "aux_model", "seed", "device"):
        value = getattr(args, attr, None)
        if value is not None:
            setattr(cfg, attr, value)
    if args.steps is not None:
        cfg.train.steps, cfg.train.epochs = args.steps, None
    if args.epochs is not None:
        cfg.train.steps, cfg.train.epochs = None, args.epochs
    if args.checkpoint_every is not None:
        cfg.train.checkpoint_every = args.checkpoint_every
    if args.lr is not None:
        cfg.train.lr = args.lr
    cfg.params = {**cfg.params, **_parse_sets(args.set)}
    if args.quick:
        cfg.quick = True
    if args.no_eval:
        cfg.evaluate = False
    if args.save_model is not None:
        cfg.save_model = args.save_model
    if args.trust_remote_code:
        cfg.trust_remote_code = True
    _real_benchmark_args(args, cfg)
    return cfg


_BENCHMARK_FLAGS = {"data_dir": "--data-dir", "spans": "--spans", "retain_model": "--retain-model",
                    "retain_logs": "--retain-logs", "targets": "--targets",
                    "rwku_retain": "--rwku-retain", "rwku_corpus": "--rwku-corpus"}


def _real_benchmark_args(args, cfg) -> None:
    """--data-dir, --spans, ... → cfg.benchmark_options; --dtype, --lora*, --gradient-checkpointing."""
    given = {k: getattr(args, k, None) for k in _BENCHMARK_FLAGS}
    given = {k: v for k, v in given.items() if v is not None}
    for key in ("data_dir", "spans", "retain_logs", "retain_model"):
        if key in given and Path(given[key]).expanduser().exists():  # a rerun from elsewhere works
            given[key] = str(Path(given[key]).expanduser().resolve())
    if given:
        if cfg.benchmark not in ("tofu", "rwku"):
            flags = ", ".join(_BENCHMARK_FLAGS[k] for k in given)
            raise ValueError(f"{flags}: only with --benchmark tofu or --benchmark rwku")
        cfg.benchmark_options = {**cfg.benchmark_options, **given}
    if cfg.benchmark in ("tofu", "rwku"):
        wrong = {"tofu": ("targets", "rwku_retain", "rwku_corpus"),
                 "rwku": ("retain_model", "retain_logs")}[cfg.benchmark]
        bad = [_BENCHMARK_FLAGS[k] for k in wrong if cfg.benchmark_options.get(k)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: not an option of --benchmark {cfg.benchmark}")
        if not cfg.model:
            example = {"tofu": "open-unlearning/tofu_Llama-3.2-1B-Instruct_full",
                       "rwku": "microsoft/Phi-3-mini-4k-instruct"}[cfg.benchmark]
            raise ValueError(f"--benchmark {cfg.benchmark} has no model of its own; give the "
                             f"starting model with --model (e.g. {example})")
        if cfg.benchmark == "rwku" and cfg.benchmark_options.get("rwku_retain") == "none":
            _no_retain(cfg)
    if getattr(args, "dtype", None):
        cfg.dtype = args.dtype
    lora = {k: getattr(args, f"lora_{k}", None) for k in ("r", "alpha", "dropout")}
    lora["target_modules"] = getattr(args, "lora_targets", None)
    lora = {k: v for k, v in lora.items() if v is not None}
    if getattr(args, "lora", False) or lora:
        if not getattr(args, "lora", False) and cfg.lora is None:
            raise ValueError("--lora-r/--lora-alpha/--lora-dropout/--lora-targets need --lora")
        from atwu.models import LORA_DEFAULTS
        cfg.lora = {**LORA_DEFAULTS, **(cfg.lora or {}), **lora}
    if getattr(args, "gradient_checkpointing", False):
        cfg.gradient_checkpointing = True


def _no_retain(cfg) -> None:
    """--rwku-retain none: the method's retain weight alpha is 0 (methods without one use none)."""
    import dataclasses

    from atwu.methods.registry import get_method
    fields = {f.name for f in dataclasses.fields(get_method(cfg.method).Params)}
    if "alpha" in fields and "alpha" not in cfg.params:
        cfg.params = {**cfg.params, "alpha": "0"}
        print("note: --rwku-retain none: alpha=0 (no retain term)", file=sys.stderr)


def _default_out(cfg) -> Path:
    import datetime as dt

    from atwu.paths import runs_dir, safe_name
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = cfg.name or f"{cfg.method}-{cfg.split or 'default'}-s{cfg.seed}-{stamp}"
    return runs_dir() / safe_name(name)


def execute_run(cfg, out: Path, *, resume: bool = False, overwrite: bool = False,
                progress: bool | None = None) -> int:
    from atwu.train import Cancelled, Diverged, Trainer

    def evaluator(trainer, tokenizer, device):
        # imported only when a run evaluates: --no-eval runs never need the evaluation code
        from atwu.evaluate.checkpoint import CheckpointEvaluator
        return CheckpointEvaluator(trainer.bench, trainer.split, tokenizer, trainer.out,
                                   quick=trainer.config.quick, device=device,
                                   starting_model_path=trainer.model_path)

    trainer = Trainer(cfg, out, resume=resume, overwrite=overwrite, evaluator_factory=evaluator,
                      progress=progress)
    try:
        result = trainer.run()
    except Cancelled:
        print(f"cancelled: {out}", file=sys.stderr)
        return 130
    except Diverged as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    print(f"{result['message']}: {out}")
    return 0


def cmd_run(args) -> int:
    from atwu.config import RunConfig
    from atwu.io import read_json

    base = None
    if args.config:
        base = RunConfig.from_json(read_json(args.config))
    elif args.resume and args.out and (Path(args.out) / "config.json").is_file():
        base = RunConfig.from_json(read_json(Path(args.out) / "config.json"))
    cfg = _config_from_args(args, base)
    out = Path(args.out) if args.out else _default_out(cfg)
    return execute_run(cfg, out, resume=args.resume, overwrite=args.overwrite)


def cmd_sweep(args) -> int:
    import itertools
    import uuid

    grids = []
    for g in args.grid:
        if "=" not in g:
            return _fail(f"--grid expects key=v1,v2,..., got {g!r}")
        key, values = g.split("=", 1)
        grids.append([(key.strip(), v.strip()) for v in values.split(",") if v.strip()])
    sweep_id = args.sweep_id or uuid.uuid4().hex[:8]
    code = 0
    base_seed = args.seed or 0
    for combo in itertools.product(*grids) if grids else [()]:
        for k in range(args.seeds):
            cfg = _config_from_args(args)
            cfg.seed = base_seed + k
            cfg.params = {**cfg.params, **dict(combo)}
            cfg.sweep_id = sweep_id
            cfg.tags = {"grid": dict(combo)}
            from atwu.paths import runs_dir, safe_name
            label = "-".join(f"{key}{v}" for key, v in combo) or "default"
            root = Path(args.out) if args.out else runs_dir()
            out = root / safe_name(f"sweep-{sweep_id}-{cfg.method}-{label}-s{cfg.seed}")
            print(f"[sweep {sweep_id}] {out.name}", file=sys.stderr)
            code = max(code, execute_run(cfg, out, overwrite=args.overwrite))
    return code


def cmd_eval(args) -> int:
    import torch

    from atwu.evaluate.checkpoint import evaluate_run
    from atwu.io import read_json
    from atwu.train import TINY_MODEL_PARAMS
    try:
        params = read_json(Path(args.run) / "config.json").get("resolved", {}).get("parameters", 0)
    except (OSError, ValueError):
        params = 0
    if params and params < TINY_MODEL_PARAMS:
        torch.set_num_threads(1)  # as `run` does: one thread is faster on the tiny models
    evaluate_run(Path(args.run))
    print(f"evaluated {args.run}")
    return 0


def cmd_compare(args) -> int:
    import pandas as pd

    from atwu.evaluate.checkpoint import compare_runs, to_latex_table
    table = compare_runs([Path(r) for r in args.runs])
    with pd.option_context("display.max_columns", 50, "display.width", 200):
        cols = [c for c in table.columns if c in ("method", "config", "n") or c.endswith("_mean")]
        print(table[cols].to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.latex:
        Path(args.latex).write_text(to_latex_table(table), encoding="utf-8")
    return 0


def cmd_score(args) -> int:
    from atwu.scoring import ScoringError, score_text
    try:
        rows = score_text(Path(args.run), args.text)
    except ScoringError as exc:
        return _fail(str(exc))
    for token, score in rows:
        print(f"{token!r}\t{score:.4f}")
    return 0


def cmd_export(args) -> int:
    from atwu.compat import export_run
    eval_path, summary_path = export_run(Path(args.run), args.out, step=args.step)
    print(f"wrote {eval_path} and {summary_path}")
    return 0


def cmd_list(args) -> int:
    from atwu.paths import runs_dir
    from atwu.runs import list_runs
    root = Path(args.runs_dir) if args.runs_dir else runs_dir()
    runs = list_runs(root)
    if not runs:
        print(f"no runs in {root}")
    for r in runs:
        step = f"{r.status.get('step', '?')}/{r.status.get('total_steps', '?')}"
        problems = f"  [{'; '.join(r.problems)}]" if r.problems else ""
        print(f"{r.name}\t{r.method}\t{r.state}\t{step}\t{r.status.get('message', '')}{problems}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m atwu", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare", help="build a benchmark directory with its tiny models")
    p.add_argument("--authors", type=int, default=200)
    p.add_argument("--retain-splits", default="retain90")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: automatic)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=None)
    p.add_argument("--forget", default=None, help="your own forget pairs (JSON Lines)")
    p.add_argument("--retain", default=None, help="your own retain pairs (JSON Lines)")
    p.add_argument("--holdout", default=None, help="optional holdout pairs for the auxiliary base model")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--progress-file", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("methods", help="list the methods and their parameters")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("run", help="run one unlearning method")
    _add_run_args(p)
    p.add_argument("--config", default=None, help="rerun a run's config.json")
    p.add_argument("--out", default=None)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="run a grid of settings as separate runs with one sweep id")
    _add_run_args(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--sweep-id", default=None)
    p.add_argument("--out", default=None, help="directory to hold the sweep's runs")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("eval", help="(re-)evaluate a run")
    p.add_argument("run")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("compare", help="methods × metrics table over runs")
    p.add_argument("runs", nargs="+")
    p.add_argument("--csv", default=None)
    p.add_argument("--latex", default=None)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("score", help="apply a run's learned scorer to any text")
    p.add_argument("run")
    p.add_argument("--text", required=True)
    p.add_argument("--question", default=None, help="question to condition on (default: none)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("export", help="a run's results as open-unlearning TOFU_EVAL.json / "
                       "TOFU_SUMMARY.json")
    p.add_argument("run")
    p.add_argument("--out", default=None, help="directory (default RUN/open_unlearning)")
    p.add_argument("--step", type=int, default=None, help="checkpoint (default: the last evaluated)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("list", help="runs and their states")
    p.add_argument("runs_dir", nargs="?")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("demo", help="build the small demo runs the app ships (assets/demo)")
    p.add_argument("--out", default="assets/demo")
    p.add_argument("--authors", type=int, default=40)
    p.add_argument("--work", default=None, help="keep the benchmark and full runs here (resumable)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("reproduce", help="the report that checks the abstract's claims")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_reproduce)
    return parser


def cmd_demo(args) -> int:
    from atwu.demo import build_demo
    build_demo(Path(args.out), authors=args.authors, work=args.work)
    return 0


def cmd_reproduce(args) -> int:
    from atwu.reproduce import reproduce
    reproduce(Path(args.out), quick=args.quick, seeds=args.seeds)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from atwu.benchmark import BenchmarkError
    from atwu.data.format import DataFormatError
    try:
        return args.func(args)
    except (DataFormatError, BenchmarkError, FileNotFoundError, FileExistsError) as exc:
        return _fail(str(exc))
    except ValueError as exc:
        # RunError, MethodError and other input errors are ValueErrors with a clear message.
        from atwu.methods.registry import MethodError
        from atwu.train import RunError
        if isinstance(exc, (RunError, MethodError)) or type(exc) is ValueError:
            return _fail(str(exc))
        raise
    except KeyboardInterrupt:
        return 130
