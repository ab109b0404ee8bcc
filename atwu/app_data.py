"""Data preparation for the app's pages: run directories in, small tables and dicts out.

Everything the pages show is computed here, as plain functions of paths and DataFrames, so it is
unit-tested without Streamlit (the pages only add caching, widgets and drawing). Readers never
raise on a damaged run directory: they return :class:`Issue` objects that say what is wrong and
how to fix it, and the pages print them.

Functions that read files take the path only; pages cache them with ``st.cache_data`` keyed on
the path and :func:`file_stamp` (modification time and size), so a run that is still writing is
re-read as soon as a file changes and never before.
"""

from __future__ import annotations

import dataclasses
import io
import math
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atwu.io import read_json, read_jsonl
from atwu.paths import default_benchmark_dir
from atwu.runs import WEIGHT_COLUMNS, RunInfo

# ---------------------------------------------------------------------------------------------
# Names shown on the pages
# ---------------------------------------------------------------------------------------------

METRIC_LABELS: dict[str, str] = {
    "forget_quality": "forget quality",
    "model_utility": "model utility",
    "uq": "UQ",
    "forget_efficacy": "forget efficacy",
    "retain_preservation": "retain preservation",
    "forget_prob": "forget prob",
    "retain_prob": "retain prob",
    "forget_rouge": "forget ROUGE-L",
    "retain_rouge": "retain ROUGE-L",
    "forget_truth_ratio": "forget truth ratio",
    "retain_truth_ratio": "retain truth ratio",
    "ks_statistic": "KS statistic",
    "extraction_strength": "extraction strength",
    "exact_memorization": "exact memorisation",
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "auroc_specific": "AUROC (specific facts)",
    "auprc_specific": "AUPRC (specific facts)",
    "precision_at_k": "precision at k",
    "weight_mass": "weight mass on facts",
}
"""Metric key → how a page names it."""

HEADLINE_METRICS = ("forget_quality", "model_utility", "uq", "auroc", "auprc", "auroc_specific")
ALIGNMENT_COLUMNS = ("auroc", "auprc", "auroc_specific", "auprc_specific", "precision_at_k",
                     "weight_mass")

DEFAULT_MIN_FORGET_QUALITY = 0.05


def metric_label(key: str) -> str:
    return METRIC_LABELS.get(key, key.replace("_", " "))


# ---------------------------------------------------------------------------------------------
# Files and problems
# ---------------------------------------------------------------------------------------------


