"""``python -m atwu reproduce``: check the abstract's claims on the embedded benchmark.

Runs ATWU, every baseline and the ablations of METHOD.md §1 for K seeds, evaluates them, and writes
a self-contained report: REPORT.md, PNG figures, the CSV behind every table, and the run
directories under OUT/runs/. With ``--quick``: forget10 only, and full evaluation only at step 0
and the final checkpoint (token weights are still recorded at every checkpoint).

Runs execute in two worker processes (imports paid once per worker, one thread each: on the tiny
models one thread per process is about twice as fast as two threads in one).
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from atwu.config import RunConfig
from atwu.io import read_json, read_jsonl
from atwu.paths import default_benchmark_dir
from atwu.prepare.build import PrepareOptions, prepare_embedded
from atwu.runs.read import train_log_path
from atwu.train.execute import execute_run

# name, method, params, role
VARIANTS: tuple[tuple[str, str, dict, str], ...] = (
    ("atwu", "atwu", {}, "method"),
    ("graddiff", "graddiff", {}, "baseline"),
    ("ga", "ga", {}, "baseline"),
    ("npo", "npo", {}, "baseline"),
    ("simnpo", "simnpo", {}, "baseline"),
    ("rmu", "rmu", {}, "baseline"),
    ("wga", "wga", {}, "baseline"),
    ("satimp", "satimp", {}, "baseline"),
    ("tnpo", "tnpo", {}, "baseline"),
    ("aux", "aux", {}, "baseline"),
    ("uniform", "uniform", {}, "ablation"),
    ("atwu_nll", "atwu", {"forget_loss": "nll"}, "ablation"),
    ("atwu_frozen_random", "atwu", {"scorer_lr": "0", "scorer_init": "random"}, "ablation"),
    ("oracle", "oracle", {}, "reference"),
    # Not a default: SatImp with γ = 10, so that it forgets a comparable share of the forget answers
    # (at its default γ = 0.1 it barely moves the model, and its weights p^5·(1−p) on an untouched
    # model rank the hard-to-predict fact tokens first). Context for the AUROC comparison only;
    # the targets are checked against the defaults.
    ("satimp_gamma10", "satimp", {"gamma": "10"}, "context"),
)
CONTEXT = tuple(v for v, _, _, role in VARIANTS if role == "context")
HEURISTIC_WEIGHTING = ("wga", "satimp", "tnpo")
TOKEN_WEIGHTING = (
    "atwu",
    "wga",
    "satimp",
    "tnpo",
    "aux",
    "oracle",
    "atwu_frozen_random",
    "atwu_nll",
    *CONTEXT,
)
SPLITS_FULL = ("forget10", "forget05", "forget01")


@dataclass(frozen=True)
class Job:
    variant: str
    method: str
    params: dict
    split: str
    seed: int
    out: str
    quick: bool
    benchmark: str
    steps: int | None = None


def _run_job(job: Job) -> dict:
    torch.set_num_threads(1)
    cfg = RunConfig(
        method=job.method,
        params=dict(job.params),
        benchmark=job.benchmark,
        split=job.split,
        seed=job.seed,
        quick=job.quick,
        save_model=False,
        tags={"variant": job.variant},
    )
    if job.steps:
        cfg.train.steps = job.steps
        cfg.train.checkpoint_every = max(1, job.steps // 3)
    start = time.time()
    # no per-run bars: two workers share the terminal; run_all prints a line per finished run
    code = execute_run(cfg, Path(job.out), overwrite=True, progress=False)
    return {
        "variant": job.variant,
        "split": job.split,
        "seed": job.seed,
        "code": code,
        "seconds": time.time() - start,
    }


def _jobs(
    out: Path,
    splits: tuple[str, ...],
    seeds: int,
    quick: bool,
    benchmark: str,
    variants=VARIANTS,
    steps: int | None = None,
) -> list[Job]:
    return [
        Job(v, m, p, s, k, str(out / "runs" / f"{s}-{v}-s{k}"), quick, benchmark, steps)
        for s in splits
        for k in range(seeds)
        for v, m, p, _ in variants
    ]


def run_all(jobs: list[Job], workers: int = 2, log=print) -> list[dict]:
    results = []
    # The first job of each split runs alone: it evaluates step 0 and the retain reference once
    # and caches them in the benchmark directory for every later run.
    firsts: dict[str, Job] = {}
    for j in jobs:
        firsts.setdefault(j.split, j)
    for j in firsts.values():
        results.append(_run_job(j))
        log(f"[reproduce] {j.split} {j.variant} seed {j.seed}: {results[-1]['seconds']:.0f} s")
    rest = [j for j in jobs if j not in firsts.values()]
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(_run_job, j): j for j in rest}
        for fut in cf.as_completed(futures):
            res = fut.result()
            results.append(res)
            log(
                f"[reproduce] {res['split']} {res['variant']} seed {res['seed']}: "
                f"{res['seconds']:.0f} s ({len(results)}/{len(jobs)})"
            )
    return results


# ---------------------------------------------------------------------------------------------
def collect(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(final rows: one per run, all eval rows: one per run × checkpoint)."""
    finals, allrows = [], []
    for run in sorted((out / "runs").iterdir()):
        if not (run / "eval.jsonl").is_file():
            continue
        cfg = read_json(run / "config.json")
        variant = cfg.get("tags", {}).get("variant", cfg["method"])
        evals = read_jsonl(run / "eval.jsonl")
        train_log = train_log_path(run)
        metrics = read_jsonl(train_log) if train_log.is_file() else []
        step_s = [m["step_seconds"] for m in metrics if "step_seconds" in m]
        base = {
            "variant": variant,
            "split": cfg["resolved"]["split"],
            "seed": cfg["seed"],
            "run": run.name,
        }
        for e in evals:
            allrows.append({**base, **{k: v for k, v in e.items() if k != "notes"}})
        if evals:
            finals.append(
                {
                    **base,
                    **{k: v for k, v in evals[-1].items() if k != "notes"},
                    "median_step_seconds": float(np.median(step_s)) if step_s else math.nan,
                }
            )
    return pd.DataFrame(finals), pd.DataFrame(allrows)


