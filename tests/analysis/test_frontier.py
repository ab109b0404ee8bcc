"""The frontier, comparator, bootstrap, decision and gate of METHOD.md §4.6 on synthetic points."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from atwu.analysis import frontier as F
from atwu.analysis import frontier_gates as G


def points(rows: list[tuple]) -> pd.DataFrame:
    """(variant, seed, strength multiplier, step, ffe, template damage, neighbour damage)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "variant",
            "seed",
            "strength_multiplier",
            "step",
            "ffe",
            "template_damage",
            "neighbour_damage",
        ],
    )
    frame["strength"] = frame["strength_multiplier"]
    frame["run"] = [
        f"{v}-m{m}-s{s}"
        for v, s, m in zip(frame["variant"], frame["seed"], frame["strength_multiplier"])
    ]
    return frame


def test_frontier_is_the_least_damage_among_points_reaching_the_level():
    pts = points(
        [
            ("atwu", 0, 1, 0, 0.0, 0.0, 0.0),  # step 0 is never a point of its own
            ("atwu", 0, 1, 10, 0.4, 0.05, 0.0),  # below the level
            ("atwu", 0, 1, 20, 0.6, 0.30, 0.0),  # crosses 0.5 halfway: read at 0.175
            ("atwu", 0, 2, 10, 0.7, 0.20, 0.0),
            ("atwu", 0, 2, 20, 0.95, 0.50, 0.0),
        ]
    )
    front = F.seed_frontier(pts, "template_damage", 0.5)
    assert len(front) == 1
    row = front.iloc[0]
    assert row["damage"] == pytest.approx(0.175)
    assert (row["run"], row["step_lo"], row["step"]) == ("atwu-m1-s0", 10, 20)
    assert row["frac"] == pytest.approx(0.5) and row["ffe"] == pytest.approx(0.5)
    # at 0.9 the ×2 run's segment 0.7 → 0.95 is read at 0.9: 0.2 + 0.8·0.3
    assert F.seed_frontier(pts, "template_damage", 0.9).iloc[0]["damage"] == pytest.approx(0.44)
    assert F.seed_frontier(pts, "template_damage", 0.99).empty


def test_a_jump_between_checkpoints_is_read_where_it_crosses_the_level():
    """METHOD.md §4.6: FFE 0.3 → 0.8 between checkpoints is read at 0.5 on that segment, so
    spacing the checkpoints more sparsely cannot hide or inflate damage."""
    dense = points(
        [
            ("static_p", 0, 1, s, f, d, 0)
            for s, f, d in ((0, 0, 0), (5, 0.3, 0.1), (6, 0.5, 0.2), (7, 0.8, 0.5))
        ]
    )
    sparse = dense[dense["step"] != 6]
    at_dense = F.seed_frontier(dense, "template_damage", 0.5).iloc[0]["damage"]
    at_sparse = F.seed_frontier(sparse, "template_damage", 0.5).iloc[0]["damage"]
    assert at_dense == pytest.approx(0.2)
    assert at_sparse == pytest.approx(0.1 + 0.4 * 0.4)  # linear between (0.3, 0.1), (0.8, 0.5)
    # the step-0 segment counts too: θ0 has FFE 0 and no damage
    first = points([("uniform", 0, 1, 0, 0.0, 0.0, 0), ("uniform", 0, 1, 4, 1.0, 0.8, 0)])
    assert F.seed_frontier(first, "template_damage", 0.5).iloc[0]["damage"] == pytest.approx(0.4)


