"""The Token scores page's compare mode and example numbers, without Streamlit."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from atwu.app.token_compare import (
    GROUND_TRUTHS,
    alignment_curves,
    colour_range,
    comparable_runs,
    default_compare,
    example_header_html,
    example_table_columns,
    ground_truth_caption,
    no_model_note,
    prf_table,
    relabelled,
    row_label,
    rows_csv,
    score_text,
    typed_scores_frame,
    weights_are_labels,
)
from atwu.runs.read import RunInfo


def _run(tmp_path, name, method, seed=0, split="forget10", weights=True) -> RunInfo:
    path = tmp_path / name
    path.mkdir()
    if weights:
        (path / "weights.parquet").write_bytes(b"")
    config = {"method": method, "seed": seed, "resolved": {"split": split}}
    return RunInfo(path, name, config, {"state": "done"}, [])


def _tokens(weights, labels) -> pd.DataFrame:
    return pd.DataFrame(
        {"position": range(len(weights)), "token": "t", "weight": weights, "label": labels}
    )


def test_only_runs_with_weights_on_the_same_split_are_comparable(tmp_path):
    picked = _run(tmp_path, "atwu-s0", "atwu")
    runs = [
        picked,
        _run(tmp_path, "wga-s0", "wga"),
        _run(tmp_path, "wga-f05", "wga", split="forget05"),
        _run(tmp_path, "npo-s0", "npo", weights=False),
    ]
    assert [r.name for r in comparable_runs(runs, picked)] == ["wga-s0"]


def test_default_compare_one_run_per_other_method_token_weighting_first(tmp_path):
    picked = _run(tmp_path, "atwu-s0", "atwu")
    others = [
        _run(tmp_path, "graddiff-s0", "graddiff"),
        _run(tmp_path, "atwu-s1", "atwu", seed=1),  # the picked run's method: not again
        _run(tmp_path, "wga-s1", "wga", seed=1),
        _run(tmp_path, "wga-s0", "wga", seed=0),
        _run(tmp_path, "oracle-s0", "oracle"),
        _run(tmp_path, "tnpo-s0", "tnpo"),
        _run(tmp_path, "satimp-s0", "satimp"),
    ]
    # PREFERRED order, seed 0 first, at most four rows
    assert default_compare(picked, others) == ["wga-s0", "satimp-s0", "tnpo-s0", "oracle-s0"]
    assert default_compare(picked, others[:2]) == ["graddiff-s0"]


def test_prf_table_has_one_line_per_row_and_honours_shape_only(tmp_path):
    a = _tokens([0.9, 0.8, 0.1, 0.2], [1, 1, 0, -1])
    b = _tokens([0.2, 0.1, 0.4, 0.0], [1, 0, 0, 1])
    table = prf_table([("a", a), ("b", b)], 0.5, normalise=False)
    assert list(table.columns) == ["run", "precision", "recall", "F1", "tokens ≥ threshold"]
    assert table.iloc[0].tolist() == ["a", "1.00", "1.00", "1.00", 2]
    # nothing above the threshold: precision undefined, recall and F1 zero
    assert table.iloc[1].tolist() == ["b", "–", "0.00", "0.00", 0]
    # divided by its own maximum (0.4), b puts 0.5 and 1.0 on the first and third tokens
    shaped = prf_table([("b", b)], 0.5, normalise=True)
    assert shaped.iloc[0].tolist() == ["b", "0.50", "0.50", "0.50", 2]


def test_score_text():
    assert score_text(math.nan) == "–" and score_text(None) == "–"
    assert score_text(0.456) == "0.46"


def test_rows_csv_labels_each_row(tmp_path):
    info = _run(tmp_path, "wga-s0", "wga")
    label = row_label(info, 12)
    assert label == "wga · wga-s0 (step 12)"
    csv = rows_csv([(label, _tokens([0.5], [1])), ("x", _tokens([0.1, 0.2], [0, 0]))]).decode()
    lines = csv.splitlines()
    assert lines[0] == "position,token,weight,label,run"
    assert lines[1].endswith(label) and len(lines) == 4


def test_example_header_escapes_every_text():
    html = example_header_html("<id>", "Who wrote <b>X</b>?", "A & B")
    assert "&lt;id&gt;" in html and "&lt;b&gt;X&lt;/b&gt;" in html and "A &amp; B" in html
    assert "<b>X</b>" not in html


def test_alignment_curves_join_runs_and_report_unreadable_ones():
    ok = pd.DataFrame({"step": [0, 10], "auroc": [0.5, 0.8], "auprc": [0.3, 0.6], "x": [1, 2]})
    frame, warnings = alignment_curves(
        [("a", ok, None), ("b", None, "broken line 3"), ("c", pd.DataFrame(), None)]
    )
    assert list(frame.columns) == ["step", "auroc", "auprc", "run"]
    assert frame["run"].tolist() == ["a", "a"]
    assert warnings == ["b: eval.jsonl is unreadable (broken line 3)."]
    empty, _ = alignment_curves([("c", pd.DataFrame(), None)])
    assert empty.empty


def test_typed_scores_frame_and_no_model_note():
    frame = typed_scores_frame([("The", 0.1), (" author", 0.9)])
    assert frame.to_dict("records") == [
        {"position": 0, "token": "The", "weight": 0.1},
        {"position": 1, "token": " author", "weight": 0.9},
    ]
    assert "demo runs ship without models" in no_model_note("r", demo=True)
    assert "--save-model" in no_model_note("r", demo=False)


def test_typed_text_is_refused_for_every_weighting_read_off_the_labels():
    for name in ("oracle", "specific_oracle", "shuffled_oracle", "template_only"):
        assert weights_are_labels(name), name
    for name in ("atwu", "etw", "tokenunlearn", "static_p", "a method that no longer exists"):
        assert not weights_are_labels(name), name


@pytest.mark.parametrize("normalise", [True, False])
def test_colour_range(normalise):
    frames = [_tokens([0.2, 1.7], [0, 1]), _tokens([-0.3], [0])]
    lo, hi = colour_range(frames, normalise=normalise)
    if normalise:
        assert (lo, hi) == (0.0, 1.0)
    else:
        assert lo <= -0.3 and hi >= 1.7


def test_the_retain_conflict_ground_truth_counts_specific_against_shared():
    tokens = pd.DataFrame(
        {
            "example_id": "e1",
            "position": range(5),
            "token": "t",
            "weight": [0.9, 0.8, 0.2, 0.7, 0.1],
            "label": [1, 1, 1, 0, -1],
            "span_kind": ["specific", "specific", "shared", None, "context"],
        }
    )
    assert relabelled(tokens, "facts") is tokens  # the default keeps the recorded labels
    conflict = relabelled(tokens, "conflict")
    assert conflict["label"].tolist() == [1, 1, 0, -1, -1]
    assert tokens["label"].tolist() == [1, 1, 1, 0, -1]  # the input is left as it was
    # at 0.5: the template token above the threshold no longer counts as a false positive
    table = prf_table([("a", conflict)], 0.5, normalise=False)
    assert table.iloc[0][["precision", "recall", "F1"]].tolist() == ["1.00", "1.00", "1.00"]
    facts = prf_table([("a", tokens)], 0.5, normalise=False)
    assert facts.iloc[0]["precision"] == "0.67"
    no_kinds = relabelled(tokens.drop(columns="span_kind"), "conflict")
    assert set(no_kinds["label"]) == {-1}  # without span kinds nothing can be counted
    with pytest.raises(ValueError, match="unknown ground truth"):
        relabelled(tokens, "nonsense")
    assert example_table_columns("conflict")["mean weight (facts)"] == "mean weight (specific)"
    assert example_table_columns("facts") == {}
    assert "specific to this author as positive" in ground_truth_caption("conflict")
    assert set(GROUND_TRUTHS) == {"facts", "conflict"}


def test_alignment_curves_carry_the_retain_conflict_auroc_when_recorded():
    frame = pd.DataFrame(
        {
            "step": [0, 10],
            "auroc": [0.5, 0.8],
            "auprc": [0.3, 0.6],
            "auroc_retain_conflict": [0.5, 0.7],
        }
    )
    curves, _ = alignment_curves([("a", frame, None)])
    assert curves["auroc_retain_conflict"].tolist() == [0.5, 0.7]
