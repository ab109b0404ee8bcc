"""The Run page's launch form, read back: the ``python -m atwu run`` commands it means (one per
method and seed), what is wrong with it, what is still to choose, and the launch itself.

The page draws the widgets and hands their values here as plain data; nothing here draws.

    plan = plan_runs(bench, model, ["atwu", "wga"], values, training, stamp="20260101-120000")
    if plan.ready:
        messages = launch_all(plan.commands, runs_dir)
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from atwu.app import jobs
from atwu.app.run_form import param_overrides
from atwu.config import TrainSettings
from atwu.methods.base import MethodError
from atwu.paths import safe_name

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
    """``commands``: (run name, CLI arguments without ``--out``); ``errors``: values that would
    not run; ``missing``: choices still to make."""

    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.commands) and not self.errors and not self.missing


def hub_extra(hub: str, data_dir: str, targets: str) -> tuple[str, ...]:
    """The hub benchmark's own options: a local copy of its files, RWKU's target numbers."""
    extra: list[str] = []
    if data_dir.strip():
        extra += ["--data-dir", data_dir.strip()]
    if hub == "rwku" and targets.strip():
        extra += ["--targets", targets.strip()]
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


def plan_runs(
    bench: BenchmarkChoice,
    model: ModelChoice,
    methods: list[str],
    values: dict[str, dict[str, Any]],
    training: TrainingForm,
    *,
    stamp: str,
) -> LaunchPlan:
    """One command per chosen method and seed, named ``<prefix><method>-s<seed>-<stamp>``;
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
    for method in methods:
        try:
            overrides = param_overrides(method, values.get(method, {}))
        except (MethodError, ValueError, TypeError) as exc:
            plan.errors.append(str(exc))
            continue
        for k in range(int(training.n_seeds)):
            seed = int(training.seed) + k
            args = jobs.build_run_args(
                method,
                benchmark=bench_arg,
                split=split_arg,
                model=model.arg,
                extra=list(bench.hub_extra),
                steps=steps,
                epochs=epochs,
                lr=lr,
                checkpoint_every=int(training.checkpoint_every) or None,
                seed=seed,
                device=None if training.device == "auto" else training.device,
                params=overrides,
                quick=training.quick,
                evaluate=training.evaluate,
            )
            plan.commands.append((safe_name(f"{training.prefix}{method}-s{seed}-{stamp}"), args))
    return plan


def preview(commands: list[tuple[str, list[str]]], runs_dir: Path) -> str:
    """The commands as a user would type them (the first few; the rest counted)."""
    shown = "\n".join(
        "python -m atwu " + shlex.join(args) + f" --out {runs_dir / name}"
        for name, args in commands[:PREVIEW_COMMANDS]
    )
    more = len(commands) - PREVIEW_COMMANDS
    return shown + (f"\n# … and {more} more" if more > 0 else "")


def launch_label(n: int) -> str:
    return f"Launch {n} run{'s' if n != 1 else ''}"


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
