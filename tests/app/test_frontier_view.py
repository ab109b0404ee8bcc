"""The frontier views' data without Streamlit: which runs and which analysis, the envelope drawn,
and the tables and sentences of the Trade-offs and Method comparison pages (METHOD.md §4.6)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from frontier_runs import NO_NEIGHBOURS, STEPS, make_frontier, make_run

from atwu.analysis import frontier_report
from atwu.analysis.frontier_data import load_frontier_data, run_dirs_under
from atwu.app import frontier_view as V
from atwu.runs.read import list_runs, read_evals


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return make_frontier(tmp_path_factory.mktemp("out") / "runs")


@pytest.fixture(scope="module")
def result(runs_dir) -> dict:
    return V.analyse_live(load_frontier_data(run_dirs_under(runs_dir)), n_resamples=200)


def test_a_written_frontier_is_found_beside_the_runs_or_in_them(tmp_path):
    (tmp_path / "out" / "runs").mkdir(parents=True)
    assert V.frontier_file(tmp_path / "out" / "runs") is None
    (tmp_path / "out" / "frontier.json").write_text("{}")
    assert V.frontier_file(tmp_path / "out" / "runs") == tmp_path / "out" / "frontier.json"
    assert V.frontier_file(tmp_path / "out") == tmp_path / "out" / "frontier.json"
    assert V.frontier_file(tmp_path / "elsewhere" / "runs") is None


def test_the_most_common_split_comes_first(tmp_path):
    for seed in range(2):
        make_run(tmp_path, "atwu", 1.0, seed)
    make_run(tmp_path, "uniform", 1.0, 0, split="forget05")
    (tmp_path / "never-evaluated").mkdir()
    (tmp_path / "never-evaluated" / "config.json").write_text('{"method": "atwu"}')
    runs = list_runs(tmp_path)
    assert V.split_choices(runs) == ["forget10", "forget05"]
    assert [r.name for r in V.runs_on_split(runs, "forget05")] == ["uniform-x1-s0"]
    assert len(V.runs_on_split(runs, "forget10")) == 2  # the unevaluated run is no candidate


def test_the_matched_table_compares_atwu_with_every_rival(result):
    table = V.matched_table(result)
    assert len(table) == 6  # 2 axes × 3 levels × one rival
    assert list(table.columns[:4]) == ["damage axis", "FFE ≥", "atwu's damage", "rival"]
    # uniform (ablation), the oracles, template_only (references): never rivals
    assert set(table["rival"]) == {"wga_b5"}
    template = table[table["damage axis"] == "template damage"]
    assert list(template["FFE ≥"]) == ["0.5", "0.75", "0.9"]
    assert set(template["verdict"]) == {"better"}
    low, high = (float(x) for x in template.iloc[0]["95% interval"].strip("[]").split(", "))
    assert low <= float(template.iloc[0]["difference"]) <= high < 0
    assert float(template.iloc[0]["Holm p"]) < 0.05
    seed_low, seed_high = (float(x) for x in template.iloc[0]["per-seed range"].split(" … "))
    assert seed_low <= seed_high < 0
    lines = V.decision_lines(result)
    assert lines[0].startswith("**Template damage**: ATWU improves the trade-off")
    assert "better than every rival at FFE 0.5, 0.75, 0.9" in lines[0]


def test_each_gate_passes_fails_or_cannot_be_checked(tmp_path, result):
    messages = V.gate_messages(result)
    assert [state for state, _ in messages] == ["passed"] * 3
    assert messages[0][1].startswith("Gate targeting passed")
    assert "FFE 0.5: oracle 0.010, shuffled_oracle 0.174" in messages[0][1]

    failing = make_frontier(tmp_path / "fails", seeds=1, gate_fails=True)
    bad = V.analyse_live(load_frontier_data(run_dirs_under(failing)), n_resamples=50)
    state, text = V.gate_messages(bad)[0]
    assert state == "failed" and "supports no claim until it passes" in text

    no_oracle = make_frontier(tmp_path / "no-oracle", seeds=1, variants=("atwu", "wga_b5"))
    partial = V.analyse_live(load_frontier_data(run_dirs_under(no_oracle)), n_resamples=50)
    assert {state for state, _ in V.gate_messages(partial)} == {"unchecked"}
    assert V.gate_message(None)[0] == "unchecked"


def test_an_analysis_written_before_the_three_gates_still_shows_its_gate():
    legacy = {
        "gate": {
            "passed": True,
            "reason": "the oracle damages less",
            "checked": [{"level": 0.5, "oracle": 0.01, "uniform": 0.2}],
        }
    }
    ((state, text),) = V.gate_messages(legacy)
    assert state == "passed" and "FFE 0.5: oracle 0.010, uniform 0.200" in text


def test_decision_in_words_names_levels_not_reached():
    result = {
        "axes": ["neighbour_damage"],
        "decision": {"neighbour_damage": {"improves": False}},
        "comparisons": [
            {"axis": "neighbour_damage", "level": 0.5, "verdict": "better"},
            {"axis": "neighbour_damage", "level": 0.75, "verdict": "worse"},
            {"axis": "neighbour_damage", "level": 0.9, "verdict": "not reached"},
        ],
    }
    result["decision"]["neighbour_damage"].update(better_at=[0.5], worse_at=[0.75])
    (line,) = V.decision_lines(result)
    assert line == (
        "**Neighbour damage**: ATWU does not improve the trade-off (better than every rival at "
        "FFE 0.5; significantly worse than a rival at 0.75; ATWU does not reach 0.9 (not better))."
    )


def test_a_written_analysis_reads_back_and_says_when_it_is_out_of_date(runs_dir, result):
    out = runs_dir.parent
    path = frontier_report.write(out, result)
    again = frontier_report.read(out)
    pd.testing.assert_frame_equal(V.matched_table(again), V.matched_table(result))
    pd.testing.assert_frame_equal(
        V.levels_table(again["tables"]["levels"]), V.levels_table(result["tables"]["levels"])
    )
    runs = list_runs(runs_dir)
    assert V.file_mismatch(again, "forget10", runs) is None
    assert "forget split forget10, not forget05" in V.file_mismatch(again, "forget05", runs)
    stranger = make_run(runs_dir.parent / "other", "atwu", 1.0, 7)
    assert V.file_mismatch(again, "forget10", list_runs(stranger.parent)) == (
        "none of its runs is in this runs directory"
    )
    assert V.stale_runs(path, runs) == []
    later = path.stat().st_mtime_ns + 10**9
    os.utime(runs_dir / "atwu-x1-s0" / "eval.jsonl", ns=(later, later))
    assert V.stale_runs(path, runs) == ["atwu-x1-s0"]
    assert V.source_text(path, again, 24).startswith(f"From `{path}`")
    assert "300 bootstrap resamples" in V.source_text(None, {**again, "n_resamples": 300}, 24)


def test_untagged_runs_count_as_their_method_at_default_strength(tmp_path):
    make_run(tmp_path, "atwu", 2.0, 0)
    make_run(tmp_path, "wga_b5", 1.0, 0, tagged=False)
    data = load_frontier_data(run_dirs_under(tmp_path), samples=False)
    plain = data.points[data.points["run"] == "wga-plain-s0"]
    assert set(plain["variant"]) == {"wga"} and set(plain["strength_multiplier"]) == {1.0}
    runs = list_runs(tmp_path)
    assert V.untagged(runs, set(data.points["run"])) == ["wga-plain-s0"]
    summary = V.summary_only(data)
    assert summary is not None and "comparisons" not in summary
    assert set(summary["tables"]["alignment"]["variant"]) == {"wga"}  # atwu ran at ×2 only
    assert V.source_text(None, summary, 2) == "Computed from the 2 run directories on this split."


def test_no_fact_level_metrics_means_no_analysis(tmp_path):
    run = make_run(tmp_path, "atwu", 1.0, 0)
    lines = (run / "eval.jsonl").read_text().splitlines()
    (run / "eval.jsonl").write_text("\n".join(ln.replace('"ffe"', '"old"') for ln in lines))
    data = load_frontier_data([run])
    assert V.analyse_live(data) is None and V.summary_only(data) is None


def _pts(rows):
    frame = pd.DataFrame(rows, columns=["variant", "seed", "step", "ffe", "template_damage"])
    return frame.assign(
        run=[f"{v}-s{s}" for v, s in zip(frame["variant"], frame["seed"])],
        strength=1.0,
        strength_multiplier=1.0,
        neighbour_damage=np.nan,
    )


def test_the_envelope_is_the_least_damage_reaching_each_ffe_segments_interpolated():
    points = _pts(
        [
            ("atwu", 0, 0, 0.0, 0.0),  # step 0 never counts
            ("atwu", 0, 10, 0.3, 0.10),
            ("atwu", 0, 20, 0.6, 0.05),  # less damage further on: it holds down to 0.3
            ("atwu", 0, 30, 0.9, 0.20),
            ("uniform", 0, 10, 0.4, 0.3),
            ("uniform", 1, 10, 0.4, 0.5),
            ("uniform", 1, 20, 0.8, 0.6),  # seed 0 stops at 0.4: the mean stops there too
        ]
    )
    env = V.envelope(points, "template_damage")
    atwu = env[env["curve"] == "atwu"].set_index("ffe")["damage"]
    assert [atwu.loc[f] for f in (0.3, 0.6, 0.9)] == pytest.approx([0.05, 0.05, 0.20])
    low = atwu[atwu.index <= 0.3]  # from θ0 (0, 0) to (0.3, 0.10), or the later 0.05
    assert low.to_numpy() == pytest.approx(np.minimum(low.index / 3, 0.05))
    uniform = env[env["curve"] == "uniform"]
    # seed 0 stops at 0.4: the mean stops there too; uniform records no step 0, so there is
    # no segment from θ0 and below 0.4 its least damage is its points' at 0.4: (0.3 + 0.5) / 2
    assert uniform["ffe"].max() == pytest.approx(0.4)
    assert uniform["damage"].to_numpy() == pytest.approx(0.4)
    drawn = V.drawn_points(points, "template_damage")
    assert (drawn["step"] > 0).all() and len(drawn) == 6
    assert set(drawn["role"]) == {"method", "ablation"}
    assert V.envelope(points, "neighbour_damage").empty  # no neighbour damage recorded


def test_levels_and_alignment_tables_put_atwu_first_and_say_not_reached():
    levels = pd.DataFrame(
        [
            ("uniform", "template_damage", 0.5, 0.2, 0.01, 2, 2, True),
            ("atwu", "template_damage", 0.5, 0.05, math.nan, 1, 1, True),
            ("wga_b5", "template_damage", 0.5, math.nan, math.nan, 1, 2, False),
        ],
        columns=[
            "curve",
            "axis",
            "level",
            "damage",
            "damage_std",
            "seeds_reaching",
            "seeds",
            "reached",
        ],
    )
    table = V.levels_table(levels)
    assert table["variant"].tolist() == ["atwu", "wga_b5", "uniform"]
    column = table["template damage at FFE 0.5"].tolist()
    assert column == ["0.050 (1/1 seeds)", "not reached (1/2 seeds)", "0.200 ± 0.010 (2/2 seeds)"]
    alignment = pd.DataFrame(
        [
            {
                "variant": "wga",
                "seeds_reaching": 0,
                "seeds": 2,
                "ffe": math.nan,
                "step": math.nan,
                "auroc": math.nan,
                "auroc_retain_conflict": math.nan,
            },
            {
                "variant": "atwu",
                "seeds_reaching": 2,
                "seeds": 2,
                "ffe": 0.55,
                "ffe_std": 0.01,
                "step": 30.0,
                "auroc": 0.91,
                "auroc_std": 0.02,
                "auroc_retain_conflict": 0.66,
            },
        ]
    )
    shown = V.alignment_table(alignment)
    assert shown["variant"].tolist() == ["atwu", "wga"]
    assert shown.iloc[0].to_dict() == {
        "variant": "atwu",
        "role": "method",
        "AUROC": "0.910 ± 0.020",
        "retain-conflict AUROC": "0.660",
        "FFE there": "0.550 ± 0.010",
        "step": "30",
        "seeds": "2/2 reach FFE 0.5",
    }
    assert shown.iloc[1]["AUROC"] == "–" and shown.iloc[1]["seeds"] == "0/2 reach FFE 0.5"


def test_stamps_change_when_a_run_is_evaluated_again(tmp_path):
    run = make_run(tmp_path, "atwu", 1.0, 0)
    runs = list_runs(tmp_path)
    before = V.run_stamps(runs)
    with (run / "eval.jsonl").open("a") as f:
        f.write(json.dumps({"step": STEPS[-1] + 10, "ffe": 1.0}) + "\n")
    assert V.run_stamps(runs) != before


def test_an_axis_no_run_records_is_said_unmeasured_not_compared(tmp_path):
    runs = make_frontier(tmp_path, seeds=1, neighbours=False)
    result = V.analyse_live(load_frontier_data(run_dirs_under(runs)), n_resamples=50)
    assert V.unmeasured_axes(result) == ["neighbour_damage"]
    assert set(V.matched_table(result)["damage axis"]) == {"template damage"}
    assert V.decision_lines(result)[1] == (
        "**Neighbour damage**: not measured (no run records it), so nothing is decided on "
        "this axis."
    )
    levels = V.levels_table(result["tables"]["levels"], skip_axes=V.unmeasured_axes(result))
    assert not [c for c in levels.columns if c.startswith("neighbour")]
    assert len([c for c in levels.columns if c.startswith("template")]) == 3
    evals = read_evals(runs / "atwu-x1-s0")
    assert V.axis_note(evals, "neighbour_damage") == NO_NEIGHBOURS
    assert V.axis_note(evals, "template_damage") is None
    assert V.axis_note(None, "neighbour_damage") is None


def test_runs_of_another_benchmark_on_the_same_split_are_left_out(tmp_path):
    """Two benchmarks both have a forget10 (the demo's 40 authors, your 200): a frontier pairs
    examples across runs, so only the picked run's benchmark is kept, the others are named."""
    import json

    for variant in ("atwu", "uniform"):
        make_run(tmp_path, variant, 1.0, 0)
    other = make_run(tmp_path, "oracle", 1.0, 0)
    config = json.loads((other / "config.json").read_text())
    config["resolved"] = {**(config.get("resolved") or {}), "benchmark": "/elsewhere/demo"}
    (other / "config.json").write_text(json.dumps(config))
    runs = V.runs_on_split(list_runs(tmp_path), "forget10")
    kept, left_out = V.one_benchmark(
        runs, prefer=next(r for r in runs if r.name.startswith("atwu"))
    )
    assert sorted(r.name for r in kept) == ["atwu-x1-s0", "uniform-x1-s0"]
    assert left_out == ["oracle-x1-s0"]
    kept, left_out = V.one_benchmark(runs, prefer=next(r for r in runs if r.name == "oracle-x1-s0"))
    assert [r.name for r in kept] == ["oracle-x1-s0"] and len(left_out) == 2
