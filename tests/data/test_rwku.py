"""RWKU: reading both local layouts, the span rule, the conversion, the metric and a CLI run.

The fixture ``tests/fixtures/rwku`` holds hand-written rows with RWKU's field names (``target``;
``query``/``answer``/``subject``/``level``/``type``; ``text``/``subject``) in the per-config
layout (``All/<config>.json``, JSON arrays). Nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from atwu.benchmark import Benchmark, BenchmarkError
from atwu.data.rwku import (
    FORGET_PROMPT,
    RwkuOptions,
    ensure_rwku,
    load_probes,
    load_rwku,
    parse_targets,
    probe_prompt,
)
from atwu.data.spans_rules import SpanRuleWarning, rwku_spans
from atwu.evaluate.rwku_probes import rwku_scores

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RWKU = FIXTURES / "rwku"
sys.path.insert(0, str(FIXTURES))
from tiny_llama import build_tiny_llama  # noqa: E402


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("models") / "plain", chat_template=None)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        return fn(*args, **kwargs)


def _texts(pair):
    return [(s.label, pair.answer[s.start : s.end]) for s in pair.spans or []]


def test_parse_targets():
    assert parse_targets("1-3,7, 2") == [1, 2, 3, 7]
    for bad in ("0", "3-1", "a", ""):
        with pytest.raises(BenchmarkError):
            parse_targets(bad)


def test_load_selects_targets_passages_and_probes():
    data = load_rwku(RwkuOptions(data_dir=str(RWKU), targets="2"))
    assert data["targets"] == {"Confucius": 2}
    assert {r["subject"] for r in data["corpus"]} == {"Confucius"} and len(data["corpus"]) == 2
    assert [r["answer"] for r in data["probes"]["forget_level1"]] == ["Lu"]
    phi = load_rwku(RwkuOptions(data_dir=str(RWKU), targets="1", corpus="phi3"))
    assert phi["corpus_config"] == "train_positive_phi3" and len(phi["corpus"]) == 1


def test_span_rule_name_and_probe_answers():
    text = "Stephen King is an American writer. His first novel, Carrie, was published in 1974."
    spans = rwku_spans(text, "Stephen King", ["Carrie", "the", "Portland, Maine"])
    assert [(s.label, text[s.start : s.end]) for s in spans] == [
        ("fact", "Stephen King"),
        ("fact", "Carrie"),
    ]
    # the surname alone and the part of a title before the comma count as the name
    text2 = "Harry served in the army. Prince Harry later moved abroad."
    got = [text2[s.start : s.end] for s in rwku_spans(text2, "Prince Harry, Duke of Sussex", [])]
    assert got == ["Harry", "Prince Harry"]
    assert rwku_spans("He taught virtue and ritual.", "Confucius", ["Lu"]) is None


def test_conversion_layout_spans_and_warning(home):
    with pytest.warns(SpanRuleWarning, match="found no fact in 1 of 4 pairs"):
        root = ensure_rwku(RwkuOptions(data_dir=str(RWKU), targets="1-2"))
    bench = Benchmark.load(root)
    assert root.parent == home / "benchmarks" and root.name.startswith("rwku-")
    assert bench.forget_splits == {"forget": "retain"}
    # unlearning trains on level-1 neighbour probes; level 2 is held out for utility
    assert bench.retain_heldout_for("forget") == "neighbor_level2"
    assert bench.retain_train_for("forget") == "retain_train"
    assert bench.utility_splits_for("forget") == ["neighbor_level2"]
    held = {p.question for p in bench.pairs("neighbor_level2")}
    assert held and not held & {p.question for p in bench.pairs("retain_train")}
    assert set(bench.splits) == {
        "forget",
        "retain",
        "forget_level1",
        "forget_level2",
        "forget_level3",
        "neighbor_level1",
        "neighbor_level2",
        "retain_train",
    }
    forget = bench.pairs("forget")
    assert [p.id for p in forget] == ["t1-0", "t1-1", "t2-0", "t2-1"]
    assert forget[0].question == FORGET_PROMPT.format(subject="Stephen King")
    assert ("fact", "Stephen King") in _texts(forget[0]) and ("fact", "The Shining") in _texts(
        forget[0]
    )
    assert _texts(forget[2]) == [("fact", "Confucius"), ("fact", "Lu"), ("fact", "the Analects")]
    assert forget[3].spans is None
    assert [p.answer for p in bench.pairs("retain")] == [
        "Dracula",
        "Tao Te Ching",
        "Mary Shelley",
        "Plato",
    ]
    level1 = bench.pairs("forget_level1")[0]
    assert level1.question.startswith(
        "Please complete the blank in the following question.\n"
        "Question: Stephen King's first published novel was ___."
    )
    probes = load_probes(bench)
    assert len(probes) == 12 and {p["set"] for p in probes} >= {"forget_level3", "neighbor_level2"}
    assert _quiet(ensure_rwku, RwkuOptions(data_dir=str(RWKU), targets="1-2")) == root  # reused


def test_per_target_layout_reads_the_same(home, tmp_path):
    """RWKU's data_process.py layout: Target/<n>_<Name>/{intro,forget_level1,...,positive}.json."""

    def rows(name):
        return json.loads((RWKU / "All" / name).read_text())

    for number, name in ((1, "Stephen King"), (2, "Confucius")):
        d = tmp_path / "processed" / "Target" / f"{number}_{name.replace(' ', '_')}"
        d.mkdir(parents=True)
        for config in (
            "forget_level1",
            "forget_level2",
            "forget_level3",
            "neighbor_level1",
            "neighbor_level2",
        ):
            (d / f"{config}.json").write_text(
                json.dumps([r for r in rows(f"{config}.json") if r["subject"] == name])
            )
        (d / "positive.json").write_text(
            json.dumps([r for r in rows("train_positive_llama3.json") if r["subject"] == name])
        )
        (d / "intro.json").write_text(
            json.dumps([r for r in rows("intro.json") if r["target"] == name])
        )
    a = _quiet(ensure_rwku, RwkuOptions(data_dir=str(RWKU), targets="1-2"))
    b = _quiet(ensure_rwku, RwkuOptions(data_dir=str(tmp_path / "processed"), targets="1-2"))
    assert a != b
    for split in ("forget", "retain", "forget_level3"):
        assert Benchmark.load(a).pairs(split) == Benchmark.load(b).pairs(split)


