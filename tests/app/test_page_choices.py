"""What the pages pick by default and say, without Streamlit: the sidebar's run, the Run page's
benchmark list, the Trade-offs and Method comparison pages' selections and sentences."""

from __future__ import annotations

import math

import pandas as pd

from atwu.app.benchmarks import (
    OTHER,
    RWKU,
    TOFU,
    UPLOAD,
    benchmark_option_label,
    benchmark_options,
    prepared_benchmarks,
)
from atwu.app.comparison_view import default_selection, latex_export, present_metrics
from atwu.app.run_list import default_run, run_caption
from atwu.app.tradeoff_view import (
    best_run,
    best_text,
    default_runs,
    default_step,
    evaluated_runs,
    ks_caption,
    meets_rule,
    no_best_text,
    recorded_forget_quality,
    recorded_ks_interval,
    sweep_ids,
    sweep_runs,
)
from atwu.runs.read import RunInfo


def _run(tmp_path, name, method="atwu", *, state="done", started="", split="forget10", **config):
    path = tmp_path / name
    path.mkdir(exist_ok=True)
    return RunInfo(
        path,
        name,
        {"method": method, "seed": 0, "resolved": {"split": split}, **config},
        {"state": state, "started_at": started, "step": 3, "total_steps": 9},
        [],
    )


def test_sidebar_default_run_and_caption(tmp_path):
    old = _run(tmp_path, "old", "wga", started="2026-01-01T00:00:00")
    new = _run(tmp_path, "new", "npo", started="2026-02-01T00:00:00")
    atwu = _run(tmp_path, "atwu-s0", "atwu", started="2025-01-01T00:00:00")
    assert default_run([old, new, atwu], demo=False) == "new"  # what was just launched
    assert default_run([old, new, atwu], demo=True) == "atwu-s0"  # the demo shows ATWU first
    assert default_run([old], demo=True) == "old"
    assert default_run([], demo=False) is None
    # the first run's references start after it: the sidebar still shows the run itself
    ref = _run(
        tmp_path, "oracle-x", "oracle", started="2026-03-01T00:00:00", tags={"reference_for": "new"}
    )
    assert default_run([old, new, ref], demo=False) == "new"
    assert default_run([ref], demo=False) == "oracle-x"
    assert run_caption(new) == "npo · seed 0 · done · step 3/9 · forget10"
    assert run_caption(new, "failed").startswith("npo · seed 0 · failed")  # the pages' state
    bare = RunInfo(tmp_path, "x", {}, {}, ["config.json is missing"])
    assert run_caption(bare) == "? · seed ? · unknown · step ?/?"


def test_benchmark_list(tmp_path):
    default = tmp_path / "embedded"
    for name in ("embedded", "mine", "half-done"):
        (tmp_path / name).mkdir()
    for name in ("embedded", "mine"):
        (tmp_path / name / "manifest.json").write_text("{}")
    prepared = prepared_benchmarks(tmp_path)
    assert prepared == [tmp_path / "embedded", tmp_path / "mine"]
    assert prepared_benchmarks(tmp_path / "nowhere") == []
    options = benchmark_options(prepared, default)
    assert options == [str(default), str(tmp_path / "mine"), OTHER, UPLOAD, TOFU, RWKU]
    assert benchmark_option_label(str(default), default) == "embedded (default)"
    assert benchmark_option_label(str(tmp_path / "mine"), default) == "mine"
    assert benchmark_option_label(str(tmp_path / "half-done"), default) == (
        "half-done — not prepared yet"
    )
    assert benchmark_option_label(TOFU, default) == TOFU


def test_tradeoff_run_choices(tmp_path):
    runs = [_run(tmp_path, f"r{i}", sweep_id="s1" if i < 3 else None) for i in range(14)]
    runs.append(_run(tmp_path, "other-split", split="forget05", sweep_id="s2"))
    (runs[0].path / "eval.jsonl").write_text("{}\n")
    assert [r.name for r in evaluated_runs(runs)] == ["r0"]
    assert sweep_ids(runs) == ["s1", "s2"]
    assert sweep_runs(runs, "s1") == ["r0", "r1", "r2"]
    # the picked run first, then others on its split, at most twelve
    picked = runs[5]
    chosen = default_runs(runs, picked)
    assert chosen[0] == "r5" and len(chosen) == 12 and "other-split" not in chosen
    assert default_runs(runs, runs[-1]) == ["other-split"]
    assert default_runs(runs[:3], None) == ["r0", "r1", "r2"]


