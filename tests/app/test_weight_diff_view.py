"""The difference view's choices without Streamlit: which run B comes first, the links back."""

from __future__ import annotations

from urllib.parse import parse_qs

from atwu.app.weight_diff_view import default_b, link_to
from atwu.runs.read import RunInfo


def _run(name: str, method: str, seed: int = 0) -> RunInfo:
    return RunInfo(None, name, {"method": method, "seed": seed}, {"state": "done"}, [])  # type: ignore[arg-type]


def test_b_is_a_reference_first_static_p_before_uniform_seed_zero_first():
    a = _run("atwu-s0", "atwu")
    others = [
        _run("wga-s0", "wga"),
        _run("uniform-s0", "uniform"),
        _run("static_p-s1", "static_p", 1),
        _run("static_p-s0", "static_p"),
    ]
    assert default_b(a, others) == "static_p-s0"
    assert default_b(a, others[:2]) == "uniform-s0"
    # no reference: the first run compare mode would stack
    assert default_b(a, [_run("graddiff-s0", "graddiff"), _run("wga-s0", "wga")]) == "wga-s0"
    # a static_p run is compared with another reference, not with itself
    assert default_b(_run("static_p-s0", "static_p"), others[:2]) == "uniform-s0"
    assert default_b(a, []) is None


def test_link_keeps_the_current_parameters_and_applies_the_changes():
    link = link_to(
        {"run": "demo/atwu-s0", "compare": ["a", "b"], "tab": "x"},
        example="e 1&2",
        tab="Difference (A − B)",
        compare=None,
    )
    assert link.startswith("?")
    assert parse_qs(link[1:]) == {
        "run": ["demo/atwu-s0"],
        "example": ["e 1&2"],
        "tab": ["Difference (A − B)"],
    }
