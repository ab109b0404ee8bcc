"""The Run page's launch form, read back: the runs it means (one per method, setting and seed),
the processes that carry them out, what is wrong with it, what is still to choose, and the launch.

A method with one run is one ``python -m atwu run``; a method with several (seeds, or a
hyperparameter typed as a comma-separated list, which becomes a grid) is one ``python -m atwu
sweep``, which hands its runs to the project's run executor (Ray when installed) and records
their states in ``sweep.json``. The page draws the widgets and hands their values here as plain
data; nothing here draws.

    plan = plan_runs(bench, model, ["atwu", "wga"], values, training, stamp="20260101-120000")
    if plan.ready:
        result = launch_plan(plan, runs_dir)
"""

from __future__ import annotations

import itertools
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from atwu.app import jobs
from atwu.app.cli_text import ATWU
from atwu.app.run_form import param_overrides
from atwu.config import EMBEDDED, RunConfig, TrainSettings
from atwu.methods.base import MethodError
from atwu.paths import safe_name
from atwu.run_flags import flag_of, run_argv

ModelKind = Literal["target", "hub", "path"]
MODEL_KINDS: dict[str, str] = {
    "target": "the benchmark's target model (full)",
    "hub": "a Hugging Face hub id",
    "path": "a local path",
}
"""The starting model's kinds, with their labels on the page."""

PREVIEW_COMMANDS = 4
"""Commands shown in the preview (the rest are counted)."""


@dataclass(frozen=True)
class BenchmarkChoice:
    """The benchmark part of the form: a prepared directory (``path``, with its
    :func:`~atwu.app.benchmarks.benchmark_summary` when it is prepared and the forget ``split``
    picked), or a hub benchmark converted by the CLI (``hub``: tofu / rwku)."""

    default_dir: Path
    path: Path | None = None
    summary: dict[str, Any] | None = None
    split: str | None = None
    hub: str | None = None
    hub_split: str | None = None
    hub_extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelChoice:
    kind: ModelKind = "target"
    arg: str | None = None
    """The hub id or local path (None for the benchmark's target model)."""


@dataclass(frozen=True)
class TrainingForm:
    """The training settings as typed: 0 steps means "use epochs", 0 checkpoint_every "the
    default rule"; ``lr_text`` is parsed here."""

    epochs: float
    default_epochs: float
    steps: int = 0
    lr_text: str = ""
    checkpoint_every: int = 0
    seed: int = 0
    n_seeds: int = 1
    device: str = "auto"
    quick: bool = False
    evaluate: bool = True
    prefix: str = ""


@dataclass
class LaunchPlan:
    """``commands``: one per run (run name, ``run`` arguments without ``--out``); ``launches``:
    the processes that carry them out (one ``run``, or one ``sweep`` per method with several
    runs: name, arguments without ``--out``, how many runs); ``errors``: values that would not
    run; ``missing``: choices still to make."""

    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    launches: list[tuple[str, list[str], int]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.commands) and not self.errors and not self.missing


def hub_extra(hub: str, data_dir: str, targets: str) -> tuple[str, ...]:
    """The hub benchmark's own options: a local copy of its files, RWKU's target numbers."""
    extra: list[str] = []
    if data_dir.strip():
        extra += [flag_of(("benchmark_options", "data_dir")), data_dir.strip()]
    if hub == "rwku" and targets.strip():
        extra += [flag_of(("benchmark_options", "targets")), targets.strip()]
    return tuple(extra)


def _parse_lr(text: str) -> float | None:
    try:
        lr = float(text)
    except ValueError:
        return None
    return lr if lr > 0 else None


def _choice_problems(bench: BenchmarkChoice, model: ModelChoice, methods: list[str]) -> LaunchPlan:
    plan = LaunchPlan()
    if not methods:
        plan.missing.append("choose at least one method")
    if bench.summary is None and bench.hub is None:
        plan.missing.append("choose a prepared benchmark")
    if bench.hub is not None and model.kind == "target":
        plan.errors.append(
            f"{bench.hub.upper()} has no model of its own: choose a hub id or a local path "
            "under Model"
        )
    if model.kind != "target" and not model.arg:
        plan.missing.append("type the model's hub id or path, or use the benchmark's target model")
    if model.kind == "path" and model.arg and not Path(model.arg).expanduser().is_dir():
        plan.errors.append(f"model path {model.arg} does not exist")
    return plan


