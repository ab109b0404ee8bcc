"""Nothing lost, no one surprised (issue 12): what a careless or hostile input does.

Each test builds the damaged file, the wrong value or the half-finished state a kill leaves, and
checks what the user sees (one line, exit code 2, the file named) and that nothing on disk was
lost. Most need no training; the few that reach ``run`` use the session's small benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from atwu import cli
from atwu.cli.run_cmd import config_file
from atwu.data.format import DataFormatError
from atwu.data.pairs_file import MAX_TEXT_CHARS, load_pairs
from atwu.errors import InputError
from atwu.io import TornLineWarning, UnreadableFileError, read_jsonl
from atwu.prepare.output import check_prepare_output
from atwu.runs.read import list_runs, read_evals
from atwu.runs.status import effective_state, parse_time
from atwu.train.state import find_state, recover_state


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- 1, 9: --overwrite never deletes what is not ours; prepare refuses before it trains ----------


def test_prepare_refuses_a_folder_of_other_files_even_with_overwrite(tmp_path, capsys):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("precious")
    rc, _, err = run_cli(capsys, "prepare", "--out", str(thesis), "--overwrite")
    assert rc == 2 and "not a benchmark" in one_line_error(err)
    assert (thesis / "chapter1.tex").read_text() == "precious"


def test_prepare_into_an_existing_benchmark_refuses_at_once(tmp_path):
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "manifest.json").write_text("{}")
    with pytest.raises(InputError, match="already holds a benchmark; pass --overwrite"):
        check_prepare_output(bench, overwrite=False)
    check_prepare_output(bench, overwrite=True)  # a benchmark is what --overwrite replaces


def test_a_killed_prepare_leaves_no_hidden_folder_behind(tmp_path):
    # the half-built folder is named after its owner; a dead owner's is removed by the next
    # prepare, a live one's (this process) is kept and makes a second prepare wait its turn
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    from atwu.process import host_name, owner_tag

    left = tmp_path / f".bench.{host_name()}_{dead.stdout.strip()}_1.abcd1234.partial"
    left.mkdir()
    check_prepare_output(tmp_path / "bench", overwrite=False)
    assert not left.exists()

    live = tmp_path / f".bench.{owner_tag()}.abcd1234.partial"
    live.mkdir()
    with pytest.raises(InputError, match="another prepare is building"):
        check_prepare_output(tmp_path / "bench", overwrite=False)
    assert live.exists()


# -- 3: a kill during the state swap still resumes ------------------------------------------------


def _fake_state(folder: Path, *, complete: bool) -> None:
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "model.safetensors").write_bytes(b"x")
    (folder / "trainer.pt").write_bytes(b"x")
    if complete:
        (folder / "complete.json").write_text('{"step": 4}')


def test_state_left_only_as_old_is_found_and_put_back(tmp_path):
    _fake_state(tmp_path / ".state.old", complete=False)
    assert find_state(tmp_path) == tmp_path / ".state.old"
    assert recover_state(tmp_path)
    assert (tmp_path / "state" / "trainer.pt").is_file() and not (tmp_path / ".state.old").exists()


def test_newer_complete_partial_state_wins_over_old_and_an_unmarked_partial_does_not(tmp_path):
    _fake_state(tmp_path / ".state.old", complete=False)
    _fake_state(tmp_path / ".state.partial", complete=False)  # cut while written: not complete
    assert find_state(tmp_path) == tmp_path / ".state.old"
    (tmp_path / ".state.partial" / "complete.json").write_text('{"step": 8}')
    assert find_state(tmp_path) == tmp_path / ".state.partial"
    assert find_state(tmp_path / "nothing-here") is None


# -- 4: a configuration file cannot switch on remote code -----------------------------------------


def test_config_file_cannot_turn_on_trust_remote_code(tmp_path, capsys):
    path = tmp_path / "shared.json"
    path.write_text(json.dumps({"method": "atwu", "trust_remote_code": True}))
    cfg = config_file(path)
    assert cfg.trust_remote_code is False
    assert "--trust-remote-code" in capsys.readouterr().err


# -- 5: damaged status files never break the run list ---------------------------------------------


def test_status_that_is_not_an_object_is_listed_as_a_problem(tmp_path, capsys):
    run = tmp_path / "runs" / "odd"
    run.mkdir(parents=True)
    (run / "status.json").write_text("[1, 2]")
    (run / "config.json").write_text(json.dumps({"method": "atwu", "train": {}}))
    [info] = list_runs(tmp_path / "runs")
    assert any("status.json is unreadable" in p and "not a JSON object" in p for p in info.problems)
    rc, out, _ = run_cli(capsys, "list", str(tmp_path / "runs"))
    assert rc == 0 and "odd" in out


def test_heartbeat_without_time_zone_reads_as_unknown_not_a_crash():
    assert parse_time("2026-11-29T08:00:00") is None
    assert parse_time(12) is None
    state, message = effective_state({"state": "running", "heartbeat_at": "2026-11-29T08:00:00"})
    # a heartbeat that cannot be read is no heartbeat: the run is reported as stopped
    assert state == "failed" and "no heartbeat" in message
    assert effective_state({"state": ["x"], "message": 3}) == ("unknown", "3")


# -- 6: damaged files end in one line naming the file ---------------------------------------------


def test_cut_line_in_the_middle_of_eval_log_names_file_and_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "eval.jsonl").write_text('{"step": 0}\n{"step": 5, "ffe"\n{"step": 10}\n')
    with pytest.raises(UnreadableFileError, match=r"eval\.jsonl: line 2"):
        read_evals(run)


def test_torn_last_line_is_dropped_with_a_warning_naming_the_file(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"step": 0}\n{"step": 5}\n{"step": 10, "ff')
    with pytest.warns(TornLineWarning, match="eval.jsonl.*line 3"):
        records = read_jsonl(path, warn_torn=True)
    assert [r["step"] for r in records] == [0, 5]


@pytest.mark.parametrize(
    "line, reason",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"step": NaN}', "NaN is not a JSON number"),
        ('{"text": "\\ud800"}', "lone surrogate"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_well_formed_but_unacceptable_lines_are_refused_not_skipped(tmp_path, line, reason):
    path = tmp_path / "log.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(UnreadableFileError, match=reason):
        read_jsonl(path)


def test_compare_on_a_damaged_config_is_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"method": "atwu", "par')
    (run / "eval.jsonl").write_text('{"step": 0}\n')
    rc, _, err = run_cli(capsys, "compare", str(run))
    assert rc == 2 and "config.json" in one_line_error(err)


def test_pairs_file_limits_length_depth_and_surrogates(tmp_path):
    cases = {
        "long": json.dumps({"question": "q?", "answer": "a" * (MAX_TEXT_CHARS + 1)}),
        "deep": "[" * 100_000 + "]" * 100_000,
        "surrogate": '{"question": "q?", "answer": "\\udc00"}',
    }
    messages = {"long": "limit is 20,000", "deep": "nested too deeply", "surrogate": "surrogate"}
    for name, line in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text(line + "\n")
        with pytest.raises(DataFormatError, match=messages[name]) as caught:
            load_pairs(path)
        assert str(path.name) in str(caught.value) and "\n" not in str(caught.value)


# -- 6, 7: bad values are refused before any run directory exists ---------------------------------


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--lr", "nan"], "--lr must be a finite number"),
        (["--lr", "-1"], "--lr must be above 0"),
        (["--lr", "inf"], "--lr must be a finite number"),
        (["--epochs", "inf"], "--epochs must be a finite number"),
        (["--set", "beta=nan"], "beta"),
    ],
)
def test_bad_numbers_are_refused_before_the_run_directory_exists(tmp_path, capsys, extra, message):
    out = tmp_path / "run"
    method = "npo" if "beta=nan" in extra else "graddiff"
    rc, _, err = run_cli(capsys, "run", "--method", method, "--out", str(out), *extra)
    assert rc == 2 and message in one_line_error(err)
    assert not out.exists()


def test_run_out_pointing_at_a_file_is_one_line(any_benchmark, tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    rc, _, err = run_cli(
        capsys, "run", "--method", "graddiff", "--steps", "2", "--out", str(target)
    )
    assert rc == 2 and "is a file" in one_line_error(err)
    assert target.read_text() == "mine"


# -- 2: one writer per run -------------------------------------------------------------------------


def test_overwrite_of_a_live_run_is_refused_and_the_run_is_untouched(
    any_benchmark, tmp_path, capsys
):
    from atwu.runs.lease import Lease

    out = tmp_path / "live"
    out.mkdir()
    (out / "status.json").write_text(json.dumps({"state": "running"}))
    lease = Lease.acquire(out)  # this process stands for the run that is training there
    try:
        rc, _, err = run_cli(
            capsys, "run", "--method", "graddiff", "--steps", "2", "--no-eval", "--out", str(out)
        )
        assert rc == 2
        rc, _, err = run_cli(
            capsys,
            "run",
            "--method",
            "graddiff",
            "--steps",
            "2",
            "--no-eval",
            "--overwrite",
            "--out",
            str(out),
        )
        assert rc == 2 and str(os.getpid()) in one_line_error(err)
        assert json.loads((out / "status.json").read_text())["state"] == "running"
    finally:
        lease.release()


def test_overwrite_keeps_the_old_run_until_the_new_one_finished(any_benchmark, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["run", "--method", "graddiff", "--steps", "2", "--no-eval", "--out", str(out)]
    assert run_cli(capsys, *base)[0] == 0
    first_config = json.loads((out / "config.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc, _, err = run_cli(capsys, *base[:2], "ga", *base[3:], "--overwrite")
    assert rc == 0, err
    assert json.loads((out / "config.json").read_text())["method"] == "ga"
    assert first_config["method"] == "graddiff"
    # the copy set aside while the new run trained is gone once it finished
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.replaced-")]


# -- 11: CSV exports never hand a spreadsheet a formula ---------------------------------------------


def test_csv_exports_neutralise_formula_cells_and_keep_numbers():
    import pandas as pd

    from atwu.app.token_view import scores_csv
    from atwu.csv_export import csv_text

    frame = pd.DataFrame({"run": ["=HYPERLINK(1)", "@x", "plain"], "delta": [-1.5, 2.0, 0.0]})
    lines = csv_text(frame).splitlines()
    assert lines[1:] == ["'=HYPERLINK(1),-1.5", "'@x,2.0", "plain,0.0"]
    tokens = pd.DataFrame({"step": [0], "token": ["+cmd"], "weight": [0.5]})
    assert "'+cmd" in scores_csv(tokens).decode("utf-8")
