"""Every registered method trains 50 steps on the fixture's embedded forget10 (CPU) and leaves a
complete run directory whose recorded token weights make sense.

One module-scoped run per method (the fixture is parametrised over the methods, so each method
trains once and every check below reads the same directory).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from shared_runs import atwu_50_steps_config

from atwu.benchmark import Benchmark
from atwu.config import RunConfig, TrainSettings
from atwu.data.chat import encode_pair
from atwu.io import read_json, read_jsonl
from atwu.methods.atwu import ATWUParams
from atwu.methods.registry import all_methods
from atwu.models import load_tokenizer
from atwu.runs.layout import SCHEMA_VERSION, WEIGHT_COLUMNS
from atwu.runs.read import read_run, read_weights
from atwu.train.loop import Trainer

STEPS = 50
EVERY = 25
RECORD = 20

REFERENCES = ["oracle", "specific_oracle", "shuffled_oracle", "template_only"]
TOKEN_WEIGHTING = [
    "atwu",
    "wga",
    "satimp",
    "tnpo",
    "aux",
    *REFERENCES,
    "static_p",
    "static_support",
    "threshold",
    "etw",
    "tokenunlearn",
]
SAMPLE_LEVEL = ["ga", "graddiff", "npo", "simnpo", "rmu", "uniform"]
METHODS = TOKEN_WEIGHTING + SAMPLE_LEVEL

pytestmark = pytest.mark.slow


def test_registry_lists_exactly_the_issue_methods():
    assert sorted(all_methods()) == sorted(METHODS)
    for name, cls in all_methods().items():
        assert cls.token_level == (name in TOKEN_WEIGHTING), name


@pytest.fixture(scope="module", params=METHODS)
def finished_run(request, small_benchmark, tmp_path_factory) -> tuple[str, Path]:
    method = request.param
    cfg = RunConfig(
        method=method,
        evaluate=False,
        train=TrainSettings(steps=STEPS, checkpoint_every=EVERY, record_examples=RECORD),
    )
    if cfg == atwu_50_steps_config():  # trained once per session, test_train.py reads it too
        return method, request.getfixturevalue("atwu_50_steps")
    out = tmp_path_factory.mktemp("method_runs") / method
    result = Trainer(cfg, out, evaluator_factory=None).run()
    assert result["steps"] == STEPS
    return method, out


def _safetensors(directory: Path) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for file in sorted(directory.glob("*.safetensors")):
        tensors.update(load_file(str(file)))
    assert tensors, f"no safetensors in {directory}"
    return tensors


def test_run_directory_is_complete(finished_run, small_benchmark):
    method, out = finished_run
    config = read_json(out / "config.json")
    assert config["schema_version"] == SCHEMA_VERSION
    assert config["method"] == method
    assert config["resolved"]["split"] == "forget10"
    assert config["resolved"]["retain_split"] == "retain90_train"  # never the held-out pairs
    assert config["resolved"]["total_steps"] == STEPS

    status = read_json(out / "status.json")
    assert status["state"] == "done", status
    assert status["step"] == STEPS == status["total_steps"]
    assert status["ended_at"] and status["started_at"] and status["heartbeat_at"]
    info = read_run(out)
    assert info.state == "done" and not info.problems

    metrics = read_jsonl(out / "train_log.jsonl")
    assert [m["step"] for m in metrics] == list(range(1, STEPS + 1))

    examples = read_jsonl(out / "examples.jsonl")
    forget = Benchmark.load(small_benchmark).pairs("forget10")
    assert len(examples) == min(RECORD, len(forget))
    for e in examples:
        assert set(e) >= {"example_id", "question", "answer", "spans"}
        assert isinstance(e["example_id"], str)

    weights = read_weights(out)
    # the contract's columns, then the retain support of the one method here that keeps a bank
    channels = ["support"] if method == "static_support" else []
    assert list(weights.columns) == WEIGHT_COLUMNS + channels
    assert sorted(weights["step"].unique().tolist()) == list(range(0, STEPS + 1, EVERY))
    assert all(isinstance(x, str) for x in weights["example_id"])
    assert set(weights["example_id"]) == {e["example_id"] for e in examples}
    sizes = weights.groupby("step").size()
    assert sizes.nunique() == 1, "every checkpoint records the same rows"

    assert (out / "scorer.safetensors").is_file() == (method == "atwu")
    assert (out / "model" / "config.json").is_file()
    assert list((out / "model").glob("*.safetensors"))
    assert (out / "state" / "trainer.pt").is_file()
    assert not (out / ".model.partial").exists() and not (out / ".state.partial").exists()


def test_model_parameters_changed(finished_run, small_benchmark):
    method, out = finished_run
    start = _safetensors(small_benchmark / "models" / "full")
    final = _safetensors(out / "model")
    common = set(start) & set(final)
    assert common, "saved model shares no tensor names with the starting model"
    changed = [k for k in common if not torch.equal(start[k], final[k])]
    assert changed, f"{method}: no parameter changed in 50 steps"
    for k in common:
        assert torch.isfinite(final[k]).all(), f"{method}: {k} has non-finite values"


def test_loss_is_finite(finished_run):
    method, out = finished_run
    for m in read_jsonl(out / "train_log.jsonl"):
        assert m["loss"] is not None and math.isfinite(m["loss"]), (method, m)
        assert m["grad_norm"] is not None and math.isfinite(m["grad_norm"]), (method, m)
        for key, value in m.items():
            if isinstance(value, float):
                assert math.isfinite(value), (method, key, m)


def test_weights_only_on_completion_tokens(finished_run, small_benchmark):
    method, out = finished_run
    weights = read_weights(out)
    assert np.isfinite(weights["weight"]).all(), method
    assert (weights["weight"] >= 0).all(), method
    tokenizer = load_tokenizer(small_benchmark / "models" / "full")
    examples = {e["example_id"]: e for e in read_jsonl(out / "examples.jsonl")}
    for (_step, example_id), rows in weights.groupby(["step", "example_id"]):
        rows = rows.sort_values("position")
        e = examples[example_id]
        enc = encode_pair(tokenizer, e["question"], e["answer"])
        # one row per completion token (answer + end-of-turn), none for the prompt or padding
        assert rows["position"].tolist() == list(range(enc.completion_len)), (method, example_id)
        text = rows[rows["char_start"] >= 0]
        assert "".join(text["token"]) == e["answer"], (method, example_id)
        for tok, lo, hi in zip(text["token"], text["char_start"], text["char_end"]):
            assert e["answer"][lo:hi] == tok
        special = rows[rows["char_start"] < 0]
        assert len(special) >= 1
        assert (special["char_end"] == -1).all() and (special["label"] == -1).all()
        last = rows.iloc[-1]
        assert last["char_start"] == -1 and last["token"] == tokenizer.eos_token
        assert set(rows["label"]) <= {-1, 0, 1}


def test_support_channel_recorded_only_by_a_method_with_a_support_bank(finished_run):
    method, out = finished_run
    weights = read_weights(out)
    if method != "static_support":  # the default ATWU keeps no bank
        assert "support" not in weights.columns, method
        return
    support = weights["support"].to_numpy(float)
    assert np.isfinite(support).all() and (support >= 0).all()
    # the bank fills from the retain batches: supported tokens appear after step 0
    assert weights.loc[weights["step"] > 0, "support"].max() > 0


def test_weights_vary_only_for_token_weighting_methods(finished_run):
    method, out = finished_run
    final = read_weights(out, step=STEPS)
    assert len(final)
    w = final["weight"].to_numpy()
    if method in TOKEN_WEIGHTING:
        assert w.std() > 1e-3, f"{method}: weights do not vary across tokens (std {w.std():.2e})"
        per_example = final.groupby("example_id")["weight"].std()
        assert (per_example > 1e-3).any(), method
    else:
        assert np.allclose(w, w[0]), f"{method}: sample-level weights vary"
        assert np.allclose(w, 1.0), method


@pytest.mark.parametrize("finished_run", ["oracle"], indirect=True)
def test_oracle_weights_are_the_ground_truth(finished_run):
    _method, out = finished_run
    weights = read_weights(out)
    assert np.array_equal(
        weights["weight"].to_numpy(), (weights["label"] == 1).astype(float).to_numpy()
    )


@pytest.mark.parametrize("finished_run", ["specific_oracle", "template_only"], indirect=True)
def test_reference_weights_are_their_part_of_the_ground_truth(finished_run):
    method, out = finished_run
    weights = read_weights(out)
    if method == "specific_oracle":
        expected = (weights["label"] == 1) & (weights["span_kind"] == "specific")
    else:  # template_only: the scored tokens that are not facts
        expected = weights["label"] == 0
    assert expected.any() and not expected.all()
    assert np.array_equal(weights["weight"].to_numpy(), expected.astype(float).to_numpy())


@pytest.mark.parametrize("finished_run", ["shuffled_oracle"], indirect=True)
def test_shuffled_oracle_keeps_its_positions_and_the_oracles_count(finished_run):
    _method, out = finished_run
    weights = read_weights(out)
    drawn = weights[weights["weight"] == 1]
    assert set(weights["weight"]) == {0.0, 1.0} and (drawn["label"] >= 0).all()
    facts = weights[(weights["step"] == 0) & (weights["label"] == 1)].groupby("example_id").size()
    first = None
    for _step, rows in drawn.groupby("step"):
        positions = rows.groupby("example_id")["position"].apply(tuple)
        assert rows.groupby("example_id").size().reindex(facts.index).tolist() == facts.tolist()
        first = positions if first is None else first
        assert positions.equals(first)  # the same positions at every checkpoint
    assert (drawn["label"] == 0).any()  # not the oracle: some land on the template


@pytest.mark.parametrize("finished_run", ["atwu"], indirect=True)
def test_atwu_scorer_moves_only_after_warmup(finished_run):
    """Default warm-up: 20% of the run (10 of 50 steps). Every token is selected alike at step 0,
    the scorer takes its first step at step 11, and by step 25 the weights differ."""
    _method, out = finished_run
    assert read_json(out / "config.json")["resolved"]["method"]["scorer_warmup_steps"] == 10
    weights = read_weights(out)
    w0 = weights.loc[weights["step"] == 0, "weight"].to_numpy()
    defaults = ATWUParams()  # before the scorer's first step: sigmoid(initial bias) ** power
    assert np.allclose(w0, (1 / (1 + math.exp(-defaults.scorer_init_bias))) ** defaults.score_power)
    assert weights.loc[weights["step"] == EVERY, "weight"].std() > 1e-3
    with_scorer = [m["step"] for m in read_jsonl(out / "train_log.jsonl") if "scorer_loss" in m]
    assert with_scorer == list(range(11, STEPS + 1))
    scorer = load_file(str(out / "scorer.safetensors"))
    assert set(scorer) == {"linear.weight", "linear.bias"}
    assert scorer["linear.weight"].abs().sum() > 0
