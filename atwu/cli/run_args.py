"""The options every run-making command shares (``run``, ``sweep``), and the RunConfig they mean."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from atwu.cli.common import parse_sets
from atwu.config import RunConfig
from atwu.model_source import allow_hub
from atwu.paths import runs_dir, safe_name
from atwu.run_flags import SettingFlag, run_settings


def add_run_args(p: argparse.ArgumentParser, *, for_variants: bool = False) -> None:
    """The options of a run: one per setting of :func:`atwu.run_flags.run_settings` (made from
    the settings' metadata in :mod:`atwu.config`), plus the few that are no setting of a run
    (``--method``, ``--set``, ``--allow-hub``, ``--overwrite``). ``for_variants``: the command
    names variants (a method with its parameters each), so --method and --set are not offered."""
    if not for_variants:
        p.add_argument("--method", help="unlearning method (see `python -m atwu methods`)")
    groups: dict[str | None, Any] = {None: p}
    exclusive: dict[str, Any] = {}
    for s in run_settings():
        if s.group not in groups:
            groups[s.group] = p.add_argument_group(s.group)
        where = groups[s.group]
        if s.exclusive:
            if s.exclusive not in exclusive:
                exclusive[s.exclusive] = where.add_mutually_exclusive_group()
            where = exclusive[s.exclusive]
        _add_flag(where, s)
        if s.flag == "--model":
            p.add_argument(
                "--allow-hub",
                action="store_true",
                help="let --model, --aux-model and --retain-model be Hugging Face hub ids, "
                "downloaded when not cached (default: local folders and shipped models only)",
            )
        if s.path == ("device",) and not for_variants:
            p.add_argument(
                "--set",
                action="append",
                default=[],
                metavar="KEY=VALUE",
                help="method hyperparameter",
            )
    p.add_argument("--overwrite", action="store_true")


def _add_flag(where: Any, s: SettingFlag) -> None:
    """The argparse option(s) of one setting; every one defaults to None or False, so that
    :func:`config_from_args` can tell a flag given from one left out."""
    text = s.help or None
    if s.kind in ("on", "options"):
        where.add_argument(s.flag, action="store_true", help=text)
    elif s.kind == "off":
        where.add_argument(s.off_flag, action="store_true", help=text)
    elif s.kind == "on_off":
        where.add_argument(s.flag, dest=s.dest, action="store_true", default=None, help=text)
        where.add_argument(s.off_flag, dest=s.dest, action="store_false")
    else:
        kind = s.value_type
        where.add_argument(
            s.flag,
            type=kind if kind in (int, float) else None,
            default=None,
            choices=s.choices,
            metavar=s.metavar,
            help=text,
        )


def config_from_args(args, base=None):
    """The configuration the parsed options mean: ``base`` (a config.json being rerun, or a
    fresh one) with every given flag applied."""
    method = getattr(args, "method", None)
    cfg = base or RunConfig(method=method or "")
    if method:
        cfg.method = method
    if not cfg.method:
        raise ValueError("--method is required (see `python -m atwu methods`)")
    for s in run_settings():
        if s.path[0] not in ("benchmark_options", "lora"):  # those two: _real_benchmark_args
            _apply(cfg, s, getattr(args, s.dest, None))
    cfg.params = {**cfg.params, **parse_sets(getattr(args, "set", []))}
    if getattr(args, "allow_hub", False):
        allow_hub()  # a choice of the command line, never of a configuration file
    _real_benchmark_args(args, cfg)
    return cfg


def _apply(cfg: RunConfig, s: SettingFlag, value: Any) -> None:
    """Set one setting from its parsed flag; a flag not given leaves the configuration's value."""
    if s.kind == "on":
        given = value is True
    elif s.kind == "off":
        given, value = value is True, False
    else:
        given = value is not None and not (s.blank_is_unset and value == "")
    if not given:
        return
    owner: Any = cfg.train if s.path[0] == "train" else cfg
    setattr(owner, s.path[-1], value)
    if s.exclusive:  # --steps clears epochs and --epochs clears steps
        for other in run_settings():
            if other.exclusive == s.exclusive and other is not s:
                setattr(owner, other.path[-1], None)


_BENCHMARK_FLAGS = {
    s.path[1]: s.flag for s in run_settings() if s.path[0] == "benchmark_options" and s.flag
}


def _real_benchmark_args(args, cfg) -> None:
    """--data-dir, --spans, ... → cfg.benchmark_options; --lora and --lora-*."""
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
    lora_settings = [s for s in run_settings() if s.path[0] == "lora" and s.kind != "options"]
    lora = {s.path[1]: getattr(args, s.dest, None) for s in lora_settings}
    lora = {k: v for k, v in lora.items() if v is not None}
    if getattr(args, "lora", False) or lora:
        if not getattr(args, "lora", False) and cfg.lora is None:
            raise ValueError("--lora-r/--lora-alpha/--lora-dropout/--lora-targets need --lora")
        from atwu.models import LORA_DEFAULTS  # torch: not while the parser is built

        cfg.lora = {**LORA_DEFAULTS, **(cfg.lora or {}), **lora}


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