def test_best_checkpoint_sentences():
    best = pd.DataFrame(
        [{"run": "b", "step": 20, "forget_quality": 0.1234, "model_utility": 0.45678}]
    )
    assert best_text(best) == (
        "**Best checkpoint**: `b` at step **20** — forget quality 0.123, model utility 0.457."
    )
    assert best_text(best.iloc[0:0]) == ""
    assert best_run(best, ["a", "b"]) == "b"
    assert best_run(best, ["a", "c"]) == "a"  # the best run is not among the chosen
    assert default_step(best, "b", [0, 10, 20, 30]) == 20
    assert default_step(best, "a", [0, 10, 30]) == 30
    assert default_step(best, "b", [0, 10]) == 10  # its step has no truth ratios: the last one


def test_ks_caption_with_and_without_a_recorded_forget_quality():
    evals = pd.DataFrame({"step": [0, 10], "forget_quality": [0.5, None]})
    assert recorded_forget_quality(evals, 0) == 0.5
    assert math.isnan(recorded_forget_quality(evals, 10))
    assert math.isnan(recorded_forget_quality(evals, 99))
    assert math.isnan(recorded_forget_quality(pd.DataFrame({"step": [0]}), 0))
    assert math.isnan(recorded_forget_quality(None, 0))
    cmp = {"n_unlearned": 20, "n_retain": 19, "ks": 0.31234, "p_value": 0.0123}
    assert ks_caption(cmp, 0.0123) == (
        "20 unlearned vs 19 retain-model questions: KS statistic 0.312, p-value 0.0123 "
        "(eval.jsonl records forget quality 0.0123 at this step)."
    )
    assert ks_caption(cmp, math.nan).endswith("p-value 0.0123.")


def test_comparison_choices(tmp_path):
    runs = [
        _run(tmp_path, "a", state="done"),
        _run(tmp_path, "b", state="running"),
        _run(tmp_path, "c", state="done"),
    ]
    assert default_selection(runs) == ["a", "c"]
    assert default_selection(runs[1:2]) == ["b"]
    table = pd.DataFrame(
        {
            "method": ["atwu"],
            "config": [""],
            "n": [1],
            "uq_mean": [50.0],
            "uq_std": [math.nan],
            "auroc_mean": [math.nan],
        }
    )
    assert present_metrics(table, ["uq", "auroc", "forget_quality"]) == ["uq"]
    latex, error = latex_export(table, ["uq", "forget_prob"])  # LaTeX: headline metrics only
    assert error is None and latex is not None and "atwu" in latex
    latex, error = latex_export(pd.DataFrame({"x": [1]}), ["uq"])
    assert latex is None and error is not None and error.startswith("LaTeX export failed")


def test_run_caption_reads_the_configured_split_when_unresolved(tmp_path):
    info = RunInfo(tmp_path, "r", {"method": "ga", "split": "forget05"}, {"state": "queued"}, [])
    assert run_caption(info).endswith("queued · step ?/? · forget05")


def test_no_checkpoint_meeting_the_rule_is_said_not_named_best():
    best = pd.DataFrame(
        [{"run": "b", "step": 20, "forget_quality": 3.1e-11, "model_utility": 0.45678}]
    )
    assert not meets_rule(best, 0.05)
    assert meets_rule(best, 1e-12)
    assert not meets_rule(best.iloc[0:0], 0.0)
    assert no_best_text(best, 0.05) == (
        "No checkpoint of these runs reaches forget quality ≥ 0.05, so none meets the rule. "
        "The highest forget quality, 3.1e-11 (`b` at step 20, model utility 0.457), is marked "
        "instead."
    )


def test_ks_caption_carries_the_recorded_interval():
    evals = pd.DataFrame({"step": [0, 10], "ks_low": [0.7, None], "ks_high": [0.9, None]})
    assert recorded_ks_interval(evals, 0) == (0.7, 0.9)
    assert all(math.isnan(x) for x in recorded_ks_interval(evals, 10))
    assert all(math.isnan(x) for x in recorded_ks_interval(pd.DataFrame({"step": [0]}), 0))
    assert all(math.isnan(x) for x in recorded_ks_interval(None, 0))
    cmp = {"n_unlearned": 20, "n_retain": 19, "ks": 0.81234, "p_value": 1e-9}
    assert ks_caption(cmp, math.nan, (0.7, 0.9)) == (
        "20 unlearned vs 19 retain-model questions: KS statistic 0.812 (95% bootstrap "
        "interval 0.700–0.900), p-value 1e-09."
    )


def test_comparison_at_default_settings_starts_from_default_strengths(tmp_path):
    def tagged(name, multiplier, state="done"):
        tags = {"variant": "atwu", "strength_multiplier": multiplier}
        return _run(tmp_path, name, state=state, tags=tags)

    runs = [tagged("x1", 1.0), tagged("x4", 4.0), tagged("x025", 0.25), _run(tmp_path, "plain")]
    assert default_selection(runs) == ["x1", "plain"]
    assert default_selection(runs[1:3]) == ["x4", "x025"]  # none at default: all finished ones
    assert default_selection([tagged("r", 1.0, state="running")]) == ["r"]