def summarise(finals: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """mean and std (ddof=1) over seeds per (split, variant)."""
    grouped = finals.groupby(["split", "variant"], sort=False)
    out = grouped[metrics].agg(["mean", "std"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    out["n"] = grouped.size()
    return out.reset_index()


def _fmt(mean: float, std: float, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _fmt_fq(mean: float, std: float) -> str:
    if mean is None or math.isnan(mean):
        return "n/a"
    return f"{mean:.2e} ± {std:.1e}" if mean < 0.01 else _fmt(mean, std)


def markdown_table(summary: pd.DataFrame, metrics: list[str], names: dict[str, str]) -> str:
    head = "| variant | " + " | ".join(names.get(m, m) for m in metrics) + " | seeds |"
    sep = "|---" * (len(metrics) + 2) + "|"
    rows = []
    for _, r in summary.iterrows():
        cells = [
            (_fmt_fq if m == "forget_quality" else _fmt)(r[f"{m}_mean"], r[f"{m}_std"])
            for m in metrics
        ]
        rows.append(f"| {r['variant']} | " + " | ".join(cells) + f" | {int(r['n'])} |")
    return "\n".join([head, sep, *rows])


@dataclass
class Check:
    claim: str
    passed: bool
    evidence: str


def check_targets(summary: pd.DataFrame, split: str = "forget10") -> list[Check]:
    s = summary[summary.split == split].set_index("variant")
    checks: list[Check] = []
    if "atwu" not in s.index:
        return checks
    a = s.loc["atwu"]
    best_heur = max(
        (s.loc[v, "auroc_mean"] for v in HEURISTIC_WEIGHTING if v in s.index), default=math.nan
    )
    checks.append(
        Check(
            "ATWU pooled AUROC ≥ 0.93 (mean over seeds)",
            a["auroc_mean"] >= 0.93,
            f"{a['auroc_mean']:.3f}",
        )
    )
    checks.append(
        Check(
            "ATWU AUROC ≥ best of WGA/SatImp/TNPO + 0.10",
            a["auroc_mean"] >= best_heur + 0.10,
            f"{a['auroc_mean']:.3f} vs {best_heur:.3f}",
        )
    )
    rivals = [
        v for v in s.index if v not in ("atwu", "oracle", *CONTEXT) and not v.startswith("atwu_")
    ]
    best_uq = max(s.loc[v, "uq_mean"] for v in rivals)
    best_name = max(rivals, key=lambda v: s.loc[v, "uq_mean"])
    checks.append(
        Check(
            "ATWU UQ above every baseline's (oracle excluded)",
            a["uq_mean"] > best_uq,
            f"{a['uq_mean']:.1f} vs best other {best_name} {best_uq:.1f}",
        )
    )
    baselines = [
        v
        for v in s.index
        if v not in ("atwu", "oracle", *CONTEXT)
        and s.loc[v].get("n", 0)
        and not v.startswith("atwu_")
        and v != "uniform"
    ]
    dominated_by = [
        v
        for v in baselines
        if s.loc[v, "forget_quality_mean"] >= a["forget_quality_mean"]
        and s.loc[v, "model_utility_mean"] >= a["model_utility_mean"]
        and (
            s.loc[v, "forget_quality_mean"] > a["forget_quality_mean"]
            or s.loc[v, "model_utility_mean"] > a["model_utility_mean"]
        )
    ]
    checks.append(
        Check(
            "ATWU on or beyond the baselines' Pareto front (FQ vs MU)",
            not dominated_by,
            "dominated by " + ", ".join(dominated_by)
            if dominated_by
            else "no baseline dominates it",
        )
    )
    if "atwu_nll" in s.index:
        n = s.loc["atwu_nll"]
        worse = n["uq_mean"] < a["uq_mean"]
        checks.append(
            Check(
                "learned scores in a non-saturated loss do worse (UQ)",
                worse,
                f"atwu_nll UQ {n['uq_mean']:.1f} vs atwu {a['uq_mean']:.1f}",
            )
        )
    if "atwu_frozen_random" in s.index:
        r = s.loc["atwu_frozen_random"]
        worse = r["uq_mean"] < a["uq_mean"] and r["auroc_mean"] < a["auroc_mean"]
        checks.append(
            Check(
                "a frozen random scorer does worse (UQ and AUROC)",
                worse,
                f"frozen random UQ {r['uq_mean']:.1f}, AUROC {r['auroc_mean']:.3f} vs "
                f"atwu {a['uq_mean']:.1f}, {a['auroc_mean']:.3f}",
            )
        )
    return checks


def context_notes(s: pd.DataFrame) -> list[str]:
    """What the reference rows say about two of the targets, with this run's numbers."""
    s = s.set_index("variant")
    notes = []
    if {"satimp", "satimp_gamma10"} <= set(s.index):
        d, g = s.loc["satimp"], s.loc["satimp_gamma10"]
        notes.append(
            f"- SatImp at its default γ = 0.1 keeps forget Prob at {d['forget_prob_mean']:.3f}, "
            f"and its weights p^5·(1−p) on a barely changed model rank the hard-to-predict "
            f"fact tokens first (AUROC {d['auroc_mean']:.3f}). Made to forget (γ = 10, "
            f"`satimp_gamma10`, forget Prob {g['forget_prob_mean']:.3f}), its AUROC is "
            f"{g['auroc_mean']:.3f}."
        )
    if "oracle" in s.index:
        o = s.loc["oracle"]
        notes.append(
            f"- The oracle, which forgets exactly the fact tokens, reaches UQ "
            f"{o['uq_mean']:.1f} (forget Prob {o['forget_prob_mean']:.3f}): UQ (METHOD.md "
            "§4.2) scores the probability of the whole answer, so forgetting the template "
            "tokens of forget answers raises it as much as forgetting the facts does."
        )
    return (["Reading the targets:", "", *notes, ""]) if notes else []


def figures(
    out: Path, summary: pd.DataFrame, allrows: pd.DataFrame, split: str = "forget10"
) -> list[str]:
    import matplotlib  # only the report's figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    s = summary[summary.split == split]
    # A legend rather than labels beside the points: most methods sit at the same utility, where
    # text labels overprint each other.
    fig, ax = plt.subplots(figsize=(9, 5))
    tab20 = plt.get_cmap("tab20")
    colours = [tab20(k) for k in range(tab20.N)]
    for i, (_, r) in enumerate(s.iterrows()):
        x = max(r["forget_quality_mean"], 1e-30)
        marker = (
            "*"
            if r["variant"] == "atwu"
            else (
                "s"
                if r["variant"].startswith("atwu_") or r["variant"] in ("uniform", "oracle")
                else "o"
            )
        )
        ax.errorbar(
            x,
            r["model_utility_mean"],
            yerr=r["model_utility_std"] if r["n"] > 1 else None,
            fmt=marker,
            ms=14 if marker == "*" else 7,
            capsize=3,
            label=r["variant"],
            color="#D55E00" if r["variant"] == "atwu" else colours[i % len(colours)],
            zorder=3 if r["variant"] == "atwu" else 2,
        )
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8, frameon=False)
    ax.set_xscale("log")
    ax.set_xlabel("forget quality (KS p-value vs retain model; log)")
    ax.set_ylabel("model utility")
    ax.set_title(f"Trade-off on embedded {split} (final checkpoint, mean over seeds)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "tradeoff.png", dpi=110)
    plt.close(fig)
    names.append("tradeoff.png")

    rows = allrows[
        (allrows.split == split)
        & allrows.variant.isin(["atwu", "wga", "satimp", "tnpo", "aux", "atwu_frozen_random"])
    ]
    if len(rows):
        fig, ax = plt.subplots(figsize=(7, 4))
        for variant, g in rows.groupby("variant"):
            stats = g.groupby("step")["auroc"].agg(["mean", "std"]).reset_index()
            ax.plot(
                stats["step"],
                stats["mean"],
                marker="o",
                label=variant,
                lw=2.5 if variant == "atwu" else 1.2,
            )
            ax.fill_between(
                stats["step"],
                stats["mean"] - stats["std"].fillna(0),
                stats["mean"] + stats["std"].fillna(0),
                alpha=0.15,
            )
        ax.axhline(0.5, color="grey", ls="--", lw=1)
        ax.set_xlabel("step")
        ax.set_ylabel("pooled AUROC vs ground truth")
        ax.set_ylim(0, 1)
        ax.set_title("Token-weight alignment over training (mean ± std over seeds)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "auroc_over_steps.png", dpi=110)
        plt.close(fig)
        names.append("auroc_over_steps.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    ranked = s.sort_values("uq_mean", ascending=False)
    ax.bar(
        ranked["variant"],
        ranked["uq_mean"],
        yerr=ranked["uq_std"].fillna(0),
        capsize=3,
        color=["#D55E00" if v == "atwu" else "#0072B2" for v in ranked["variant"]],
    )
    ax.set_ylabel("UQ (ours, 0–100)")
    ax.set_title("Unlearning quality at the final checkpoint")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(out / "uq.png", dpi=110)
    plt.close(fig)
    names.append("uq.png")
    return names


TRADEOFF = ["forget_quality", "model_utility", "uq", "forget_prob", "retain_prob"]
ALIGN = ["auroc", "auprc", "auroc_specific", "auprc_specific", "weight_mass"]
NAMES = {
    "forget_quality": "forget quality",
    "model_utility": "model utility",
    "uq": "UQ",
    "forget_prob": "forget Prob",
    "retain_prob": "retain Prob",
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "auroc_specific": "AUROC (specific)",
    "auprc_specific": "AUPRC (specific)",
    "weight_mass": "weight mass on facts",
    "median_step_seconds": "median step (s)",
}


def write_report(out: Path, *, quick: bool, seeds: int, wall_seconds: float) -> Path:
    finals, allrows = collect(out)
    metrics = TRADEOFF + ALIGN + ["median_step_seconds"]
    summary = summarise(finals, metrics)
    finals.to_csv(out / "final_runs.csv", index=False)
    allrows.to_csv(out / "all_checkpoints.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    lines = [
        f"# ATWU reconstruction: reproduction report{' (--quick)' if quick else ''}",
        "",
        f"Embedded benchmark, {seeds} seeds per setting, default settings of every method; "
        f"figures at the final checkpoint. Generated by `python -m atwu reproduce"
        f"{' --quick' if quick else ''} --seeds {seeds}` in {wall_seconds / 60:.1f} min "
        "of wall time on this machine.",
        "",
    ]
    # forget10 (the headline split) first, then the smaller ones
    order = [sp for sp in SPLITS_FULL if sp in set(summary.split)]
    splits = order + [sp for sp in summary.split.unique() if sp not in order]
    for split in splits:
        s = summary[summary.split == split]
        tr = s[["split", "variant", "n"] + [f"{m}_{x}" for m in TRADEOFF for x in ("mean", "std")]]
        tr.to_csv(out / f"tradeoff_{split}.csv", index=False)
        al = s[s.variant.isin(TOKEN_WEIGHTING)]
        al[["split", "variant", "n"] + [f"{m}_{x}" for m in ALIGN for x in ("mean", "std")]].to_csv(
            out / f"alignment_{split}.csv", index=False
        )
        lines += [
            f"## {split}",
            "",
            "### Trade-off",
            "",
            markdown_table(s, TRADEOFF, NAMES),
            "",
            "### Alignment of token weights with ground truth",
            "",
            "Pooled over tokens of the recorded forget examples; label 1 = any fact span, "
            "0 = outside spans, context spans left out; the *specific* view scores "
            "`specific` spans against non-span tokens.",
            "",
            markdown_table(al, ALIGN, NAMES),
            "",
        ]
        checks = check_targets(summary, split)
        if checks:
            lines += ["### Targets", "", "| claim | result | evidence |", "|---|---|---|"]
            lines += [
                f"| {c.claim} | {'✅ met' if c.passed else '❌ not met'} | {c.evidence} |"
                for c in checks
            ]
            lines.append("")
            lines += context_notes(s)
    lines += [
        "## Ablations (METHOD.md §1)",
        "",
        "`uniform`: uniform weights in the same saturated loss; `atwu_nll`: learned scores in "
        "plain weighted gradient ascent (`forget_loss=nll`); `atwu_frozen_random`: a frozen "
        "random scorer (`scorer_lr=0 scorer_init=random`); `oracle`: ground-truth weights.",
        "",
    ]
    for split in splits:
        ab = summary[
            (summary.split == split)
            & summary.variant.isin(["atwu", "uniform", "atwu_nll", "atwu_frozen_random", "oracle"])
        ]
        if len(splits) > 1:
            lines += [f"### {split}", ""]
        lines += [
            markdown_table(
                ab,
                ["uq", "forget_quality", "model_utility", "forget_prob", "retain_prob", "auroc"],
                NAMES,
            ),
            "",
        ]
    st = summary[summary.variant.isin(["atwu", "graddiff"])][
        ["split", "variant", "median_step_seconds_mean"]
    ]
    st.to_csv(out / "step_time.csv", index=False)
    ratio = math.nan
    f10 = st[st.split == splits[0]]
    if {"atwu", "graddiff"} <= set(f10.variant):
        ratio = float(
            f10.set_index("variant").loc["atwu", "median_step_seconds_mean"]
            / f10.set_index("variant").loc["graddiff", "median_step_seconds_mean"]
        )
    lines += [
        "## Overhead",
        "",
        f"ATWU's median step time over graddiff's in the {splits[0]} runs (tiny model, 1 thread, where "
        f"fixed per-step costs dominate): **{ratio:.2f}×**. The step-time benchmark on a "
        "4-layer width-512 model is `scripts/perf/step_time.py`.",
        "",
    ]
    lines += ["## Figures", ""] + [f"![{n}]({n})" for n in figures(out, summary, allrows)]
    lines += [
        "",
        "CSV files: `summary.csv` (every table), `final_runs.csv` (one row per run), "
        "`all_checkpoints.csv` (every evaluated checkpoint), `tradeoff_*.csv`, "
        "`alignment_*.csv`, `step_time.csv`.",
    ]
    report = out / "REPORT.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def reproduce(
    out: Path,
    *,
    quick: bool,
    seeds: int,
    benchmark: str = "embedded",
    workers: int = 2,
    variants: tuple[str, ...] | None = None,
    steps: int | None = None,
) -> Path:
    """Run everything and write the report; ``variants``/``steps`` shrink it (tests)."""
    start = time.time()
    splits = ("forget10",) if quick else SPLITS_FULL
    bench_dir = default_benchmark_dir() if benchmark == "embedded" else Path(benchmark)
    if benchmark == "embedded":
        needed = ("retain90",) if quick else ("retain90", "retain95", "retain99")
        manifest = bench_dir / "manifest.json"
        have = set()
        if manifest.is_file():
            have = set(read_json(manifest).get("models", {}))
        if not set(needed) <= have:
            print(
                f"[reproduce] preparing the embedded benchmark with {', '.join(needed)}",
                file=sys.stderr,
            )
            prepare_embedded(bench_dir, PrepareOptions(retain_splits=needed), overwrite=True)
    out.mkdir(parents=True, exist_ok=True)
    chosen = tuple(v for v in VARIANTS if variants is None or v[0] in variants)
    jobs = _jobs(out, splits, seeds, quick, str(bench_dir), chosen, steps)
    run_all(jobs, workers=workers, log=lambda m: print(m, file=sys.stderr, flush=True))
    report = write_report(out, quick=quick, seeds=seeds, wall_seconds=time.time() - start)
    print(f"report: {report}")
    return report