def test_bad_inputs_have_clear_messages(home, tmp_path):
    with pytest.raises(BenchmarkError, match=r"target 3 is out of range .*has 2 targets"):
        ensure_rwku(RwkuOptions(data_dir=str(RWKU), targets="1-3"))
    data = tmp_path / "rwku"
    shutil.copytree(RWKU, data)
    probes = json.loads((data / "All" / "forget_level2.json").read_text())
    del probes[1]["query"]
    (data / "All" / "forget_level2.json").write_text(json.dumps(probes))
    with pytest.raises(
        BenchmarkError, match=r"RWKU forget_level2 .* row 1: missing column 'query'"
    ):
        ensure_rwku(RwkuOptions(data_dir=str(data), targets="1"))
    (data / "All" / "train_positive_phi3.json").unlink()
    with pytest.raises(BenchmarkError, match="no file for RWKU config 'train_positive_phi3'"):
        ensure_rwku(RwkuOptions(data_dir=str(data), targets="1", corpus="phi3"))
    with pytest.raises(BenchmarkError, match="--rwku-retain 'some'"):
        RwkuOptions.from_dict({"rwku_retain": "some"})
    with pytest.raises(BenchmarkError, match="--retain-model is for TOFU"):
        RwkuOptions.from_dict({"retain_model": "x"})