def file_stamp(path: str | Path) -> tuple[int, int] | None:
    """(mtime in ns, size) of a file, None when it does not exist: the cache key of its reads."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Issue:
    """Something wrong with a run directory: ``level`` is ``error`` (the page cannot show the
    run), ``warning`` (part of it is missing) or ``info``; ``fix`` says what to do."""

    level: str
    what: str
    fix: str = ""

    @property
    def text(self) -> str:
        return f"{self.what} {self.fix}".strip()


def run_issues(info: RunInfo) -> list[Issue]:
    """Problems of a run as a whole (config, status, failure), each with a fix."""
    issues: list[Issue] = []
    name = info.name
    for problem in info.problems:
        if problem.startswith("config.json"):
            issues.append(Issue("error", f"Run {name}: {problem}.",
                                "If it was launched from the app, its log is in the runs "
                                "directory under .logs/; delete the directory or launch it again."))
        else:
            issues.append(Issue("warning", f"Run {name}: {problem}.",
                                "The run may have been killed before it started; its state is "
                                "unknown."))
    state = info.status.get("state")
    message = info.status.get("message", "")
    if state == "failed":
        issues.append(Issue("error", f"Run {name} failed: {message or 'no message'}.",
                            "What it recorded before failing is shown where possible; fix the "
                            "cause and launch it again (Run page), or resume it with "
                            f"`python -m atwu run --resume --out {info.path}`."))
    elif state == "cancelled":
        issues.append(Issue("info", f"Run {name} was cancelled ({message}).",
                            "Its checkpoints up to then are shown."))
    elif state in ("queued", "running"):
        issues.append(Issue("info", f"Run {name} is {state}: {message}.",
                            "The pages show what it has written so far."))
    return issues


def weights_issue(info: RunInfo, steps: list[int] | None, error: str | None) -> Issue | None:
    """Why a run has no token weights to show (given its recorded steps, or the read error),
    or None when it has them."""
    if error:
        return Issue("error", f"Run {info.name}: weights.parquet is unreadable ({error}).",
                     "The file is damaged or was written by another version of atwu; run the "
                     "method again (Run page) or copy the run directory again.")
    if not steps:
        if info.state in ("queued", "running"):
            return Issue("info", f"Run {info.name} has not recorded token weights yet.",
                         "Weights are recorded at step 0 and at every checkpoint; they appear "
                         "here as soon as the first one is written.")
        return Issue("warning", f"Run {info.name} has no token weights (weights.parquet is "
                                "missing or empty).",
                     "It probably ended before its first checkpoint: see its status message, "
                     "fix the cause and launch it again.")
    return None


def read_weights_file(run_dir: str | Path) -> pd.DataFrame:
    """All of ``weights.parquet`` (empty frame with the contract's columns when missing).

    Raises the reader's exception when the file is corrupt (callers turn it into an Issue).
    """
    path = Path(run_dir) / "weights.parquet"
    if not path.is_file():
        return pd.DataFrame(columns=WEIGHT_COLUMNS)
    frame = pd.read_parquet(path)
    missing = {"step", "example_id", "position", "token", "weight"} - set(frame.columns)
    if missing:
        raise ValueError(f"weights.parquet lacks column(s) {', '.join(sorted(missing))}")
    frame["example_id"] = frame["example_id"].astype(str)
    return frame


def read_eval_examples(run_dir: str | Path) -> pd.DataFrame:
    """``eval_examples.parquet`` (empty frame when missing; raises when corrupt)."""
    path = Path(run_dir) / "eval_examples.parquet"
    if not path.is_file():
        return pd.DataFrame(columns=["step", "split", "example_id", "prob", "truth_ratio", "rouge",
                                     "forget_loss", "generated", "auroc"])
    frame = pd.read_parquet(path)
    if "example_id" in frame.columns:
        frame["example_id"] = frame["example_id"].astype(str)
    return frame


def read_evals_file(run_dir: str | Path) -> pd.DataFrame:
    """``eval.jsonl`` as a frame, one row per evaluated checkpoint (a re-evaluated step keeps
    its last record). Raises ValueError when a line in the middle is not JSON."""
    path = Path(run_dir) / "eval.jsonl"
    if not path.is_file():
        return pd.DataFrame()
    frame = pd.DataFrame(read_jsonl(path))
    if frame.empty or "step" not in frame.columns:
        return pd.DataFrame()
    return frame.drop_duplicates("step", keep="last").sort_values("step", ignore_index=True)


def read_metrics_file(run_dir: str | Path) -> pd.DataFrame:
    path = Path(run_dir) / "metrics.jsonl"
    return pd.DataFrame(read_jsonl(path)) if path.is_file() else pd.DataFrame()


def read_examples_file(run_dir: str | Path) -> dict[str, dict]:
    """``examples.jsonl`` as example_id → {question, answer, spans}."""
    path = Path(run_dir) / "examples.jsonl"
    if not path.is_file():
        return {}
    return {str(r.get("example_id")): r for r in read_jsonl(path)}


def forget_split_of(config: dict) -> str:
    """The run's forget split (the resolved one, else the configured one, else forget10)."""
    resolved = config.get("resolved") or {}
    return str(resolved.get("split") or config.get("split") or "forget10")


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


def run_label(info: RunInfo, *, demo: bool = False) -> str:
    seed = info.config.get("seed", "?")
    prefix = "demo · " if demo else ""
    return f"{prefix}{info.name} ({info.method}, seed {seed}, {info.state})"


def run_table(runs: list[RunInfo]) -> pd.DataFrame:
    """One row per run: what the run lists on the pages show."""
    rows = []
    for r in runs:
        resolved = r.config.get("resolved") or {}
        rows.append({
            "run": r.name, "method": r.method, "seed": r.config.get("seed"),
            "state": r.state, "step": r.status.get("step"), "total": r.status.get("total_steps"),
            "message": r.status.get("message", ""), "sweep": r.config.get("sweep_id"),
            "device": resolved.get("device"), "problems": "; ".join(r.problems),
        })
    return pd.DataFrame(rows, columns=["run", "method", "seed", "state", "step", "total",
                                       "message", "sweep", "device", "problems"])


def progress_of(info: RunInfo) -> float:
    """Fraction of steps done (0..1)."""
    step = info.status.get("step") or 0
    total = info.status.get("total_steps") or 0
    if info.state == "done":
        return 1.0
    return float(min(1.0, max(0.0, step / total))) if total else 0.0


# ---------------------------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------------------------


def benchmark_summary(bench_dir: str | Path) -> dict[str, Any] | None:
    """What the Home and Run pages say about a prepared benchmark; None when it is not prepared.

    Returns ``{"root", "name", "kind", "authors", "default_split", "forget_splits",
    "splits": DataFrame[split, examples, role], "models": DataFrame[model, parameters,
    exact match, trained on], "prepare_seconds"}``.
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

    splits = pd.DataFrame([{"split": name, "examples": entry.get("n"), "role": role(name)}
                           for name, entry in (manifest.get("splits") or {}).items()],
                          columns=["split", "examples", "role"])
    models = []
    for name, entry in (quality.get("models") or {}).items():
        em = entry.get("exact_match") or {}
        models.append({"model": name, "parameters": entry.get("parameters"),
                       "exact match": ", ".join(f"{k} {v:.3f}" for k, v in em.items()),
                       "trained on": f"{entry.get('train_pairs', '?')} pairs, "
                                     f"{entry.get('epochs', '?')} epochs"})
    return {
        "root": str(root), "name": manifest.get("name", root.name),
        "kind": manifest.get("kind", "?"), "authors": manifest.get("authors"),
        "default_split": manifest.get("default_forget_split", next(iter(forget_splits), None)),
        "forget_splits": forget_splits, "splits": splits,
        "models": pd.DataFrame(models, columns=["model", "parameters", "exact match",
                                                "trained on"]),
        "prepare_seconds": quality.get("prepare_seconds"),
    }


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


# ---------------------------------------------------------------------------------------------
# Token scores
# ---------------------------------------------------------------------------------------------


def recorded_steps(weights: pd.DataFrame) -> list[int]:
    if weights is None or weights.empty or "step" not in weights.columns:
        return []
    return sorted(int(s) for s in pd.unique(weights["step"]))


def nearest_step(steps: list[int], step: int) -> int | None:
    """The recorded step equal to ``step``, else the last one before it, else the first."""
    if not steps:
        return None
    before = [s for s in steps if s <= step]
    return max(before) if before else min(steps)


def at_step(weights: pd.DataFrame, step: int) -> pd.DataFrame:
    return weights[weights["step"] == int(step)]


def per_example_auroc_fast(weights: pd.DataFrame) -> pd.Series:
    """Per-example AUROC of the weights against the labels, vectorised (Mann–Whitney U).

    Same numbers as :func:`atwu.evaluate.metrics.per_example_auroc` (ties count half, label −1
    and non-finite weights left out, NaN for one-class examples) without a Python loop over
    examples, so a 400-example checkpoint takes milliseconds. Indexed by example_id in order of
    first appearance.
    """
    order = list(dict.fromkeys(weights["example_id"].astype(str)))
    if weights.empty:
        return pd.Series(dtype=float, name="auroc")
    df = pd.DataFrame({"ex": weights["example_id"].astype(str).to_numpy(),
                       "w": pd.to_numeric(weights["weight"], errors="coerce").to_numpy(dtype=float),
                       "y": pd.to_numeric(weights["label"], errors="coerce").to_numpy()})
    df = df[(df["y"] != -1) & np.isfinite(df["w"]) & df["y"].notna()]
    df["rank"] = df.groupby("ex")["w"].rank(method="average")
    pos = df["y"] == 1
    g = df.assign(pos=pos.astype(int), rpos=np.where(pos, df["rank"], 0.0)).groupby("ex")
    n1 = g["pos"].sum()
    n = g.size()
    n0 = n - n1
    u = g["rpos"].sum() - n1 * (n1 + 1) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = u / (n1 * n0)
    auc[(n1 == 0) | (n0 == 0)] = np.nan
    out = auc.reindex(order).astype(float)
    out.name = "auroc"
    out.index.name = "example_id"
    return out


def example_table(weights_step: pd.DataFrame, eval_examples: pd.DataFrame | None,
                  examples: dict[str, dict], *, step: int, split: str) -> pd.DataFrame:
    """One row per recorded example at one checkpoint, for the sortable table.

    Columns: ``example_id, AUROC, forget loss, mean weight (facts), mean weight (other), fact
    tokens, tokens, question`` (the sortable numbers first, the long text last); AUROC from the weights (per example, vs the ground-truth labels),
    forget loss from ``eval_examples.parquet`` at the same step (NaN when that step was not
    evaluated with the model).
    """
    cols = ["example_id", "AUROC", "forget loss", "mean weight (facts)", "mean weight (other)",
            "fact tokens", "tokens", "question"]
    if weights_step is None or weights_step.empty:
        return pd.DataFrame(columns=cols)
    w = weights_step.assign(example_id=weights_step["example_id"].astype(str))
    label = pd.to_numeric(w["label"], errors="coerce") if "label" in w.columns else pd.Series(
        np.nan, index=w.index)
    grouped = w.assign(_fact=(label == 1), _other=(label == 0),
                       _wf=w["weight"].where(label == 1), _wo=w["weight"].where(label == 0))
    g = grouped.groupby("example_id", sort=False)
    table = pd.DataFrame({
        "tokens": g.size(),
        "fact tokens": g["_fact"].sum().astype(int),
        "mean weight (facts)": g["_wf"].mean(),
        "mean weight (other)": g["_wo"].mean(),
    })
    table["AUROC"] = per_example_auroc_fast(w) if "label" in w.columns else np.nan
    loss = pd.Series(np.nan, index=table.index)
    if eval_examples is not None and not eval_examples.empty and "forget_loss" in eval_examples:
        ev = eval_examples[(eval_examples["step"] == int(step)) & (eval_examples["split"] == split)]
        if not ev.empty:
            loss = ev.drop_duplicates("example_id").set_index("example_id")["forget_loss"].reindex(
                table.index)
    table["forget loss"] = pd.to_numeric(loss, errors="coerce")
    table["question"] = [examples.get(ex, {}).get("question", "") for ex in table.index]
    table = table.reset_index().rename(columns={"index": "example_id"})
    return table[cols]


def example_tokens(weights_step: pd.DataFrame, example_id: str) -> pd.DataFrame:
    """One example's token rows at one step, sorted by position."""
    rows = weights_step[weights_step["example_id"].astype(str) == str(example_id)]
    return rows.sort_values("position", kind="stable")


def threshold_stats(tokens: pd.DataFrame, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of "weight ≥ threshold ⇒ fact" over ``tokens`` (label −1 left
    out), with the counts the page prints beside them."""
    from atwu.evaluate.metrics import threshold_prf

    if tokens is None or tokens.empty or "label" not in tokens.columns:
        return {"precision": math.nan, "recall": math.nan, "f1": math.nan, "above": 0,
                "tokens": 0}
    w = pd.to_numeric(tokens["weight"], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(tokens["label"], errors="coerce").fillna(-1).to_numpy(dtype=int)
    p, r, f = threshold_prf(w, y, float(threshold))
    scored = (y != -1) & np.isfinite(w)
    return {"precision": p, "recall": r, "f1": f, "above": int((w[scored] >= threshold).sum()),
            "tokens": int(scored.sum())}


def weight_bounds(frames: list[pd.DataFrame]) -> tuple[float, float]:
    """(min, max) finite weight over frames; (0, 1) when there is none."""
    values = [pd.to_numeric(f["weight"], errors="coerce") for f in frames
              if f is not None and not f.empty and "weight" in f.columns]
    if not values:
        return 0.0, 1.0
    v = pd.concat(values).replace([np.inf, -np.inf], np.nan).dropna()
    return (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)


def threshold_range(lo: float, hi: float) -> tuple[float, float, float]:
    """Slider (min, max, default) for a weight range: from 0 (or below) to a round top."""
    lo = min(0.0, math.floor(lo * 10) / 10)
    top = max(1.0, math.ceil(hi * 10) / 10) if hi > 0 else 1.0
    return lo, top, round((lo + top) / 2, 2)


def generations(eval_examples: pd.DataFrame | None, split: str, example_id: str,
                step: int) -> dict[str, Any]:
    """The example's greedy generations at step 0 and at (or before) ``step``.

    Returns ``{"before", "after", "after_step", "note"}``; a text is None when not generated
    (quick evaluation skips generation at intermediate checkpoints; the note says so).
    """
    out: dict[str, Any] = {"before": None, "after": None, "after_step": None, "note": ""}
    if eval_examples is None or eval_examples.empty or "generated" not in eval_examples:
        out["note"] = "this run has no per-example evaluation (eval_examples.parquet)"
        return out
    rows = eval_examples[(eval_examples["split"] == split)
                         & (eval_examples["example_id"] == str(example_id))
                         & eval_examples["generated"].notna()]
    if rows.empty:
        out["note"] = "no generation was recorded for this example"
        return out
    by_step = rows.drop_duplicates("step", keep="last").set_index("step")["generated"]
    if 0 in by_step.index:
        out["before"] = str(by_step.loc[0])
    earlier = [int(s) for s in by_step.index if int(s) <= int(step)]
    if earlier:
        out["after_step"] = max(earlier)
        out["after"] = str(by_step.loc[out["after_step"]])
        if out["after_step"] != int(step):
            out["note"] = (f"step {step} has no generation (quick evaluation); showing step "
                           f"{out['after_step']}")
    return out


def scores_csv(tokens: pd.DataFrame) -> bytes:
    """Token scores as CSV (the weights.parquet columns that exist, in the contract's order)."""
    cols = [c for c in WEIGHT_COLUMNS if c in tokens.columns]
    buffer = io.StringIO()
    tokens[cols].to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Trade-offs
# ---------------------------------------------------------------------------------------------

BEST_RULE = ("highest model utility among checkpoints with forget quality ≥ {min_fq:g}; if none "
             "reaches it, the highest forget quality (ties: the earlier step)")


def tradeoff_points(evals: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``run, step, forget_quality, model_utility`` of every checkpoint evaluated with the
    model."""
    parts = []
    for run, frame in evals.items():
        if frame is None or frame.empty:
            continue
        if not {"forget_quality", "model_utility"} <= set(frame.columns):
            continue
        part = frame[["step", "forget_quality", "model_utility"]].copy()
        part = part.apply(pd.to_numeric, errors="coerce").dropna()
        part.insert(0, "run", run)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["run", "step", "forget_quality", "model_utility"])
    out = pd.concat(parts, ignore_index=True)
    out["step"] = out["step"].astype(int)
    return out


def best_checkpoint(points: pd.DataFrame, *,
                    min_forget_quality: float = DEFAULT_MIN_FORGET_QUALITY) -> pd.DataFrame:
    """The checkpoint chosen by :data:`BEST_RULE` (one row, empty when there are no points)."""
    if points is None or points.empty:
        return pd.DataFrame(columns=["run", "step", "forget_quality", "model_utility"])
    ok = points[points["forget_quality"] >= min_forget_quality]
    if len(ok):
        ranked = ok.sort_values(["model_utility", "forget_quality", "step"],
                                ascending=[False, False, True], kind="stable")
    else:
        ranked = points.sort_values(["forget_quality", "model_utility", "step"],
                                    ascending=[False, False, True], kind="stable")
    return ranked.head(1)


def truth_ratio_steps(eval_examples: pd.DataFrame | None, split: str) -> list[int]:
    """Steps with forget-split truth ratios (checkpoints evaluated with the model)."""
    if eval_examples is None or eval_examples.empty or "truth_ratio" not in eval_examples:
        return []
    rows = eval_examples[(eval_examples["split"] == split) & eval_examples["truth_ratio"].notna()]
    return sorted(int(s) for s in pd.unique(rows["step"]))


def truth_ratio_comparison(eval_examples: pd.DataFrame, split: str, step: int,
                           reference: dict) -> dict[str, Any]:
    """The two samples behind forget quality at one checkpoint, and their KS test.

    Returns ``{"unlearned", "retain"}`` (log10 truth ratios R of the forget questions: the
    unlearned model's at ``step``, the retain model's from the benchmark's reference) and
    ``"ks"``, ``"p_value"``, ``"n_unlearned"``, ``"n_retain"``. The KS test is the one forget
    quality is defined by (on R); R is shown on a log scale, which leaves the KS statistic
    unchanged (it depends only on the order of the values).
    """
    from atwu.evaluate.metrics import forget_quality

    rows = eval_examples[(eval_examples["split"] == split) & (eval_examples["step"] == int(step))]
    ours = pd.to_numeric(rows["truth_ratio"], errors="coerce").to_numpy(dtype=float)
    theirs = np.array([math.nan if v is None else float(v)
                       for v in (reference.get("ratios") or {}).values()], dtype=float)
    p, ks = forget_quality(ours, theirs)

    def log10(values: np.ndarray) -> list[float]:
        v = values[np.isfinite(values) & (values > 0)]
        return np.log10(v).tolist()

    return {"unlearned": log10(ours), "retain": log10(theirs), "ks": ks, "p_value": p,
            "n_unlearned": int(np.isfinite(ours).sum()), "n_retain": int(np.isfinite(theirs).sum())}


# ---------------------------------------------------------------------------------------------
# Method comparison
# ---------------------------------------------------------------------------------------------


def comparable_runs(runs: list[RunInfo]) -> tuple[list[RunInfo], list[str]]:
    """Runs that can enter the comparison (readable config and at least one eval record) and a
    sentence for each one left out."""
    keep, notes = [], []
    for r in runs:
        if any(p.startswith("config.json") for p in r.problems):
            notes.append(f"{r.name}: left out, its config.json is missing or unreadable")
            continue
        path = r.path / "eval.jsonl"
        try:
            has_eval = path.is_file() and bool(read_jsonl(path))
        except (OSError, ValueError) as exc:
            notes.append(f"{r.name}: left out, eval.jsonl is unreadable ({exc})")
            continue
        if not has_eval:
            notes.append(f"{r.name}: left out, it has no evaluation (launched with --no-eval, or "
                         f"ended before its first checkpoint; `python -m atwu eval {r.path}` "
                         "evaluates it)")
            continue
        keep.append(r)
    return keep, notes


def method_defaults() -> dict[str, dict[str, Any]]:
    from atwu.methods.registry import all_methods

    return {name: {f.name: f.default for f in dataclasses.fields(cls.Params)}
            for name, cls in all_methods().items()}


def comparison_table(run_dirs: list[str | Path]) -> tuple[pd.DataFrame, list[str]]:
    """:func:`atwu.evaluate.checkpoint.compare_runs` over the runs (the config column lists the
    parameters that differ from the method's defaults), plus its warnings as sentences."""
    from atwu.evaluate.checkpoint import compare_runs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = compare_runs([Path(p) for p in run_dirs], defaults=method_defaults())
    return table, [str(w.message) for w in caught]


def mean_std_text(mean: float, std: float, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}g}" if abs(mean) < 1e-3 and mean != 0 else f"{mean:.{digits}f}"
    if abs(mean) < 1e-3 and mean != 0:
        return f"{mean:.{digits}g} ± {std:.2g}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def formatted_comparison(table: pd.DataFrame, metrics: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """method, config, n, and one "mean ± std" text column per metric (named by its label)."""
    out = pd.DataFrame({"method": table["method"], "config": table["config"], "n": table["n"]})
    for m in metrics:
        if f"{m}_mean" not in table.columns:
            continue
        # UQ is on a 0..100 scale: one decimal, as in the UQ ranking.
        digits = 1 if m == "uq" else 3
        out[metric_label(m)] = [mean_std_text(a, b, digits) for a, b in
                                zip(table[f"{m}_mean"], table.get(f"{m}_std", np.nan))]
    return out


def without_empty_config(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its ``config`` column when that column is empty on every row."""
    if "config" not in frame.columns:
        return frame
    col = frame["config"]
    if col.isna().all() or col.fillna("").astype(str).str.strip().eq("").all():
        return frame.drop(columns=["config"])
    return frame


def uq_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Method groups ranked by mean UQ (best first; groups without UQ last)."""
    cols = ["rank", "method", "config", "UQ", "forget efficacy", "retain preservation", "n"]
    if table.empty or "uq_mean" not in table.columns:
        return pd.DataFrame(columns=cols)
    ranked = table.sort_values("uq_mean", ascending=False, na_position="last",
                               kind="stable").reset_index(drop=True)
    return pd.DataFrame({
        "rank": range(1, len(ranked) + 1),
        "method": ranked["method"], "config": ranked["config"],
        "UQ": [mean_std_text(a, b, 1) for a, b in zip(ranked["uq_mean"], ranked["uq_std"])],
        "forget efficacy": [mean_std_text(a, b) for a, b in
                            zip(ranked["forget_efficacy_mean"], ranked["forget_efficacy_std"])],
        "retain preservation": [mean_std_text(a, b) for a, b in
                                zip(ranked["retain_preservation_mean"],
                                    ranked["retain_preservation_std"])],
        "n": ranked["n"],
    }, columns=cols)


def group_labels(table: pd.DataFrame) -> pd.DataFrame:
    """The table with ``method`` made unique per row ("atwu (scorer_lr=0.05)") for charts."""
    out = table.copy()
    out["method"] = [m if not c else f"{m} ({c})" for m, c in zip(table["method"],
                                                                 table["config"])]
    return out


# ---------------------------------------------------------------------------------------------
# The Run page's form
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One input of the launch form: ``kind`` is bool, int, float, str, choice or text (any
    other type, typed as text and parsed by the method's registry)."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple = ()
    optional: bool = False


def _spec(name: str, hint: Any, default: Any, help_text: str) -> ParamSpec:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    optional = type(None) in args
    inner = [a for a in args if a is not type(None)]
    if origin is typing.Literal:
        return ParamSpec(name, "choice", default, help_text, tuple(args))
    if optional and len(inner) == 1:
        hint = inner[0]
    if hint is bool:
        return ParamSpec(name, "bool", default, help_text, optional=optional)
    if hint is int and not optional:
        return ParamSpec(name, "int", default, help_text)
    if hint is float and not optional:
        return ParamSpec(name, "float", default, help_text)
    if hint is str and not optional:
        return ParamSpec(name, "str", default, help_text)
    return ParamSpec(name, "text", default, help_text, optional=optional)


def param_specs(method: str) -> list[ParamSpec]:
    """The method's hyperparameters (from its params dataclass) as form inputs, with defaults
    and help text."""
    from atwu.methods.registry import get_method

    cls = get_method(method)
    hints = typing.get_type_hints(cls.Params)
    return [_spec(f.name, hints[f.name], f.default, f.metadata.get("help", ""))
            for f in dataclasses.fields(cls.Params)]


def train_specs(names: tuple[str, ...] = ("epochs", "steps", "lr", "checkpoint_every")) -> list[ParamSpec]:
    """Training settings shown on the Run page (from :class:`atwu.config.TrainSettings`). The
    optional integers (steps, checkpoint_every) are asked as numbers where 0 means "the default
    rule" (epochs; 6 checkpoints per run)."""
    from atwu.config import TrainSettings

    hints = typing.get_type_hints(TrainSettings)
    fields = {f.name: f for f in dataclasses.fields(TrainSettings)}
    out = []
    for name in names:
        f = fields[name]
        spec = _spec(name, hints[name], f.default, f.metadata.get("help", ""))
        if name in ("steps", "checkpoint_every"):
            spec = dataclasses.replace(spec, kind="int", optional=False, default=f.default or 0,
                                       help=f"0: the default. {spec.help}")
        elif name == "epochs":
            spec = dataclasses.replace(spec, kind="float", optional=False)
        out.append(spec)
    return out


def as_text(value: Any) -> str:
    """How a default is written into a text input (and into ``--set``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        tiny_or_huge = value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6)
        return repr(value) if tiny_or_huge else f"{value:g}"
    return str(value)


def param_overrides(method: str, values: dict[str, Any]) -> dict[str, str]:
    """The ``--set key=value`` pairs for the form's values: only those that differ from the
    default, after parsing. Raises :class:`~atwu.methods.registry.MethodError` with a clear
    message for a value that does not parse or validate."""
    from atwu.methods.registry import build_params, get_method

    cls = get_method(method)
    defaults = {f.name: f.default for f in dataclasses.fields(cls.Params)}
    as_strings = {k: v if isinstance(v, str) else as_text(v) for k, v in values.items()}
    params = build_params(cls, as_strings)  # parses and validates every value
    changed = {}
    for key in values:
        parsed = getattr(params, key)
        if parsed != defaults.get(key):
            changed[key] = as_text(parsed)
    return changed
