"""The references every run on a benchmark shares, computed once and cached in ``<benchmark>/eval_cache/``:
the retain model's forget-split truth ratios (forget quality) and the starting model's full
evaluation (step 0, UQ). Each cache file carries a fingerprint of the model files and data it was
made from, and is recomputed when they change.

Example::

    ref = retain_reference(bench, "forget10")
    p, ks, note = forget_quality_vs_reference(model_eval, ref)
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from atwu.benchmark import Benchmark, BenchmarkError
from atwu.evaluate import tofu_metrics as M
from atwu.evaluate.model_eval import CACHE_VERSION, ModelEval, eval_splits, evaluate_model, mean_of
from atwu.evaluate.teacher_forced import ScoringPlan, score_pairs
from atwu.io import atomic_write_json, clean_for_json, read_json

NAN = float("nan")


def model_fingerprint(model_path: str | Path) -> str:
    """A short hash of a model's path and the newest modification time of its files.

    Re-preparing a benchmark rewrites its models, which changes the mtime and so invalidates
    every cached evaluation of them. A hub id (not a local directory) hashes its name only.
    """
    path = Path(model_path).expanduser()
    stamp = 0
    if path.is_dir():
        path = path.resolve()
        stamp = max((f.stat().st_mtime_ns for f in path.iterdir() if f.is_file()), default=0)
    return hashlib.sha1(f"{path}|{stamp}".encode()).hexdigest()[:12]


def _data_fingerprint(benchmark: Benchmark, splits: Sequence[str]) -> str:
    """Hash of the evaluated split files' mtimes and sizes: edited data means stale caches."""
    parts = []
    for split in splits:
        stat = benchmark.split_path(split).stat()
        parts.append(f"{split}:{stat.st_mtime_ns}:{stat.st_size}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def cache_dir(benchmark: Benchmark) -> Path:
    return benchmark.root / "eval_cache"


def _try_write(write: Any, what: str) -> None:
    """Run a cache write; a read-only benchmark only costs the cache, never the evaluation."""
    try:
        write()
    except OSError as exc:
        warnings.warn(
            f"could not cache {what} ({exc}); it will be recomputed next time", stacklevel=3
        )


def _resolve_device(device: str | torch.device | None) -> torch.device:
    from atwu.models import resolve_device

    return device if isinstance(device, torch.device) else resolve_device(device or "auto")


def _load(model_path: str | Path, device: torch.device) -> tuple[torch.nn.Module, Any]:
    from atwu.models import load_model, load_tokenizer  # heavy imports only when loading

    return load_model(model_path, device=device), load_tokenizer(model_path)


def retain_reference_key(benchmark: Benchmark, forget_split: str) -> tuple[Path, str]:
    """Where the retain reference of ``forget_split`` is cached, and the fingerprint (retain
    model files + forget data) a cached file must carry to be used."""
    model_path = benchmark.model_path(benchmark.retain_for(forget_split))
    fingerprint = f"{model_fingerprint(model_path)}-{_data_fingerprint(benchmark, [forget_split])}"
    return cache_dir(benchmark) / f"retain_reference_{forget_split}.json", fingerprint


def retain_reference(
    benchmark: Benchmark,
    forget_split: str,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 64,
) -> dict:
    """Forget-split truth ratios of the retain model paired with ``forget_split``, cached.

    The retain model is the one the manifest pairs with the forget split
    (``benchmark.retain_for(forget_split)``). The result is stored in
    ``eval_cache/retain_reference_<forget_split>.json``; it is recomputed when that file is
    missing, unreadable, or made for other model files or data. A read-only benchmark directory
    is evaluated without caching.

    Returns:
        ``{"forget_split", "retain_model", "fingerprint", "ratios": {example id: R or None},
        "spans": {example id: {"span_logp", "span_recalled", "para_span_logp"}},
        "summary": {"n", "forget_truth_ratio", "forget_prob"}}``; ``spans`` holds the retain
        model's fact-level values (METHOD.md §4.5) and is absent from a reference imported from
        another tool's logs.

    Raises:
        BenchmarkError: the forget split has no retain model (the message says which
            ``prepare --retain-splits`` builds it).
    """
    retain_name = benchmark.retain_for(forget_split)
    model_path = benchmark.model_path(retain_name)
    if not Path(model_path).is_dir():
        raise BenchmarkError(
            f"retain model {retain_name!r} is listed but {model_path} is missing; "
            f"build it with `python -m atwu prepare --retain-splits {retain_name}`"
        )
    path, fingerprint = retain_reference_key(benchmark, forget_split)
    try:
        cached = read_json(path)
        if (
            cached.get("version") == CACHE_VERSION
            and cached.get("fingerprint") == fingerprint
            and isinstance(cached.get("ratios"), dict)
        ):
            return cached
    except (OSError, ValueError):
        pass  # missing or corrupt: recompute below

    model, tokenizer = _load(model_path, _resolve_device(device))
    scores = score_pairs(model, tokenizer, benchmark.pairs(forget_split), batch_size=batch_size)
    del model
    ratios = dict(zip(scores["example_id"], scores["truth_ratio"].astype(float)))
    spans = {
        row.example_id: {k: _plain(getattr(row, k)) for k in SPAN_KEYS}
        for row in scores.itertuples(index=False)
    }
    reference = clean_for_json(
        {
            "version": CACHE_VERSION,
            "forget_split": forget_split,
            "retain_model": retain_name,
            "fingerprint": fingerprint,
            "ratios": ratios,
            "spans": spans,
            "summary": {
                "n": len(ratios),
                "forget_truth_ratio": M.forget_truth_ratio_score(list(ratios.values())),
                "forget_prob": mean_of(scores["prob"]),
            },
        }
    )
    _try_write(lambda: atomic_write_json(path, reference), "the retain reference")
    return reference


SPAN_KEYS = ("span_logp", "span_recalled", "para_span_logp")


def _plain(value):
    """A list column's value as a plain list (None stays None)."""
    return None if value is None else [x.item() if hasattr(x, "item") else x for x in value]


def reference_ratios(reference: dict) -> list[float]:
    """The reference's truth ratios as floats (null → NaN, dropped by the KS test)."""
    return [NAN if v is None else float(v) for v in reference["ratios"].values()]


def forget_quality_vs_reference(
    model_eval: ModelEval, reference: dict | None, why_missing: str | None = None
) -> tuple[float, float, str | None]:
    """``(forget quality, KS statistic, note)``: the KS test of the model's forget truth ratios
    against the retain model's (:func:`retain_reference`). NaNs come with a note."""
    if reference is None:
        return NAN, NAN, why_missing or "no retain reference"
    ours = list(model_eval.forget_ratios().values())
    p, ks = M.forget_quality(ours, reference_ratios(reference))
    note = None
    if math.isnan(p):
        note = (
            "no finite truth ratios on the forget split (needs paraphrased and perturbed answers)"
        )
    return p, ks, note


# --------------------------------------------------------------------------------------------
# Step 0: the starting model, identical for every run on a benchmark
# --------------------------------------------------------------------------------------------


def step0_eval(
    benchmark: Benchmark,
    forget_split: str,
    model_path: str | Path,
    *,
    model: torch.nn.Module | None = None,
    tokenizer: Any = None,
    device: str | torch.device | None = None,
    batch_size: int = 64,
    plan: ScoringPlan | None = None,
) -> ModelEval:
    """The full evaluation of the starting model, cached per benchmark.

    Stored as ``eval_cache/step0_<forget_split>_<hash of model path + mtime>.{json,parquet}``
    and reused by every later run; recomputed when missing, unreadable or made for other data.
    ``model``/``tokenizer`` skip loading when the caller already holds the starting model.
    """
    key = model_fingerprint(model_path)
    stem = cache_dir(benchmark) / f"step0_{forget_split}_{key}"
    data_key = _data_fingerprint(benchmark, eval_splits(benchmark, forget_split))
    try:
        cached = ModelEval.load(stem)
        if read_json(stem.with_suffix(".json")).get("data") == data_key:
            return cached
    except Exception:
        pass
    if model is None or tokenizer is None:
        model, tokenizer = _load(model_path, _resolve_device(device))
    result = evaluate_model(
        model, tokenizer, benchmark, forget_split, batch_size=batch_size, plan=plan
    )

    _try_write(
        lambda: result.save(stem, meta={"data": data_key, "model_path": str(model_path)}),
        "the step-0 evaluation",
    )
    return result


def uq_vs_step0(model_eval: ModelEval, step0: ModelEval) -> dict[str, float]:
    """METHOD.md §4.2 relative to the starting model: K = forget_prob, U = model_utility."""
    return M.unlearning_quality(
        step0.summary["forget_prob"],
        model_eval.summary["forget_prob"],
        step0.summary["model_utility"],
        model_eval.summary["model_utility"],
    )
