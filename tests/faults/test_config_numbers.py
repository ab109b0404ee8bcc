"""Numbers in a config.json that no setting can take (``1e999``, which reads as infinity, a
4,000-digit integer, a value outside a setting's range) are refused in one line naming the file,
never shown or exported as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atwu import cli
from atwu.io import UnreadableFileError, read_json
from atwu.runs.read import list_runs

HUGE_INT = "9" * 4000


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def run_with_config(root: Path, config_text: str) -> Path:
    run = root / "run"
    run.mkdir(parents=True)
    (run / "config.json").write_text(config_text)
    (run / "status.json").write_text(json.dumps({"state": "done", "step": 6, "total_steps": 6}))
    (run / "eval.jsonl").write_text('{"step": 6, "forget_truth_ratio": 0.5}\n')
    return run


@pytest.mark.parametrize(
    "literal, reason",
    [
        ("1e999", "the number 1e999 is too large for a floating-point value"),
        (HUGE_INT, "has more than 19 digits"),
        ("-" + HUGE_INT, "has more than 19 digits"),
    ],
)
def test_a_number_beyond_any_setting_in_config_json_is_refused_naming_the_file(
    tmp_path, capsys, literal, reason
):
    params = '"params": {"alpha": ' + literal + "}"
    text = '{"method": "ga", ' + params + ', "seed": 0, "train": {}}'
    run = run_with_config(tmp_path / "runs", text)
    with pytest.raises(UnreadableFileError, match=reason):
        read_json(run / "config.json")
    [info] = list_runs(tmp_path / "runs")
    assert info.config == {} and any(reason in p for p in info.problems)
    assert cli.main(["compare", str(run)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(run / "config.json") in line and reason in line and len(line) < 300


def test_a_config_file_with_an_infinite_learning_rate_starts_no_run(tmp_path, capsys):
    config = tmp_path / "bad.json"
    config.write_text('{"method": "graddiff", "train": {"lr": 1e999}}')
    out = tmp_path / "run"
    rc = cli.main(["run", "--config", str(config), "--out", str(out)])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2 and str(config) in line and "1e999" in line
    assert not out.exists()


def test_a_config_file_with_a_seed_beyond_its_range_starts_no_run(tmp_path, capsys):
    config = tmp_path / "bad.json"
    config.write_text('{"method": "graddiff", "seed": 123456789012345}')
    out = tmp_path / "run"
    rc = cli.main(["run", "--config", str(config), "--out", str(out)])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2 and "--seed" in line
    assert not out.exists()
