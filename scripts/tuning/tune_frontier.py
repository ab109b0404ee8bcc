"""Choose ATWU's reconstruction defaults by their frontiers on the tuning benchmark (METHOD.md §1,
§4.6): every candidate configuration and every baseline setting is swept over strengths and
seeds on a tuning benchmark (``--benchmark``: the companies generator by default, or
``authors_tune``, the embedded generator's own tuning data set, where ``static_p`` is strong),
and each candidate's frontier is compared with the baselines' exactly as the report compares
ATWU's (least damage at matched FFE, paired bootstrap).

    .venv/bin/python scripts/tuning/tune_frontier.py --out /tmp/tune --seeds 2 \\
        --candidate default= --candidate mass=normalise=mass \\
        --candidate neg03=scorer_retain_negatives=0.3

Writes OUT/tuning.jsonl (one line per candidate: its damage at each level and axis, the
comparator and the verdicts, the alignment at matched forgetting, the areas against each baseline)
and prints a table; the runs stay under OUT/runs (a second call reuses them). Baselines get their
three-value shape search here too (WGA β, TNPO β, NPO β).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from atwu.analysis import frontier as F
from atwu.analysis.frontier_data import load_frontier_data, run_dirs_under
from atwu.analysis.frontier_run import Setting, plan_frontier
from atwu.analysis.variants import VARIANTS, Variant
from atwu.config import RunConfig
from atwu.executor.base import make_executor
from atwu.executor.check import check_specs
from atwu.executor.sweep import run_sweep
from atwu.io import atomic_write_text
from atwu.paths import benchmarks_dir
from atwu.prepare.build import ensure_authors_tune, prepare_companies

SHAPE_SEARCH = {
    "wga": ("beta", (1.0, 2.0, 5.0)),
    "tnpo": ("beta", (2.0, 4.0, 8.0)),
    "npo": ("beta", (0.05, 0.1, 0.5)),
}
BASELINES = ("static_p", "threshold", "satimp", "simnpo", "graddiff", "rmu")


def parse_candidate(text: str) -> Variant:
    """``name=key=value,key=value`` (``name=`` alone: ATWU's current defaults)."""
    name, _, rest = text.partition("=")
    params = dict(item.split("=", 1) for item in rest.split(",") if item.strip())
    return Variant(f"atwu.{name}", "atwu", params, role="method")


def baseline_variants() -> list[Variant]:
    out = [VARIANTS[n] for n in BASELINES] + [VARIANTS["uniform"], VARIANTS["oracle"]]
    for base, (param, values) in SHAPE_SEARCH.items():
        out += [Variant(f"{base}.{param}{v:g}", base, {param: v}, role="baseline") for v in values]
    return out


def evaluate_candidates(points: pd.DataFrame, samples, candidates: list[str]) -> list[dict]:
    """Each candidate's frontier against the baselines, as if it were ATWU."""
    rows = []
    others = points[~points["variant"].str.startswith("atwu.")]
    for name in candidates:
        mine = points[points["variant"] == name].assign(variant="atwu")
        pts = pd.concat([mine, others], ignore_index=True)
        comparisons = F.compare_at_levels(pts, samples, n_resamples=500)
        decision = F.decide(comparisons)
        summary = F.frontier_summary(pts)
        atwu = summary[summary["curve"] == "atwu"]
        alignment = F.alignment_at_matched(pts).set_index("variant")
        areas = {
            f"{axis}:{rival}": F.area_between(pts, "atwu", rival, axis)[0]
            for axis in F.AXES
            for rival in sorted(set(others["variant"]))
            if F.role_of(F.curve_of(rival)) == "baseline"
        }
        rows.append(
            {
                "candidate": name,
                "damage": {f"{r.axis}@{r.level}": r.damage for r in atwu.itertuples()},
                "comparisons": [c.as_row() for c in comparisons],
                "improves": {axis: v["improves"] for axis, v in decision.items()},
                "better_at": {axis: v["better_at"] for axis, v in decision.items()},
                "auroc@0.5": alignment["auroc"].get("atwu"),
                "retain_conflict@0.5": alignment["auroc_retain_conflict"].get("atwu"),
                "areas": areas,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--candidate", action="append", default=[], metavar="NAME=K=V,K=V")
    parser.add_argument("--strengths", default="0.5,1,2")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument(
        "--benchmark",
        default="companies",
        help="companies (--companies N of them; built once), authors_tune (prepared once under "
        "$ATWU_HOME/benchmarks) or a prepared benchmark directory",
    )
    parser.add_argument("--companies", type=int, default=60)
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="run the candidates only; compare them with the baselines' runs of "
        "an earlier call (--reuse)",
    )
    parser.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="DIR",
        help="also analyse the runs under DIR/runs (an earlier call's --out)",
    )
    parser.add_argument("--executor", default=None)
    args = parser.parse_args()

    if args.benchmark == "companies":
        bench = benchmarks_dir() / f"companies{args.companies}"
        if not (bench / "manifest.json").is_file():
            prepare_companies(bench, args.companies, seed=0)
    elif args.benchmark == "authors_tune":
        bench = ensure_authors_tune()
    else:
        bench = Path(args.benchmark)
    candidates = [parse_candidate(c) for c in args.candidate or ["default="]]
    strengths = [float(s) for s in args.strengths.split(",")]
    variants = candidates + ([] if args.no_baselines else baseline_variants())
    out = Path(args.out)
    base = RunConfig(method="atwu", benchmark=str(bench))
    sweep = plan_frontier(
        [Setting(v, m) for v in variants for m in strengths], seeds=args.seeds, out=out, base=base
    )
    check_specs(sweep.specs)
    run_sweep(sweep, make_executor(args.executor))
    dirs = run_dirs_under(out / "runs")
    for earlier in args.reuse:  # their candidates stay out: each call compares its own
        dirs += [
            d for d in run_dirs_under(Path(earlier) / "runs") if not d.name.startswith("atwu.")
        ]
    data = load_frontier_data(dirs)
    rows = evaluate_candidates(
        data.points,
        data.samples,
        sorted({v for v in data.points["variant"] if v.startswith("atwu.")}),
    )
    atomic_write_text(
        out / "tuning.jsonl", "".join(json.dumps(r, default=str) + "\n" for r in rows)
    )
    table = pd.DataFrame(
        [
            {
                "candidate": r["candidate"],
                **{k: round(v, 4) if v == v else None for k, v in r["damage"].items()},
                "improves": r["improves"],
                "auroc@0.5": r["auroc@0.5"],
                "rc@0.5": r["retain_conflict@0.5"],
            }
            for r in rows
        ]
    )
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))
    levels = F.frontier_summary(data.points)
    print(levels.pivot_table(index="curve", columns=["axis", "level"], values="damage").round(4))


if __name__ == "__main__":
    main()
