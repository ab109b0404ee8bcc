"""A file of a run far larger than any run writes (a NUL-padded eval.jsonl, a huge config.json,
a parquet file of gigabytes) ends in one line naming the file, its size, the limit and the way
out, before a byte of it is read; the run list shows such a run as damaged, not done.

The large files are sparse (``truncate``): they cost no disk, and reading one would cost its
size in memory, which the tests check was not spent."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from atwu import cli
from atwu.file_limits import LIMIT_ENV, LIMITS, LINE_LIMIT
from atwu.io import UnreadableFileError, read_json, read_jsonl
from atwu.runs.read import DAMAGED, list_runs, read_evals, read_weights

GB = 1024**3


def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)  # NUL bytes, none of them on disk
    return path


def finished_run(root: Path, name: str = "run") -> Path:
    run = root / name
    run.mkdir(parents=True)
    config = {"method": "ga", "params": {}, "seed": 0, "train": {}}
    (run / "config.json").write_text(json.dumps(config))
    status = {"state": "done", "message": "finished", "step": 6, "total_steps": 6}
    (run / "status.json").write_text(json.dumps(status))
    (run / "eval.jsonl").write_text('{"step": 6, "forget_truth_ratio": 0.5}\n')
    return run


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_2_gb_nul_padded_eval_log_makes_compare_fail_in_one_line_without_reading_it(
    tmp_path, capsys
):
    assert cli.main(["compare", str(finished_run(tmp_path / "runs", "healthy"))]) == 0
    capsys.readouterr()  # compare's modules are loaded: what follows costs only the file
    run = finished_run(tmp_path / "runs")
    sparse(run / "eval.jsonl", 2 * GB)
    before = peak_rss_mb()
    rc = cli.main(["compare", str(run)])
    err = capsys.readouterr().err
    assert rc == 2
    line = one_error_line(err)
    assert str(run / "eval.jsonl") in line and "2.0 GB" in line
    assert "256 MB limit" in line and LIMIT_ENV in line
    assert peak_rss_mb() - before < 200  # the 2 GB were never read


def test_a_run_with_a_2_gb_eval_log_is_listed_as_damaged_not_done(tmp_path, capsys):
    runs = tmp_path / "runs"
    sparse(finished_run(runs) / "eval.jsonl", 2 * GB)
    finished_run(runs, "healthy")
    states = {info.name: info.state for info in list_runs(runs)}
    assert states == {"run": DAMAGED, "healthy": "done"}
    assert cli.main(["list", str(runs)]) == 0
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if line.startswith("run\t")]
    assert f"\t{DAMAGED}\t" in row and "eval.jsonl: 2.0 GB is over the 256 MB limit" in row


def test_a_nul_padded_line_under_the_file_limit_is_refused_at_the_line_limit(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"step": 0}\n')
    with open(path, "ab") as handle:
        handle.truncate(path.stat().st_size + 3 * LINE_LIMIT)  # 24 MB without a line break
    before = peak_rss_mb()
    with pytest.raises(UnreadableFileError, match=r"a line starting at byte 13 is longer than"):
        read_jsonl(path)
    assert peak_rss_mb() - before < 3 * LINE_LIMIT / 2**20  # no more than one line was read


def test_a_run_whose_config_is_huge_lists_the_problem_instead_of_reading_it(tmp_path):
    run = finished_run(tmp_path / "runs")
    sparse(run / "config.json", LIMITS["json"] + 1)
    [info] = list_runs(tmp_path / "runs")
    assert any("config.json is unreadable" in p and "64 MB limit" in p for p in info.problems)
    with pytest.raises(
        UnreadableFileError, match=r"config\.json: 67,108,865 bytes is over the 64 MB limit"
    ):
        read_json(run / "config.json")


def test_a_huge_weights_parquet_is_refused_before_pyarrow_opens_it(tmp_path):
    run = finished_run(tmp_path / "runs")
    sparse(run / "weights.parquet", 3 * GB)
    with pytest.raises(UnreadableFileError, match=r"weights\.parquet: 3\.0 GB is over the 1\.0 GB"):
        read_weights(run)
    assert list_runs(tmp_path / "runs")[0].state == DAMAGED


def test_the_limit_can_be_raised_for_a_genuine_large_file(tmp_path, monkeypatch):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"step": 0}\n' * 10)
    monkeypatch.setenv(LIMIT_ENV, "0.0001")  # about 100 bytes: the 120-byte file is over it
    with pytest.raises(UnreadableFileError, match="over the 104 bytes limit"):
        read_jsonl(path)
    monkeypatch.setenv(LIMIT_ENV, "1")
    assert len(read_jsonl(path)) == 10


def test_a_line_break_inside_a_text_field_is_not_a_line_break_of_the_log(tmp_path):
    # JSON Lines are split at newline characters only (not at U+2028 inside a string)
    path = tmp_path / "examples.jsonl"
    path.write_text(json.dumps({"text": "a\u2028b"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_jsonl(path) == [{"text": "a\u2028b"}]
    assert read_evals(tmp_path).empty  # no eval.jsonl there: an empty frame, not an error
