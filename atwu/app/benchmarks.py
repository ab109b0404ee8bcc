"""What the pages say about a prepared benchmark, and where a run's benchmark can still be found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from atwu.app.cli_text import ATWU
from atwu.app.run_list import forget_split_of
from atwu.io import read_json
from atwu.paths import default_benchmark_dir
from atwu.prepare.shipped import INSTALLED_MARK


def benchmark_summary(bench_dir: str | Path) -> dict[str, Any] | None:
    """What the Home and Run pages say about a prepared benchmark; None when it is not prepared.

    Returns ``{"root", "name", "kind", "authors", "default_split", "forget_splits",
    "splits": DataFrame[split, examples, role], "models": DataFrame[model, parameters,
    exact match, trained on], "prepare_seconds", "installed_from_shipped"}``.
    """
    root = Path(bench_dir)
    try:
        manifest = read_json(root / "manifest.json")
    except (OSError, ValueError):
        return None
    try:
        quality = read_json(root / "quality.json")
    except (OSError, ValueError):
        quality = {}
    forget_splits = dict(manifest.get("forget_splits") or {})
    utility = set(manifest.get("utility_splits") or [])
    retains = set(forget_splits.values())

    def role(split: str) -> str:
        if split in forget_splits:
            return f"forget (retain model: {forget_splits[split]})"
        if split in retains:
            return "retain (training)"
        if split in utility:
            return "utility evaluation"
        if split == "holdout":
            return "holdout (auxiliary model)"
        if split == "full":
            return "everything (target model)"
        return ""

    splits = pd.DataFrame(
        [
            {"split": name, "examples": entry.get("n"), "role": role(name)}
            for name, entry in (manifest.get("splits") or {}).items()
        ],
        columns=["split", "examples", "role"],
    )
    models = []
    for name, entry in (quality.get("models") or {}).items():
        em = entry.get("exact_match") or {}
        models.append(
            {
                "model": name,
                "parameters": entry.get("parameters"),
                "exact match": ", ".join(f"{k} {v:.3f}" for k, v in em.items()),
                "trained on": f"{entry.get('train_pairs', '?')} pairs, "
                f"{entry.get('epochs', '?')} epochs",
            }
        )
    return {
        "root": str(root),
        "name": manifest.get("name", root.name),
        "kind": manifest.get("kind", "?"),
        "authors": manifest.get("authors"),
        "default_split": manifest.get("default_forget_split", next(iter(forget_splits), None)),
        "forget_splits": forget_splits,
        "splits": splits,
        "models": pd.DataFrame(
            models, columns=["model", "parameters", "exact match", "trained on"]
        ),
        "prepare_seconds": quality.get("prepare_seconds"),
        "installed_from_shipped": (root / INSTALLED_MARK).is_file(),
    }


def models_text(summary: dict[str, Any]) -> str:
    """Where the benchmark's models come from, and what ``prepare`` took to train them: a copy
    installed from the one shipped with the app was trained when that copy was built."""
    seconds = summary.get("prepare_seconds")
    took = f"trained in {seconds:.0f} s" if seconds else "training time not recorded"
    if summary.get("installed_from_shipped"):
        return f"installed the shipped models ({took} when they were built)"
    return f"models {took} by `prepare` here"


def benchmark_dir_of(run_dir: str | Path, config: dict) -> Path | None:
    """The benchmark a run used, where it can still be found.

    Tried in order: the resolved path in ``config.json``, the configured one ("embedded" means
    :func:`~atwu.paths.default_benchmark_dir`), and ``_benchmark/`` beside the run (the demo
    bundle keeps the little the app needs there).
    """
    resolved = (config.get("resolved") or {}).get("benchmark")
    configured = config.get("benchmark")
    candidates = []
    if resolved:
        candidates.append(Path(resolved))
    if configured == "embedded":
        candidates.append(default_benchmark_dir())
    elif configured:
        candidates.append(Path(configured).expanduser())
    candidates.append(Path(run_dir).parent / "_benchmark")
    for c in candidates:
        if (c / "manifest.json").is_file():
            return c
    return None


def retain_reference_path(run_dir: str | Path, config: dict) -> Path | None:
    """``eval_cache/retain_reference_<split>.json`` of the run's benchmark, when it exists."""
    split = forget_split_of(config)
    resolved = (config.get("resolved") or {}).get("benchmark")
    dirs = [benchmark_dir_of(run_dir, config)]
    if resolved:
        dirs.append(Path(resolved))
    dirs.append(Path(run_dir).parent / "_benchmark")
    for d in dirs:
        if d is not None and (d / "eval_cache" / f"retain_reference_{split}.json").is_file():
            return d / "eval_cache" / f"retain_reference_{split}.json"
    return None


