"""Named variants: a method with fixed parameters, a role in comparisons, and one strength knob.

A comparison (the frontier report, ``reproduce``, the demo bundle, the app's sweep form) names
variants, not methods: ``wga_b5`` is WGA with β = 5, ``atwu_frozen_random`` is ATWU with a frozen
random scorer. Each variant's runs carry ``tags.variant``, ``tags.strength`` and
``tags.strength_param`` in their ``config.json``, so any tool can rebuild a frontier from the run
directories alone (METHOD.md §4.6).

Strength (METHOD.md §4.6): every variant is swept over one knob on a shared relative grid,
default × {⅛, ¼, ½, 1, 2, 4} (the low end matters for mean-1 normalised weights, which push
≈ 4× harder than the oracle at the same γ): the ratio γ/α of forget to retain weight (γ is
scaled, α kept), GA's learning rate (it has no retain term), RMU's steering coefficient c.

    from atwu.analysis.variants import VARIANTS
    cfg = VARIANTS["wga_b5"].config(strength=2.0, seed=1)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atwu.config import RunConfig, TrainSettings
from atwu.errors import InputError
from atwu.params import defaults_of

if TYPE_CHECKING:
    from atwu.methods.base import Method, Role, StrengthParam


def get_method(name: str) -> type[Method]:
    """The registered method (imported here, not at module level: the registry loads torch, and
    the app reads the variants' names, e.g. :data:`COMPARISON_REFERENCES`, without it)."""
    from atwu.methods.registry import get_method as registered

    return registered(name)


#: the shared relative grid: multiples of a variant's default strength
STRENGTHS: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Variant:
    """A method with fixed parameters (``params``), its role in comparisons and its strength."""

    name: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    role: Role | None = None  # None: the method's own role
    note: str = ""

    @property
    def role_(self) -> Role:
        return self.role or get_method(self.method).role

    @property
    def strength_param(self) -> StrengthParam:
        """The method's own knob (:attr:`atwu.methods.base.Method.strength_param`)."""
        return get_method(self.method).strength_param

    def default_strength(self) -> float:
        """The variant's strength at its default setting (γ/α, lr or c)."""
        values = {**defaults_of(get_method(self.method).Params), **self.params}
        if self.strength_param == "lr":
            return float(TrainSettings().lr)
        if self.strength_param == "steering_coeff":
            return float(values["steering_coeff"])
        alpha = float(values["alpha"])
        return float(values["gamma"]) / alpha if alpha else float("inf")

    def config(
        self, *, strength: float = 1.0, seed: int = 0, base: RunConfig | None = None
    ) -> RunConfig:
        """The run configuration of this variant at ``strength`` × its default strength.

        γ/α variants scale γ and keep α (with α = 0, γ itself); GA scales the learning rate; RMU
        scales c. ``base`` supplies everything else (benchmark, split, run length...).
        """
        if not strength > 0:
            raise InputError(f"{self.name}: strength multipliers must be positive, got {strength}")
        cfg = copy.deepcopy(base) if base is not None else RunConfig(method=self.method)
        cfg.method, cfg.seed = self.method, seed
        params = {k: str(v) for k, v in self.params.items()}
        defaults = {**defaults_of(get_method(self.method).Params), **self.params}
        if self.strength_param == "lr":
            cfg.train.lr = TrainSettings().lr * strength
        elif self.strength_param == "steering_coeff":
            params["steering_coeff"] = repr(float(defaults["steering_coeff"]) * strength)
        else:
            params["gamma"] = repr(float(defaults["gamma"]) * strength)
        cfg.params = params
        value = self.default_strength() * strength
        cfg.tags = {
            **cfg.tags,
            "variant": self.name,
            "strength": value,
            "strength_multiplier": strength,
            "strength_param": self.strength_param,
        }
        return cfg


def _variants(*items: Variant) -> dict[str, Variant]:
    return {v.name: v for v in items}


VARIANTS: dict[str, Variant] = _variants(
    Variant("atwu", "atwu"),
    Variant("uniform", "uniform"),
    Variant("oracle", "oracle"),
    Variant("specific_oracle", "specific_oracle", note="only `specific` fact tokens"),
    Variant("shuffled_oracle", "shuffled_oracle", note="the oracle's count, random positions"),
    Variant("template_only", "template_only", note="only template tokens"),
    Variant("static_p", "static_p"),
    Variant("threshold", "threshold"),
    Variant("etw", "etw", note="our reconstruction of arXiv 2604.17785"),
    Variant("tokenunlearn", "tokenunlearn", note="soft weights; our reconstruction of 2605.00364"),
    Variant(
        "tokenunlearn_hard",
        "tokenunlearn",
        {"selection": "hard"},
        note="hard selection of the top share; our reconstruction of 2605.00364",
    ),
    Variant(
        "atwu_nll",
        "atwu",
        {"forget_loss": "nll"},
        "ablation",
        "learned scores in plain weighted gradient ascent (not saturated)",
    ),
    Variant(
        "atwu_frozen_random",
        "atwu",
        {"scorer_lr": 0, "scorer_init": "random"},
        "ablation",
        "a frozen random scorer",
    ),
    Variant(
        "atwu_gate",
        "atwu",
        {"conflict_gate": 1.0},
        note="model weights gated by the retain support: s_t·2σ(−c_t) (κ = 1, untuned)",
    ),
    Variant(
        "atwu_contrast_head",
        "atwu",
        {"scorer_design": "contrast_head"},
        note="a second head tells forget states from retain states of the same token (untuned)",
    ),
    Variant(
        "atwu_low_support_target",
        "atwu",
        {"scorer_design": "low_support_target"},
        note="the scorer's p-target on low-support tokens only (untuned)",
    ),
    Variant("static_support", "static_support", note="static_p × the retain-support gate, κ = 1"),
    Variant("wga", "wga", note="β = 1: the gradient of uniform weights"),
    Variant("wga_b5", "wga", {"beta": 5}),
    Variant("satimp", "satimp", note="its authors' forget:retain ratio 10:1"),
    Variant(
        "satimp_ou",
        "satimp",
        {"gamma": 0.1, "alpha": 1.0},
        note="open-unlearning's config (γ = 0.1, α = 1): SatImp's strength curve at 1/100",
    ),
    Variant("tnpo", "tnpo"),
    Variant("aux", "aux"),
    Variant("npo", "npo"),
    Variant("simnpo", "simnpo"),
    Variant("graddiff", "graddiff"),
    Variant("ga", "ga"),
    Variant("rmu", "rmu"),
)

#: the runs a comparison with a run of one's own needs, launched at that run's settings (Home's
#: first run, the Run page's "Run the references"): uniform weights (what token weighting is
#: measured against), the free static heuristic ``static_p`` (what a learned scorer must beat)
#: and the ground-truth oracle (the best token weights can do)
COMPARISON_REFERENCES: tuple[str, ...] = ("uniform", "static_p", "oracle")

#: variants that are one method's strength curve at another setting: the frontier pools them
#: with the named variant and marks the point (SatImp's two settings differ only in γ/α)
SAME_CURVE: dict[str, str] = {"satimp_ou": "satimp"}


def get_variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise InputError(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
    return VARIANTS[name]


def parse_variants(text: str) -> list[Variant]:
    """``"atwu,uniform,wga_b5"`` → variants (``all`` for every one); unknown names are an error."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(VARIANTS.values())
    if not names:
        raise InputError("--variants names no variant")
    return [get_variant(n) for n in names]


def parse_strengths(text: str) -> list[float]:
    """``"0.25,1,4"`` → multipliers of the default strength (positive numbers)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--strengths expects numbers like 0.25,1,4, got {text!r}") from None
    if not values or any(not (0 < v < float("inf")) for v in values):
        raise InputError(f"--strengths must be positive numbers, got {text!r}")
    return values


def variant_of(config: dict) -> str:
    """A run's variant from its ``config.json`` (its method's name when untagged)."""
    return str((config.get("tags") or {}).get("variant") or config.get("method", "?"))


def role_of(variant: str) -> Role:
    """The comparison role of a variant name (a method's own role for untagged runs)."""
    if variant in VARIANTS:
        return VARIANTS[variant].role_
    try:
        return get_method(variant).role
    except InputError:
        return "baseline"
