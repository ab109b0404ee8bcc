"""The report's "what holds" lines: the AUROC margin over the heuristic rivals counts only rivals
that reach the matched level (one that never forgets enough has no AUROC there)."""

from __future__ import annotations

import math

import pandas as pd

from atwu.analysis.report_md import holds_lines

RESULT = {
    "gate": {"passed": True, "reason": "constructed"},
    "decision": {"template_damage": {"improves": False, "better_at": [], "worse_at": [0.5]}},
}


def _alignment(rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"variant": v, "auroc": a, "auroc_retain_conflict": 0.5} for v, a in rows.items()]
    )


def _auroc_line(rows: dict[str, float]) -> str:
    [line] = [x for x in holds_lines(RESULT, _alignment(rows)) if "AUROC at matched" in x]
    return line


def test_a_rival_that_never_reaches_the_level_does_not_hide_one_that_does():
    line = _auroc_line({"atwu": 0.88, "satimp": math.nan, "tnpo": 0.065})
    assert "0.065 (tnpo; meets the 0.10 margin)" in line


def test_the_margin_is_missed_when_a_rival_aligns_as_well():
    assert "misses the 0.10 margin" in _auroc_line({"atwu": 0.88, "satimp": 0.85})


def test_no_rival_reaching_the_level_is_said_so():
    line = _auroc_line({"atwu": 0.88, "satimp": math.nan, "wga_b5": math.nan})
    assert "cannot be checked" in line
