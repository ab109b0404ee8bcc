"""Variants: a method with fixed parameters, a role, and one strength knob (METHOD.md §4.6)."""

from __future__ import annotations

import pytest

from atwu.analysis.variants import VARIANTS, parse_strengths, parse_variants, role_of, variant_of
from atwu.errors import InputError
from atwu.methods.registry import build_params, get_method


def test_every_variant_builds_valid_parameters_at_every_strength():
    for variant in VARIANTS.values():
        for strength in (0.25, 1.0, 4.0):
            cfg = variant.config(strength=strength, seed=2)
            build_params(get_method(cfg.method), cfg.params)  # parses and validates
            assert cfg.seed == 2 and cfg.tags["variant"] == variant.name
            assert cfg.tags["strength_param"] == variant.strength_param


def test_strength_scales_the_forget_to_retain_ratio():
    cfg = VARIANTS["atwu"].config(strength=2.0)
    params = build_params(get_method("atwu"), cfg.params)
    assert params.gamma == 2.0 and params.alpha == 2.0  # γ scaled, α kept
    assert cfg.tags["strength"] == pytest.approx(1.0)  # γ/α = 2/2
    sat = VARIANTS["satimp"].config(strength=0.5)
    assert sat.tags["strength"] == pytest.approx(5.0)  # its authors' 10:1, halved
    ou = VARIANTS["satimp_ou"].config(strength=1.0)
    assert ou.tags["strength"] == pytest.approx(0.1)  # the same curve, a hundredth of it


def test_tokenunlearn_has_a_soft_and_a_hard_variant_on_the_saturated_strength():
    soft = build_params(get_method("tokenunlearn"), VARIANTS["tokenunlearn"].config().params)
    hard_cfg = VARIANTS["tokenunlearn_hard"].config(strength=2.0)
    hard = build_params(get_method("tokenunlearn"), hard_cfg.params)
    assert (soft.selection, hard.selection) == ("soft", "hard")
    assert hard.gamma == 2.0 and hard.alpha == 2.0  # the shared α, γ scaled like every heuristic
    assert hard_cfg.tags["strength"] == pytest.approx(1.0)
    assert VARIANTS["etw"].default_strength() == VARIANTS["oracle"].default_strength() == 0.5


def test_ga_is_swept_over_its_learning_rate_and_rmu_over_its_coefficient():
    ga = VARIANTS["ga"].config(strength=4.0)
    assert ga.train.lr == pytest.approx(2e-3) and ga.tags["strength_param"] == "lr"
    rmu = VARIANTS["rmu"].config(strength=0.5)
    assert float(rmu.params["steering_coeff"]) == pytest.approx(1.0)


def test_roles_come_from_the_methods_or_the_variant():
    assert role_of("atwu") == "method" and role_of("oracle") == "reference"
    assert role_of("atwu_nll") == "ablation" and role_of("uniform") == "ablation"
    assert role_of("wga_b5") == "baseline" and role_of("static_p") == "baseline"
    for reference in ("specific_oracle", "shuffled_oracle", "template_only"):
        assert role_of(reference) == "reference"  # drawn beside the rivals, never one of them
    for rival in ("etw", "tokenunlearn", "tokenunlearn_hard"):
        assert role_of(rival) == "baseline"
    assert variant_of({"method": "wga", "tags": {"variant": "wga_b5"}}) == "wga_b5"
    assert variant_of({"method": "wga"}) == "wga"


def test_bad_names_and_strengths_are_refused():
    with pytest.raises(InputError, match="unknown variant 'wgaa'"):
        parse_variants("atwu,wgaa")
    with pytest.raises(InputError, match="positive"):
        parse_strengths("1,-2")
    with pytest.raises(InputError, match="numbers"):
        parse_strengths("one")
    assert [v.name for v in parse_variants("atwu, uniform")] == ["atwu", "uniform"]


def test_the_frontier_command_defaults_to_the_shared_strength_grid():
    """METHOD.md §4.6: every variant runs × {⅛, ¼, ½, 1, 2, 4}; the CLI's default says the same."""
    from atwu.analysis.variants import STRENGTHS, parse_strengths
    from atwu.cli import build_parser

    args = build_parser().parse_args(["frontier", "--out", "x"])
    assert tuple(parse_strengths(args.strengths)) == STRENGTHS == (0.125, 0.25, 0.5, 1, 2, 4)
