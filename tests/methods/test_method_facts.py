"""What the analysis and the pages know about a method comes from the method's own class: its
role, whether it reads the ground truth, whether its weights vary across tokens, and the knob a
frontier sweeps. A method added with a fact missing or wrong fails here."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from atwu.analysis.variants import VARIANTS
from atwu.methods.base import Method, Role, StrengthParam
from atwu.methods.registry import all_methods

METHODS = sorted(all_methods().items())


@pytest.mark.parametrize("name, cls", METHODS, ids=[n for n, _ in METHODS])
def test_every_method_declares_its_facts(name: str, cls: type[Method]):
    assert cls.summary, f"{name}: no summary (the methods list and the Run form show it)"
    assert cls.role in typing.get_args(Role), f"{name}: role {cls.role!r}"
    assert cls.strength_param in typing.get_args(StrengthParam), name
    for fact in ("needs_labels", "token_level", "uses_retain", "needs_aux"):
        assert isinstance(getattr(cls, fact), bool), f"{name}.{fact} is not a bool"
    fields = {f.name for f in dataclasses.fields(cls.Params)}
    if cls.strength_param == "gamma/alpha":
        assert {"gamma", "alpha"} <= fields, f"{name} sweeps γ/α but its Params lack them"
    elif cls.strength_param != "lr":
        assert cls.strength_param in fields, f"{name} sweeps a parameter it does not have"
    if cls.needs_labels:  # reads the ground truth: a reference, never a rival
        assert cls.role == "reference", f"{name} reads the spans but is a {cls.role}"


def test_the_knobs_are_the_methods_own():
    methods = all_methods()
    assert methods["ga"].strength_param == "lr"  # no retain term, so no γ/α
    assert methods["rmu"].strength_param == "steering_coeff"
    assert methods["wga"].strength_param == "gamma/alpha"
    for variant in VARIANTS.values():
        assert variant.strength_param == methods[variant.method].strength_param, variant.name