def _benchmark_args(bench: BenchmarkChoice) -> tuple[str | None, str | None]:
    """(--benchmark, --split), each None where the default applies (shorter commands)."""
    if bench.hub is not None:
        return bench.hub, bench.hub_split
    path = None if bench.path in (None, bench.default_dir) else str(bench.path)
    default_split = bench.summary["default_split"] if bench.summary else None
    split = bench.split if bench.summary and bench.split != default_split else None
    return path, split


def split_grid(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form's values with each comma-separated text (``"0.05, 0.2"``) taken out as a grid
    of its values: (single values, grid)."""
    single, grid = {}, {}
    for key, value in values.items():
        items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else []
        if len(items) > 1:
            grid[key] = list(dict.fromkeys(items))
        else:
            single[key] = value
    return single, grid


def _method_settings(method: str, values: dict[str, Any]) -> tuple[dict[str, str], dict]:
    """(``--set`` overrides, grid of parsed values) of one method; raises for a bad value."""
    single, grid = split_grid(values)
    overrides = param_overrides(method, single)
    parsed: dict[str, list[str]] = {}
    for key, items in grid.items():
        parsed[key] = [param_overrides(method, {**single, key: v}).get(key, v) for v in items]
    return overrides, parsed


def _settings(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def plan_runs(
    bench: BenchmarkChoice,
    model: ModelChoice,
    methods: list[str],
    values: dict[str, dict[str, Any]],
    training: TrainingForm,
    *,
    stamp: str,
) -> LaunchPlan:
    """One command per chosen method, grid setting and seed, named
    ``<prefix><method>[-<setting>]-s<seed>-<stamp>``, and the launches that carry them out;
    ``values`` are each method's hyperparameters as the form holds them."""
    lr = _parse_lr(training.lr_text)
    plan = LaunchPlan()
    if lr is None:
        plan.errors.append(f"lr must be a positive number, got {training.lr_text!r}")
    checks = _choice_problems(bench, model, methods)
    plan.errors += checks.errors
    plan.missing += checks.missing
    bench_arg, split_arg = _benchmark_args(bench)
    steps = int(training.steps) or None  # steps > 0 replaces epochs
    # epochs are passed only when changed (shorter commands)
    epochs = None if steps or training.epochs == training.default_epochs else training.epochs

    def run_args(method: str, seed: int, params: dict[str, str]) -> list[str]:
        cfg = RunConfig(
            method=method,
            params=params,
            benchmark=bench_arg or EMBEDDED,
            split=split_arg,
            model=model.arg,
            seed=seed,
            device=training.device or "auto",
            quick=training.quick,
            evaluate=training.evaluate,
        )
        cfg.train.steps = steps
        if steps:
            cfg.train.epochs = None
        elif epochs is not None:
            cfg.train.epochs = epochs
        if lr is not None:
            cfg.train.lr = lr
        cfg.train.checkpoint_every = int(training.checkpoint_every) or None
        return run_argv(
            cfg,
            # the form's own seed and lr are written even at their defaults
            keep_defaults=("seed", "lr") if lr is not None else ("seed",),
            # the form's "hub id" choice is the user's explicit opt-in to the hub
            extra=[*(["--allow-hub"] if model.kind == "hub" else []), *bench.hub_extra],
        )

    seeds = [int(training.seed) + k for k in range(int(training.n_seeds))]
    for method in methods:
        try:
            overrides, grid = _method_settings(method, values.get(method, {}))
        except (MethodError, ValueError, TypeError) as exc:
            plan.errors.append(str(exc))
            continue
        runs = [(setting, seed) for setting in _settings(grid) for seed in seeds]
        for setting, seed in runs:
            label = "".join(f"-{k}{v}" for k, v in setting.items())
            args = run_args(method, seed, {**overrides, **setting})
            name = safe_name(f"{training.prefix}{method}{label}-s{seed}-{stamp}")
            plan.commands.append((name, args))
        if len(runs) == 1:
            plan.launches.append((*plan.commands[-1], 1))
            continue
        args = run_args(method, seeds[0], overrides)
        args[0] = "sweep"
        args += ["--seeds", str(len(seeds))]
        for key, items in grid.items():
            args += ["--grid", f"{key}={','.join(items)}"]
        name = safe_name(f"{training.prefix}{method}-sweep-{stamp}")
        plan.launches.append((name, args, len(runs)))
    return plan


def preview(commands: list[tuple[str, list[str]]], runs_dir: Path) -> str:
    """The commands as a user would type them (the first few; the rest counted)."""
    shown = "\n".join(
        f"{ATWU} " + shlex.join(args) + f" --out {runs_dir / name}"
        for name, args in commands[:PREVIEW_COMMANDS]
    )
    more = len(commands) - PREVIEW_COMMANDS
    return shown + (f"\n# … and {more} more" if more > 0 else "")


def launch_label(n: int) -> str:
    return f"Launch {n} run{'s' if n != 1 else ''}"


def launches_caption(plan: LaunchPlan) -> str:
    """How the runs will be carried out, when some go through a sweep."""
    sweeps = [(name, n) for name, args, n in plan.launches if args[:1] == ["sweep"]]
    if not sweeps:
        return ""
    return (
        f"{len(sweeps)} method(s) with several runs start as one `{ATWU} sweep` each "
        "(their runs go through the run executor, as many at once as there are CPUs, and "
        f"their states are kept in the sweep's sweep.json); single runs as `{ATWU} run`."
    )


def split_pairs(summary: dict[str, Any], split: str) -> Any:
    """The forget split's number of pairs, as the benchmark's manifest gives it (None if absent)."""
    return summary["splits"].set_index("split")["examples"].get(split)


def benchmark_caption(summary: dict[str, Any], split: str) -> str:
    return (
        f"{summary['name']} ({summary['kind']}): {split_pairs(summary, split)} forget pairs; "
        f"retain model `{summary['forget_splits'].get(split, '?')}`."
    )


def run_length_text(summary: dict[str, Any], split: str, epochs: float, steps: int) -> str:
    """How many steps the form's settings mean on this split, and why."""
    n_forget = int(split_pairs(summary, split) or 0)
    length = TrainSettings(epochs=float(epochs), steps=int(steps) or None)
    why = (
        "(steps given; epochs ignored)."
        if steps
        else f"({epochs:g} passes over the {n_forget} pairs of {split}, batch "
        f"{length.forget_batch_size})."
    )
    return f"Run length: {length.total_steps(n_forget)} steps {why}"


@dataclass
class LaunchResult:
    launched: list[str] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)
    """(level, text): "error" for each command that did not start, then one "success"."""


