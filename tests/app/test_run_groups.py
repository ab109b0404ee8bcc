"""Runs as the pages group them: sweeps' runs listed beside the others, one configuration counted
once, runs compared only on their own benchmark, names short enough for a chip, time left, and
the overview matrix's order and pages."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from atwu.app.duplicates import without_duplicates
from atwu.app.overview_view import ordered_examples, page
from atwu.app.run_list import (
    benchmark_key,
    list_all_runs,
    run_styles,
    short_name,
    time_left_text,
    variant_of,
)
from atwu.app.token_compare import comparable_runs
from atwu.demo import shipped_demo_dir
from atwu.runs.read import RunInfo, read_run


def _copy(name: str, dst: Path) -> Path:
    shutil.copytree(shipped_demo_dir() / name, dst, ignore=shutil.ignore_patterns("*.parquet"))
    return dst


def _edit(run_dir: Path, file: str, **changes) -> None:
    data = json.loads((run_dir / file).read_text())
    data.update(changes)
    (run_dir / file).write_text(json.dumps(data))


def test_runs_inside_sweep_directories_are_listed_with_their_sweep(tmp_path):
    _copy("atwu-s0", tmp_path / "atwu-s0")
    sweep = tmp_path / "sweep-wga-1"
    _copy("wga-s0", sweep / "wga-default-s0")
    (sweep / "sweep.json").write_text("{}")
    _copy("tnpo-s0", tmp_path / "not-a-sweep" / "tnpo-s0")  # no sweep.json: not looked into
    names = [r.name for r in list_all_runs(tmp_path)]
    assert names == ["atwu-s0", "sweep-wga-1/wga-default-s0"]
    assert list_all_runs(tmp_path / "missing") == []


def test_a_repeated_configuration_is_counted_once_and_said(tmp_path):
    a = read_run(_copy("atwu-s0", tmp_path / "atwu-s0"))
    again = _copy("atwu-s0", tmp_path / "atwu-s0-again")
    _edit(again, "config.json", name="atwu-s0-again", created_at="2099-01-01")
    _edit(again, "status.json", ended_at="2099-01-01T00:00:00+00:00")  # the newer: kept
    b = read_run(again)
    seed1 = read_run(_copy("atwu-s1", tmp_path / "atwu-s1"))
    kept, notes = without_duplicates([a, b, seed1])
    assert [r.name for r in kept] == ["atwu-s0-again", "atwu-s1"]
    assert notes == [
        "atwu-s0 repeats atwu-s0-again (same configuration and seed 0): counted once, as a "
        "second seed it would fake agreement"
    ]
    other = _copy("atwu-s0", tmp_path / "atwu-lr")
    _edit(other, "config.json", train={**a.config["train"], "lr": 1.0})
    assert len(without_duplicates([a, read_run(other)])[0]) == 2  # another lr: not a duplicate


def test_runs_compare_only_on_their_own_benchmark(tmp_path):
    atwu = read_run(_copy("atwu-s0", tmp_path / "atwu-s0"))
    wga = read_run(_copy("wga-s0", tmp_path / "wga-s0"))
    mine = _copy("wga-s0", tmp_path / "wga-mine")
    resolved = {**wga.config["resolved"], "benchmark": "/home/me/.atwu/benchmarks/embedded"}
    _edit(mine, "config.json", resolved=resolved)
    for run in (atwu, wga):  # the weights file is what makes a run comparable
        (run.path / "weights.parquet").write_bytes(b"")
    (mine / "weights.parquet").write_bytes(b"")
    others = comparable_runs([atwu, wga, read_run(mine)], atwu)
    assert [r.name for r in others] == ["wga-s0"]
    assert benchmark_key(read_run(mine).config) == (
        "/home/me/.atwu/benchmarks/embedded",
        "forget10",
    )


def test_one_colour_per_method_one_marker_per_seed():
    def info(name, method, seed, variant=None):
        config = {"method": method, "seed": seed, "tags": {"variant": variant} if variant else {}}
        return RunInfo(Path(name), name, config, {}, [])

    runs = [info("a0", "atwu", 0), info("a1", "atwu", 1), info("w", "wga", 0, "wga_b5")]
    styles = run_styles(runs)
    assert styles["a0"][0] == styles["a1"][0] != styles["w"][0]
    assert styles["a0"][1] != styles["a1"][1] and styles["a0"][1] == styles["w"][1]
    assert variant_of(runs[2].config) == "wga_b5" and variant_of(runs[0].config) == "atwu"


def test_chip_names_and_time_left():
    assert short_name("atwu-s0-20261129-071200") == "atwu-s0 07:12:00"
    assert short_name("atwu-s0-20261129-071200-2") == "atwu-s0 07:12:00-2"
    assert short_name("atwu-s0") == "atwu-s0"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    status = {"state": "running", "step": 30, "total_steps": 150, "started_at": start.isoformat()}
    run = RunInfo(Path("r"), "r", {}, status, [])
    assert time_left_text(run, start + dt.timedelta(seconds=10)) == "about 40 s left"
    assert time_left_text(run, start + dt.timedelta(seconds=60)) == "about 4 min left"
    done = RunInfo(Path("r"), "r", {}, {**status, "state": "done"}, [])
    assert time_left_text(done, start + dt.timedelta(seconds=60)) == ""


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "example_id": [f"a{i:02d}_{'birthplace' if i % 2 else 'award'}" for i in range(90)],
            "AUROC": [((i * 37) % 90) / 90 for i in range(90)],
            "question": [f"question {i}" for i in range(90)],
        }
    ).assign(**{"mean weight (facts)": 0.5})


def test_overview_sorts_filters_and_pages(table):
    ids = ordered_examples(table, "benchmark order")
    assert ids == table["example_id"].tolist()
    by_auroc = ordered_examples(table, "AUROC (lowest first)")
    assert table.set_index("example_id").loc[by_auroc, "AUROC"].is_monotonic_increasing
    births = ordered_examples(table, "benchmark order", " Birthplace ")
    assert len(births) == 45 and all("birthplace" in i for i in births)
    assert ordered_examples(table, "benchmark order", "question 7") == ["a07_birthplace"] + [
        f"a{i}_{'birthplace' if i % 2 else 'award'}" for i in range(70, 80)
    ]
    first, pages = page(ids, 1, 40)
    last, _ = page(ids, 99, 40)  # past the end: the last page
    assert pages == 3 and first == ids[:40] and last == ids[80:]
    assert page([], 1) == ([], 1)