def test_probe_prompts_follow_rwku():
    row = {"query": "Who wrote It?", "type": "affirmative suffix"}
    assert probe_prompt(row, "forget_level3") == (
        "Please briefly answer the following question.\nQuestion: Who wrote It?"
    )
    assert probe_prompt({"query": "Q?"}, "neighbor_level2").endswith("Question: Q?\n")
    assert (
        probe_prompt({"query": "Q: a\nQ: b", "type": "incontext learning"}, "forget_level3")
        == "Please briefly answer the following question.\nQ: a\nQ: b\n"
    )


def test_rwku_scores(home, plain_model, monkeypatch):
    from atwu.models import load_model, load_tokenizer

    root = _quiet(ensure_rwku, RwkuOptions(data_dir=str(RWKU), targets="1-2"))
    model, tok = load_model(plain_model), load_tokenizer(plain_model)
    scores = rwku_scores(model, tok, root, return_generations=True)  # a real (tiny) model runs
    assert scores["n"] == {
        "forget_level1": 3,
        "forget_level2": 2,
        "forget_level3": 3,
        "neighbor_level1": 2,
        "neighbor_level2": 2,
    }
    for key in (
        "forget_level1",
        "forget_level2",
        "forget_level3",
        "neighbor_level1",
        "neighbor_level2",
        "forget_mean",
        "neighbor_mean",
    ):
        assert 0.0 <= scores[key] <= 1.0
    assert len(scores["generations"]) == 12

    # With a model that knows every forget answer and no neighbour answer: 1 and 0.
    probes = load_probes(root)
    known = {
        probe_prompt(p, p["set"]): (p["answer"] if p["set"].startswith("forget") else "no idea")
        for p in probes
    }
    import atwu.evaluate.rwku_probes

    monkeypatch.setattr(
        atwu.evaluate.rwku_probes,
        "greedy_answers",
        lambda model, tok, questions, **kw: [known[q] for q in questions],
    )
    scores = rwku_scores(model, tok, probes)
    assert scores["forget_level1"] == scores["forget_mean"] == 1.0
    assert scores["neighbor_level2"] == scores["neighbor_mean"] == 0.0


def test_cli_run_on_rwku_fixture(home, plain_model, tmp_path, capsys):
    from atwu.cli import main

    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(
            [
                "run",
                "--method",
                "graddiff",
                "--benchmark",
                "rwku",
                "--targets",
                "1-2",
                "--rwku-retain",
                "none",
                "--data-dir",
                str(RWKU),
                "--model",
                str(plain_model),
                "--no-eval",
                "--steps",
                "5",
                "--out",
                str(out),
            ]
        )
    assert code == 0
    assert "alpha=0" in capsys.readouterr().err
    weights = pd.read_parquet(out / "weights.parquet")
    assert (weights["label"] == 1).any() and (weights["label"] == 0).any()
    assert set(weights["example_id"]) == {"t1-0", "t1-1", "t2-0", "t2-1"}
    config = json.loads((out / "config.json").read_text())
    assert config["params"]["alpha"] == 0.0
    assert config["benchmark_options"]["targets"] == "1-2"


def test_rwku_probe_scores_join_checkpoint_evaluation(home, plain_model, tmp_path):
    from atwu.cli import main
    from atwu.io import read_jsonl

    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(
            [
                "run",
                "--method",
                "graddiff",
                "--benchmark",
                "rwku",
                "--targets",
                "1-2",
                "--data-dir",
                str(RWKU),
                "--model",
                str(plain_model),
                "--steps",
                "2",
                "--checkpoint-every",
                "2",
                "--out",
                str(out),
            ]
        )
    assert code == 0
    records = read_jsonl(out / "eval.jsonl")
    assert [r["step"] for r in records] == [0, 2]
    for record in records:
        for key in ("rwku_forget_level1", "rwku_forget_mean", "rwku_neighbor_mean"):
            assert 0.0 <= record[key] <= 1.0, (key, record[key])
