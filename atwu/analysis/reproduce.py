"""``python -m atwu reproduce``: the abstract's claims checked in the terms of METHOD.md §4.6.

Each split gets a frontier (:mod:`atwu.analysis.frontier_run`): every variant at several strengths
and seeds, ≥ 12 checkpoints per run, the frontier analysis written beside the runs, then one
REPORT.md over the splits (:mod:`atwu.analysis.report_md`).

    --quick   forget10; atwu, uniform, oracle, static_p, threshold, wga_b5, satimp, tnpo, npo at
              3 strengths × the seeds (teacher-forced metrics; it states no significance claims)
    full      forget10 with every variant × 5 strengths × the seeds; forget05 and forget01 with 3
              strengths for atwu, uniform, oracle, static_p and the two best baselines on forget10

    OUT/<split>/runs/...  OUT/<split>/frontier.json ...  OUT/REPORT.md, OUT/*.png, OUT/*.csv

It resumes where it stopped: running it again skips finished runs and continues the rest, so the
full version may span several invocations. The first run of each split runs alone, so that the
benchmark's evaluation caches (the starting model's evaluation, the retain model's references) are
filled once.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from atwu.analysis import frontier_report
from atwu.analysis.frontier_run import Setting, analyse_dir, plan_frontier
from atwu.analysis.variants import STRENGTHS, VARIANTS, role_of
from atwu.config import RunConfig
from atwu.executor.base import Executor, make_executor
from atwu.executor.check import check_specs
from atwu.executor.one_run import finished_before
from atwu.executor.sweep import run_sweep
from atwu.io import read_json
from atwu.paths import default_benchmark_dir

#: the references every frontier needs for its gates (METHOD.md §4.6)
GATE_REFERENCES = ("oracle", "shuffled_oracle", "specific_oracle", "template_only", "uniform")
QUICK_VARIANTS = (
    "atwu",
    *GATE_REFERENCES,
    "static_p",
    "threshold",
    "etw",
    "tokenunlearn",
    "wga_b5",
    "npo",
)
QUICK_STRENGTHS = (0.5, 1.0, 2.0)
SMALL_SPLITS = ("forget05", "forget01")
SMALL_SPLIT_CORE = ("atwu", *GATE_REFERENCES, "static_p", "threshold")
SMALL_SPLIT_STRENGTHS = (0.5, 1.0, 2.0)
RETAIN_MODELS = {"forget10": "retain90", "forget05": "retain95", "forget01": "retain99"}


def plan_split(split: str, *, quick: bool, best_baselines: list[str]) -> list[Setting]:
    """The settings of one split's frontier."""
    if split == "forget10":
        names = QUICK_VARIANTS if quick else tuple(VARIANTS)
        strengths = QUICK_STRENGTHS if quick else STRENGTHS
    else:
        names = tuple(dict.fromkeys((*SMALL_SPLIT_CORE, *best_baselines)))  # each once
        strengths = SMALL_SPLIT_STRENGTHS
    out = [Setting(VARIANTS[n], m) for n in names for m in strengths]
    if "satimp" in names and "satimp_ou" not in names:
        # open-unlearning's SatImp setting is a point of SatImp's strength curve: marked, not swept
        out.append(Setting(VARIANTS["satimp_ou"], 1.0))
    return out


def best_baselines(frontier_dir: Path, n: int = 2) -> list[str]:
    """The ``n`` baseline curves with the least damage at the matched levels of a finished
    frontier (mean rank over both axes and every level they reach; a level not reached ranks
    last), leaving out those the small splits run anyway (:data:`SMALL_SPLIT_CORE`)."""
    levels = frontier_report.read(frontier_dir)["tables"]["levels"]
    base = levels[(levels["role"] == "baseline") & ~levels["curve"].isin(SMALL_SPLIT_CORE)].copy()
    if base.empty:
        return []
    base["rank"] = base.groupby(["axis", "level"])["damage"].rank(na_option="bottom")
    ranked = base.groupby("curve")["rank"].mean().sort_values(kind="stable")
    return [str(c) for c in ranked.index[:n] if c in VARIANTS]


def ensure_benchmark(benchmark: str, splits: list[str]) -> Path:
    """The embedded benchmark with the retain models the splits need (prepared when missing)."""
    from atwu.prepare.build import PrepareOptions, prepare_embedded

    if benchmark != "embedded":
        return Path(benchmark)
    root = default_benchmark_dir()
    needed = tuple(RETAIN_MODELS[s] for s in splits)
    have: set[str] = set()
    if (root / "manifest.json").is_file():
        manifest = read_json(root / "manifest.json")
        if manifest.get("format_version") == 2:
            have = set(manifest.get("models", {}))
    if not set(needed) <= have:
        print(
            f"[reproduce] preparing the embedded benchmark with {', '.join(needed)}",
            file=sys.stderr,
        )
        prepare_embedded(root, PrepareOptions(retain_splits=needed), overwrite=True)
    return root


def run_split(
    out: Path,
    split: str,
    settings: list[Setting],
    *,
    seeds: int,
    bench: Path,
    executor: Executor,
    base: RunConfig | None = None,
) -> Path:
    """One split's frontier: the first run alone (it fills the evaluation caches), then the rest
    through the executor; returns the analysis' frontier.json."""
    template = base or RunConfig(method="atwu")
    template.benchmark, template.split = str(bench), split
    sweep = plan_frontier(settings, seeds=seeds, out=out / split, base=template)
    check_specs(sweep.specs)
    with executor:
        first = sweep.specs[0]
        if not finished_before(first):
            executor.run([first])
        run_sweep(sweep, executor)
    return analyse_dir(out / split)


def reproduce(
    out: Path,
    *,
    quick: bool,
    seeds: int,
    benchmark: str = "embedded",
    executor: Executor | None = None,
    base: RunConfig | None = None,
    variants: tuple[str, ...] | None = None,
    strengths: tuple[float, ...] | None = None,
) -> Path:
    """Run everything (or what is left of it) and write the report; returns REPORT.md's path.
    ``variants``/``strengths`` shrink the forget10 plan (tests)."""
    from atwu.analysis.report_md import write_report

    start = time.time()
    out = Path(out)
    splits = ["forget10"] if quick else ["forget10", *SMALL_SPLITS]
    bench = ensure_benchmark(benchmark, splits)
    executor = executor or make_executor()
    best: list[str] = []
    for split in splits:
        plan = plan_split(split, quick=quick, best_baselines=best)
        if split == "forget10" and (variants or strengths):
            plan = [
                s
                for s in plan
                if (not variants or s.variant.name in variants)
                and (not strengths or s.strength in strengths or s.variant.name == "satimp_ou")
            ]
        run_split(out, split, plan, seeds=seeds, bench=bench, executor=executor, base=base)
        if split == "forget10":
            best = best_baselines(out / split)
            print(
                f"[reproduce] forget10's two least-damaging baselines: {', '.join(best)}",
                file=sys.stderr,
            )
    report = write_report(
        out,
        splits=splits,
        quick=quick,
        seeds=seeds,
        wall_seconds=time.time() - start,
        variants=variants,
    )
    print(f"report: {report}")
    return report


def default_rows(frontier_dir: Path) -> pd.DataFrame:
    """Each run at its default strength (multiplier 1), final checkpoint: the default-setting
    table's rows."""
    points = frontier_report.read(frontier_dir)["tables"]["points"]
    at_default = points[points["strength_multiplier"].round(6) == 1.0]
    final = at_default.sort_values("step").groupby("run").tail(1)
    return final.assign(role=[role_of(str(v)) for v in final["variant"]])
