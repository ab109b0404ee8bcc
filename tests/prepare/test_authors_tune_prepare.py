"""``python -m atwu prepare --benchmark authors_tune`` end to end: the tuning benchmark is built
where ``--benchmark authors_tune`` finds it, in the embedded layout, and a run uses it by name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from atwu import cli
from atwu.io import read_json


def test_a_run_on_authors_tune_before_prepare_says_how_to_prepare_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ATWU_HOME", str(tmp_path))
    rc = cli.main(["run", "--benchmark", "authors_tune", "--method", "static_p", "--no-eval"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "python -m atwu prepare --benchmark authors_tune" in err, err
    assert str(tmp_path / "benchmarks" / "authors_tune") in err


def test_authors_tune_refuses_the_options_of_other_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ATWU_HOME", str(tmp_path))
    rc = cli.main(["prepare", "--benchmark", "authors_tune", "--target-model", "smollm2-135m"])
    assert rc == 2 and "--benchmark authors_tune" in capsys.readouterr().err
    assert not (tmp_path / "benchmarks").exists()


@pytest.mark.slow
def test_prepare_authors_tune_then_run_on_it_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ATWU_HOME", str(tmp_path))
    # 10 authors (forget10 is one of them): what is checked here does not depend on the size,
    # and the models train for about 40 % fewer steps than with 20 (build.auto_epochs)
    assert cli.main(["prepare", "--benchmark", "authors_tune", "--authors", "10"]) == 0, (
        capsys.readouterr().err
    )
    root = tmp_path / "benchmarks" / "authors_tune"
    manifest = read_json(root / "manifest.json")
    assert manifest["kind"] == "authors_tune" and manifest["authors"] == 10
    assert manifest["forget_splits"] == {"forget10": "retain90"}
    assert manifest["retain_sets"]["retain90"] == {
        "train": "retain90_train",
        "heldout": "retain90_heldout",
    }
    assert {"forget01", "forget05", "forget10", "general", "holdout"} <= manifest["splits"].keys()
    assert manifest["splits"]["forget10"]["n"] == 10  # one author, ten attributes
    assert sorted(manifest["models"]) == ["base", "full", "retain90"]
    for model in manifest["models"].values():
        assert (root / model / "model.safetensors").is_file()
    first = (root / "data" / "forget10.jsonl").read_text().splitlines()[0]
    assert "Elena" not in first and '"spans"' in first
    quality = read_json(root / "quality.json")
    assert quality["models"]["full"]["exact_match"]["forget10"] >= 0.8  # it memorised the facts

    out = tmp_path / "run"
    rc = cli.main(
        [
            "run",
            "--benchmark",
            "authors_tune",
            "--method",
            "static_p",
            "--steps",
            "2",
            "--checkpoint-every",
            "2",
            "--no-eval",
            "--out",
            str(out),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    config = read_json(out / "config.json")
    assert Path(config["resolved"]["benchmark"]) == root
    assert config["resolved"]["split"] == "forget10"
    weights = pd.read_parquet(out / "weights.parquet")
    assert set(weights["example_id"].str.split("_").str[0]) == {"a0009"}

    # forget05 needs retain95, not prepared: the command given rebuilds *this* benchmark
    rc = cli.main(
        ["run", "--benchmark", "authors_tune", "--method", "static_p", "--split", "forget05"]
    )
    command = capsys.readouterr().err.split("`")[1]
    assert rc == 2
    assert command == (
        "python -m atwu prepare --benchmark authors_tune --retain-splits retain95,retain90 "
        "--authors 10 --overwrite"
    )
