"""The report's "what holds" lines: the gates first, each comparison against the free references
(`static_p`, `threshold`) stated before the rest, alignment read against `static_p`'s value, and
the margin over the published heuristics counting only those that reach the matched level."""

from __future__ import annotations

import math

import pandas as pd

from atwu.analysis.report_md import holds_lines

RESULT = {
    "gates": {
        "targeting": {
            "state": "failed",
            "tests": "constructed",
            "reason": "oracle has at least as much TD",
            "checked": [{"level": 0.5, "oracle": 0.3, "shuffled_oracle": 0.2}],
        }
    },
    "decision": {"template_damage": {"improves": False, "better_at": [], "worse_at": [0.5]}},
    "comparisons": [
        {"axis": "template_damage", "level": 0.5, "comparator": "npo", "verdict": "better"},
        {"axis": "template_damage", "level": 0.5, "comparator": "static_p", "verdict": "worse"},
    ],
}


def _alignment(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"variant": v, "auroc": a, "auroc_retain_conflict": rc} for v, (a, rc) in rows.items()]
    )


def test_gates_come_first_with_their_figures():
    lines = holds_lines(RESULT, _alignment({"atwu": (0.9, 0.4)}))
    assert lines[0].startswith("- Gate *targeting* (constructed): **failed**")
    assert "shuffled_oracle 0.200" in lines[0]


def test_the_free_references_are_stated_and_a_missing_one_is_named():
    lines = holds_lines(RESULT, _alignment({"atwu": (0.9, 0.4)}))
    assert "  - against `static_p` (a free reference): FFE 0.5: worse." in lines
    assert "  - against `threshold`: not compared (not run, or not reaching)." in lines


def test_alignment_is_read_against_static_p_not_against_chance():
    lines = holds_lines(RESULT, _alignment({"atwu": (0.88, 0.45), "static_p": (0.99, 0.34)}))
    [line] = [x for x in lines if "`static_p` 0.990" in x]
    assert "ATWU 0.880 against `static_p` 0.990 (not above)" in line
    assert "retain-conflict AUROC ATWU 0.450 against `static_p` 0.340 (above)" in line


def test_a_heuristic_that_never_reaches_the_level_does_not_hide_one_that_does():
    rows = {"atwu": (0.88, 0.5), "satimp": (math.nan, 0.5), "tnpo": (0.065, 0.5)}
    [line] = [x for x in holds_lines(RESULT, _alignment(rows)) if "published" in x]
    assert "best tnpo 0.065, ATWU 0.880 (meets a 0.10 margin)" in line