def launch_plan(plan: LaunchPlan, runs_dir: Path) -> LaunchResult:
    """Start the plan's launches (runs and sweeps), as :func:`launch_all` does; its message
    says how many runs each sweep holds."""
    result = launch_all([(name, args) for name, args, _ in plan.launches], runs_dir)
    sizes = {name: n for name, args, n in plan.launches if args[:1] == ["sweep"]}
    if not sizes or not result.launched:
        return result
    parts = []
    for launched in result.launched:
        planned = next((n for n in sizes if launched == n or launched.startswith(f"{n}-")), None)
        parts.append(f"sweep {launched} ({sizes[planned]} runs)" if planned else launched)
    result.messages[-1] = (
        "success",
        f"Launched {', '.join(parts)}. They appear under Active runs below.",
    )
    return result


def launch_all(commands: list[tuple[str, list[str]]], runs_dir: Path) -> LaunchResult:
    """Start every command in the background, each in a fresh directory under ``runs_dir``
    with its log in ``runs_dir/.logs``; a command that cannot start is reported, not raised."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    result = LaunchResult()
    for name, args in commands:
        out = jobs.fresh_run_dir(runs_dir, name)
        try:
            jobs.launch_run(args, out, jobs.log_path_for(runs_dir, out.name))
            result.launched.append(out.name)
        except (jobs.LaunchError, OSError) as exc:
            result.messages.append(("error", f"Could not start {name}: {exc}"))
    if result.launched:
        result.messages.append(
            (
                "success",
                f"Launched {', '.join(result.launched)}. They appear under Active runs below.",
            )
        )
    return result
