"""Unit tests of the atwu.app view models and readers the pages use, on small hand-made frames."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from atwu.analysis.tradeoff import (
    BEST_RULE,
    best_checkpoint,
    tradeoff_points,
    truth_ratio_comparison,
    truth_ratio_steps,
)
from atwu.app.benchmarks import benchmark_dir_of, benchmark_summary, retain_reference_path
from atwu.app.comparison_view import (
    comparable_runs,
    formatted_comparison,
    group_labels,
    uq_ranking,
    without_empty_config,
)
from atwu.app.issues import run_issues, weights_issue
from atwu.app.run_form import param_overrides, param_specs, train_specs
from atwu.app.run_list import progress_of, run_label, run_table
from atwu.app.token_view import (
    example_table,
    generations,
    nearest_step,
    recorded_steps,
    scores_csv,
    threshold_range,
    threshold_stats,
    weight_bounds,
)
from atwu.evaluate.alignment_metrics import per_example_auroc, threshold_prf
from atwu.evaluate.tofu_metrics import forget_quality
from atwu.params import as_text
from atwu.runs.layout import WEIGHT_COLUMNS
from atwu.runs.read import RunInfo, read_evals, read_weights
from atwu.runs.write import write_weights


def _weights(n_examples: int = 5, n_tokens: int = 12, steps=(0, 10), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for step in steps:
        for e in range(n_examples):
            labels = rng.choice([-1, 0, 1], size=n_tokens, p=[0.2, 0.5, 0.3])
            # ties on purpose: weights rounded to one decimal
            weights = np.round(rng.random(n_tokens), 1)
            for p in range(n_tokens):
                rows.append(
                    {
                        "step": step,
                        "example_id": f"ex{e}",
                        "position": p,
                        "token": f"t{p}",
                        "char_start": p,
                        "char_end": p + 1,
                        "weight": float(weights[p]),
                        "label": int(labels[p]),
                        "span_kind": "specific" if labels[p] == 1 else None,
                    }
                )
    return pd.DataFrame(rows, columns=WEIGHT_COLUMNS)


def _info(tmp_path, name="r", state="done", message="", problems=()) -> RunInfo:
    return RunInfo(
        path=tmp_path / name,
        name=name,
        config={"method": "atwu", "seed": 0},
        status={"state": state, "message": message},
        problems=list(problems),
    )


def test_fast_auroc_matches_the_metric_definition():
    w = _weights(n_examples=30, seed=3)
    one = w[w["step"] == 0]
    # an example with one class only must be NaN
    one = pd.concat(
        [
            one,
            pd.DataFrame(
                {
                    "step": 0,
                    "example_id": "allfact",
                    "position": [0, 1],
                    "token": "x",
                    "weight": [0.1, 0.9],
                    "label": [1, 1],
                }
            ),
        ]
    )
    fast = per_example_auroc(one)
    # the definition, one sklearn call per example (label -1 left out; one class: undefined)
    from sklearn.metrics import roc_auc_score

    slow = {}
    for ex, g in one.groupby("example_id", sort=False):
        g = g[g["label"] != -1]
        slow[ex] = roc_auc_score(g["label"], g["weight"]) if g["label"].nunique() == 2 else np.nan
    assert list(fast.index) == list(slow)
    np.testing.assert_allclose(fast.to_numpy(), list(slow.values()), equal_nan=True)
    assert math.isnan(fast["allfact"])


def test_example_table_joins_auroc_and_forget_loss():
    w = _weights()
    step0 = w[w["step"] == 0]
    ev = pd.DataFrame(
        {
            "step": [0, 0, 10],
            "split": ["forget10", "retain_eval", "forget10"],
            "example_id": ["ex1", "ex1", "ex1"],
            "forget_loss": [0.5, 9.0, 2.0],
        }
    )
    examples = {"ex1": {"question": "Where?", "answer": "There."}}
    table = example_table(step0, ev, examples, step=0, split="forget10")
    assert list(table.columns) == [
        "example_id",
        "AUROC",
        "forget loss",
        "mean weight (facts)",
        "mean weight (other)",
        "fact tokens",
        "tokens",
        "question",
    ]
    assert len(table) == 5 and (table["tokens"] == 12).all()
    row = table.set_index("example_id").loc["ex1"]
    assert row["forget loss"] == 0.5 and row["question"] == "Where?"
    assert np.isnan(table.set_index("example_id").loc["ex0", "forget loss"])
    assert row["fact tokens"] == int(((step0["example_id"] == "ex1") & (step0["label"] == 1)).sum())


def test_threshold_stats_agree_with_threshold_prf():
    w = _weights()
    s = threshold_stats(w, 0.5)
    p, r, f = threshold_prf(w["weight"], w["label"], 0.5)
    assert (s["precision"], s["recall"], s["f1"]) == pytest.approx((p, r, f))
    assert s["tokens"] == int((w["label"] != -1).sum())
    assert math.isnan(threshold_stats(pd.DataFrame(), 0.5)["f1"])


def test_steps_and_nearest_step():
    w = _weights(steps=(0, 10, 25))
    steps = recorded_steps(w)
    assert steps == [0, 10, 25]
    assert nearest_step(steps, 10) == 10
    assert nearest_step(steps, 24) == 10
    assert nearest_step([5, 10], 0) == 5
    assert nearest_step([], 3) is None


def test_threshold_range_and_bounds():
    assert threshold_range(0.0, 0.73) == (0.0, 1.0, 0.5)
    lo, hi, default = threshold_range(0.2, 1.93)
    assert (lo, hi) == (0.0, 2.0) and lo <= default <= hi
    assert weight_bounds([]) == (0.0, 1.0)
    assert weight_bounds([pd.DataFrame({"weight": [0.2, np.nan, 3.0]})]) == (0.2, 3.0)


def test_generations_fall_back_to_an_earlier_step():
    ev = pd.DataFrame(
        {
            "step": [0, 10, 20],
            "split": "forget10",
            "example_id": "a",
            "generated": ["before", None, "after"],
        }
    )
    g = generations(ev, "forget10", "a", 20)
    assert (g["before"], g["after"], g["after_step"]) == ("before", "after", 20)
    g = generations(ev, "forget10", "a", 10)
    assert g["after"] == "before" and g["after_step"] == 0 and "step 10" in g["note"]
    assert generations(None, "forget10", "a", 0)["after"] is None


def test_best_checkpoint_rule():
    points = pd.DataFrame(
        {
            "run": ["a", "a", "b", "b"],
            "step": [0, 10, 0, 10],
            "forget_quality": [1e-5, 0.2, 0.06, 0.01],
            "model_utility": [0.9, 0.5, 0.7, 0.95],
        }
    )
    best = best_checkpoint(points, min_forget_quality=0.05)
    assert best.iloc[0][["run", "step"]].tolist() == ["b", 0]  # highest utility with fq >= 0.05
    best = best_checkpoint(points, min_forget_quality=0.5)
    assert best.iloc[0][["run", "step"]].tolist() == ["a", 10]  # none reaches it: highest fq
    assert best_checkpoint(points.iloc[0:0]).empty
    assert "0.05" in BEST_RULE.format(min_fq=0.05)


def test_tradeoff_points_skip_unevaluated_checkpoints():
    evals = {
        "r": pd.DataFrame(
            {
                "step": [0, 10, 20],
                "forget_quality": [1e-3, None, 0.3],
                "model_utility": [0.8, None, 0.6],
            }
        ),
        "empty": pd.DataFrame(),
    }
    pts = tradeoff_points(evals)
    assert pts["step"].tolist() == [0, 20] and set(pts["run"]) == {"r"}


def test_truth_ratio_comparison_matches_forget_quality():
    ev = pd.DataFrame(
        {
            "step": 5,
            "split": "forget10",
            "example_id": list("abcd"),
            "truth_ratio": [0.5, 1.0, 2.0, np.nan],
        }
    )
    ref = {"ratios": {"a": 0.01, "b": 0.02, "c": None, "d": 0.05}}
    out = truth_ratio_comparison(ev, "forget10", 5, ref)
    p, ks = forget_quality([0.5, 1.0, 2.0], [0.01, 0.02, 0.05])
    assert (out["p_value"], out["ks"]) == pytest.approx((p, ks))
    assert out["n_unlearned"] == 3 and out["n_retain"] == 3
    assert out["unlearned"] == pytest.approx(np.log10([0.5, 1.0, 2.0]).tolist())
    assert truth_ratio_steps(ev, "forget10") == [5]


def test_run_issues_say_what_and_how_to_fix(tmp_path):
    issues = run_issues(_info(tmp_path, problems=["config.json is unreadable (bad)"]))
    assert issues[0].level == "error"
    assert "config.json" in issues[0].text and ".logs" in issues[0].text
    failed = run_issues(_info(tmp_path, state="failed", message="Diverged"))
    assert failed[0].level == "error"
    assert "Diverged" in failed[0].text and "--resume" in failed[0].text
    assert weights_issue(_info(tmp_path), [0, 10], None) is None
    assert weights_issue(_info(tmp_path), [], None).level == "warning"
    assert weights_issue(_info(tmp_path, state="running"), [], None).level == "info"
    assert "unreadable" in weights_issue(_info(tmp_path), None, "ArrowInvalid").text


def test_read_weights_file_checks_columns(tmp_path):
    assert read_weights(tmp_path).empty
    write_weights(tmp_path, pd.DataFrame({"step": [0], "weight": [0.1]}))
    with pytest.raises(ValueError, match="lacks column"):
        read_weights(tmp_path)
    write_weights(tmp_path, _weights(n_examples=1))
    assert read_weights(tmp_path)["example_id"].map(type).eq(str).all()


def test_read_evals_keeps_the_last_record_of_a_step(tmp_path):
    (tmp_path / "eval.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"step": 0, "auroc": 0.5},
                {"step": 10, "auroc": 0.6},
                {"step": 10, "auroc": 0.7},
            ]
        )
        + "\n"
    )
    ev = read_evals(tmp_path)
    assert ev["step"].tolist() == [0, 10] and ev["auroc"].tolist() == [0.5, 0.7]


def test_param_specs_and_overrides():
    specs = {s.name: s for s in param_specs("atwu")}
    assert specs["forget_loss"].kind == "choice" and "npo_token" in specs["forget_loss"].choices
    # int | None (None: a share of the run's steps) is typed as text, "none" by default
    assert specs["scorer_warmup_steps"].kind == "text" and specs["scorer_warmup_steps"].optional
    assert specs["scorer_init_bias"].kind == "float"
    assert specs["scorer_lr"].kind == "float" and specs["scorer_lr"].help
    values = {name: s.default for name, s in specs.items()}
    assert param_overrides("atwu", values) == {}
    values.update(scorer_lr="0.05", scorer_warmup_steps=10)
    assert param_overrides("atwu", values) == {"scorer_lr": "0.05", "scorer_warmup_steps": "10"}
    from atwu.methods.base import MethodError

    with pytest.raises(MethodError, match="scorer_lr"):
        param_overrides("atwu", {"scorer_lr": "fast"})
    train = {s.name: s for s in train_specs()}
    assert train["steps"].kind == "int" and train["lr"].kind == "float"
    # 0 in the form means "the default rule": 12 epochs, 6 checkpoints per run
    assert train["steps"].default == 0 and train["checkpoint_every"].default == 0
    assert train["epochs"].kind == "float" and train["epochs"].default == 12


def test_as_text_round_trips_defaults():
    assert as_text(5e-4) == "0.0005"
    assert float(as_text(1e-5)) == 1e-5
    assert as_text(True) == "true" and as_text(None) == "none" and as_text(3) == "3"


def test_benchmark_summary(tmp_path):
    assert benchmark_summary(tmp_path) is None
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "name": "b",
                "kind": "embedded",
                "authors": 4,
                "default_forget_split": "forget10",
                "forget_splits": {"forget10": "retain90"},
                "utility_splits": ["retain_eval"],
                "splits": {"forget10": {"n": 4}, "retain90": {"n": 36}, "retain_eval": {"n": 8}},
            }
        )
    )
    (tmp_path / "quality.json").write_text(
        json.dumps(
            {
                "models": {
                    "full": {
                        "parameters": 10,
                        "exact_match": {"forget10": 1.0},
                        "train_pairs": 40,
                        "epochs": 3,
                    }
                },
                "prepare_seconds": 12.0,
            }
        )
    )
    s = benchmark_summary(tmp_path)
    assert s["authors"] == 4 and s["default_split"] == "forget10"
    roles = dict(zip(s["splits"]["split"], s["splits"]["role"]))
    assert roles["forget10"].startswith("forget") and roles["retain90"].startswith("retain")
    assert s["models"].iloc[0]["exact match"] == "forget10 1.000"


def test_benchmark_and_reference_are_found_beside_a_bundled_run(tmp_path):
    run = tmp_path / "bundle" / "atwu-s0"
    run.mkdir(parents=True)
    bench = tmp_path / "bundle" / "_benchmark"
    (bench / "eval_cache").mkdir(parents=True)
    (bench / "manifest.json").write_text("{}")
    (bench / "eval_cache" / "retain_reference_forget10.json").write_text("{}")
    config = {"benchmark": "/gone", "resolved": {"benchmark": "/gone", "split": "forget10"}}
    assert benchmark_dir_of(run, config) == bench
    assert (
        retain_reference_path(run, config)
        == bench / "eval_cache" / "retain_reference_forget10.json"
    )
    assert retain_reference_path(run, {**config, "resolved": {"split": "forget05"}}) is None


def test_comparison_formatting_and_ranking():
    table = pd.DataFrame(
        {
            "method": ["atwu", "wga"],
            "config": ["", "beta=5"],
            "n": [3, 1],
            "uq_mean": [40.0, 55.0],
            "uq_std": [2.0, np.nan],
            "forget_efficacy_mean": [0.5, 0.6],
            "forget_efficacy_std": [0.1, np.nan],
            "retain_preservation_mean": [0.9, 0.8],
            "retain_preservation_std": [0.01, np.nan],
            "forget_quality_mean": [1e-5, 0.2],
            "forget_quality_std": [1e-6, np.nan],
        }
    )
    f = formatted_comparison(table, ["uq", "forget_quality", "missing"])
    assert list(f.columns) == ["method", "config", "n", "UQ", "forget quality"]
    assert f["UQ"].tolist() == ["40.0 ± 2.0", "55.0"]
    assert "config" in without_empty_config(f).columns
    assert "config" not in without_empty_config(f.assign(config="")).columns
    assert "e-05" in f["forget quality"][0]
    ranking = uq_ranking(table)
    assert ranking["method"].tolist() == ["wga", "atwu"] and ranking["rank"].tolist() == [1, 2]
    assert group_labels(table)["method"].tolist() == ["atwu", "wga (beta=5)"]


def test_comparable_runs_explains_what_is_left_out(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "eval.jsonl").write_text('{"step": 0}\n')
    bad = tmp_path / "bad"
    bad.mkdir()
    keep, notes = comparable_runs(
        [
            RunInfo(good, "good", {"method": "atwu"}, {"state": "done"}, []),
            RunInfo(bad, "bad", {"method": "atwu"}, {"state": "done"}, []),
            RunInfo(bad, "broken", {}, {}, ["config.json is unreadable (x)"]),
        ]
    )
    assert [r.name for r in keep] == ["good"]
    assert any("bad" in n and "python -m atwu eval" in n for n in notes)
    assert any("broken" in n and "config.json" in n for n in notes)


def test_progress_and_labels(tmp_path):
    info = RunInfo(
        tmp_path,
        "r",
        {"method": "wga", "seed": 2},
        {"state": "running", "step": 5, "total_steps": 20},
        [],
    )
    assert progress_of(info) == 0.25
    assert run_label(info, demo=True) == "demo · r (wga, seed 2, running)"
    table = run_table([info])
    assert table.iloc[0]["method"] == "wga" and table.iloc[0]["step"] == 5


def test_scores_csv_has_the_contract_columns():
    csv = scores_csv(_weights(n_examples=1, steps=(0,))).decode()
    assert csv.splitlines()[0] == ",".join(WEIGHT_COLUMNS)