def test_a_level_one_seed_misses_is_not_reached_for_the_method():
    pts = points(
        [
            ("uniform", 0, 1, 10, 0.8, 0.1, 0.0),
            ("uniform", 1, 1, 10, 0.6, 0.2, 0.0),  # seed 1 never reaches 0.75
            ("atwu", 0, 1, 10, 0.8, 0.05, 0.0),
            ("atwu", 1, 1, 10, 0.9, 0.07, 0.0),
        ]
    )
    summary = F.frontier_summary(pts, axes=("template_damage",), levels=(0.5, 0.75))
    u = summary[(summary["curve"] == "uniform")].set_index("level")
    assert u.loc[0.5, "reached"] and u.loc[0.5, "damage"] == pytest.approx(0.15)
    assert not u.loc[0.75, "reached"] and math.isnan(u.loc[0.75, "damage"])
    assert u.loc[0.75, "seeds_reaching"] == 1 and u.loc[0.75, "seeds"] == 2
    a = summary[summary["curve"] == "atwu"].set_index("level")
    assert a.loc[0.75, "damage"] == pytest.approx(0.06)


def test_every_baseline_that_reaches_the_level_is_a_rival():
    pts = points(
        [
            ("oracle", 0, 1, 10, 0.9, 0.001, 0.0),  # reference: never a rival
            ("uniform", 0, 1, 10, 0.9, 0.002, 0.0),  # ablation: never a rival
            ("wga_b5", 0, 1, 10, 0.9, 0.3, 0.0),
            ("npo", 0, 1, 10, 0.9, 0.2, 0.0),
            ("tnpo", 0, 1, 10, 0.6, 0.01, 0.0),  # reaches 0.5 only
        ]
    )
    summary = F.frontier_summary(pts, axes=("template_damage",))
    assert F.rivals(summary, "template_damage", 0.5) == ["npo", "tnpo", "wga_b5"]
    assert F.rivals(summary, "template_damage", 0.75) == ["npo", "wga_b5"]
    assert F.not_reaching(summary, "template_damage", 0.75) == ["tnpo"]


def test_satimp_settings_pool_onto_one_curve():
    pts = points([("satimp", 0, 1, 10, 0.9, 0.3, 0.0), ("satimp_ou", 0, 0.01, 10, 0.6, 0.1, 0.0)])
    front = F.seed_frontier(pts, "template_damage", 0.5)
    assert list(front["curve"]) == ["satimp"] and front.iloc[0]["damage"] == pytest.approx(0.1)


