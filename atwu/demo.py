"""The demo bundle: small finished runs shipped in ``assets/demo`` so the app shows real data on a
first visit, before anyone has prepared a benchmark or launched a run.

    python -m atwu demo --out assets/demo      # about 10 min on 2 CPU cores

It prepares a small embedded benchmark (40 authors) in a temporary directory, runs a small
frontier sweep (:data:`DEMO_SETTINGS`: ATWU, uniform, oracle, static_p and WGA β = 5 at three
strengths; the other methods at their defaults; ATWU and GradDiff with three seeds, so mean ± std
shows) through the run executor, writes the frontier analysis beside the runs, and copies each run
directory WITHOUT ``model/`` and ``state/`` (the app reads only the small files), plus the
benchmark's manifest, quality report and retain-model truth ratios (``eval_cache/
retain_reference_*.json``, what the Trade-offs page's histograms compare against). The bundle is
built beside ``--out`` and renamed into place at the end, and it must stay under
:data:`MAX_BUNDLE_BYTES`.

Layout::

    assets/demo/demo.json                        how and when it was made, the runs
    assets/demo/frontier.json, frontier_*.csv    the frontier analysis of the runs
    assets/demo/<variant>[-x<strength>]-s<seed>/ run directories (the app lists them)
    assets/demo/_benchmark/{manifest,quality}.json, eval_cache/retain_reference_<split>.json
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from atwu.config import RunConfig
from atwu.io import atomic_directory, atomic_write_json, read_json
from atwu.params import as_text
from atwu.runs import layout
from atwu.runs.read import list_runs, read_evals, read_parquet

DEMO_SETTINGS: tuple[tuple[str, tuple[float, ...], int], ...] = (
    ("atwu", (0.5, 1.0, 2.0), 3),
    ("uniform", (0.5, 1.0, 2.0), 1),
    ("oracle", (0.5, 1.0, 2.0), 1),
    ("static_p", (0.5, 1.0, 2.0), 1),
    ("wga_b5", (0.5, 1.0, 2.0), 1),
    ("wga", (1.0,), 1),
    ("satimp", (1.0,), 1),
    ("tnpo", (1.0,), 1),
    ("aux", (1.0,), 1),
    ("graddiff", (1.0,), 3),
)
"""(variant, strength multipliers, seeds) of the demo: a small frontier sweep (so the Trade-offs
and comparison pages show frontiers) plus the other methods at their defaults; ATWU and GradDiff
with three seeds, so mean ± std shows."""


def demo_runs(settings=DEMO_SETTINGS) -> list[tuple[str, float, int]]:
    """(variant, strength multiplier, seed) of every demo run."""
    return [(v, m, k) for v, strengths, seeds in settings for m in strengths for k in range(seeds)]


BUNDLE_FILES = (
    layout.CONFIG,
    layout.STATUS,
    layout.TRAIN_LOG,
    layout.OLD_TRAIN_LOG,  # a run reused from a ``work`` directory made before the rename
    layout.EXAMPLES,
    layout.WEIGHTS,
    layout.EVAL_LOG,
    layout.EVAL_EXAMPLES,
    layout.SCORER,
)
"""What a bundled run keeps (no ``model/``, no ``state/``)."""

BENCHMARK_DIR = "_benchmark"
MAX_BUNDLE_BYTES = 5_000_000
DEMO_AUTHORS = 40


def shipped_demo_dir() -> Path:
    """The bundle that ships with the app (``assets/demo`` beside the package)."""
    return Path(__file__).resolve().parent.parent / "assets" / "demo"


def run_name(variant: str, strength: float, seed: int) -> str:
    """``atwu-s0`` at the default strength, ``atwu-x2-s0`` at twice it."""
    return f"{variant}-s{seed}" if strength == 1.0 else f"{variant}-x{as_text(strength)}-s{seed}"


def bundle_run(src: Path, dst: Path) -> None:
    """Copy the small files of run directory ``src`` to ``dst`` (created)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_FILES:
        if not (src / name).is_file():
            continue
        if name.endswith(".parquet"):
            # the same table, recompressed: zstd keeps the shipped bundle a fifth smaller
            # than the snappy files runs write for speed
            pq.write_table(
                pq.read_table(src / name), dst / name, compression="zstd", compression_level=19
            )
        else:
            shutil.copy2(src / name, dst / name)


