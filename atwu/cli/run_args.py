"""The options every run-making command shares (``run``, ``sweep``), and the RunConfig they mean."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from pathlib import Path

from atwu.cli.common import parse_sets
from atwu.config import EMBEDDED, RunConfig
from atwu.model_source import allow_hub
from atwu.paths import runs_dir, safe_name


def add_run_args(p: argparse.ArgumentParser, *, for_variants: bool = False) -> None:
    """The options of a run. ``for_variants``: the command names variants (a method with its
    parameters each), so --method and --set are not offered."""
    if not for_variants:
        p.add_argument("--method", help="unlearning method (see `python -m atwu methods`)")
    p.add_argument(
        "--benchmark",
        default=None,
        help="'embedded' (default), a prepared benchmark "
        "directory, 'tofu' or 'rwku' (converted from the hub or --data-dir)",
    )
    p.add_argument(
        "--split", default=None, help="forget split (default: forget10; 'forget' on your own files)"
    )
    p.add_argument(
        "--model",
        default=None,
        help="starting model: local folder, a shipped model (smollm2-135m) or, with "
        "--allow-hub, a hub id (default: the benchmark's full model)",
    )
    p.add_argument(
        "--allow-hub",
        action="store_true",
        help="let --model, --aux-model and --retain-model be Hugging Face hub ids, downloaded "
        "when not cached (default: local folders and shipped models only)",
    )
    p.add_argument(
        "--aux-model",
        default=None,
        help="auxiliary model for method aux (default: the benchmark's base model)",
    )
    length = p.add_mutually_exclusive_group()
    length.add_argument(
        "--epochs", type=float, default=None, help="passes over the forget split (default: 12)"
    )
    length.add_argument(
        "--steps", type=int, default=None, help="optimiser steps instead of --epochs"
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        help="steps between checkpoints (default: --checkpoints per run)",
    )
    p.add_argument(
        "--checkpoints",
        type=int,
        default=None,
        help="checkpoints per run when --checkpoint-every is not given (default 6; frontiers 12)",
    )
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:1 ...")
    if not for_variants:
        p.add_argument(
            "--set", action="append", default=[], metavar="KEY=VALUE", help="method hyperparameter"
        )
    p.add_argument(
        "--quick", action="store_true", help="fully evaluate only step 0 and the final checkpoint"
    )
    p.add_argument(
        "--no-eval", action="store_true", help="skip evaluation (weights are still recorded)"
    )
    p.add_argument("--save-model", dest="save_model", action="store_true", default=None)
    p.add_argument("--no-save-model", dest="save_model", action="store_false")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--overwrite", action="store_true")
    g = p.add_argument_group("real benchmarks (--benchmark tofu | rwku; docs/REAL_BENCHMARKS.md)")
    g.add_argument(
        "--data-dir",
        default=None,
        help="local copy of the hub dataset's files "
        "(default: download locuslab/TOFU or jinzhuoran/RWKU)",
    )
    g.add_argument(
        "--spans",
        default=None,
        metavar="F.jsonl",
        help="ground-truth spans ({id, spans} per line) replacing the derived ones",
    )
    g.add_argument(
        "--retain-model",
        default=None,
        help="TOFU: retain model (path or hub id) for forget quality",
    )
    g.add_argument(
        "--retain-logs",
        default=None,
        metavar="TOFU_EVAL.json",
        help="TOFU: open-unlearning eval logs of the retain model, for forget quality",
    )
    g.add_argument("--targets", default=None, help="RWKU: target numbers, e.g. 1-10 (default 1)")
    g.add_argument(
        "--rwku-retain",
        choices=("neighbor", "none"),
        default=None,
        help="RWKU retain data: the neighbour probes (default) or none (alpha=0)",
    )
    g.add_argument(
        "--rwku-corpus",
        choices=("llama3", "phi3"),
        default=None,
        help="RWKU forget corpus: train_positive_llama3 (default) or _phi3",
    )
    g = p.add_argument_group("model")
    g.add_argument(
        "--dtype",
        choices=("float32", "bfloat16", "float16"),
        default=None,
        help="weights' dtype (default float32)",
    )
    g.add_argument(
        "--lora",
        action="store_true",
        help="train LoRA adapters only (peft); the run saves the adapter",
    )
    g.add_argument("--lora-r", type=int, default=None, help="LoRA rank (default 8)")
    g.add_argument("--lora-alpha", type=int, default=None, help="LoRA alpha (default 16)")
    g.add_argument("--lora-dropout", type=float, default=None, help="LoRA dropout (default 0)")
    g.add_argument(
        "--lora-targets",
        default=None,
        help="modules to adapt: all-linear (default) or a comma-separated list like q_proj,v_proj",
    )
    g.add_argument(
        "--gradient-checkpointing",
        action="store_true",
        help="recompute activations in the backward pass (less memory)",
    )


def config_from_args(args, base=None):
    method = getattr(args, "method", None)
    cfg = base or RunConfig(method=method or "")
    if method:
        cfg.method = method
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
    if getattr(args, "checkpoints", None) is not None:
        cfg.train.checkpoints = args.checkpoints
    if args.lr is not None:
        cfg.train.lr = args.lr
    cfg.params = {**cfg.params, **parse_sets(getattr(args, "set", []))}
    if args.quick:
        cfg.quick = True
    if args.no_eval:
        cfg.evaluate = False
    if args.save_model is not None:
        cfg.save_model = args.save_model
    if args.trust_remote_code:
        cfg.trust_remote_code = True
    if getattr(args, "allow_hub", False):
        allow_hub()  # a choice of the command line, never of a configuration file
    _real_benchmark_args(args, cfg)
    return cfg


_BENCHMARK_FLAGS = {
    "data_dir": "--data-dir",
    "spans": "--spans",
    "retain_model": "--retain-model",
    "retain_logs": "--retain-logs",
    "targets": "--targets",
    "rwku_retain": "--rwku-retain",
    "rwku_corpus": "--rwku-corpus",
}


def _real_benchmark_args(args, cfg) -> None:
    """--data-dir, --spans, ... → cfg.benchmark_options; --dtype, --lora*, --gradient-checkpointing."""
    given = {k: v for k in _BENCHMARK_FLAGS if (v := getattr(args, k, None)) is not None}
    for key in ("data_dir", "spans", "retain_logs", "retain_model"):
        if key in given and Path(given[key]).expanduser().exists():  # a rerun from elsewhere works
            given[key] = str(Path(given[key]).expanduser().resolve())
    if given:
        if cfg.benchmark not in ("tofu", "rwku"):
            flags = ", ".join(_BENCHMARK_FLAGS[k] for k in given)
            raise ValueError(f"{flags}: only with --benchmark tofu or --benchmark rwku")
        cfg.benchmark_options = {**cfg.benchmark_options, **given}
    if cfg.benchmark in ("tofu", "rwku"):
        wrong = {
            "tofu": ("targets", "rwku_retain", "rwku_corpus"),
            "rwku": ("retain_model", "retain_logs"),
        }[cfg.benchmark]
        bad = [_BENCHMARK_FLAGS[k] for k in wrong if cfg.benchmark_options.get(k)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: not an option of --benchmark {cfg.benchmark}")
        if not cfg.model:
            example = {
                "tofu": "open-unlearning/tofu_Llama-3.2-1B-Instruct_full",
                "rwku": "microsoft/Phi-3-mini-4k-instruct",
            }[cfg.benchmark]
            raise ValueError(
                f"--benchmark {cfg.benchmark} has no model of its own; give the "
                f"starting model with --model (e.g. {example})"
            )
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
        from atwu.models import LORA_DEFAULTS  # torch: not while the parser is built

        cfg.lora = {**LORA_DEFAULTS, **(cfg.lora or {}), **lora}
    if getattr(args, "gradient_checkpointing", False):
        cfg.gradient_checkpointing = True


def _no_retain(cfg) -> None:
    """--rwku-retain none: the method's retain weight alpha is 0 (methods without one use none)."""
    from atwu.methods.registry import get_method  # torch: not while the parser is built

    fields = {f.name for f in dataclasses.fields(get_method(cfg.method).Params)}
    if "alpha" in fields and "alpha" not in cfg.params:
        cfg.params = {**cfg.params, "alpha": "0"}
        print("note: --rwku-retain none: alpha=0 (no retain term)", file=sys.stderr)


def default_out(cfg) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = cfg.name or f"{cfg.method}-{cfg.split or 'default'}-s{cfg.seed}-{stamp}"
    return runs_dir() / safe_name(name)