def synthetic_samples(pts: pd.DataFrame, means: dict[str, float], n: int = 200, seed: int = 0):
    """Per-example damage for every (run, step): the variant's mean plus per-example noise that
    is shared across variants (so the paired bootstrap cancels it)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0.0, 0.5, n)
    samples = {}
    for run, step, variant in zip(pts["run"], pts["step"], pts["variant"]):
        own = rng.normal(0.0, 0.02, n)
        for axis in F.AXES:
            samples[(run, int(step), axis)] = (means[variant] + shared + own, np.ones(n))
    return samples


def test_bootstrap_separates_a_real_difference_and_not_noise():
    pts = points(
        [
            ("atwu", 0, 1, 10, 0.9, 0.1, 0.1),
            ("npo", 0, 1, 10, 0.9, 0.2, 0.2),
            ("wga", 0, 1, 10, 0.9, 0.1, 0.1),
        ]
    )
    samples = synthetic_samples(pts, {"atwu": 1.0, "npo": 1.1, "wga": 1.0})
    reach = F.reach_points(pts, "template_damage", 0.5)
    got = F.seed_bootstrap(reach, "atwu", "npo", "template_damage", samples)
    assert got.high < 0 and got.low == pytest.approx(-0.1, abs=0.02) and got.p_value < 0.01
    got = F.seed_bootstrap(reach, "atwu", "wga", "template_damage", samples)
    assert got.low < 0 < got.high and got.p_value > 0.05


def test_the_bootstrap_sees_the_seed_spread():
    """A difference that one seed carries is not significant once seeds are resampled, though
    resampling examples alone (seeds pooled) would call it so."""
    rows = []
    for seed in range(3):
        rows += [("atwu", seed, 1, 10, 0.9, 0, 0), ("npo", seed, 1, 10, 0.9, 0, 0)]
    pts = points(rows)
    rng = np.random.default_rng(1)
    samples = {}
    for run, seed, variant in zip(pts["run"], pts["seed"], pts["variant"]):
        extra = (0.0, 0.0, 0.6)[seed] if variant == "npo" else 0.0
        samples[(run, 10, "template_damage")] = (1 + extra + rng.normal(0, 0.01, 300), np.ones(300))
    reach = F.reach_points(pts, "template_damage", 0.5)
    got = F.seed_bootstrap(reach, "atwu", "npo", "template_damage", samples)
    assert got.low < 0 and got.high == pytest.approx(0.0, abs=0.01)
    assert got.p_value > 0.05


def test_holm_adjusts_step_down_and_monotone():
    assert F.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert F.holm([0.5]) == pytest.approx([0.5])


def test_decision_needs_every_rival_beaten_at_two_levels_and_no_worse_one():
    def c(level, verdict, rival="npo"):
        return F.Comparison("template_damage", level, 0, rival, 0, 0, 0, 0, verdict, [])

    assert F.decide([c(0.5, "better"), c(0.75, "better"), c(0.9, "not reached")])[
        "template_damage"
    ]["improves"]
    one_rival_not_beaten = [
        c(0.5, "better"),
        c(0.5, "no significant difference", "static_p"),
        c(0.75, "better"),
        c(0.75, "better", "static_p"),
    ]
    decision = F.decide(one_rival_not_beaten)["template_damage"]
    assert not decision["improves"] and decision["better_at"] == [0.75]
    assert not F.decide([c(0.5, "better"), c(0.75, "better"), c(0.9, "worse")])["template_damage"][
        "improves"
    ]


def test_compare_at_levels_end_to_end_on_synthetic_points():
    rows = []
    for seed in (0, 1):
        for m, (ffe, td) in {1: (0.6, 0.1), 2: (0.8, 0.2), 4: (0.95, 0.4)}.items():
            rows.append(("atwu", seed, m, 10, ffe, td, td))
            rows.append(("npo", seed, m, 10, ffe, 2 * td, 2 * td))
            rows.append(("static_p", seed, m, 10, ffe, 3 * td, 3 * td))
    pts = points(rows)
    samples = synthetic_samples(pts, {"atwu": 0.0, "npo": 0.0, "static_p": 0.0})
    # per-example damage must average to the points' damage: scale each run's samples to it
    for (run, step, axis), (sums, counts) in list(samples.items()):
        target = float(pts[(pts.run == run) & (pts.step == step)][axis].iloc[0])
        samples[(run, step, axis)] = (sums - sums.mean() + target, counts)
    comparisons = F.compare_at_levels(pts, samples, n_resamples=300)
    got = {(c.axis, c.level, c.comparator): c for c in comparisons}
    c = got[("template_damage", 0.75, "npo")]
    assert c.method_damage == pytest.approx(0.2)
    assert c.difference == pytest.approx(-0.2) and c.verdict == "better"
    assert c.p_holm >= c.p_value and c.seed_low == pytest.approx(-0.2)
    assert got[("template_damage", 0.75, "static_p")].difference == pytest.approx(-0.4)
    assert F.decide(comparisons)["template_damage"]["improves"]


def gate_points(oracle_td=0.01, shuffled_td=0.3, spec_nd=0.05, oracle_nd=0.2, to_ffe=0.1):
    pts = points(
        [
            ("oracle", 0, 1, 10, 0.9, oracle_td, oracle_nd),
            ("shuffled_oracle", 0, 1, 10, 0.9, shuffled_td, 0.2),
            ("specific_oracle", 0, 1, 10, 0.9, 0.02, spec_nd),
            ("uniform", 0, 1, 10, 0.9, 0.3, 0.2),
            ("template_only", 0, 1, 10, to_ffe, 0.6, 0.0),
        ]
    )
    # a broken metric: damage over every answer token (facts too), which the oracle must have
    pts["answer_damage"] = [0.9, 0.3, 0.5, 0.3, 0.6]
    # another: FFE over all answer tokens, which template_only reaches by damaging templates
    pts["answer_ffe"] = [0.9, 0.9, 0.9, 0.9, 0.8]
    return pts


def test_each_gate_passes_on_sound_metrics():
    found = G.gates(gate_points())
    assert {name: g["state"] for name, g in found.items()} == {
        "targeting": "passed",
        "neighbours": "passed",
        "forgetting": "passed",
    }
    assert G.gates_verdict(found)["passed"]


def test_each_gate_fails_on_a_broken_metric():
    pts = gate_points()
    targeting = G.gates(pts, columns={"template_damage": "answer_damage"})["targeting"]
    assert targeting["state"] == "failed" and targeting["checked"][0]["oracle"] == 0.9
    # ND over all held-out spans, where leaving shared values alone helps nothing
    neighbours = G.gates(gate_points(spec_nd=0.2, oracle_nd=0.2))["neighbours"]
    assert neighbours["state"] == "failed"
    forgetting = G.gates(pts, columns={"ffe": "answer_ffe"})["forgetting"]
    assert forgetting["state"] == "failed" and "FFE" in forgetting["reason"]
    assert not G.gates_verdict(G.gates(pts, columns={"ffe": "answer_ffe"}))["passed"]


def test_a_gate_that_cannot_be_checked_is_not_passed():
    pts = gate_points()
    found = G.gates(pts[pts["variant"] != "shuffled_oracle"])
    assert found["targeting"]["state"] == "unchecked" and not found["targeting"]["passed"]
    assert not G.gates_verdict(found)["passed"]


def test_area_between_frontiers_is_positive_when_atwu_damages_less():
    rows = [("atwu", 0, 1, s, f, 0.1 * f, 0) for s, f in ((10, 0.5), (20, 0.7), (30, 0.95))]
    rows += [("npo", 0, 1, s, f, 0.3 * f, 0) for s, f in ((10, 0.5), (20, 0.7), (30, 0.95))]
    area, width = F.area_between(points(rows), "atwu", "npo", "template_damage")
    assert area > 0 and width == pytest.approx(0.45)


def test_alignment_at_matched_forgetting_takes_the_first_checkpoint_reaching_the_level():
    pts = points(
        [
            ("atwu", 0, 1, 10, 0.3, 0, 0),
            ("atwu", 0, 1, 20, 0.55, 0, 0),
            ("atwu", 0, 1, 30, 0.9, 0, 0),
            ("atwu", 0, 2, 10, 0.9, 0, 0),
        ]
    )
    pts["auroc"] = [0.6, 0.93, 0.8, 0.1]
    pts["auroc_retain_conflict"] = [0.5, 0.7, 0.6, 0.5]
    table = F.alignment_at_matched(pts).set_index("variant")
    assert table.loc["atwu", "auroc"] == pytest.approx(0.93)
    assert table.loc["atwu", "ffe"] == pytest.approx(0.55)
    assert table.loc["atwu", "step"] == 20


def test_a_matched_point_shows_what_it_forgot_of_each_kind():
    pts = points([("atwu", 0, 1, 0, 0.0, 0.0, 0), ("atwu", 0, 1, 10, 1.0, 0.4, 0)])
    pts["ffe_specific"] = [0.0, 1.2]
    pts["ffe_shared"] = [0.0, 0.4]
    pts["ffe_balanced"] = [0.0, 0.8]
    kinds = F.matched_kinds(pts, "template_damage", 0.5).set_index("curve")
    # read halfway along the segment from θ0, like the damage (0.2)
    assert kinds.loc["atwu", "ffe_specific"] == pytest.approx(0.6)
    assert kinds.loc["atwu", "ffe_shared"] == pytest.approx(0.2)
    assert kinds.loc["atwu", "ffe_balanced"] == pytest.approx(0.4)