# The Run page's benchmark list: prepared directories (the embedded default first), then these.
OTHER = "another prepared directory…"
UPLOAD = "your own files (upload JSON Lines)…"
TOFU = "TOFU (hub dataset locuslab/TOFU)"
RWKU = "RWKU (hub dataset jinzhuoran/RWKU)"
HUB_CHOICES = {TOFU: "tofu", RWKU: "rwku"}
"""The hub benchmarks the CLI converts itself (no prepared directory), by their list entry."""


def prepared_benchmarks(root: Path) -> list[Path]:
    """The prepared benchmarks under ``root`` (directories holding a manifest.json), sorted."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*") if (p / "manifest.json").is_file())


def benchmark_options(prepared: list[Path], default_dir: Path) -> list[str]:
    """The Run page's Benchmark list: the embedded default (prepared or not), the other
    prepared directories, then the other kinds of benchmark."""
    return [
        str(default_dir),
        *(str(p) for p in prepared if p != default_dir),
        OTHER,
        UPLOAD,
        TOFU,
        RWKU,
    ]


def benchmark_option_label(option: str, default_dir: Path) -> str:
    """How the list shows an entry: a directory by its name, saying when it is not prepared."""
    if option in (OTHER, UPLOAD, TOFU, RWKU):
        return option
    path = Path(option)
    tag = "embedded (default)" if path == default_dir else path.name
    ready = "" if (path / "manifest.json").is_file() else " — not prepared yet"
    return f"{tag}{ready}"


def benchmark_text(bench_dir: Path | None, split: str, *, named: bool = True) -> str:
    """The benchmark in a few words: "embedded benchmark `embedded` (200 authors; forget10:
    200 questions)" (without the name when not ``named``); "" when its manifest cannot be
    read."""
    if bench_dir is None:
        return ""
    try:
        manifest = read_json(Path(bench_dir) / "manifest.json")
    except (OSError, ValueError):
        return ""
    n = ((manifest.get("splits") or {}).get(split) or {}).get("n")
    authors = manifest.get("authors")
    parts = [f"{authors} authors"] if authors else []
    if n:
        parts.append(f"{split}: {n} questions")
    name = f" `{manifest.get('name', Path(bench_dir).name)}`" if named else ""
    details = f" ({'; '.join(parts)})" if parts else ""
    return f"{manifest.get('kind', '')} benchmark{name}{details}".strip()


def demo_note(demo_dir: Path, user_bench: Path | None = None) -> str:
    """What the demo runs were made on, and why their numbers differ from a run of your own:
    said on every page that shows them."""
    demo = benchmark_text(demo_dir / "_benchmark", "forget10", named=False)
    mine = benchmark_text(user_bench, "forget10") if user_bench is not None else ""
    return (
        f"**Demo runs** (shipped in `assets/demo`, made by `{ATWU} demo`): a small "
        f"frontier sweep on a separate {demo or 'small embedded benchmark'}, not the benchmark "
        "your own runs use"
        + (f", the {mine}" if mine else "")
        + ". Forget quality is a p-value: the same gap between the unlearned and the retain "
        "model gives a far smaller p-value on 200 questions than on 40, so the two sets of "
        "numbers do not compare."
    )