def bundle_benchmark(bench_dir: Path, dst: Path) -> None:
    """Copy what the app reads from a benchmark: manifest, quality and the retain references."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.json", "quality.json"):
        if (bench_dir / name).is_file():
            shutil.copy2(bench_dir / name, dst / name)
    refs = sorted((bench_dir / "eval_cache").glob("retain_reference_*.json"))
    if refs:
        (dst / "eval_cache").mkdir(exist_ok=True)
        for ref in refs:
            shutil.copy2(ref, dst / "eval_cache" / ref.name)


def bundle_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def check_bundle(path: Path) -> list[str]:
    """Problems that would make the bundle useless to the app (empty list: fine)."""
    path = Path(path)
    problems: list[str] = []
    runs = list_runs(path)
    if not runs:
        return [f"{path} holds no runs"]
    for run in runs:
        if run.problems:
            problems.append(f"{run.name}: {'; '.join(run.problems)}")
        if run.state != "done":
            problems.append(f"{run.name}: state {run.state}, expected done")
        weights = run.path / layout.WEIGHTS
        if not weights.is_file() or read_parquet(weights, columns=["step"]).empty:
            problems.append(f"{run.name}: no token weights")
        if read_evals(run.path).empty:
            problems.append(f"{run.name}: no evaluation rows")
        if not (run.path / layout.EVAL_EXAMPLES).is_file():
            problems.append(f"{run.name}: no {layout.EVAL_EXAMPLES}")
        for extra in (layout.MODEL_DIR, layout.STATE_DIR):
            if (run.path / extra).exists():
                problems.append(f"{run.name}: {extra}/ should not be bundled")
    if not list((path / BENCHMARK_DIR / "eval_cache").glob("retain_reference_*.json")):
        problems.append("no retain reference truth ratios in the bundle")
    size = bundle_size(path)
    if size > MAX_BUNDLE_BYTES:
        problems.append(f"bundle is {size / 1e6:.1f} MB, over {MAX_BUNDLE_BYTES / 1e6:.0f} MB")
    return problems


def build_demo(
    out: str | Path,
    *,
    authors: int = DEMO_AUTHORS,
    settings: tuple[tuple[str, tuple[float, ...], int], ...] = DEMO_SETTINGS,
    base: RunConfig | None = None,
    benchmark: str | Path | None = None,
    work: str | Path | None = None,
    overwrite: bool = True,
    executor_kind: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Build the demo bundle at ``out``; returns its ``demo.json`` description.

    Args:
        authors: size of the embedded benchmark prepared for the demo.
        settings: (variant, strength multipliers, seeds) to run (tests use small ones).
        base: training settings for every run (tests shorten them).
        benchmark: an already prepared benchmark directory to use instead of preparing one.
        work: keep the prepared benchmark and the full runs here (default: a temporary
            directory); a second call with the same ``work`` reuses what is finished.
        overwrite: replace an existing bundle at ``out``.
        executor_kind: ``ray`` or ``local`` (default: Ray when installed).
    """
    # Imported here, not above: the app imports this module (shipped_demo_dir) and should not
    # load torch for it.
    from atwu.analysis import frontier_report
    from atwu.analysis.frontier_data import load_frontier_data
    from atwu.analysis.frontier_run import Setting, plan_frontier
    from atwu.analysis.variants import VARIANTS
    from atwu.executor.base import make_executor
    from atwu.executor.sweep import run_sweep
    from atwu.prepare.build import PrepareOptions, prepare_embedded

    say = log or (lambda message: print(f"[demo] {message}", file=sys.stderr, flush=True))
    out = Path(out)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="atwu-demo-") as tmp_dir:
        work = Path(work) if work is not None else Path(tmp_dir)
        if benchmark is None:
            bench_dir = work / "benchmark"
            if not (bench_dir / "manifest.json").is_file():
                say(f"preparing an embedded benchmark with {authors} authors")
                prepare_embedded(
                    bench_dir,
                    PrepareOptions(authors=authors, retain_splits=("retain90",), seed=0),
                    overwrite=True,
                )
        else:
            bench_dir = Path(benchmark)
        template = base or RunConfig(method="atwu")
        template.benchmark = str(bench_dir)
        by_seeds: dict[int, list] = {}
        for variant, strengths, seeds in settings:
            by_seeds.setdefault(seeds, []).extend(Setting(VARIANTS[variant], m) for m in strengths)
        entries = []
        with atomic_directory(out, overwrite=overwrite) as tmp:
            for seeds, group in by_seeds.items():
                sweep = plan_frontier(group, seeds=seeds, out=work / f"seeds{seeds}", base=template)
                _, outcomes = run_sweep(sweep, make_executor(executor_kind))
                for run, outcome in zip(sweep.runs, outcomes):
                    if not outcome.finished:
                        raise RuntimeError(
                            f"demo run {run.name} ended {outcome.state}: {outcome.message}"
                        )
                    tags = run.spec.config.tags
                    name = run_name(
                        tags["variant"], tags["strength_multiplier"], run.spec.config.seed
                    )
                    bundle_run(run.spec.out, tmp / name)
                    entries.append(
                        {
                            "name": name,
                            "variant": tags["variant"],
                            "strength": tags["strength_multiplier"],
                            "seed": run.spec.config.seed,
                            "seconds": round(outcome.seconds, 1),
                        }
                    )
            bundle_benchmark(bench_dir, tmp / BENCHMARK_DIR)
            data = load_frontier_data(
                sorted(p for p in tmp.iterdir() if (p / "status.json").is_file())
            )
            frontier_report.write(tmp, frontier_report.analyse(data, n_resamples=300))
            description = {
                "what": "demo runs shipped with the app: a small embedded benchmark (40 "
                "fictitious authors), a small frontier sweep and the other methods at their "
                "defaults",
                "command": "python -m atwu demo --out assets/demo",
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "authors": authors
                if benchmark is None
                else read_json(bench_dir / "manifest.json").get("authors"),
                "runs": entries,
                "seconds": round(time.perf_counter() - started, 1),
            }
            atomic_write_json(tmp / "demo.json", description)
            problems = check_bundle(tmp)
            if problems:
                raise RuntimeError("the demo bundle is not usable: " + "; ".join(problems))
        say(f"wrote {out} ({bundle_size(out) / 1e6:.2f} MB) in {description['seconds']:.0f} s")
    return description
