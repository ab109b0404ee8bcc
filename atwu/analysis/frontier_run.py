"""Running a frontier: every variant at every strength multiplier and seed, as one sweep through the
project's run executor, then the analysis of METHOD.md §4.6 written beside it.

    python -m atwu frontier --variants atwu,uniform,oracle,wga_b5 --strengths 0.25,1,4 \\
        --seeds 3 --out reports/frontier

    OUT/runs/<variant>-x<multiplier>-s<seed>/   one run directory each (tags.variant, ...)
    OUT/runs/sweep.json                          every run's state (the executor's record)
    OUT/frontier.json, OUT/frontier_*.csv        the analysis (atwu.analysis.frontier_report)

Frontier runs record ≥ 12 checkpoints each and evaluate teacher-forced metrics at every one of
them (generation only at step 0 and the end: ``quick``). Running the same command again skips the
finished runs and resumes the interrupted ones.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from atwu.analysis import frontier_report
from atwu.analysis.frontier_data import load_frontier_data
from atwu.analysis.variants import Variant
from atwu.config import RunConfig
from atwu.executor.base import Executor
from atwu.executor.spec import RunOutcome, RunSpec, config_identity
from atwu.executor.sweep import SweepPlan, SweepRun, check_sweep_dir, run_sweep
from atwu.params import as_text

FRONTIER_CHECKPOINTS = 12
#: extra checkpoints over the first quarter of every frontier run (METHOD.md §4.6: at least 6
#: before a ×1 run that crosses FFE 0.5 early first reaches it)
FRONTIER_EARLY_CHECKPOINTS = 6


@dataclass(frozen=True)
class Setting:
    """One variant at one strength multiplier (all seeds)."""

    variant: Variant
    strength: float


def settings(variants: Sequence[Variant], strengths: Sequence[float]) -> list[Setting]:
    return [Setting(v, m) for v in variants for m in strengths]


def plan_frontier(
    plan: Sequence[Setting],
    *,
    seeds: int,
    out: str | Path,
    base: RunConfig | None = None,
    fresh: bool = False,
) -> SweepPlan:
    """The runs of a frontier as a sweep under ``OUT/runs`` (see the module docstring)."""
    root = Path(out).expanduser().absolute() / "runs"
    template = copy.deepcopy(base) if base is not None else RunConfig(method="atwu")
    template.quick = True
    template.save_model = False if template.save_model is None else template.save_model
    template.train.checkpoints = max(FRONTIER_CHECKPOINTS, template.train.checkpoints)
    template.train.early_checkpoints = max(
        FRONTIER_EARLY_CHECKPOINTS, template.train.early_checkpoints
    )
    runs, identities = [], []
    for setting in plan:
        for seed in range(seeds):
            cfg = setting.variant.config(strength=setting.strength, seed=seed, base=template)
            identity = config_identity(cfg)
            name = f"{setting.variant.name}-x{as_text(setting.strength)}-s{seed}"
            labels = {"variant": setting.variant.name, "strength": as_text(setting.strength)}
            runs.append(SweepRun(RunSpec(cfg, root / name, fresh=fresh), identity, labels))
            identities.append(identity)
    identity = hashlib.sha256("\n".join(sorted(identities)).encode()).hexdigest()[:10]
    grid = {
        "variant": list(dict.fromkeys(s.variant.name for s in plan)),
        "strength": list(dict.fromkeys(as_text(s.strength) for s in plan)),
    }
    sweep = SweepPlan(
        f"frontier-{identity}", identity, root, template, grid, list(range(seeds)), runs
    )
    check_sweep_dir(sweep)
    return sweep


def run_frontier(
    sweep: SweepPlan, executor: Executor, out: str | Path
) -> tuple[Path, list[RunOutcome]]:
    """Carry out the runs, then write the analysis to ``out``; returns frontier.json's path."""
    _, outcomes = run_sweep(sweep, executor)
    return analyse_dir(out), outcomes


def analyse_dir(out: str | Path) -> Path:
    """Analyse the runs under ``OUT/runs`` (whatever finished) and write the files to ``OUT``."""
    from atwu.analysis.frontier_data import run_dirs_under

    out = Path(out)
    data = load_frontier_data(run_dirs_under(out / "runs"))
    return frontier_report.write(out, frontier_report.analyse(data))
