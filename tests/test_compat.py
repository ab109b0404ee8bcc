"""open-unlearning compatibility: retain logs in (forget quality), TOFU_EVAL/SUMMARY out."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from atwu.benchmark import BenchmarkError
from atwu.data.format import QAPair
from atwu.evaluate.tofu_metrics import forget_quality
from atwu.interop.open_unlearning import (
    export_run,
    read_retain_ratios,
    retain_reference_from_logs,
    summary_from_logs,
)
from atwu.io import read_jsonl

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOFU = FIXTURES / "tofu"
LOGS = TOFU / "TOFU_EVAL_retain90.json"
sys.path.insert(0, str(FIXTURES))
from tiny_llama import build_tiny_llama  # noqa: E402


def _write(tmp_path: Path, logs) -> Path:
    path = tmp_path / "TOFU_EVAL.json"
    path.write_text(json.dumps(logs))
    return path


def test_read_retain_ratios_from_open_unlearning_logs():
    assert read_retain_ratios(LOGS) == [0.8, 0.55, 1.3, 0.42]


@pytest.mark.parametrize(
    "logs, message",
    [
        ({"forget_Q_A_Prob": {"agg_value": 0.1}}, "no forget_truth_ratio.value_by_index"),
        ({"forget_truth_ratio": {"agg_value": 0.5}}, "no forget_truth_ratio.value_by_index"),
        (
            {"forget_truth_ratio": {"value_by_index": {"0": {"prob": 1.0}}}},
            r"value_by_index\[0\] has no 'score'",
        ),
        (
            {"forget_truth_ratio": {"value_by_index": {"a": {"score": 1.0}}}},
            "keys must be row indices",
        ),
        (
            {"forget_truth_ratio": {"value_by_index": {"0": {"score": 1.0}, "2": {"score": 1.0}}}},
            r"should number the rows 0..1",
        ),
        ([], "expected a JSON object"),
    ],
)
def test_bad_retain_logs(tmp_path, logs, message):
    with pytest.raises(BenchmarkError, match=message):
        read_retain_ratios(_write(tmp_path, logs))


def test_missing_or_unreadable_logs(tmp_path):
    with pytest.raises(BenchmarkError, match="file not found"):
        read_retain_ratios(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(BenchmarkError, match="not a JSON file"):
        read_retain_ratios(tmp_path / "bad.json")


def test_reference_from_logs_maps_rows_to_ids_and_checks_the_count():
    pairs = [QAPair(id=f"forget10-{i}", question="q", answer="a") for i in range(4)]
    ref = retain_reference_from_logs(LOGS, pairs, "forget10")
    assert ref["ratios"]["forget10-2"] == 1.3 and ref["summary"]["n"] == 4
    with pytest.raises(BenchmarkError, match="has 4 forget truth ratios but forget10 has 3"):
        retain_reference_from_logs(LOGS, pairs[:3], "forget10")


def test_summary_drops_null_aggregates():
    logs = {
        "b": {"agg_value": 0.5},
        "a": {"agg_value": None},
        "c": {"agg_value": 1.0, "value_by_index": {}},
    }
    assert summary_from_logs(logs) == {"b": 0.5, "c": 1.0}


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory) -> Path:
    """A short evaluated run on the TOFU fixture with forget quality from the retain logs."""
    import os

    from atwu.cli import main

    root = tmp_path_factory.mktemp("compat")
    model = build_tiny_llama(root / "model", chat_template="llama3")
    old = os.environ.get("ATWU_HOME")
    os.environ["ATWU_HOME"] = str(root / "home")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(
                [
                    "run",
                    "--method",
                    "ga",
                    "--benchmark",
                    "tofu",
                    "--data-dir",
                    str(TOFU),
                    "--retain-logs",
                    str(LOGS),
                    "--model",
                    str(model),
                    "--steps",
                    "2",
                    "--checkpoint-every",
                    "2",
                    "--out",
                    str(root / "run"),
                ]
            )
    finally:
        if old is None:
            os.environ.pop("ATWU_HOME", None)
        else:
            os.environ["ATWU_HOME"] = old
    assert code == 0
    return root / "run"


def test_export_has_open_unlearning_shapes(evaluated_run, tmp_path):
    eval_path, summary_path = export_run(evaluated_run, tmp_path / "ou")
    logs = json.loads(eval_path.read_text())
    summary = json.loads(summary_path.read_text())
    final = read_jsonl(evaluated_run / "eval.jsonl")[-1]
    assert final["step"] == 2 and final["forget_quality"] is not None

    tr = logs["forget_truth_ratio"]
    assert sorted(tr["value_by_index"]) == ["0", "1", "2", "3"]
    examples = pd.read_parquet(evaluated_run / "eval_examples.parquet")
    mine = examples[(examples["step"] == 2) & (examples["split"] == "forget10")]
    assert [tr["value_by_index"][str(i)]["score"] for i in range(4)] == pytest.approx(
        list(mine.sort_values("example_id")["truth_ratio"])
    )
    assert tr["agg_value"] == pytest.approx(final["forget_truth_ratio"])
    entry = logs["forget_Q_A_ROUGE"]["value_by_index"]["0"]
    assert set(entry) == {"rougeL_recall", "input", "ground_truth", "generation"}
    assert entry["input"] == "Where was the author Liora Venhaldt born?"
    assert set(logs["forget_Q_A_Prob"]["value_by_index"]["1"]) == {"prob", "avg_loss"}
    for key in (
        "retain_Q_A_Prob",
        "retain_Q_A_ROUGE",
        "retain_Truth_Ratio",
        "ra_Q_A_Prob_normalised",
        "ra_Truth_Ratio",
        "wf_Q_A_ROUGE",
        "forget_quality",
        "model_utility",
    ):
        assert key in logs, key
    assert logs["forget_quality"]["agg_value"] == pytest.approx(final["forget_quality"])
    assert summary["forget_quality"] == pytest.approx(final["forget_quality"])
    assert list(logs) == sorted(logs)

    # What we export reads back as retain logs, and gives the same forget quality.
    ours = read_retain_ratios(eval_path)
    p, _ = forget_quality(ours, read_retain_ratios(LOGS))
    assert p == pytest.approx(final["forget_quality"])


def test_export_cli_and_errors(evaluated_run, tmp_path, capsys):
    from atwu.cli import main

    assert main(["export", str(evaluated_run), "--out", str(tmp_path / "x")]) == 0
    assert (tmp_path / "x" / "TOFU_SUMMARY.json").is_file()
    assert main(["export", str(evaluated_run), "--step", "1"]) == 2
    assert "step 1 has no model metrics (evaluated steps: 0, 2)" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text(json.dumps({"benchmark": "tofu", "split": "forget10"}))
    with pytest.raises(BenchmarkError, match="has no evaluation"):
        export_run(empty)
