"""From a :class:`~atwu.config.RunConfig` to everything a run needs, checked before anything is
written: the benchmark, forget and retain splits, models, run length and checkpoint spacing.

Every problem is a :class:`~atwu.train.errors.RunError` with a message that says how to fix it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atwu.benchmark import Benchmark
from atwu.config import CHECKPOINTS_PER_RUN, EMBEDDED, RunConfig
from atwu.data.embedded import RETAIN_OF, VOCABULARIES
from atwu.errors import InputError
from atwu.methods.base import Method
from atwu.methods.registry import build_params, get_method
from atwu.model_source import check_config_models
from atwu.paths import benchmarks_dir, default_benchmark_dir
from atwu.train.errors import RunError

REAL_BENCHMARKS = ("tofu", "rwku")


def resolve_benchmark(
    name: str, options: dict | None = None, *, split: str | None = None
) -> Benchmark:
    """``embedded`` (or ``authors_tune``, the embedded generator's tuning data set, both prepared
    under ``$ATWU_HOME/benchmarks``), a prepared benchmark directory, or ``tofu`` / ``rwku``: the
    hub dataset (or
    ``options["data_dir"]``) converted on first use under ``$ATWU_HOME/benchmarks`` (see
    :mod:`atwu.data.tofu`, :mod:`atwu.data.rwku`); ``options`` are ``RunConfig.benchmark_options``.
    """
    options = {k: v for k, v in (options or {}).items() if v not in (None, "", False)}
    if name in REAL_BENCHMARKS:
        try:
            if name == "tofu":
                from atwu.data.tofu import TofuOptions, ensure_tofu

                return Benchmark.load(ensure_tofu(TofuOptions.from_dict(options, split)))
            from atwu.data.rwku import RwkuOptions, ensure_rwku

            return Benchmark.load(ensure_rwku(RwkuOptions.from_dict(options)))
        except ValueError as exc:
            raise RunError(str(exc)) from exc
    if options:
        raise RunError(f"{', '.join(sorted(options))}: only for --benchmark tofu or rwku")
    path = named_benchmark_dir(name) or Path(name).expanduser()
    if name in VOCABULARIES and not (path / "manifest.json").is_file():
        raise RunError(
            f"the {name} benchmark is not prepared yet at {path}; "
            f"run `{_prepare_command(name)}` first"
        )
    try:
        return Benchmark.load(path)
    except InputError as exc:
        raise RunError(str(exc)) from exc


@dataclass
class RunPlan:
    """A configuration resolved against its benchmark: what the loop needs, all checked."""

    config: RunConfig
    method_cls: type[Method]
    params: Any
    bench: Benchmark
    split: str
    retain_split: str
    model_path: str
    aux_path: str | None
    total_steps: int
    checkpoint_every: int
    #: every step after 0 at which the loop checkpoints (regular spacing, the early extras, the end)
    checkpoint_steps: frozenset[int]


def _check_model_sources(config: RunConfig) -> None:
    """Every model name of the configuration is a local folder or a shipped model, unless the
    user allowed the hub (atwu.model_source): checked before a run directory exists."""
    try:
        check_config_models(config)
    except InputError as exc:
        raise RunError(str(exc)) from None


def plan_run(config: RunConfig) -> RunPlan:
    """Resolve and check ``config``; raises :class:`RunError` (or a method's error) on bad input."""
    try:
        config.check()  # every number finite and in range, before anything else
    except InputError as exc:
        raise RunError(str(exc)) from None
    _check_model_sources(config)  # offline by default: before the benchmark is even loaded
    method_cls = get_method(config.method)
    params = build_params(method_cls, config.params)
    bench = resolve_benchmark(config.benchmark, config.benchmark_options, split=config.split)
    split = config.split or bench.default_forget_split
    if split not in bench.splits:
        raise RunError(
            f"split {split!r} is not in {bench.root} "
            f"(forget splits: {', '.join(bench.forget_splits)})"
        )
    if split not in bench.forget_splits:
        if bench.manifest.get("kind") in VOCABULARIES and split in RETAIN_OF:
            raise RunError(_missing_retain_message(bench, split, RETAIN_OF[split]))
        raise RunError(
            f"{split!r} is not a forget split of {bench.root} "
            f"(forget splits: {', '.join(bench.forget_splits)})"
        )
    try:
        retain_split = bench.retain_train_for(split)
    except InputError as exc:
        raise RunError(str(exc)) from None
    model_path = config.model or str(bench.target_model)
    if not config.model and not Path(model_path).is_dir():
        raise RunError(f"the benchmark's target model is missing at {model_path}")
    # a hub id is "name" or "namespace/name": anything else that is no local directory is a
    # missing path (e.g. runs/x/model), not something to look up on the hub
    if (
        config.model
        and not Path(config.model).expanduser().is_dir()
        and (config.model.startswith((".", "/", "~")) or config.model.count("/") > 1)
    ):
        raise RunError(f"model path {config.model} does not exist")
    aux_path = None
    if method_cls.needs_aux:
        aux_path = config.aux_model or (
            str(bench.model_path(bench.manifest["aux_model"]))
            if "aux_model" in bench.manifest
            else None
        )
        if aux_path is None:
            raise RunError(
                "method aux needs an auxiliary model: prepare the benchmark with a "
                "holdout set or pass --aux-model PATH"
            )
    if method_cls.needs_labels and any(p.spans is None for p in bench.pairs(split)):
        raise RunError(
            f"{method_cls.name} needs ground-truth spans, and some pairs of {split} have none"
        )
    try:
        total = config.train.total_steps(len(bench.pairs(split)))
    except ValueError as exc:
        raise RunError(str(exc)) from None
    every = checkpoint_spacing(config.train.checkpoint_every, total, config.train.checkpoints)
    return RunPlan(
        config,
        method_cls,
        params,
        bench,
        split,
        retain_split,
        model_path,
        aux_path,
        total,
        every,
        checkpoint_steps(total, every, config.train.early_checkpoints),
    )


def checkpoint_steps(total: int, every: int, early: int = 0) -> frozenset[int]:
    """The steps after 0 that checkpoint: every ``every`` steps, the last step, and ``early``
    more spread evenly over the first quarter of the run (METHOD.md §4.6: a run that crosses
    FFE 0.5 early is still read between close checkpoints)."""
    steps = set(range(every, total + 1, every)) | {total}
    quarter = max(1, total // 4)
    steps |= {max(1, round(quarter * i / early)) for i in range(1, early + 1)} if early else set()
    return frozenset(s for s in steps if 0 < s <= total)


def checkpoint_spacing(every: int | None, total: int, per_run: int = CHECKPOINTS_PER_RUN) -> int:
    """Steps between checkpoints: ``every``, or ``per_run`` checkpoints per run when None."""
    if every is None:
        if per_run < 1:
            raise RunError("checkpoints must be a positive integer")
        return max(1, math.ceil(total / per_run))
    if every < 1:
        raise RunError("--checkpoint-every must be a positive integer")
    return every


def named_benchmark_dir(name: str) -> Path | None:
    """Where a benchmark given by its name (``embedded``, ``authors_tune``) is prepared; None
    for any other name (a directory)."""
    if name == EMBEDDED:
        return default_benchmark_dir()
    return benchmarks_dir() / name if name in VOCABULARIES else None


def _prepare_command(kind: str) -> str:
    return "python -m atwu prepare" + ("" if kind == EMBEDDED else f" --benchmark {kind}")


def _missing_retain_message(bench: Benchmark, split: str, needed: str) -> str:
    """forget05/forget01 on an embedded benchmark prepared without their retain model."""
    splits = ",".join([needed, *sorted(set(bench.forget_splits.values()) - {needed})])
    kind = bench.manifest.get("kind", EMBEDDED)
    command = f"{_prepare_command(kind)} --retain-splits {splits}"
    options = bench.manifest.get("options", {})
    for flag, key, default in (("--authors", "authors", 200), ("--seed", "seed", 0)):
        if options.get(key, default) != default:
            command += f" {flag} {options[key]}"
    if bench.root.resolve() != (named_benchmark_dir(kind) or default_benchmark_dir()).resolve():
        command += f" --out {bench.root}"
    return (
        f"{split} needs the retain model {needed}, which was not prepared in "
        f"{bench.root}; rebuild the benchmark with it: `{command} --overwrite`"
    )
