"""The demo bundle: the shipped one loads in full, and the builder makes a usable one."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from atwu import demo
from atwu.analysis.tradeoff import tradeoff_points, truth_ratio_comparison, truth_ratio_steps
from atwu.app.benchmarks import retain_reference_path
from atwu.app.comparison_view import comparison_table
from atwu.app.run_list import forget_split_of
from atwu.app.token_view import recorded_steps
from atwu.config import RunConfig, TrainSettings
from atwu.runs.read import list_runs, read_eval_examples, read_evals, read_examples, read_weights

SHIPPED = demo.shipped_demo_dir()


def test_shipped_bundle_loads():
    assert (SHIPPED / "demo.json").is_file(), "run `python -m atwu demo --out assets/demo`"
    assert demo.check_bundle(SHIPPED) == []
    runs = list_runs(SHIPPED)
    described = json.loads((SHIPPED / "demo.json").read_text())
    assert sorted(r.name for r in runs) == sorted(e["name"] for e in described["runs"])
    assert {
        (r.config["tags"]["variant"], r.config["tags"]["strength_multiplier"], r.config["seed"])
        for r in runs
    } == set(demo.demo_runs())
    for run in runs:
        assert not run.problems and run.state == "done", run.name
        weights = read_weights(run.path)
        assert not weights.empty and weights["weight"].notna().all(), run.name
        assert len(recorded_steps(weights)) >= 2, run.name
        evals = read_evals(run.path)
        assert not evals.empty and {"forget_quality", "model_utility", "auroc"} <= set(evals)
        examples = pd.read_parquet(run.path / "eval_examples.parquet")
        split = forget_split_of(run.config)
        assert (examples["split"] == split).any(), run.name
        assert read_examples(run.path), run.name
        assert not (run.path / "model").exists() and not (run.path / "state").exists()
        assert retain_reference_path(run.path, run.config) is not None, run.name
    assert demo.bundle_size(SHIPPED) < demo.MAX_BUNDLE_BYTES


def test_shipped_bundle_feeds_every_page():
    runs = list_runs(SHIPPED)
    evals = {r.name: read_evals(r.path) for r in runs}
    points = tradeoff_points(evals)
    assert set(points["run"]) == {r.name for r in runs}
    table, warnings = comparison_table([r.path for r in runs])
    assert not warnings
    # one row per configuration: ATWU at its three strengths and GradDiff, three seeds each, so
    # mean ± std shows; the other methods once
    atwu = table[table["method"] == "atwu"]
    assert len(atwu) == 3 and (atwu["n"] == 3).all()
    assert atwu["auroc_std"].notna().all() and atwu["forget_quality_std"].notna().all()
    assert table.loc[table["method"] == "graddiff", "n"].tolist() == [3]
    atwu_run = next(r for r in runs if r.name == "atwu-s0")
    examples, split = read_eval_examples(atwu_run.path), forget_split_of(atwu_run.config)
    steps = truth_ratio_steps(examples, split)
    assert steps
    ref = json.loads(retain_reference_path(atwu_run.path, atwu_run.config).read_text())
    cmp = truth_ratio_comparison(examples, split, steps[-1], ref)
    assert cmp["n_unlearned"] > 0 and cmp["n_retain"] > 0


def test_bundle_run_leaves_model_and_state_out(tmp_path):
    src = tmp_path / "src"
    (src / "model").mkdir(parents=True)
    (src / "state").mkdir()
    for name in ("config.json", "status.json", "scorer.safetensors", "notes.txt"):
        (src / name).write_text("x")
    pd.DataFrame({"step": [0, 10], "weight": [0.5, 0.25]}).to_parquet(src / "weights.parquet")
    demo.bundle_run(src, tmp_path / "dst")
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == [
        "config.json",
        "scorer.safetensors",
        "status.json",
        "weights.parquet",
    ]
    # recompressed for the bundle, the same table
    assert pd.read_parquet(tmp_path / "dst" / "weights.parquet")["weight"].tolist() == [0.5, 0.25]


def test_check_bundle_reports_problems(tmp_path):
    assert demo.check_bundle(tmp_path) == [f"{tmp_path} holds no runs"]
    run = tmp_path / "r"
    (run / "model").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"method": "atwu"}))
    (run / "status.json").write_text(json.dumps({"state": "failed"}))
    problems = " | ".join(demo.check_bundle(tmp_path))
    for words in (
        "state failed",
        "no token weights",
        "no evaluation rows",
        "model/",
        "retain reference",
    ):
        assert words in problems


@pytest.mark.slow
def test_build_demo_makes_a_usable_bundle(small_benchmark, tmp_path):
    out = tmp_path / "demo"
    description = demo.build_demo(
        out,
        settings=(("atwu", (1.0, 2.0), 1), ("wga", (1.0,), 1)),
        base=RunConfig(method="atwu", train=TrainSettings(epochs=1)),
        benchmark=small_benchmark,
        executor_kind="local",
        log=lambda message: None,
    )
    assert [e["name"] for e in description["runs"]] == ["atwu-s0", "atwu-x2-s0", "wga-s0"]
    assert (out / "frontier.json").is_file() and (out / "frontier_points.csv").is_file()
    assert demo.check_bundle(out) == []
    assert (out / demo.BENCHMARK_DIR / "manifest.json").is_file()
    assert not any(out.glob("*/model")) and not any(out.glob("*/state"))
