"""The frontier figure: points per variant and seed, the envelope as a line, the FFE level
guides, escaped hover text."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from atwu.viz.frontier_figures import PALETTE, VARIANT_COLOURS, curve_colours, frontier_figure


def _points() -> pd.DataFrame:
    rows = []
    for curve, role in (("atwu", "method"), ("oracle", "reference"), ("wga_b5", "baseline")):
        for seed in (0, 1):
            for step, ffe in ((10, 0.3), (20, 0.7), (30, 0.95)):
                rows.append(
                    {
                        "run": f"{curve}-s{seed}<b>",
                        "variant": curve,
                        "curve": curve,
                        "role": role,
                        "seed": seed,
                        "step": step,
                        "ffe": ffe,
                        "damage": ffe * (0.1 if curve == "atwu" else 0.3),
                        "strength": 2.0,
                        "strength_multiplier": 4.0,
                        "strength_param": "gamma/alpha",
                    }
                )
    return pd.DataFrame(rows)


def _envelope() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "curve": ["atwu", "atwu", "oracle"],
            "ffe": [0.3, 0.7, 0.3],
            "damage": [0.03, 0.07, 0.09],
        }
    )


def test_empty_input_gives_the_no_data_figure():
    fig = frontier_figure(pd.DataFrame(), pd.DataFrame(), axis_label="template damage")
    assert any(a.text == "no data" for a in fig.layout.annotations)


def test_points_envelopes_and_guides():
    fig = frontier_figure(_points(), _envelope(), axis_label="template damage")
    assert isinstance(fig, go.Figure)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["atwu", "oracle (reference)"]  # wga_b5 has none
    # the envelope is piecewise linear between its grid points (interpolated frontier), not a step
    assert all(t.line.shape in (None, "linear") for t in lines)
    assert lines[1].line.dash == "dot"  # a reference is set apart
    markers = [t for t in fig.data if t.mode == "markers" and t.x[0] is not None]
    assert len(markers) == 6  # 3 curves × 2 seeds
    atwu = [t for t in markers if t.legendgroup == "atwu"]
    assert {t.marker.symbol for t in atwu} == {"circle", "diamond"}  # one symbol per seed
    assert {t.marker.color for t in atwu} == {lines[0].line.color} == {VARIANT_COLOURS["atwu"]}
    # a curve with an envelope has its legend entry on the line; without one, on its points
    assert not any(t.showlegend for t in atwu)
    assert [t.name for t in markers if t.showlegend] == ["wga_b5"]
    keys = [t.name for t in fig.data if t.x[0] is None]
    assert keys == ["seed 0", "seed 1"]
    guides = sorted(s.x0 for s in fig.layout.shapes)
    assert guides == [0.5, 0.75, 0.9]
    assert fig.layout.legend.orientation == "v"


def test_hover_names_run_strength_and_step_escaped():
    fig = frontier_figure(_points(), _envelope(), axis_label="template damage")
    trace = next(t for t in fig.data if t.mode == "markers" and t.legendgroup == "atwu")
    run, variant, strength, step = trace.customdata[0]
    assert run == "atwu-s0&lt;b&gt;"
    assert variant == "atwu" and strength == "gamma/alpha 2, ×4 default" and step == 10
    assert "FFE %{x:.3f}" in trace.hovertemplate and "template damage" in trace.hovertemplate


def test_untagged_points_say_default_strength():
    points = _points().assign(strength=float("nan"), strength_multiplier=float("nan"))
    points["strength_param"] = None
    fig = frontier_figure(points, _envelope(), axis_label="neighbour damage", levels=(0.5,))
    trace = next(t for t in fig.data if t.mode == "markers" and t.x[0] is not None)
    assert trace.customdata[0][2] == "default"
    assert [s.x0 for s in fig.layout.shapes] == [0.5]
    assert "neighbour damage" in fig.layout.yaxis.title.text


def test_a_variant_keeps_its_colour_whatever_else_is_shown():
    alone = curve_colours(["wga_b5"])
    together = curve_colours(["atwu", "satimp", "wga_b5", "my_method", "another"])
    assert alone["wga_b5"] == together["wga_b5"] == VARIANT_COLOURS["wga_b5"]
    assert together["my_method"] != together["another"]  # unnamed: the palette, in turn
    assert together["my_method"] in PALETTE
    assert len(set(together.values())) == 5
