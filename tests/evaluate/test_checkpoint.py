"""atwu.evaluate.checkpoint: eval.jsonl, eval_examples.parquet, re-evaluation, comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from bench_fixture import build_tiny_benchmark, weights_frame

from atwu.analysis.compare import compare_runs
from atwu.analysis.latex import to_latex_table
from atwu.benchmark import Benchmark
from atwu.evaluate.checkpoint import (
    EXAMPLE_SCHEMA,
    GENERATED_METRICS,
    MODEL_METRICS,
    NOT_KEPT_NOTE,
    QUICK_NOTE,
    STABLE_KEYS,
    CheckpointEvaluator,
)
from atwu.evaluate.rerun import evaluate_run
from atwu.io import read_jsonl, write_jsonl


def strict_records(path: Path) -> list[dict]:
    """eval.jsonl lines, refusing NaN/Infinity (the app's JSON readers would choke on them)."""

    def no_constants(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name} in {path}")

    return [
        json.loads(line, parse_constant=no_constants)
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def assert_nulls_explained(record: dict) -> None:
    for key in STABLE_KEYS:
        assert key in record, key
        if record[key] is None:
            assert record["notes"].get(key), f"{key} is null without a note"


def test_quick_run_records_and_examples(bench, full_model, tmp_path):
    model, tok = full_model
    run_dir = tmp_path / "run"
    forget = bench.pairs("forget10")
    ev = CheckpointEvaluator(bench, "forget10", tok, run_dir, quick=True, device="cpu")
    r0 = ev.evaluate(model, 0, weights_frame(tok, forget, 0))
    r5 = ev.evaluate(model, 5, weights_frame(tok, forget, 5))
    r10 = ev.evaluate(model, 10, weights_frame(tok, forget, 10), full=True)

    records = strict_records(run_dir / "eval.jsonl")
    assert [r["step"] for r in records] == [0, 5, 10]
    for record in records:
        assert_nulls_explained(record)
        assert record["seconds"] >= 0
        assert record["auroc"] is not None and 0 <= record["auroc"] <= 1

    # step 0 is the starting model: nothing forgotten yet
    assert r0["forget_efficacy"] == 0.0 and r0["retain_preservation"] in (1.0, None)
    assert 0.0 <= r0["forget_quality"] <= 1.0 and r0["ks_statistic"] is not None
    # quick step: the metrics that need generation are skipped and said so; every teacher-forced
    # one (the frontier's FFE and damage axes among them) is there
    for key in GENERATED_METRICS:
        assert r5[key] is None and r5["notes"][key] == QUICK_NOTE
    for key in ("forget_prob", "ffe", "template_damage", "heldout_damage", "fact_recall"):
        assert r5[key] is not None, key
    # the "final" model here is the starting model, so its metrics equal step 0's
    assert r10["forget_prob"] == pytest.approx(r0["forget_prob"], rel=1e-5)
    assert r10["forget_quality"] == pytest.approx(r0["forget_quality"])
    assert r10["general_prob"] is not None  # per-utility-split parts ride along

    table = pq.read_table(run_dir / "eval_examples.parquet")
    assert table.schema.equals(EXAMPLE_SCHEMA)
    rows = table.to_pandas()
    assert rows.groupby("step").size().to_dict() == {0: 13, 5: 13, 10: 13}
    quick = rows[rows["step"] == 5]
    assert quick["prob"].notna().all() and quick["generated"].isna().all()
    assert quick["auroc"].notna().any()
    final = rows[rows["step"] == 10]
    assert final.loc[final["split"] != "forget10", "auroc"].isna().all()
    assert final.loc[final["split"] == "forget10", "auroc"].notna().any()
    assert final["generated"].map(lambda g: isinstance(g, str)).all()


def test_step0_comes_from_the_cache(bench, full_model, tmp_path, monkeypatch):
    model, tok = full_model
    first = CheckpointEvaluator(bench, "forget10", tok, tmp_path / "a", device="cpu")
    r_first = first.evaluate(model, 0, None)
    from atwu.evaluate import reference as REF

    def fail(*args, **kwargs):
        raise AssertionError("a second run must reuse the cached step-0 evaluation")

    monkeypatch.setattr(REF, "evaluate_model", fail)
    monkeypatch.setattr(REF, "score_pairs", fail)  # the retain reference is cached too
    second = CheckpointEvaluator(bench, "forget10", tok, tmp_path / "b", device="cpu")
    r_second = second.evaluate(model, 0, None)
    for key in MODEL_METRICS:
        assert r_second[key] == r_first[key], key


def test_alignment_nulls_have_notes(bench, full_model, tmp_path):
    model, tok = full_model
    ev = CheckpointEvaluator(bench, "forget10", tok, tmp_path / "run", quick=True, device="cpu")
    no_weights = ev.evaluate(model, 3, None)
    assert no_weights["auroc"] is None
    assert "no token weights" in no_weights["notes"]["auroc"]

    all_facts = weights_frame(tok, bench.pairs("forget10"), 4)
    all_facts["label"] = 1
    record = ev.evaluate(model, 4, all_facts)
    assert record["auroc"] is None and record["auprc"] is None
    assert "label 1" in record["notes"]["auroc"]
    assert record["weight_mass"] == pytest.approx(1.0)
    assert_nulls_explained(record)


def test_missing_retain_model_gives_null_forget_quality(tmp_path, full_model):
    _, tok = full_model
    bench = Benchmark.load(build_tiny_benchmark(tmp_path / "b", with_retain_model=False))
    ev = CheckpointEvaluator(bench, "forget10", tok, tmp_path / "run", device="cpu")
    record = ev.evaluate(None, 0, None)  # step 0 needs no model: it is loaded or cached
    assert record["forget_quality"] is None and record["ks_statistic"] is None
    assert "prepare --retain-splits retain90" in record["notes"]["forget_quality"]
    assert record["forget_prob"] is not None
    assert_nulls_explained(record)


def test_evaluate_run_rebuilds_from_the_run_directory(bench, full_model, tmp_path):
    model, tok = full_model
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(
        json.dumps(
            {
                "benchmark": str(bench.root),
                "split": "forget10",
                "model": str(bench.target_model),
                "method": "atwu",
                "params": {},
                "seed": 0,
            }
        )
    )
    forget = bench.pairs("forget10")
    weights = pd.concat([weights_frame(tok, forget, s) for s in (0, 5, 10)], ignore_index=True)
    weights.to_parquet(run_dir / "weights.parquet", index=False)
    model.save_pretrained(run_dir / "model")
    tok.save_pretrained(run_dir / "model")

    evaluate_run(run_dir, device="cpu")
    records = strict_records(run_dir / "eval.jsonl")
    assert [r["step"] for r in records] == [0, 5, 10]
    r0, r5, r10 = records
    assert r0["forget_prob"] is not None and r10["forget_prob"] is not None
    assert r5["forget_prob"] is None and r5["notes"]["forget_prob"] == NOT_KEPT_NOTE
    assert all(r["auroc"] is not None for r in records)
    for record in records:
        assert_nulls_explained(record)

    # Metrics an earlier evaluation computed for an intermediate step are kept.
    old = read_jsonl(run_dir / "eval.jsonl")
    old[1]["forget_prob"] = 0.123
    write_jsonl(run_dir / "eval.jsonl", old)
    evaluate_run(run_dir, device="cpu")
    again = strict_records(run_dir / "eval.jsonl")
    assert again[1]["forget_prob"] == 0.123 and "forget_prob" not in again[1]["notes"]
    rows = pd.read_parquet(run_dir / "eval_examples.parquet")
    assert sorted(rows["step"].unique()) == [0, 5, 10]


def fake_run(root: Path, name: str, method: str, params: dict, seed: int, **metrics) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(
        json.dumps({"method": method, "params": params, "seed": seed})
    )
    base = {key: None for key in STABLE_KEYS}
    first = {**base, "step": 0, "forget_quality": 0.0, "notes": {}, "seconds": 1.0}
    last = {**base, "step": 100, **metrics, "notes": {}, "seconds": 1.0}
    write_jsonl(run_dir / "eval.jsonl", [first, last])
    return run_dir


def test_compare_runs_mean_and_std_over_seeds(tmp_path):
    params = {"lr": 1e-5, "alpha": 0.5}
    runs = [
        fake_run(tmp_path, "a0", "atwu", params, 0, forget_quality=0.2, model_utility=0.5, uq=80.0),
        fake_run(
            tmp_path, "a1", "atwu", dict(params), 1, forget_quality=0.4, model_utility=0.7, uq=None
        ),
        fake_run(tmp_path, "b0", "atwu", {"lr": 1e-5, "alpha": 1.0}, 0, forget_quality=0.9),
        fake_run(tmp_path, "g0", "grad_ascent", {"lr": 1e-5}, 0, forget_quality=0.01),
    ]
    df = compare_runs(runs)
    assert list(df[["method", "config", "n"]].itertuples(index=False, name=None)) == [
        ("atwu", "alpha=0.5", 2),
        ("atwu", "alpha=1.0", 1),
        ("grad_ascent", "", 1),
    ]
    pair = df.iloc[0]
    assert pair["forget_quality_mean"] == pytest.approx(0.3)
    assert pair["forget_quality_std"] == pytest.approx(0.1414213562)
    assert pair["model_utility_mean"] == pytest.approx(0.6)
    assert pair["uq_mean"] == pytest.approx(80.0) and math.isnan(pair["uq_std"])  # one non-null
    assert pair["seeds"] == "0,1"
    assert math.isnan(df.iloc[1]["forget_quality_std"])  # one run: std undefined
    assert math.isnan(df.iloc[0]["auroc_mean"])

    with_defaults = compare_runs(runs, defaults={"atwu": {"lr": 1e-5, "alpha": 0.5}})
    assert list(with_defaults["config"])[:2] == ["", "alpha=1.0"]

    latex = to_latex_table(df, metrics=["forget_quality", "uq"])
    assert "\\begin{tabular}" in latex and "\\toprule" in latex
    assert "0.300 $\\pm$ 0.141" in latex
    assert "grad\\_ascent" in latex and "forget\\_quality" in latex
    csv = tmp_path / "table.csv"
    df.to_csv(csv, index=False)
    assert pd.read_csv(csv)["n"].tolist() == [2, 1, 1]


def test_compare_runs_skips_runs_without_eval(tmp_path):
    run_dir = tmp_path / "empty"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"method": "atwu", "params": {}, "seed": 0}))
    with pytest.warns(UserWarning, match="no eval.jsonl"):
        df = compare_runs([run_dir])
    assert df.empty and "forget_quality_mean" in df.columns


def test_resumed_run_keeps_earlier_example_rows(bench, full_model, tmp_path):
    model, tok = full_model
    run_dir = tmp_path / "run"
    forget = bench.pairs("forget10")
    first = CheckpointEvaluator(bench, "forget10", tok, run_dir, quick=True, device="cpu")
    first.evaluate(model, 0, weights_frame(tok, forget, 0))
    first.evaluate(model, 5, weights_frame(tok, forget, 5))
    # a resumed run: a new evaluator on the same directory, eval.jsonl kept
    resumed = CheckpointEvaluator(bench, "forget10", tok, run_dir, quick=True, device="cpu")
    resumed.evaluate(model, 10, weights_frame(tok, forget, 10))
    steps = pd.read_parquet(run_dir / "eval_examples.parquet")["step"]
    assert sorted(steps.unique()) == [0, 5, 10]
    # a fresh run in the same directory: the engine removes eval.jsonl first
    (run_dir / "eval.jsonl").unlink()
    fresh = CheckpointEvaluator(bench, "forget10", tok, run_dir, quick=True, device="cpu")
    fresh.evaluate(model, 0, weights_frame(tok, forget, 0))
    assert sorted(pd.read_parquet(run_dir / "eval_examples.parquet")["step"].unique()) == [0]
