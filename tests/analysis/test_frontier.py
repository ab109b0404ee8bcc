"""The frontier, comparator, bootstrap, decision and gate of METHOD.md §4.6 on synthetic points."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from atwu.analysis import frontier as F


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
            ("atwu", 0, 1, 0, 0.0, 0.0, 0.0),  # step 0 never counts
            ("atwu", 0, 1, 10, 0.4, 0.05, 0.0),  # below the level
            ("atwu", 0, 1, 20, 0.6, 0.30, 0.0),
            ("atwu", 0, 2, 10, 0.7, 0.20, 0.0),  # another strength, the least damage reaching 0.5
            ("atwu", 0, 2, 20, 0.95, 0.50, 0.0),
        ]
    )
    front = F.seed_frontier(pts, "template_damage", 0.5)
    assert len(front) == 1
    assert front.iloc[0]["damage"] == pytest.approx(0.20)
    assert front.iloc[0]["run"] == "atwu-m2-s0" and front.iloc[0]["step"] == 10
    assert F.seed_frontier(pts, "template_damage", 0.9).iloc[0]["damage"] == pytest.approx(0.5)
    assert F.seed_frontier(pts, "template_damage", 0.99).empty


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


def test_comparator_is_the_least_damaging_baseline_that_reaches_the_level():
    pts = points(
        [
            ("oracle", 0, 1, 10, 0.9, 0.001, 0.0),  # reference: never the comparator
            ("uniform", 0, 1, 10, 0.9, 0.002, 0.0),  # ablation: never the comparator
            ("wga_b5", 0, 1, 10, 0.9, 0.3, 0.0),
            ("npo", 0, 1, 10, 0.9, 0.2, 0.0),
            ("tnpo", 0, 1, 10, 0.6, 0.01, 0.0),  # reaches 0.5 only
        ]
    )
    summary = F.frontier_summary(pts, axes=("template_damage",))
    assert F.comparator(summary, "template_damage", 0.5) == "tnpo"
    assert F.comparator(summary, "template_damage", 0.75) == "npo"
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


def test_paired_bootstrap_separates_a_real_difference_and_not_noise():
    pts = points(
        [
            ("atwu", 0, 1, 10, 0.9, 0.1, 0.1),
            ("npo", 0, 1, 10, 0.9, 0.2, 0.2),
            ("wga", 0, 1, 10, 0.9, 0.1, 0.1),
        ]
    )
    samples = synthetic_samples(pts, {"atwu": 1.0, "npo": 1.1, "wga": 1.0})
    front = F.seed_frontier(pts, "template_damage", 0.5)
    low, high = F.paired_bootstrap(
        front[front.curve == "atwu"], front[front.curve == "npo"], "template_damage", samples
    )
    assert high < 0 and low == pytest.approx(-0.1, abs=0.02)
    low, high = F.paired_bootstrap(
        front[front.curve == "atwu"], front[front.curve == "wga"], "template_damage", samples
    )
    assert low < 0 < high


def test_decision_needs_two_better_levels_and_no_worse_one():
    def c(level, verdict):
        return F.Comparison("template_damage", level, 0, "npo", 0, 0, 0, 0, verdict, [])

    assert F.decide([c(0.5, "better"), c(0.75, "better"), c(0.9, "not reached")])[
        "template_damage"
    ]["improves"]
    assert not F.decide(
        [c(0.5, "better"), c(0.75, "no significant difference"), c(0.9, "not reached")]
    )["template_damage"]["improves"]
    assert not F.decide([c(0.5, "better"), c(0.75, "better"), c(0.9, "worse")])["template_damage"][
        "improves"
    ]


def test_compare_at_levels_end_to_end_on_synthetic_points():
    rows = []
    for seed in (0, 1):
        for m, (ffe, td) in {1: (0.6, 0.1), 2: (0.8, 0.2), 4: (0.95, 0.4)}.items():
            rows.append(("atwu", seed, m, 10, ffe, td, td))
            rows.append(("npo", seed, m, 10, ffe, 2 * td, 2 * td))
    pts = points(rows)
    means = {"atwu": 0.0, "npo": 0.0}
    samples = synthetic_samples(pts, means)
    # per-example damage must average to the points' damage: scale each run's samples to it
    for (run, step, axis), (sums, counts) in list(samples.items()):
        target = float(pts[(pts.run == run) & (pts.step == step)][axis].iloc[0])
        samples[(run, step, axis)] = (sums - sums.mean() + target, counts)
    comparisons = F.compare_at_levels(pts, samples, n_resamples=300)
    got = {(c.axis, c.level): c for c in comparisons}
    c = got[("template_damage", 0.75)]
    assert c.comparator == "npo" and c.method_damage == pytest.approx(0.2)
    assert c.difference == pytest.approx(-0.2) and c.verdict == "better"
    assert F.decide(comparisons)["template_damage"]["improves"]


def test_validity_gate_fails_when_the_oracle_damages_templates_more():
    good = points([("oracle", 0, 1, 10, 0.9, 0.01, 0.0), ("uniform", 0, 1, 10, 0.9, 0.3, 0.0)])
    assert F.validity_gate(good)["passed"]
    bad = points([("oracle", 0, 1, 10, 0.9, 0.5, 0.0), ("uniform", 0, 1, 10, 0.9, 0.3, 0.0)])
    gate = F.validity_gate(bad)
    assert not gate["passed"] and "at least as much" in gate["reason"]
    unknown = points([("oracle", 0, 1, 10, 0.3, 0.5, 0.0), ("uniform", 0, 1, 10, 0.9, 0.3, 0.0)])
    assert not F.validity_gate(unknown)["passed"]


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
