"""TOFU: reading the hub files' schema, the span rule, the conversion, and a run through the CLI.

The fixture ``tests/fixtures/tofu`` holds a few hand-written rows per config in the hub's file
layout and field names (JSON Lines; ``perturbed_answer`` is a list). Nothing is downloaded.
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
from atwu.data.format import DataFormatError
from atwu.data.spans_rules import (
    SpanRuleWarning,
    SpanStats,
    question_name_spans,
    tofu_fact_spans,
    tofu_spans,
)
from atwu.data.tofu import TofuOptions, ensure_tofu, load_splits, read_config, tofu_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOFU = FIXTURES / "tofu"
sys.path.insert(0, str(FIXTURES))
from tiny_llama import build_tiny_llama  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("models") / "llama3", chat_template="llama3")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ATWU_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _texts(pair):
    return [(s.label, pair.answer[s.start : s.end]) for s in pair.spans or []]


# --------------------------------------------------------------------------------------------
# Reading and field mapping
# --------------------------------------------------------------------------------------------


def test_fixture_splits_and_field_mapping():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        splits, sources, stats = load_splits(TOFU)
    assert set(splits) == {
        "forget10",
        "retain90",
        "retain_perturbed",
        "real_authors",
        "world_facts",
    }
    forget = splits["forget10"]
    assert [p.id for p in forget] == ["forget10-0", "forget10-1", "forget10-2", "forget10-3"]
    assert forget[0].paraphrased_answer.startswith("The author Liora Venhaldt's birthplace")
    assert len(forget[0].perturbed_answers) == 3  # perturbed_answer → perturbed_answers
    assert sources["forget10"].endswith("forget10_perturbed.json")
    assert all(p.spans is None and p.perturbed_answers is None for p in splits["retain90"])
    ra = splits["real_authors"][0]
    assert ra.paraphrased_answer == ra.answer == "Jane Austen"  # TOFU's base answer there
    assert ra.perturbed_answers == ["Charlotte Bronte", "George Eliot", "Emily Dickinson"]
    assert stats["forget10"].pairs == 4 and stats["forget10"].unknown == 1


def test_forget_split_without_perturbed_file_has_no_spans(tmp_path):
    data = tmp_path / "tofu"
    shutil.copytree(TOFU, data)
    (data / "forget10_perturbed.json").unlink()
    with pytest.warns(UserWarning, match="no forget10_perturbed file"):
        splits, _, stats = load_splits(data)
    assert all(p.spans is None and p.perturbed_answers is None for p in splits["forget10"])
    assert stats["forget10"].unknown == 4


def test_missing_column_is_named(tmp_path):
    data = tmp_path / "tofu"
    shutil.copytree(TOFU, data)
    rows = [
        json.loads(line) for line in (data / "forget10_perturbed.json").read_text().splitlines()
    ]
    del rows[2]["perturbed_answer"]
    (data / "forget10_perturbed.json").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(
        BenchmarkError,
        match=r"forget10_perturbed .* row 2: missing column "
        r"'perturbed_answer'",
    ):
        load_splits(data)


def test_missing_required_file_lists_what_is_there(tmp_path):
    data = tmp_path / "tofu"
    shutil.copytree(TOFU, data)
    (data / "retain_perturbed.json").unlink()
    with pytest.raises(BenchmarkError, match=r"has no retain_perturbed.json .*\(it has: TOFU_EVAL"):
        load_splits(data)


def test_parquet_and_jsonl_copies_read_the_same(tmp_path):
    rows, _ = read_config("forget10_perturbed", TOFU, required=("question", "answer"))
    data = tmp_path / "tofu"
    (data / "forget10_perturbed" / "train").mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(data / "forget10_perturbed" / "train" / "0000.parquet")
    again, source = read_config("forget10_perturbed", data, required=("question", "answer"))
    assert again == rows and source.endswith("0000.parquet")


def test_hub_is_only_read_when_named_and_offline_says_how_to_fix():
    # HF_HUB_OFFLINE=1 (conftest): the hub cannot be reached, and the message says what to do.
    with pytest.raises(BenchmarkError, match=r"locuslab/TOFU .* pass --data-dir"):
        read_config("forget10", None, required=("question",))


# --------------------------------------------------------------------------------------------
# The span rule
# --------------------------------------------------------------------------------------------


def test_rule_on_paraphrase_based_perturbations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        forget = load_splits(TOFU)[0]["forget10"]
    assert _texts(forget[0]) == [
        ("context", "Liora Venhaldt"),
        ("fact", "Tallinn, Estonia"),
        ("fact", "1971"),
    ]
    assert _texts(forget[1]) == [("context", "Liora Venhaldt"), ("fact", "gothic maritime novels")]


def test_rule_on_answer_based_perturbations():
    stats = SpanStats()
    question = "What did Liora Venhaldt's father do for a living?"
    answer = "Her father was a lighthouse keeper on the island of Hiiumaa."
    para = "She grew up as the daughter of a man who kept the lighthouse on Hiiumaa."
    perturbed = [
        "Her father was a ship captain on the island of Saaremaa.",
        "Her father was a fisherman on the island of Gotland.",
    ]
    spans = tofu_spans(question, answer, para, perturbed, stats)
    assert [(s.label, answer[s.start : s.end]) for s in spans] == [
        ("fact", "lighthouse keeper"),
        ("fact", "Hiiumaa"),
    ]
    assert stats.base_answer == 2 and stats.base_paraphrase == 0


def test_rule_finds_nothing_gives_unknown_and_warns(home):
    with pytest.warns(SpanRuleWarning, match="found no fact in 1 of 4 pairs"):
        root = ensure_tofu(TofuOptions(data_dir=str(TOFU)))
    bench = Benchmark.load(root)
    pair = bench.pairs("forget10")[3]
    assert pair.spans is None  # unknown, not "no facts"
    assert bench.manifest["span_rule"]["stats"]["forget10"]["unknown"] == 1


def test_rewrites_and_function_words_are_not_facts():
    answer = "She was born in Lima in 1970."
    # A complete rewrite aligns badly with both bases: skipped.
    stats = SpanStats()
    assert tofu_fact_spans(answer, None, ["Completely different words here now."], stats) == []
    assert stats.skipped_rewrites == 1
    # Only a function word changed: not a fact.
    assert tofu_fact_spans(answer, None, ["She was born at Lima in 1970."]) == []


def test_question_names_become_context_and_win_over_facts():
    question = "Where was Ada Korvin born?"
    answer = "Ada Korvin was born in Oslo."
    assert [(s.label, answer[s.start : s.end]) for s in question_name_spans(question, answer)] == [
        ("context", "Ada Korvin")
    ]
    # A perturbation that swaps the name as well: the name stays context (copied from the
    # question), the city is the fact.
    spans = tofu_spans(question, answer, None, ["Bo Lind was born in Rome."])
    assert [(s.label, answer[s.start : s.end]) for s in spans] == [
        ("context", "Ada Korvin"),
        ("fact", "Oslo"),
    ]
    # The question word opening the question is no name.
    assert question_name_spans("Which city is Oslo in?", "Oslo is in Norway.")[0].label == "context"
    assert question_name_spans("What is this?", "What a question.") == []


# --------------------------------------------------------------------------------------------
# Span files, splits, conversion directory
# --------------------------------------------------------------------------------------------


def test_user_span_file_overrides_the_rule(home, tmp_path):
    spans = tmp_path / "spans.jsonl"
    answer = "Yes, Liora Venhaldt received the Baltic Quill Prize."
    start = answer.index("Baltic Quill Prize")
    spans.write_text(
        json.dumps({"id": "forget10-3", "spans": [[start, start + 18, "fact"]]})
        + "\n"
        + json.dumps({"id": "forget10-0", "spans": None})
        + "\n"
    )
    root = ensure_tofu(TofuOptions(data_dir=str(TOFU), spans=str(spans)))
    forget = Benchmark.load(root).pairs("forget10")
    assert _texts(forget[3]) == [("fact", "Baltic Quill Prize")]
    assert forget[0].spans is None
    assert root != tofu_dir(TofuOptions(data_dir=str(TOFU)))  # its own directory


@pytest.mark.parametrize(
    "line, message",
    [
        (
            {"id": "forget10-99", "spans": []},
            r"spans.jsonl:1: field 'id': id 'forget10-99' is not a pair",
        ),
        ({"id": "forget10-3", "spans": [[0, 500, "fact"]]}, r"end 500 is beyond the answer"),
        ({"id": "forget10-3", "spans": [[0, 3, "facts"]]}, r"unknown label .*did you mean 'fact'"),
        ({"id": "forget10-3"}, r"field 'spans': is missing"),
    ],
)
def test_bad_span_files_name_the_line(home, tmp_path, line, message):
    spans = tmp_path / "spans.jsonl"
    spans.write_text(json.dumps(line) + "\n")
    with pytest.raises(DataFormatError, match=message):
        ensure_tofu(TofuOptions(data_dir=str(TOFU), spans=str(spans)))


def test_unknown_split_is_refused(home):
    with pytest.raises(
        BenchmarkError,
        match="unknown TOFU split 'forget20'; choose from forget01, forget05, forget10",
    ):
        ensure_tofu(TofuOptions(data_dir=str(TOFU), split="forget20"))


def test_conversion_is_reused_and_manifest_is_ours(home):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        first = ensure_tofu(TofuOptions(data_dir=str(TOFU)))
    stamp = (first / "manifest.json").stat().st_mtime_ns
    assert ensure_tofu(TofuOptions(data_dir=str(TOFU))) == first
    assert (first / "manifest.json").stat().st_mtime_ns == stamp
    assert first.parent == home / "benchmarks" and first.name.startswith("tofu-")
    bench = Benchmark.load(first)
    assert bench.forget_splits == {"forget10": "retain90"}
    # unlearning trains on retain90 without the questions utility is measured on
    assert bench.retain_heldout_for("forget10") == "retain_perturbed"
    assert bench.retain_train_for("forget10") == "retain90_train"
    assert bench.utility_splits_for("forget10") == [
        "retain_perturbed",
        "real_authors",
        "world_facts",
    ]
    held = {p.question for p in bench.pairs("retain_perturbed")}
    assert held and not held & {p.question for p in bench.pairs("retain90_train")}
    assert bench.manifest["option_prob_splits"] == ["real_authors", "world_facts"]
    assert bench.manifest["models"] == {}
    assert "target_model" not in bench.manifest


def test_retain_model_path_is_listed(home, tiny_model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        root = ensure_tofu(
            TofuOptions(data_dir=str(TOFU), retain_model=str(tiny_model), split="forget10")
        )
    bench = Benchmark.load(root)
    assert bench.model_path("retain90") == tiny_model.resolve()


def test_retain_logs_give_the_retain_reference_without_a_model(home):
    from atwu.evaluate.reference import retain_reference

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        root = ensure_tofu(
            TofuOptions(
                data_dir=str(TOFU),
                split="forget10",
                retain_logs=str(TOFU / "TOFU_EVAL_retain90.json"),
            )
        )
    reference = retain_reference(Benchmark.load(root), "forget10")  # read from the cache
    assert reference["ratios"] == {
        "forget10-0": 0.8,
        "forget10-1": 0.55,
        "forget10-2": 1.3,
        "forget10-3": 0.42,
    }


def test_retain_model_and_logs_together_are_refused(home, tiny_model):
    with pytest.raises(BenchmarkError, match="either --retain-model or --retain-logs"):
        ensure_tofu(
            TofuOptions(
                data_dir=str(TOFU),
                retain_model=str(tiny_model),
                retain_logs=str(TOFU / "TOFU_EVAL_retain90.json"),
            )
        )


# --------------------------------------------------------------------------------------------
# Through the CLI
# --------------------------------------------------------------------------------------------


def test_cli_run_on_tofu_fixture(home, tiny_model, tmp_path):
    from atwu.cli import main

    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpanRuleWarning)
        code = main(
            [
                "run",
                "--method",
                "graddiff",
                "--benchmark",
                "tofu",
                "--split",
                "forget10",
                "--data-dir",
                str(TOFU),
                "--model",
                str(tiny_model),
                "--no-eval",
                "--steps",
                "5",
                "--checkpoint-every",
                "5",
                "--out",
                str(out),
            ]
        )
    assert code == 0
    weights = pd.read_parquet(out / "weights.parquet")
    assert sorted(weights["step"].unique()) == [0, 5]
    assert (weights["label"] == 1).any() and (weights["label"] == 0).any()
    facts = weights[(weights["label"] == 1) & (weights["step"] == 0)]
    assert set(facts["span_kind"]) == {"fact"}
    assert "Tallinn" in "".join(facts[facts["example_id"] == "forget10-0"]["token"])
    # the pair the rule found nothing for is left out entirely
    assert (weights[weights["example_id"] == "forget10-3"]["label"] == -1).all()
    config = json.loads((out / "config.json").read_text())
    assert config["benchmark"] == "tofu"
    assert config["benchmark_options"]["data_dir"] == str(TOFU)
    assert Path(config["resolved"]["benchmark"]).name.startswith("tofu-")


def test_cli_needs_a_model_and_a_real_split(home, capsys):
    from atwu.cli import main

    assert main(["run", "--method", "ga", "--benchmark", "tofu", "--data-dir", str(TOFU)]) == 2
    assert (
        "--benchmark tofu has no model of its own; give the starting model with --model"
        in capsys.readouterr().err
    )
    assert (
        main(
            [
                "run",
                "--method",
                "ga",
                "--benchmark",
                "tofu",
                "--data-dir",
                str(TOFU),
                "--split",
                "forget20",
                "--model",
                str(TOFU),  # an existing folder passes the offline model check; the split fails
            ]
        )
        == 2
    )
    assert "unknown TOFU split 'forget20'" in capsys.readouterr().err
    assert main(["run", "--method", "ga", "--data-dir", str(TOFU)]) == 2
    assert "--data-dir: only with --benchmark tofu or --benchmark rwku" in capsys.readouterr().err
    assert (
        main(["run", "--method", "ga", "--benchmark", "tofu", "--targets", "1", "--model", "x"])
        == 2
    )
    assert "--targets: not an option of --benchmark tofu" in capsys.readouterr().err
